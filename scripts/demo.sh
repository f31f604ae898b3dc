#!/usr/bin/env bash
# Quickstart: set up .venv, run the default search (MNIST-1D) and say where the results are.
# Extra arguments go to the search command, e.g. ./scripts/demo.sh --config.budget.evaluations=32
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh"
WORKDIR="${WORKDIR:-runs/demo_mnist1d}"
# Two CPU devices: the population is split over both cores.
export JAX_NUM_CPU_DEVICES="${JAX_NUM_CPU_DEVICES:-2}"
.venv/bin/python experiments/search.py \
  --config=configs/mnist1d.py --workdir="$WORKDIR" --overwrite "$@"
echo
echo "Results are in $WORKDIR:"
# Only what the run wrote (model_torch.py only where torch is installed).
describe() { [ -e "$WORKDIR/$1" ] && printf '  %-16s %s\n' "$1" "$2"; return 0; }
describe summary.json "best pathway, validation and test metrics, wall time, compilations"
describe report.md "the run at a glance: best pathway, metrics, plots (plots/), top 10"
describe history.jsonl "every evaluated pathway; metrics.jsonl one line per round"
describe best/model.py "the best pathway as a Flax module; weights in best/params.msgpack"
describe best/model_torch.py "the same as a PyTorch module; weights in best/weights.pt"
if [ -e "$WORKDIR/best/predict.py" ]; then
  echo "  best/predict.py  predictions from the exported code:"
  echo "                   .venv/bin/python $WORKDIR/best/predict.py --data=$WORKDIR/best/test_split.npz"
fi

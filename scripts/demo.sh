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
echo "  summary.json     best pathway, validation and test metrics, wall time, compilations"
echo "  report.md        the run at a glance: best pathway, metrics, plots (plots/), top 10"
echo "  best/            the best pathway as code: model.py (Flax), model_torch.py (PyTorch),"
echo "                   their weights, and predict.py:"
echo "                   .venv/bin/python $WORKDIR/best/predict.py --data=$WORKDIR/best/test_split.npz"
echo "  history.jsonl    every evaluated pathway; metrics.jsonl one line per round"

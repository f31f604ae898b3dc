r"""Evolve model pathways: the search command.

    python experiments/search.py --config=configs/mnist1d.py --workdir=runs/mnist1d
    python experiments/search.py --config=configs/digits.py --workdir=runs/digits \
        --config.budget.evaluations=200 --config.parallel.backend=pmap

Writes config.json, metrics.jsonl, history.jsonl, checkpoints/, tensorboard/,
best/genome.json, summary.json, plots/ and report.md into the workdir. Running
the command again on the same workdir resumes the run from its last checkpoint
(SIGTERM or Ctrl-C saves one and stops); ``--overwrite`` starts afresh. Fake
several CPU devices with ``JAX_NUM_CPU_DEVICES=N`` set before the command.
"""

from __future__ import annotations

import json
import shlex
import sys

from absl import app, flags, logging
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Search config file (a get_config() module).", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory the run writes into.")
_OVERWRITE = flags.DEFINE_bool(
    "overwrite", False, "Start afresh, replacing a run already in --workdir (else it is resumed)."
)
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # Imported here so that --helpfull and flag errors do not start JAX.
    from pathways_jax import search
    from pathways_jax.cli import load_config_or_exit
    from pathways_jax.config import ConfigError
    from pathways_jax.data import DataError
    from pathways_jax.runs.checkpoints import CheckpointError
    from pathways_jax.runs.preemption import SearchInterrupted

    config = load_config_or_exit(_CONFIG)
    logging.set_verbosity(logging.INFO)
    try:
        summary = search.run_search(
            config,
            _WORKDIR.value,
            overwrite=_OVERWRITE.value,
            command=" ".join(shlex.quote(arg) for arg in ["python", *sys.argv]),
        )
    except (ConfigError, DataError, search.WorkdirError, CheckpointError) as error:
        print(f"search.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    except SearchInterrupted as stopped:
        print(f"search.py: {stopped}", file=sys.stderr)
        sys.exit(128 + stopped.signal_number if stopped.signal_number else 3)
    except RuntimeError as error:
        print(f"search.py: error: {error}", file=sys.stderr)
        sys.exit(1)
    final = summary["final"]
    print(f"Best pathway: {summary['best_description']}")
    print("Validation after retraining:", json.dumps(final["validation"], sort_keys=True))
    print("Test (evaluated once):", json.dumps(final["test"], sort_keys=True))
    print(f"Results: {_WORKDIR.value}")
    print(f"Exported code: {_WORKDIR.value}/best (model.py, predict.py)")


if __name__ == "__main__":
    from pathways_jax.cli import parse_flags

    app.run(main, flags_parser=parse_flags)

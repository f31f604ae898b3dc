r"""Evolve model pathways: the search command (``experiments/search.py`` and
``pathways-jax search`` run it).

    python experiments/search.py --config=configs/mnist1d.py --workdir=runs/mnist1d
    pathways-jax search --config=configs/mnist1d.py --workdir=runs/mnist1d
    python experiments/search.py --config=configs/digits.py --workdir=runs/digits \
        --config.budget.evaluations=200 --config.parallel.backend=pmap

Writes config.json, metrics.jsonl, history.jsonl, checkpoints/, tensorboard/,
best/genome.json, summary.json, plots/ and report.md into the workdir. Running
the command again on the same workdir resumes the run from its last checkpoint
(SIGTERM or Ctrl-C saves one and stops); ``--overwrite`` starts afresh. Fake
several CPU devices with ``JAX_NUM_CPU_DEVICES=N`` set before the command.

Several processes form one search with ``jax.distributed``: pass
``--coordinator_address``, ``--num_processes`` and ``--process_id`` to each
(``scripts/launch_local.sh N`` does so on one machine), or none of them under
SLURM, Open MPI or on a multi-host Cloud TPU, where they are detected. Only
process 0 writes the workdir.
"""

from __future__ import annotations

import json
import os
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
_COORDINATOR_ADDRESS = flags.DEFINE_string(
    "coordinator_address", None, "HOST:PORT of process 0 in a multi-process job."
)
_NUM_PROCESSES = flags.DEFINE_integer(
    "num_processes", None, "Number of processes in a multi-process job."
)
_PROCESS_ID = flags.DEFINE_integer("process_id", None, "This process's index, 0 to N-1.")
_DISTRIBUTED = flags.DEFINE_enum(
    "distributed",
    "auto",
    ["auto", "on", "off"],
    "auto: join a multi-process job when the three flags above are given or SLURM, "
    "Open MPI or Cloud TPU started several tasks; on: always call "
    "jax.distributed.initialize(); off: never.",
)
_HEARTBEAT_TIMEOUT = flags.DEFINE_integer(
    "heartbeat_timeout_seconds",
    100,
    "In a multi-process job, a process silent this long is declared dead and the others stop.",
)
flags.mark_flags_as_required(["config", "workdir"])


def _program() -> str:
    """The command's name in messages: ``search.py`` or ``pathways-jax search``."""
    return os.path.basename(sys.argv[0])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    # Imported here so that --helpfull and flag errors do not start JAX.
    from pathways_jax import api, distributed
    from pathways_jax.cli import load_config_or_exit
    from pathways_jax.config import ConfigError
    from pathways_jax.core.registry import RegistryError
    from pathways_jax.data import DataError
    from pathways_jax.runs.checkpoints import CheckpointError
    from pathways_jax.runs.preemption import SearchInterrupted

    config = load_config_or_exit(_CONFIG)
    try:
        distributed.initialize(
            _COORDINATOR_ADDRESS.value,
            _NUM_PROCESSES.value,
            _PROCESS_ID.value,
            mode=_DISTRIBUTED.value,
            heartbeat_timeout_seconds=_HEARTBEAT_TIMEOUT.value,
        )
    except distributed.DistributedError as error:
        print(f"{_program()}: error: {error}", file=sys.stderr)
        sys.exit(2)
    # Only process 0 speaks; the others log warnings and errors.
    logging.set_verbosity(logging.INFO if distributed.is_primary() else logging.WARNING)
    try:
        summary = api.run_search(
            config,
            _WORKDIR.value,
            overwrite=_OVERWRITE.value,
            command=" ".join(shlex.quote(arg) for arg in ["python", *sys.argv]),
        )
    except (ConfigError, RegistryError, DataError, api.WorkdirError, CheckpointError) as error:
        print(f"{_program()}: error: {error}", file=sys.stderr)
        sys.exit(2)
    except SearchInterrupted as stopped:
        print(f"{_program()}: {stopped}", file=sys.stderr)
        sys.exit(128 + stopped.signal_number if stopped.signal_number else 3)
    except RuntimeError as error:
        print(f"{_program()}: error: {error}", file=sys.stderr)
        sys.exit(1)
    if not distributed.is_primary():
        return
    for index, task in enumerate(summary.get("tasks", ())):  # A task sequence.
        reached = "reached" if task["reached_threshold"] else "did not reach"
        print(
            f"Task {index} {tuple(task['pair'])}: {reached} the target fitness in "
            f"{task['rounds']} rounds; best pathway {task['best_pathway']}; "
            f"test accuracy {task['test_accuracy']:.4f} ({_WORKDIR.value}/task{index})"
        )
    final = summary["final"]
    print(f"Best pathway: {summary['best_description']}")
    retrained = "after retraining" if final["retrained_ids"] else "of the best member"
    print(f"Validation {retrained}:", json.dumps(final["validation"], sort_keys=True))
    print("Test (evaluated once):", json.dumps(final["test"], sort_keys=True))
    print(f"Results: {_WORKDIR.value}")
    exported = "task*/best" if "tasks" in summary else "best"
    if "tasks" in summary or os.path.exists(os.path.join(_WORKDIR.value, "best", "predict.py")):
        print(f"Exported code: {_WORKDIR.value}/{exported} (model.py, predict.py)")


def run() -> None:
    """Parse the flags (bad ones: one line, exit status 2) and run the search."""
    from pathways_jax.cli import parse_flags

    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()

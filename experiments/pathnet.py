r"""PathNet: evolve pathways through a modular super-network, task after task.

    python experiments/pathnet.py --config=configs/pathnet_mnist1d.py --workdir=runs/pathnet
    python experiments/pathnet.py --config=configs/pathnet_digits.py --workdir=runs/pathnet_digits \
        --config.tasks="((3, 8), (5, 9))" --config.noise=0.2

Learns the config's binary tasks in order; each task after the first starts
from the previous task's best pathway frozen. Writes config.json,
history.jsonl, summary.json and task{i}/ (the best pathway of each task as
Flax and PyTorch code with its weights) into the workdir.
"""

from __future__ import annotations

import shlex
import sys

from absl import app, flags
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "PathNet config file (a get_config() module).", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory the run writes into.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from pathways_jax.cli import load_config_or_exit
    from pathways_jax.config import ConfigError
    from pathways_jax.data import DataError
    from pathways_jax.pathnet.run import run_tasks

    config = load_config_or_exit(_CONFIG)
    command = " ".join(shlex.quote(arg) for arg in ["python", *sys.argv])
    try:
        summary = run_tasks(config, _WORKDIR.value, command=command)
    except (ConfigError, DataError) as error:
        print(f"pathnet.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    except OSError as error:
        print(f"pathnet.py: error: --workdir={_WORKDIR.value}: {error.strerror}", file=sys.stderr)
        sys.exit(2)
    for index, task in enumerate(summary["tasks"]):
        reached = "reached" if task["reached_threshold"] else "did not reach"
        print(
            f"Task {index} {tuple(task['pair'])}: {reached} the threshold in {task['rounds']} "
            f"rounds ({task['wall_seconds']:.1f} s); best pathway {task['best_pathway']}; "
            f"test accuracy {task['test_accuracy']:.4f}"
        )
    print(f"Results: {_WORKDIR.value} (summary.json, history.jsonl, task*/model.py)")


if __name__ == "__main__":
    from pathways_jax.cli import parse_flags

    app.run(main, flags_parser=parse_flags)

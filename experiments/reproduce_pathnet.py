r"""The PathNet transfer experiment: rounds to the threshold on task B from
scratch, after PathNet transfer from task A, and by fine-tuning.

    python experiments/reproduce_pathnet.py --config=configs/reproduce_pathnet.py \
        --workdir=runs/repro_pathnet

Every (pair, repetition) is appended to WORKDIR/repetitions.jsonl as soon as it
is done, so running the command again resumes a stopped run. Writes
DOC_DIR/NAME.md, NAME.png (rounds per repetition) and NAME.json.
"""

from __future__ import annotations

import shlex
import sys

from absl import app, flags, logging
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Reproduction config (a get_config() module).", lock_config=True
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for repetitions.jsonl.")
_DOC_DIR = flags.DEFINE_string("doc_dir", "docs/reproductions", "Where the report goes.")
_NAME = flags.DEFINE_string("name", "pathnet", "File name (no extension) of the report.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from pathways_jax.cli import load_config_or_exit
    from pathways_jax.config import ConfigError
    from pathways_jax.data import DataError
    from pathways_jax.reproductions import pathnet as reproduction

    config = load_config_or_exit(_CONFIG)
    try:
        records = reproduction.run_reproduction(config, _WORKDIR.value, log=logging.info)
    except (ConfigError, DataError) as error:
        print(f"reproduce_pathnet.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    except OSError as error:
        print(
            f"reproduce_pathnet.py: error: --workdir={_WORKDIR.value}: {error.strerror}",
            file=sys.stderr,
        )
        sys.exit(2)
    command = " ".join(shlex.quote(arg) for arg in ["python", *sys.argv])
    path = reproduction.write_report(records, config, command, _DOC_DIR.value, _NAME.value)
    print(f"Report: {path}")


if __name__ == "__main__":
    from pathways_jax.cli import parse_flags

    app.run(main, flags_parser=parse_flags)

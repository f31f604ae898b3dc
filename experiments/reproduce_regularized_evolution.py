r"""Reproduce Real et al. 2019's comparison: aging evolution vs non-aging
tournament selection vs random search, same budget, several seeds.

    python experiments/reproduce_regularized_evolution.py \
        --config=configs/reproduce_regularized_evolution.py --workdir=runs/repro_re

Each (strategy, seed) search runs in WORKDIR/STRATEGY/seed_N (a finished one
is not run again; an interrupted one resumes). Then the best-so-far
validation accuracy against candidates evaluated is averaged over seeds and
written, with a plot, to docs/reproductions/regularized_evolution.md
(--doc_dir to change).
"""

from __future__ import annotations

import os
import shlex
import sys

# As in scripts/demo.sh: split each population over two CPU devices unless the
# caller chose (read when JAX starts its backend, after this line).
os.environ.setdefault("JAX_NUM_CPU_DEVICES", "2")

from absl import app, flags, logging  # noqa: E402
from ml_collections import config_flags  # noqa: E402

_CONFIG = config_flags.DEFINE_config_file(
    "config", None, "Reproduction config (configs/reproduce_regularized_evolution.py)."
)
_WORKDIR = flags.DEFINE_string("workdir", None, "Directory for the searches.")
_DOC_DIR = flags.DEFINE_string(
    "doc_dir", "docs/reproductions", "Where the markdown report and plot are written."
)
flags.mark_flags_as_required(["config", "workdir"])

DOC_NAME = "regularized_evolution"


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(_WORKDIR.value, ".xla_cache"))
    from pathways_jax import api
    from pathways_jax.cli import load_config_or_exit
    from pathways_jax.config import ConfigError
    from pathways_jax.data import DataError
    from pathways_jax.reproductions import regularized_evolution as reproduction

    config = load_config_or_exit(_CONFIG)
    logging.set_verbosity(logging.INFO)
    command = " ".join(shlex.quote(arg) for arg in ["python", *sys.argv])
    try:
        curves = {}
        for strategy in config.reproduction.strategies:
            for seed in config.reproduction.seeds:
                run_config = reproduction.run_config(config, strategy, seed)
                workdir = os.path.join(_WORKDIR.value, strategy, f"seed_{seed}")
                logging.info("Search %s, seed %d, in %s", strategy, seed, workdir)
                api.run_search(run_config, workdir)
                curves.setdefault(strategy, []).append(reproduction.best_so_far(workdir))
    except (ConfigError, DataError, api.WorkdirError, ValueError) as error:
        print(f"reproduce_regularized_evolution.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    path = reproduction.write_report(curves, config, command, _DOC_DIR.value, DOC_NAME)
    print(f"Report: {path}")


if __name__ == "__main__":
    from pathways_jax.cli import parse_flags

    app.run(main, flags_parser=parse_flags)

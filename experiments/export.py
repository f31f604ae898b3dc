r"""Export the K-th best pathway of a finished search as standalone code.

    python experiments/export.py --workdir=runs/mnist1d --out=exported
    python experiments/export.py --workdir=runs/mnist1d --rank=2 --format=torch --out=second

Writes model.py and params.msgpack (Flax) or model_torch.py and weights.pt
(PyTorch), with predict.py, preprocessing.json, pathway.txt and
test_split.npz, into --out. The pathway is retrained as the search retrains
its finalists, so --rank=1 reproduces the weights in WORKDIR/best/.
"""

from __future__ import annotations

import shlex
import sys

from absl import app, flags, logging

_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of a finished search.")
_RANK = flags.DEFINE_integer("rank", 1, "1 for the best pathway, 2 for the second, ...")
_FORMAT = flags.DEFINE_enum("format", "flax", ["flax", "torch"], "Framework of the code.")
_OUT = flags.DEFINE_string("out", None, "Directory to write the exported pathway into.")
flags.mark_flags_as_required(["workdir", "out"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from pathways_jax import run_export
    from pathways_jax.codegen import export
    from pathways_jax.config import ConfigError
    from pathways_jax.data import DataError

    logging.set_verbosity(logging.INFO)
    if _FORMAT.value == "torch" and not export.torch_available():
        print("export.py: error: --format=torch needs PyTorch: pip install torch", file=sys.stderr)
        sys.exit(2)
    command = " ".join(shlex.quote(arg) for arg in ["python", *sys.argv])
    try:
        written = run_export.export_rank(
            _WORKDIR.value, _RANK.value, _OUT.value, formats=(_FORMAT.value,), command=command
        )
    except (run_export.ExportError, ConfigError, DataError, ValueError, OSError) as error:
        print(f"export.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    for path in written:
        print(path)


if __name__ == "__main__":
    from pathways_jax.cli import parse_flags

    app.run(main, flags_parser=parse_flags)

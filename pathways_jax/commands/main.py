"""``pathways-jax``: the console entry point (``pip install -e .`` installs it).

pathways-jax search --config=configs/mnist1d.py --workdir=runs/mnist1d
pathways-jax fit data.csv --target=price --time=5m --out=model/
"""

from __future__ import annotations

import sys

USAGE = "usage: pathways-jax {search,fit} ... (pathways-jax fit --help, pathways-jax search --help)"


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand; returns (or exits with) its status."""
    argv = list(sys.argv if argv is None else argv)
    command = argv[1] if len(argv) > 1 else ""
    if command == "search":
        from pathways_jax.commands import search

        sys.argv = ["pathways-jax search", *argv[2:]]
        search.run()
        return 0
    if command == "fit":
        from pathways_jax.commands import fit

        return fit.main(argv[2:])
    if command in ("-h", "--help"):
        print(USAGE)
        return 0
    print(f"{USAGE}\npathways-jax: error: unknown command {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())

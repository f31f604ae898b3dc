r"""Write the report of a search: DIR/report.md and the plots in DIR/plots/.

    python experiments/report.py --workdir=runs/mnist1d

The report holds the config, the best pathway (description and drawing), its
validation and test metrics, the plots, the 10 best pathways and how to use
the exported code in DIR/best/. The search command writes it at its end too;
run this for a run in progress or after changing the report.
"""

from __future__ import annotations

import sys

from absl import app, flags

_WORKDIR = flags.DEFINE_string("workdir", None, "Directory of the search to report on.")
flags.mark_flags_as_required(["workdir"])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    from pathways_jax.runs import report

    try:
        path = report.write_report(_WORKDIR.value)
    except report.ReportError as error:
        print(f"report.py: error: {error}", file=sys.stderr)
        sys.exit(2)
    except OSError as error:
        print(f"report.py: error: cannot write the report: {error}", file=sys.stderr)
        sys.exit(2)
    print(f"Report: {path}")


if __name__ == "__main__":
    from pathways_jax.cli import parse_flags

    app.run(main, flags_parser=parse_flags)

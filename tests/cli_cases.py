"""Run the search command on many command lines in one process (for
``tests/cli_test.py``): each is parsed and run as ``experiments/search.py``
would run it, its stderr and exit status recorded. Starting JAX once instead
of once per bad input saves the suite minutes.

    python tests/cli_cases.py CASES.json RESULTS.json

``CASES.json``: ``{case: [argument, ...]}`` (without the program);
``RESULTS.json``: ``{case: {"returncode": int, "stderr": str}}``.
"""

import contextlib
import io
import json
import os
import sys
import traceback

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAM = os.path.join(REPO, "experiments", "search.py")


def run_case(arguments: list[str]) -> dict:
    """One command line: ``{"returncode", "stderr"}``."""
    from absl import app, flags

    from pathways_jax.cli import parse_flags
    from pathways_jax.commands import search

    # A fresh parse: the config file's override flags (--config.KEY) are defined
    # by each parse, so the previous command line's are removed first.
    for name in [name for name in flags.FLAGS if name.startswith("config.")]:
        delattr(flags.FLAGS, name)
    flags.FLAGS.unparse_flags()
    argv = [PROGRAM, *arguments]
    sys.argv = argv
    stderr = io.StringIO()
    code = 0
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            search.main(parse_flags(argv))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except app.UsageError as error:
            print(f"search.py: error: {error}", file=sys.stderr)
            code = 1
        except BaseException:  # What would escape the command: its traceback.
            traceback.print_exc(file=sys.stderr)
            code = 1
    return {"returncode": code, "stderr": stderr.getvalue()}


def main() -> None:
    cases_path, results_path = sys.argv[1:3]
    with open(cases_path, encoding="utf-8") as file:
        cases = json.load(file)
    results = {case: run_case(arguments) for case, arguments in cases.items()}
    with open(results_path, "w", encoding="utf-8") as file:
        json.dump(results, file)


if __name__ == "__main__":
    main()

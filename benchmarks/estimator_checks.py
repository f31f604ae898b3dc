r"""scikit-learn's estimator checks on both estimators, every one.

    python benchmarks/estimator_checks.py                     # both estimators
    python benchmarks/estimator_checks.py PathwayClassifier   # one of them

Each check that fits runs a small search (``preset='fast'``,
``max_candidates=8``) on data of a new shape, so each compiles new programs:
too slow for the test suite, which runs the checks that need no fit
(``tests/estimators_test.py``). Writes
``benchmarks/results/estimator_checks.json`` and the table in
``docs/automodel.md``.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import time
import warnings

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
DOC = os.path.join(REPO_ROOT, "docs", "automodel.md")


def run(names: list[str]) -> list[dict]:
    """Every check on each estimator of ``names``; each result is printed as it comes."""
    from sklearn.utils.estimator_checks import check_estimator

    from pathways_jax import PathwayClassifier, PathwayRegressor

    estimators = {
        "PathwayClassifier": PathwayClassifier(preset="fast", max_candidates=8),
        "PathwayRegressor": PathwayRegressor(preset="fast", max_candidates=8),
    }
    rows = []
    for name in names:

        def record(estimator, check_name, exception, status, *_, name=name, **__):
            error = " ".join(str(exception).split())[:300] if exception else ""
            row = {"estimator": name, "check": check_name, "status": status, "reason": error}
            rows.append(row)
            print(json.dumps(row), flush=True)

        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_estimator(estimators[name], on_fail=None, on_skip=None, callback=record)
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    counts = collections.Counter((row["estimator"], row["status"]) for row in rows)
    lines = ["| estimator | passed | failed | skipped |", "|---|---|---|---|"]
    for name in sorted({row["estimator"] for row in rows}):
        lines.append(
            f"| {name} | {counts[(name, 'passed')]} | {counts[(name, 'failed')]} | "
            f"{counts[(name, 'skipped')]} |"
        )
    others = [row for row in rows if row["status"] != "passed"]
    if others:
        lines += ["", "| estimator | check | status | why |", "|---|---|---|---|"]
        for row in others:
            reason = row["reason"].replace("|", "/")
            lines.append(f"| {row['estimator']} | {row['check']} | {row['status']} | {reason} |")
    return "\n".join(lines)


def main() -> int:
    os.environ.setdefault("JAX_NUM_CPU_DEVICES", str(os.cpu_count() or 1))
    names = sys.argv[1:] or ["PathwayClassifier", "PathwayRegressor"]
    rows = run(names)
    from benchmarks import common

    common.write_result("estimator_checks", {"rows": rows})
    command = " ".join(["python", "benchmarks/estimator_checks.py", *sys.argv[1:]])
    common.replace_doc_block(DOC, "estimator checks", command, markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

r"""scikit-learn's estimator checks on both estimators, every one.

    python benchmarks/estimator_checks.py     # about 10 minutes on 2 cores

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
RESULTS = os.path.join(REPO_ROOT, "benchmarks", "results", "estimator_checks.json")
DOC = os.path.join(REPO_ROOT, "docs", "automodel.md")
BEGIN, END = "<!-- estimator checks: begin -->", "<!-- estimator checks: end -->"


def run() -> list[dict]:
    from sklearn.utils.estimator_checks import check_estimator

    from pathways_jax import PathwayClassifier, PathwayRegressor

    rows = []
    for estimator in (
        PathwayClassifier(preset="fast", max_candidates=8),
        PathwayRegressor(preset="fast", max_candidates=8),
    ):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = check_estimator(estimator, on_fail=None, on_skip=None)
        for result in results:
            error = result.get("exception")
            rows.append(
                {
                    "estimator": type(estimator).__name__,
                    "check": result["check_name"],
                    "status": result["status"],
                    "reason": " ".join(str(error).split())[:300] if error else "",
                }
            )
        print(type(estimator).__name__, f"{time.perf_counter() - start:.0f} s", flush=True)
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
    rows = run()
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as file:
        json.dump(rows, file, indent=1)
    with open(DOC, encoding="utf-8") as file:
        page = file.read()
    start, end = page.index(BEGIN), page.index(END) + len(END)
    table = f"{BEGIN}\n`python benchmarks/estimator_checks.py`\n\n{markdown(rows)}\n{END}"
    with open(DOC, "w", encoding="utf-8") as file:
        file.write(page[:start] + table + page[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())

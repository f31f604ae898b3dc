r"""From a data file to a model and its code: ``pathways-jax fit``.

    pathways-jax fit data.csv --target=price --time=5m --out=model/
    pathways-jax fit data.npz --time=90s --max-latency-ms=1 --out=model/

A ``.csv`` has a header row; ``--target`` names the column to predict (the
others are the features: numbers, text, booleans, empty cells). An ``.npz``
holds ``x`` and ``y``. Classification or regression follows from the target
(``--task`` overrides). Prints the leaderboard and where the code is; bad
arguments are one line with exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

TASKS = ("auto", "classification", "regression")


class _OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line naming what is wrong, exit status 2 (as the search command)."""

    def error(self, message: str):
        print(f"{self.prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
        sys.exit(2)


def _parser(program: str) -> argparse.ArgumentParser:
    parser = _OneLineParser(prog=program, description=__doc__.splitlines()[0])
    parser.add_argument("data", help="a .csv file with a header row, or an .npz with x and y")
    parser.add_argument("--target", default="label", help="the .csv column to predict")
    parser.add_argument("--time", default="5m", help="time budget: seconds, or e.g. 90s, 5m, 1h")
    parser.add_argument("--max-candidates", type=int, default=None, help="most candidates trained")
    parser.add_argument("--max-latency-ms", type=float, default=None, help="latency limit")
    parser.add_argument("--max-params", type=int, default=None, help="parameter limit")
    parser.add_argument("--preset", default="balanced", choices=("fast", "balanced", "best"))
    parser.add_argument("--task", default="auto", choices=TASKS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="directory for the code and the run's records")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def read_data(path: str, target: str):
    """``(X, y)`` of a .csv (a table of raw cells) or an .npz file.

    Raises:
      DataError: one line naming the file and what is wrong.
    """
    from pathways_jax.data import files
    from pathways_jax.data.dataset import DataError

    if path.endswith(".npz"):
        arrays = files.read_npz(f"npz:{path}", path)
        if arrays.has_test_split:
            x = np.concatenate([arrays.x, arrays.x_test])
            return x, np.concatenate([arrays.y, arrays.y_test])
        return arrays.x, arrays.y
    if not path.endswith(".csv"):
        raise DataError(f"{path}: unknown file type (expected a .csv or an .npz file)")
    arrays = files.read_csv(f"csv:{path}", path, target)
    return arrays.x, arrays.y  # x: numbers, or a RawTable of named columns.


def _task(y, task: str) -> str:
    from pathways_jax.data import validation

    if task != "auto":
        return task
    values = np.asarray(y)
    if values.dtype.kind not in "biuf":
        return "classification"
    return validation.infer_task(values)


def main(argv: list[str], program: str = "pathways-jax fit") -> int:
    """Run the command on ``argv`` (without the program name); returns the exit status."""
    parser = _parser(program)
    args = parser.parse_args(argv)
    from pathways_jax.automodel import PathwayClassifier, PathwayRegressor, inputs
    from pathways_jax.config import ConfigError
    from pathways_jax.data.dataset import DataError
    from pathways_jax.runs.workdir import WorkdirError

    try:
        inputs.parse_duration(args.time)
        x, y = read_data(args.data, args.target)
    except (ValueError, DataError) as error:
        parser.error(str(error).replace("time_budget=", "--time="))
    classify = _task(y, args.task) == "classification"
    estimator_class = PathwayClassifier if classify else PathwayRegressor
    run_dir = os.path.join(args.out, "run")
    estimator = estimator_class(
        time_budget=args.time,
        max_candidates=args.max_candidates,
        max_latency_ms=args.max_latency_ms,
        max_params=args.max_params,
        preset=args.preset,
        seed=args.seed,
        workdir=run_dir,
        verbose=not args.quiet and sys.stderr.isatty(),
    )
    try:
        estimator.fit(x, y)
    except (ValueError, DataError, ConfigError, WorkdirError) as error:
        print(f"{program}: error: {error}", file=sys.stderr)
        return 2
    code_dir = os.path.join(args.out, "code")
    estimator.export(code_dir)
    print(_leaderboard_text(estimator.leaderboard(top=5)))
    final = estimator.final_ or {}
    print(f"Best pathway: {estimator.best_pathway_}")
    print(f"Held-out test: {final.get('test')}")
    print(f"Code: {code_dir} (model.py, predict.py); the run's records: {run_dir}")
    return 0


def _leaderboard_text(board) -> str:
    rows = board.to_dict("records") if hasattr(board, "to_dict") else board
    lines = ["rank  validation  params  pathway"]
    for row in rows:
        score = row.get("validation_accuracy", row.get("validation_r2", float("nan")))
        lines.append(f"{row['rank']:>4}  {score:10.4f}  {row['num_params']:>6}  {row['pathway']}")
    return "\n".join(lines)

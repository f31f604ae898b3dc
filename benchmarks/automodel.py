r"""``fit`` against scikit-learn's default models on the same splits.

    python benchmarks/automodel.py --budgets=60           # about 7 minutes on 2 cores
    python benchmarks/automodel.py --budgets=60,300 --datasets=iris,penguins

For each dataset (scikit-learn's bundled tables, digits as 64-feature
vectors, and the Palmer penguins table, which has text columns and missing
values and ships inside the ``palmerpenguins`` package) and each time budget,
``PathwayClassifier``/``PathwayRegressor`` is fitted on 75% of the rows and
scored on the rest, beside scikit-learn models with default settings: logistic
regression, SVC, random forest, histogram gradient boosting and an MLP (with
imputation, one-hot encoding and scaling where the model needs them). Writes
``benchmarks/results/automodel.json`` and the table in ``docs/automodel.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
DOC = os.path.join(REPO_ROOT, "docs", "automodel.md")
DATASETS = ("iris", "wine", "breast_cancer", "digits", "diabetes", "penguins")


def load(name: str):
    """``(X, y, task)``; X a DataFrame for the penguins table."""
    from sklearn import datasets

    if name == "penguins":
        from palmerpenguins import load_penguins

        frame = load_penguins()
        return frame.drop(columns=["species"]), frame["species"].to_numpy(), "classification"
    loader = getattr(datasets, f"load_{name}")
    x, y = loader(return_X_y=True)
    return x, y, "regression" if name == "diabetes" else "classification"


def baselines(task: str, x):
    """scikit-learn's models with default settings, behind the preprocessing they need."""
    from sklearn import ensemble, linear_model, neural_network, svm
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def prepared(model, scale=True):
        numeric = make_pipeline(SimpleImputer(strategy="median"), *([StandardScaler()] * scale))
        if not hasattr(x, "columns"):
            return make_pipeline(numeric, model)
        text = make_pipeline(
            SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
        )
        columns = ColumnTransformer(
            [
                ("numeric", numeric, make_column_selector(dtype_include="number")),
                ("text", text, make_column_selector(dtype_exclude="number")),
            ]
        )
        return make_pipeline(columns, model)

    if task == "classification":
        return {
            "LogisticRegression": prepared(linear_model.LogisticRegression()),
            "SVC": prepared(svm.SVC()),
            "RandomForest": prepared(ensemble.RandomForestClassifier(), scale=False),
            "HistGradientBoosting": prepared(ensemble.HistGradientBoostingClassifier(), False),
            "MLP": prepared(neural_network.MLPClassifier()),
        }
    return {
        "LinearRegression": prepared(linear_model.LinearRegression()),
        "SVR": prepared(svm.SVR()),
        "RandomForest": prepared(ensemble.RandomForestRegressor(), scale=False),
        "HistGradientBoosting": prepared(ensemble.HistGradientBoostingRegressor(), False),
        "MLP": prepared(neural_network.MLPRegressor()),
    }


def run(names, budgets, seed: int = 0, feature_selection: bool = False) -> list[dict]:
    import warnings

    from sklearn.model_selection import train_test_split

    from pathways_jax import PathwayClassifier, PathwayRegressor

    rows = []
    for name in names:
        x, y, task = load(name)
        stratify = y if task == "classification" else None
        x_train, x_test, y_train, y_test = train_test_split(
            x, y, test_size=0.25, random_state=seed, stratify=stratify
        )
        for budget in budgets:
            estimator = (PathwayClassifier if task == "classification" else PathwayRegressor)(
                time_budget=budget, seed=seed, feature_selection=feature_selection
            )
            start = time.perf_counter()
            estimator.fit(x_train, y_train)
            seconds = time.perf_counter() - start
            rows.append(
                {
                    "dataset": name,
                    "model": f"pathways_jax fit ({budget:g} s)",
                    "score": float(estimator.score(x_test, y_test)),
                    "fit_seconds": seconds,
                    "budget_seconds": budget,
                    "over_budget_seconds": seconds - budget,
                    "candidates": estimator.summary_["evaluations"],
                    "pathway": estimator.best_pathway_,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        for model_name, model in baselines(task, x_train).items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Default MLP/LR settings may not converge.
                model.fit(x_train, y_train)
            seconds = time.perf_counter() - start
            score = float(model.score(x_test, y_test))
            rows.append(
                {"dataset": name, "model": model_name, "score": score, "fit_seconds": seconds}
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| dataset | model | test score | fit seconds | candidates | found pathway |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['dataset']} | {row['model']} | {row['score']:.4f} | "
            f"{row['fit_seconds']:.1f} | {row.get('candidates', '')} | {row.get('pathway', '')} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="60", help="comma-separated seconds")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--feature_selection",
        action="store_true",
        help="input-mask genes on (a table of its own in the page)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("JAX_NUM_CPU_DEVICES", str(os.cpu_count() or 1))
    budgets = [float(b) for b in args.budgets.split(",")]
    rows = run(args.datasets.split(","), budgets, args.seed, args.feature_selection)
    from benchmarks import common

    command = " ".join(["python", *sys.argv])
    name = "automodel_feature_selection" if args.feature_selection else "automodel"
    common.write_result(name, {"command": command, "rows": rows})
    block = "results with feature selection" if args.feature_selection else "results"
    common.replace_doc_block(DOC, block, command, markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The leaderboard of a fitted estimator and an explanation of its winner.

:func:`leaderboard` ranks the search's candidates by validation fitness;
:func:`explain` says which inputs the winner reads and measures how much each
matters by permutation importance on the validation split: the rows of one
input (a table column: all its encoded features together) are shuffled, the
drop in the validation score is the importance, repeated over several
permutations for a 95% confidence interval (mean ± 1.96 standard errors).
"""

from __future__ import annotations

import math

import numpy as np

from pathways_jax.data import table_encoding

CONFIDENCE_Z = 1.96


def _table(rows: list[dict]):
    """A pandas DataFrame of ``rows`` when pandas is installed, else the rows."""
    try:
        import pandas
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


def leaderboard(space, history: list[dict], top: int = 10):
    """The ``top`` trained candidates of ``history`` by validation fitness."""
    trained = [r for r in history if math.isfinite(r["metrics"].get("fitness", -math.inf))]
    ranked = sorted(trained, key=lambda r: (-r["metrics"]["fitness"], r["id"]))[:top]
    rows = []
    for rank, record in enumerate(ranked, start=1):
        metrics = record["metrics"]
        row = {"rank": rank, "id": record["id"], "pathway": record["description"]}
        row.update(
            {
                f"validation_{name}": metrics[name]
                for name in ("accuracy", "loss", "r2", "mse")
                if name in metrics
            }
        )
        row["num_params"] = int(metrics.get("num_params", 0))
        row["flops"] = float(metrics.get("flops", 0.0))
        if "latency_seconds" in metrics:
            row["latency_ms"] = 1000.0 * metrics["latency_seconds"]
        row["round"] = record["round"]
        if "cache_hit_of" in record:
            row["same_as"] = record["cache_hit_of"]
        rows.append(row)
    return _table(rows)


def _score(estimator, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy or R² of the fitted network on encoded inputs ``x``."""
    outputs = np.asarray(estimator._forward(estimator.variables_, x))
    if estimator._task == "classification":
        return float(np.mean(np.argmax(outputs, axis=1) == y))
    residual = np.sum(np.square(outputs[:, 0] - y))
    return float(1.0 - residual / max(np.sum(np.square(y - y.mean())), 1e-12))


def permutation_importance(estimator, groups: dict[str, list[int]], repeats: int, seed: int = 0):
    """``[{input, importance, low, high, ...}]``, most important first, on the
    validation split; ``groups`` maps each input to its encoded feature columns."""
    dataset = estimator.dataset_
    x = np.asarray(dataset.x_val, np.float32).reshape(len(dataset.y_val), -1)
    y = np.asarray(dataset.y_val)
    shape = dataset.x_val.shape
    baseline = _score(estimator, x.reshape(shape), y)
    rng = np.random.default_rng(seed)
    rows = []
    for name, columns in groups.items():
        drops = []
        for _ in range(repeats):
            shuffled = x.copy()
            order = rng.permutation(len(x))
            shuffled[:, columns] = x[order][:, columns]
            drops.append(baseline - _score(estimator, shuffled.reshape(shape), y))
        mean = float(np.mean(drops))
        half = (
            CONFIDENCE_Z * float(np.std(drops, ddof=1)) / math.sqrt(repeats) if repeats > 1 else 0.0
        )
        rows.append({"input": name, "importance": mean, "low": mean - half, "high": mean + half})
    rows.sort(key=lambda row: -row["importance"])
    return rows, baseline


def explain(estimator, repeats: int = 10) -> dict:
    """``{pathway, inputs, uses, baseline_validation_score, importance}`` of a
    fitted estimator: ``uses`` the inputs its input mask chose (all without
    feature selection); ``importance`` a DataFrame when pandas is installed."""
    dataset = estimator.dataset_
    if estimator.encoding_ is not None:
        groups = table_encoding.feature_groups(estimator.encoding_)
    elif dataset.input_kind == "vector":
        names = getattr(estimator, "feature_names_in_", None)
        names = (
            list(names) if names is not None else [f"x{i}" for i in range(dataset.input_shape[0])]
        )
        groups = {name: [i] for i, name in enumerate(names)}
    else:  # Sequences and images: one group per channel.
        channels = dataset.input_shape[-1]
        width = int(np.prod(dataset.input_shape))
        groups = {f"channel {c}": list(range(c, width, channels)) for c in range(channels)}
    rows, baseline = permutation_importance(estimator, groups, repeats, seed=estimator.seed)
    uses = list(groups)
    mask = estimator.genome_.input_mask
    if mask is not None and len(mask) == len(groups):  # Feature selection chose these.
        uses = [name for name, bit in zip(groups, np.asarray(mask), strict=True) if bit]
    return {
        "pathway": estimator.best_pathway_,
        "inputs": list(groups),
        "uses": uses,
        "baseline_validation_score": baseline,
        "importance": _table(rows),
    }

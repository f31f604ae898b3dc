"""History metrics of trained candidates: flat per-candidate dicts, with the
reason a candidate failed."""

from __future__ import annotations

import numpy as np

from pathways_jax.core.records import metric_rows


def divergence_reason(train_loss: float, diverged: bool, fitness: float) -> str | None:
    """Why a candidate got fitness -inf (None when it did not)."""
    if not diverged and np.isfinite(fitness):
        return None
    if not np.isfinite(train_loss):
        return "training loss became NaN or infinite"
    if diverged:
        return "parameters became NaN or infinite during training"
    return "validation fitness is NaN or infinite"


def training_records(metrics: dict, num_real: int) -> list[dict]:
    """Per-candidate history metrics of a trained round's host ``metrics``
    (``eval`` per eval set, ``train_loss``, ``diverged``, ``num_params``,
    ``flops``, each ``[round_size]``): the first eval set's metrics, then the
    training fields, and a ``reason`` for each failed candidate."""
    columns = {
        **metrics["eval"][0],
        "train_loss": metrics["train_loss"],
        "diverged": metrics["diverged"],
        "num_params": metrics["num_params"],
        "flops": metrics["flops"],
    }
    rows = metric_rows(columns, num_real)
    for row in rows:
        reason = divergence_reason(row["train_loss"], row["diverged"], row["fitness"])
        if reason is not None:
            row["reason"] = reason
    return rows

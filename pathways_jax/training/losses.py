"""Losses a loss gene selects, and the metrics a candidate is judged by."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

LABEL_SMOOTHING = 0.1
HUBER_DELTA = 1.0


def classification_losses(logits: jnp.ndarray, labels: jnp.ndarray) -> list[jnp.ndarray]:
    """Per-example losses ``[B]`` for every entry of ``CLASSIFICATION_LOSSES``.

    Args:
      logits: ``[B, K]`` float32.
      labels: ``[B]`` int32 in ``[0, K)``.
    """
    num_classes = logits.shape[-1]
    smoothed = optax.smooth_labels(jax.nn.one_hot(labels, num_classes), LABEL_SMOOTHING)
    return [
        optax.softmax_cross_entropy_with_integer_labels(logits, labels),
        optax.softmax_cross_entropy(logits, smoothed),
        optax.losses.multiclass_hinge_loss(logits, labels),
    ]


def regression_losses(outputs: jnp.ndarray, targets: jnp.ndarray) -> list[jnp.ndarray]:
    """Per-example losses ``[B]`` for every entry of ``REGRESSION_LOSSES``.

    Args:
      outputs: ``[B, 1]`` float32 predictions.
      targets: ``[B]`` float32.
    """
    predictions = outputs[:, 0]
    return [
        optax.squared_error(predictions, targets),
        optax.huber_loss(predictions, targets, delta=HUBER_DELTA),
    ]


def per_example_loss(task: str, loss_gene, outputs, targets) -> jnp.ndarray:
    """``[B]`` loss the traced ``loss_gene`` selects for ``task``."""
    if task == "classification":
        candidates = classification_losses(outputs, targets)
    else:
        candidates = regression_losses(outputs, targets)
    return jax.lax.select_n(jnp.clip(loss_gene, 0, len(candidates) - 1), *candidates)


def summed_metrics(task: str, outputs, targets, mask) -> dict[str, jnp.ndarray]:
    """Sums over a chunk of examples (``mask`` ``[B]`` marks real ones) that
    :func:`finalize_metrics` turns into metrics."""
    if task == "classification":
        correct = (jnp.argmax(outputs, axis=-1) == targets).astype(jnp.float32)
        xent = optax.softmax_cross_entropy_with_integer_labels(outputs, targets)
        return {
            "correct": jnp.sum(correct * mask),
            "loss": jnp.sum(xent * mask),
            "count": jnp.sum(mask),
        }
    error = jnp.square(outputs[:, 0] - targets)
    return {
        "squared_error": jnp.sum(error * mask),
        "target_sum": jnp.sum(targets * mask),
        "target_square_sum": jnp.sum(jnp.square(targets) * mask),
        "count": jnp.sum(mask),
    }


# The validation metric a search may maximise as its fitness, with its sign
# (a minimised metric's fitness is its negative).
FITNESS_METRICS = {
    "classification": {"accuracy": 1.0, "loss": -1.0},
    "regression": {"r2": 1.0, "mse": -1.0},
}


def finalize_metrics(
    task: str, sums: dict[str, jnp.ndarray], fitness_metric: str = ""
) -> dict[str, jnp.ndarray]:
    """Metrics from summed statistics.

    Classification: ``accuracy`` and mean softmax cross-entropy ``loss``.
    Regression: ``mse`` and ``r2`` (coefficient of determination).
    Both give ``fitness`` (higher is better): accuracy, or R², or with
    ``fitness_metric`` (a key of ``FITNESS_METRICS[task]``) that metric, negated
    when it is minimised.
    """
    count = jnp.maximum(sums["count"], 1.0)
    if task == "classification":
        accuracy = sums["correct"] / count
        metrics = {"accuracy": accuracy, "loss": sums["loss"] / count, "fitness": accuracy}
    else:
        mse = sums["squared_error"] / count
        mean = sums["target_sum"] / count
        variance = jnp.maximum(sums["target_square_sum"] / count - jnp.square(mean), 1e-12)
        r2 = 1.0 - mse / variance
        metrics = {"mse": mse, "r2": r2, "fitness": r2}
    if fitness_metric:
        metrics["fitness"] = FITNESS_METRICS[task][fitness_metric] * metrics[fitness_metric]
    return metrics

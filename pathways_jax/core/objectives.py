"""What a strategy is told: fitness, or oriented objectives of the metrics."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pathways_jax.runs import pareto
from pathways_jax.strategies import nsga2


def strategy_values(objective_names, metrics: list[dict], round_size: int) -> jnp.ndarray:
    """Fitness ``[round_size]`` or oriented objectives ``[round_size, k]`` of a
    round's metrics (one dict per evaluated child); the slots past the
    evaluated children (padding, never admitted) get ``-inf``."""
    padding = round_size - len(metrics)
    fitness = np.asarray([m["fitness"] for m in metrics] + [-np.inf] * padding, np.float32)
    if len(objective_names) == 1:
        return jnp.asarray(fitness)
    columns = {"fitness": fitness}
    for name in objective_names[1:]:
        metric = nsga2.measured_metric(name)
        columns[metric] = np.asarray([m[metric] for m in metrics] + [1.0] * padding, np.float64)
    return jnp.asarray(nsga2.oriented_objectives(objective_names, columns))


def round_hypervolume(objective_names, state) -> dict:
    """``{'hypervolume': float}`` of a multi-objective population, else ``{}``."""
    if len(objective_names) == 1:
        return {}
    volume = pareto.population_hypervolume(
        objective_names, np.asarray(state.objectives), np.asarray(state.birth)
    )
    return {"hypervolume": round(volume, 6)}

"""The Pareto front of a multi-objective search, from its history.

``pareto_front.json`` lists the non-dominated candidates of every candidate
evaluated (id, description, the objectives as measured: fitness, parameter
count, FLOPs, measured latency); ``plots/pareto_front.png`` draws them among all candidates.
"""

from __future__ import annotations

import os

import numpy as np

from pathways_jax.runs import records
from pathways_jax.strategies import nsga2

PARETO_FILE = "pareto_front.json"
_AXIS_LABELS = {
    "params": "parameters",
    "flops": "forward FLOPs per example",
    "latency": "measured inference latency (s)",
}


def population_hypervolume(objective_names, objectives: np.ndarray, births: np.ndarray) -> float:
    """Hypervolume of the living members' oriented ``objectives [P, k]``."""
    reference = nsga2.hypervolume_reference(objective_names)
    return nsga2.hypervolume(np.asarray(objectives)[np.asarray(births) >= 0], reference)


def write_pareto_front(workdir: str, objective_names) -> dict:
    """Write ``pareto_front.json`` (and its plot) for the run in ``workdir``."""
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    columns = {
        nsga2.measured_metric(name): np.asarray(
            [r["metrics"][nsga2.measured_metric(name)] for r in history]
        )
        for name in objective_names
    }
    oriented = nsga2.oriented_objectives(objective_names, columns)
    front = nsga2.pareto_front(oriented)
    front = sorted(front, key=lambda i: -oriented[i, 0])
    reference = nsga2.hypervolume_reference(objective_names)
    result = {
        "objectives": list(objective_names),
        "hypervolume": nsga2.hypervolume(oriented[front], reference),
        "front": [
            {
                "id": history[i]["id"],
                "description": history[i]["description"],
                **{
                    name: history[i]["metrics"][nsga2.measured_metric(name)]
                    for name in objective_names
                },
            }
            for i in front
        ],
    }
    records.write_json(os.path.join(workdir, PARETO_FILE), result)
    plot_pareto_front(history, objective_names, front, os.path.join(workdir, "plots"))
    return result


def plot_pareto_front(history, objective_names, front, directory: str) -> str:
    """Fitness against the second objective (log scale), front highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    second = objective_names[1]
    x = np.asarray([r["metrics"][nsga2.measured_metric(second)] for r in history], np.float64)
    y = np.asarray([r["metrics"]["fitness"] for r in history], np.float64)
    shown = np.isfinite(y) & (x > 0)
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.scatter(x[shown], y[shown], s=10, alpha=0.4, label="candidate")
    order = sorted(front, key=lambda i: x[i])
    axes.step(x[order], y[order], where="post", color="C3", marker="o", label="Pareto front")
    axes.set_xscale("log")
    axes.set_xlabel(_AXIS_LABELS.get(second, nsga2.measured_metric(second)))
    axes.set_ylabel("validation fitness")
    axes.set_title(f"Pareto front ({len(front)} pathways)")
    axes.legend(loc="lower right")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "pareto_front.png")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path

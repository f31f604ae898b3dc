"""PNG plots of a search, drawn from its records (``DIR/plots/``).

- ``fitness_vs_candidates.png``: every candidate's validation fitness (the
  population) and the best so far, against candidates evaluated.
- ``fitness_vs_time.png``: the same against wall time (per round).
- ``fitness_per_round.png``: the distribution of fitness in each round.
- ``best_pathway.png``: a drawing of the best pathway (:mod:`diagram`).

Diverged candidates (fitness -inf) are left out of the scatter and counted in
the titles. A multi-objective run (strategy ``nsga2``) also has
``pareto_front.png``, drawn with its ``pareto_front.json`` at the end of the
search by :mod:`pathways_jax.runs.pareto`; the report shows both.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from pathways_jax.runs import diagram, records  # noqa: E402

PLOTS_DIR = "plots"
PLOT_FILES = {
    "fitness_vs_candidates": "fitness_vs_candidates.png",
    "fitness_vs_time": "fitness_vs_time.png",
    "fitness_per_round": "fitness_per_round.png",
    "best_pathway": "best_pathway.png",
}


def fitness_series(history: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids [n], fitness [n], best_so_far [n])`` of history records in id
    order; fitness is -inf for a diverged candidate."""
    ordered = sorted(history, key=lambda record: record["id"])
    ids = np.asarray([record["id"] for record in ordered], np.int64)
    fitness = np.asarray([record["metrics"]["fitness"] for record in ordered], np.float64)
    best = np.maximum.accumulate(fitness) if fitness.size else fitness
    return ids, fitness, best


def fitness_by_round(history: list[dict]) -> dict[int, np.ndarray]:
    """``{round: finite fitness values of its candidates}``."""
    rounds: dict[int, list[float]] = {}
    for record in history:
        rounds.setdefault(record["round"], []).append(record["metrics"]["fitness"])
    return {
        index: np.asarray([v for v in values if np.isfinite(v)], np.float64)
        for index, values in sorted(rounds.items())
    }


def _diverged_note(fitness: np.ndarray) -> str:
    count = int(np.sum(~np.isfinite(fitness)))
    return f" ({count} diverged, not shown)" if count else ""


def _save(figure, path: str) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_fitness_vs_candidates(history: list[dict], path: str) -> None:
    """Population fitness and best so far against candidates evaluated."""
    ids, fitness, best = fitness_series(history)
    finite = np.isfinite(fitness)
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.scatter(ids[finite] + 1, fitness[finite], s=10, alpha=0.5, label="candidate")
    shown = np.isfinite(best)
    axes.step(ids[shown] + 1, best[shown], where="post", color="C3", label="best so far")
    axes.set_xlabel("candidates evaluated")
    axes.set_ylabel("validation fitness")
    axes.set_title("fitness against candidates" + _diverged_note(fitness))
    axes.legend(loc="lower right")
    _save(figure, path)


def plot_fitness_vs_time(history: list[dict], metrics: list[dict], path: str) -> None:
    """Population fitness of each round and the best so far against wall time."""
    seconds = {line["round"]: line["wall_seconds"] for line in metrics}
    figure, axes = plt.subplots(figsize=(7, 4))
    rounds = fitness_by_round(history)
    xs = [seconds[r] for r, values in rounds.items() if r in seconds for _ in values]
    ys = [v for r, values in rounds.items() if r in seconds for v in values]
    axes.scatter(xs, ys, s=10, alpha=0.5, label="candidate")
    best = [(line["wall_seconds"], line["best_fitness"]) for line in metrics]
    best = [(t, f) for t, f in best if np.isfinite(f)]
    median = [(line["wall_seconds"], line["median_fitness"]) for line in metrics]
    median = [(t, f) for t, f in median if np.isfinite(f)]
    if best:
        axes.step(*zip(*best, strict=True), where="post", color="C3", label="best so far")
    if median:
        axes.plot(*zip(*median, strict=True), color="C2", label="population median")
    axes.set_xlabel("wall time (s)")
    axes.set_ylabel("validation fitness")
    _, fitness, _ = fitness_series(history)
    axes.set_title("fitness against wall time" + _diverged_note(fitness))
    axes.legend(loc="lower right")
    _save(figure, path)


def plot_fitness_per_round(history: list[dict], path: str) -> None:
    """A box of the finite fitness values of each round."""
    rounds = fitness_by_round(history)
    figure, axes = plt.subplots(figsize=(max(6, 0.25 * len(rounds) + 3), 4))
    positions = [r for r, values in rounds.items() if values.size]
    axes.boxplot([rounds[r] for r in positions], positions=positions, widths=0.6)
    if len(positions) > 20:
        step = max(1, len(positions) // 10)
        axes.set_xticks(positions[::step], [str(p) for p in positions[::step]])
    axes.set_xlabel("round")
    axes.set_ylabel("validation fitness")
    _, fitness, _ = fitness_series(history)
    axes.set_title("fitness per round" + _diverged_note(fitness))
    _save(figure, path)


def best_description(workdir: str, history: list[dict]) -> str | None:
    """The description of the run's best pathway: the retrained one in
    ``best/genome.json``, else the best of the history (None without one)."""
    path = os.path.join(workdir, records.BEST_GENOME_FILE)
    if os.path.exists(path):
        return records.read_json(path)["description"]
    finite = [r for r in history if np.isfinite(r["metrics"]["fitness"])]
    if not finite:
        return None
    return max(finite, key=lambda r: (r["metrics"]["fitness"], -r["id"]))["description"]


def write_plots(workdir: str) -> dict[str, str]:
    """Draw every plot of the run in ``workdir`` into ``workdir/plots``.

    Returns:
      ``{plot name: path}`` of the files written (the pathway drawing only
      when some candidate did not diverge).
    """
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    metrics = records.read_json_lines(os.path.join(workdir, records.METRICS_FILE))
    directory = os.path.join(workdir, PLOTS_DIR)
    os.makedirs(directory, exist_ok=True)
    paths = {name: os.path.join(directory, file) for name, file in PLOT_FILES.items()}
    plot_fitness_vs_candidates(history, paths["fitness_vs_candidates"])
    plot_fitness_vs_time(history, metrics, paths["fitness_vs_time"])
    plot_fitness_per_round(history, paths["fitness_per_round"])
    # A finished search drew its best from the decoded structure (the space's
    # draw hook); a pathway run in progress is drawn from its description.
    if not os.path.exists(paths["best_pathway"]):
        description = best_description(workdir, history)
        config = records.read_json(os.path.join(workdir, records.CONFIG_FILE))
        if description is None or config.get("space", {}).get("name", "pathway") != "pathway":
            del paths["best_pathway"]
        else:
            diagram.draw_pathway(description, paths["best_pathway"], _input_label(workdir))
    return paths


def _input_label(workdir: str) -> str:
    path = os.path.join(workdir, records.BEST_GENOME_FILE)
    if os.path.exists(path):
        space = records.read_json(path).get("space", {})
        if "input_shape" in space:
            return f"input {tuple(space['input_shape'])}"
    return "input"

"""Comparing strategies over seeds: best-so-far curves, statistics, a report.

Used by ``experiments/reproduce_regularized_evolution.py``: every strategy
runs the same search config with several seeds; the best validation fitness
seen so far after each candidate is averaged over seeds.
"""

from __future__ import annotations

import os

import ml_collections
import numpy as np

from pathways_jax.runs import records


def run_config(config: ml_collections.ConfigDict, strategy: str, seed: int):
    """The search config of one (strategy, seed) run of a reproduction config."""
    run = ml_collections.ConfigDict(config.to_dict())
    del run["reproduction"]
    run.strategy.name = strategy
    run.seed = int(seed)
    return run


def best_so_far(workdir: str) -> np.ndarray:
    """``[candidates]`` best validation fitness after each candidate of a run."""
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    fitness = np.asarray([r["metrics"]["fitness"] for r in history], np.float64)
    fitness = np.where(np.isfinite(fitness), fitness, -np.inf)
    return np.maximum.accumulate(fitness)


def summarize(curves: dict[str, list[np.ndarray]]) -> dict[str, dict]:
    """Per strategy: mean and std of the best-so-far curves ``[candidates]`` and
    the final best per seed."""
    summary = {}
    for strategy, runs in curves.items():
        length = min(len(run) for run in runs)
        stacked = np.stack([run[:length] for run in runs])
        summary[strategy] = {
            "mean": stacked.mean(axis=0),
            "std": stacked.std(axis=0),
            "final": stacked[:, -1],
        }
    return summary


def _plot(summary: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for strategy, stats in summary.items():
        x = np.arange(1, len(stats["mean"]) + 1)
        axes.plot(x, stats["mean"], label=strategy)
        axes.fill_between(x, stats["mean"] - stats["std"], stats["mean"] + stats["std"], alpha=0.2)
    axes.set_xlabel("candidates evaluated")
    axes.set_ylabel("best validation accuracy so far")
    axes.set_title("mean ± std over seeds")
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(curves, config, command: str, doc_dir: str, name: str) -> str:
    """Write ``doc_dir/name.md`` and ``doc_dir/name.png``; returns the md path."""
    os.makedirs(doc_dir, exist_ok=True)
    summary = summarize(curves)
    _plot(summary, os.path.join(doc_dir, f"{name}.png"))
    half = {s: stats["mean"][len(stats["mean"]) // 2 - 1] for s, stats in summary.items()}
    rows = [
        f"| {strategy} | {len(stats['final'])} | {stats['final'].mean():.4f} ± "
        f"{stats['final'].std():.4f} | {half[strategy]:.4f} | "
        f"{', '.join(f'{v:.3f}' for v in stats['final'])} |"
        for strategy, stats in summary.items()
    ]
    budget = len(next(iter(summary.values()))["mean"])
    lines = [
        "# Regularized evolution vs tournament vs random search (MNIST-1D)",
        "",
        "Regenerate with:",
        "",
        "```bash",
        command,
        "```",
        "",
        f"Budget: {budget} candidates per run, {config.train.steps} training steps each; "
        f"population {config.strategy.population_size}, sample {config.strategy.sample_size}, "
        f"rounds of {config.parallel.round_size}. Fitness is validation accuracy.",
        "",
        f"![best so far]({name}.png)",
        "",
        "| strategy | seeds | final best (mean ± std) | mean best at half budget | per seed |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]
    means = {s: stats["final"].mean() for s, stats in summary.items()}
    if {"regularized", "tournament", "random"} <= set(means):
        beats_random = means["regularized"] > means["random"]
        aging_ok = means["regularized"] >= means["tournament"]
        lines += [
            "## The paper's claims here",
            "",
            f"- Evolution beats random search: **{'holds' if beats_random else 'does not hold'}**"
            f" (regularized {means['regularized']:.4f} vs random {means['random']:.4f}).",
            f"- Aging is at least as good as non-aging: "
            f"**{'holds' if aging_ok else 'does not hold'}** (regularized "
            f"{means['regularized']:.4f} vs tournament {means['tournament']:.4f}).",
            "",
            "With this few seeds and this small a budget the differences are within a "
            "standard deviation or two; read them as indications, not significance.",
            "",
        ]
    path = os.path.join(doc_dir, f"{name}.md")
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(lines))
    return path

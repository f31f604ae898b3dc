"""The report of the PathNet transfer experiment: per-setting statistics,
bootstrap intervals of the speed-ups, a plot, and the markdown page.

Every task of every setting is one search of the shared loop
(:mod:`pathways_jax.reproductions.pathnet`); this module only reads the
repetitions' records.
"""

from __future__ import annotations

import json
import os

import ml_collections
import numpy as np

SETTINGS = ("scratch", "transfer", "transfer_unfrozen", "fixed_scratch", "finetune")


def ratio_interval(
    numerator, denominator, samples: int, strata=None, seed: int = 0
) -> tuple[float, float, float]:
    """``mean(numerator) / mean(denominator)`` and its 95% percentile-bootstrap interval.

    Numerator and denominator are resampled independently, with replacement;
    with ``strata`` (a label per repetition, e.g. its task pair), within each
    stratum, so that a pooled interval does not count the spread between pairs.
    """
    rng = np.random.default_rng(seed)
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    strata = np.zeros(len(numerator), int) if strata is None else np.asarray(strata)

    def resampled_means(values):
        columns = [
            rng.choice(values[strata == label], (samples, int(np.sum(strata == label))))
            for label in np.unique(strata)
        ]
        return np.concatenate(columns, axis=1).mean(1)

    ratios = resampled_means(numerator) / resampled_means(denominator)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(numerator.mean() / denominator.mean()), float(low), float(high)


def summarize(records: list[dict], samples: int) -> dict:
    """Per pair (and all pairs pooled): per setting mean/std rounds, wall
    seconds, test accuracy, threshold reached; speed-ups with intervals."""
    groups: dict[str, list[dict]] = {}
    for record in records:
        name = f"{tuple(record['pair_a'])} -> {tuple(record['pair_b'])}"
        groups.setdefault(name, []).append(record)
    if len(groups) > 1:
        groups["all pairs"] = list(records)
    summary = {}
    for name, group in groups.items():
        entry = {"repetitions": len(group)}
        strata = [f"{r['pair_a']}{r['pair_b']}" for r in group]
        for setting in SETTINGS:
            rounds = np.asarray([r[setting]["rounds"] for r in group], float)
            entry[setting] = {
                "rounds_mean": float(rounds.mean()),
                "rounds_std": float(rounds.std()),
                "rounds": rounds.astype(int).tolist(),
                "wall_seconds_mean": float(np.mean([r[setting]["wall_seconds"] for r in group])),
                "test_accuracy_mean": float(np.mean([r[setting]["test_accuracy"] for r in group])),
                "reached": int(sum(r[setting]["reached"] for r in group)),
            }
        for label, top, bottom in (
            ("transfer_speedup", "scratch", "transfer"),
            ("finetune_speedup", "fixed_scratch", "finetune"),
            ("transfer_over_finetune", "finetune", "transfer"),
            ("transfer_over_fixed_scratch", "fixed_scratch", "transfer"),
            ("unfrozen_speedup", "scratch", "transfer_unfrozen"),
            ("freezing_gain", "transfer_unfrozen", "transfer"),
        ):
            for unit in ("rounds", "wall_seconds"):
                value, low, high = ratio_interval(
                    [r[top][unit] for r in group],
                    [r[bottom][unit] for r in group],
                    samples,
                    strata,
                )
                entry[f"{label}_{unit}"] = {"ratio": value, "low": low, "high": high}
        summary[name] = entry
    return summary


def plot(records: list[dict], path: str) -> None:
    """Rounds to the threshold on B, per pair and setting (points and means)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({f"{tuple(r['pair_a'])} -> {tuple(r['pair_b'])}" for r in records})
    figure, axes = plt.subplots(figsize=(8, 4))
    colors = {
        "scratch": "tab:gray",
        "transfer": "tab:blue",
        "transfer_unfrozen": "tab:cyan",
        "fixed_scratch": "tab:olive",
        "finetune": "tab:orange",
    }
    for column, name in enumerate(names):
        group = [r for r in records if f"{tuple(r['pair_a'])} -> {tuple(r['pair_b'])}" == name]
        for offset, setting in zip((-0.32, -0.16, 0.0, 0.16, 0.32), SETTINGS, strict=True):
            rounds = np.asarray([r[setting]["rounds"] for r in group], float)
            jitter = np.linspace(-0.04, 0.04, len(rounds))
            axes.scatter(
                column + offset + jitter,
                rounds,
                s=12,
                color=colors[setting],
                alpha=0.6,
                label=setting if column == 0 else None,
            )
            axes.hlines(rounds.mean(), column + offset - 0.06, column + offset + 0.06, color="k")
    axes.set_xticks(range(len(names)), [f"task pair {n}" for n in names], fontsize=8)
    axes.set_ylabel("rounds to the threshold on task B")
    axes.set_title("PathNet transfer: each point a repetition, bars the means")
    axes.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _interval_text(entry: dict, label: str, unit: str = "rounds") -> str:
    value = entry[f"{label}_{unit}"]
    return f"{value['ratio']:.2f} [{value['low']:.2f}, {value['high']:.2f}]"


def _verdict(entry: dict, label: str) -> str:
    value = entry[f"{label}_rounds"]
    if value["low"] > 1:
        return "faster (the interval is above 1)"
    if value["high"] < 1:
        return "slower (the interval is below 1)"
    return "no clear difference (the interval contains 1)"


def write_report(
    records: list[dict], config: ml_collections.ConfigDict, command: str, doc_dir: str, name: str
) -> str:
    """Writes ``doc_dir/name.md``, ``name.png`` and ``name.json``; returns the md path."""
    os.makedirs(doc_dir, exist_ok=True)
    summary = summarize(records, config.reproduction.bootstrap_samples)
    plot(records, os.path.join(doc_dir, f"{name}.png"))
    with open(os.path.join(doc_dir, f"{name}.json"), "w", encoding="utf-8") as file:
        json.dump({"summary": summary, "repetitions": records}, file, indent=1, sort_keys=True)
        file.write("\n")
    space, train = config.space, config.evaluator
    threshold = config.budget.target_fitness
    max_rounds = config.budget.evaluations // config.parallel.round_size
    tournaments = config.parallel.round_size // 2
    noise = f", salt-and-pepper noise {train.noise}" if train.noise else ""
    lines = [
        f"# PathNet transfer on binary {config.dataset.name} tasks",
        "",
        "Fernando et al. (2017) report that binary MNIST task B is learnt about 1.18x "
        "faster (in generations to 0.998 training accuracy) after transfer from task A "
        "than by a fresh PathNet. This is the same experiment here. Regenerate with:",
        "",
        "```bash",
        command,
        "```",
        "",
        "Settings (the paper's unless noted): "
        f"L={space.num_layers} layers x M={space.num_modules} {space.module_kind} modules of "
        f"{space.units} units, at most N={space.max_active} active per layer, "
        f"{space.aggregation} of a layer's modules; population "
        f"{config.strategy.population_size}, {tournaments} binary "
        f"tournament(s) per round, each pathway trained for T={train.steps_per_round} "
        f"minibatches of {train.batch_size} ({train.optimizer}, learning rate "
        f"{train.learning_rate}, gradients of a module's users combined by "
        f"{train.gradient_combine}); fitness {train.fitness}; a task is learnt "
        f"when a pathway's fitness reaches {threshold} (at most {max_rounds} "
        f"rounds; a run that does not reach it counts {max_rounds}){noise}. "
        f"{config.reproduction.repetitions} repetitions (seeds {config.seed}.."
        f"{config.seed + config.reproduction.repetitions - 1}) per pair and setting.",
        "",
        "Settings compared, all measured on task B:",
        "",
        "- **scratch**: a fresh PathNet evolves on B.",
        "- **transfer**: PathNet on A; A's best pathway frozen, the other modules "
        "re-initialised, a new readout and population evolve on B.",
        "- **transfer_unfrozen**: the same run on A and the same new population on B, "
        "but nothing frozen or re-initialised (an ablation of freezing).",
        "- **fixed_scratch**: one fixed pathway of the same size (modules 0..N-1 of each "
        "layer, no evolution) trained on B.",
        "- **finetune**: that fixed pathway trained on A, then all of it trained on B "
        "with a new readout.",
        "",
        f"![rounds to the threshold]({name}.png)",
        "",
        "| task pair A -> B | setting | reached | rounds (mean ± std) | wall s (mean) "
        "| test accuracy on B |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for group, entry in summary.items():
        for setting in SETTINGS:
            stats = entry[setting]
            lines.append(
                f"| {group} | {setting} | {stats['reached']}/{entry['repetitions']} | "
                f"{stats['rounds_mean']:.1f} ± {stats['rounds_std']:.1f} | "
                f"{stats['wall_seconds_mean']:.2f} | {stats['test_accuracy_mean']:.4f} |"
            )
    lines += [
        "",
        "Speed-ups: ratio of mean rounds, with a 95% bootstrap interval over "
        "repetitions (resampled within each pair for the pooled row); above 1 means "
        "the second setting is faster.",
        "",
        "| task pair A -> B | scratch / transfer | scratch / transfer_unfrozen | "
        "fixed_scratch / finetune | finetune / transfer | "
        "same in wall seconds: scratch / transfer |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for group, entry in summary.items():
        lines.append(
            f"| {group} | {_interval_text(entry, 'transfer_speedup')} | "
            f"{_interval_text(entry, 'unfrozen_speedup')} | "
            f"{_interval_text(entry, 'finetune_speedup')} | "
            f"{_interval_text(entry, 'transfer_over_finetune')} | "
            f"{_interval_text(entry, 'transfer_speedup', 'wall_seconds')} |"
        )
    pooled = summary.get("all pairs") or next(iter(summary.values()))
    lines += [
        "",
        "## What this shows",
        "",
        f"- PathNet transfer against a fresh PathNet (pooled): "
        f"{_interval_text(pooled, 'transfer_speedup')}, {_verdict(pooled, 'transfer_speedup')}; "
        "the paper reports about 1.18.",
        f"- The same transfer without freezing against a fresh PathNet (pooled): "
        f"{_interval_text(pooled, 'unfrozen_speedup')}, {_verdict(pooled, 'unfrozen_speedup')}; "
        f"rounds without freezing / rounds with freezing: "
        f"{_interval_text(pooled, 'freezing_gain')} (below 1: freezing slows task B down).",
        f"- Fine-tuning against the same fixed pathway from scratch (pooled): "
        f"{_interval_text(pooled, 'finetune_speedup')}, {_verdict(pooled, 'finetune_speedup')}.",
        f"- PathNet transfer against fine-tuning (pooled): "
        f"{_interval_text(pooled, 'transfer_over_finetune')}, "
        f"{_verdict(pooled, 'transfer_over_finetune')}.",
        f"- A single fixed pathway trained every round reaches the threshold "
        f"{pooled['scratch']['rounds_mean'] / pooled['fixed_scratch']['rounds_mean']:.1f}x "
        "sooner than a fresh PathNet (pooled means): a PathNet round trains only the "
        f"{2 * tournaments} pathways drawn for its tournament(s) "
        f"out of {config.strategy.population_size}, and a task counts as learnt when one "
        "of them reaches the threshold, so the modules' training is spread over many "
        "pathways before one is good enough.",
        "",
        "## How this differs from the paper",
        "",
        "- Data: class pairs of "
        f"{config.dataset.name} (generated or shipped offline), not of MNIST.",
        "- The pathways of a round train at the same time on the shared weights, each "
        "on its own minibatches, with a module's gradient averaged over the pathways "
        "that use it (`evaluator.gradient_combine`); the paper trains them in parallel "
        "workers that apply their updates asynchronously.",
        "- A round is one step of the evolutionary loop: with one tournament per round, "
        "rounds count tournaments, what the paper counts as generations.",
        f"- Optimizer and learning rate ({train.optimizer}, {train.learning_rate}) were "
        "chosen here, not taken from the paper.",
        "",
    ]
    path = os.path.join(doc_dir, f"{name}.md")
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(lines))
    return path

"""Multi-fidelity against full training on the default MNIST-1D search, over seeds.

Each variant is the default search (``configs/mnist1d.py``) with a few
overrides, run once per seed with ``run_search`` into ``ROOT/VARIANT_seedS``
(a finished run there is read back, a partial one resumed). Per run: the
training steps spent (``metrics.jsonl``), steps per candidate, the best
validation accuracy seen during the search, and the validation and test
accuracy of the retrained best pathway (``summary.json``). Per variant: the
means over seeds, the reduction in steps per candidate against the default,
and the per-seed difference in best validation accuracy (paired by seed).

    JAX_NUM_CPU_DEVICES=2 python -m benchmarks.fidelity_search --seeds=0,1,2

Writes ``benchmarks/results/fidelity_search.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

# name -> (overrides of configs/mnist1d.py, what the variant is).
VARIANTS = {
    "default": ({}, "full training, 128 candidates"),
    "hurdle30": (
        {"fidelity.hurdle_steps": 30, "fidelity.keep_fraction": 0.25},
        "hurdle 30 steps, keep 1/4, 128 candidates",
    ),
    "hurdle30_x3": (
        {
            "fidelity.hurdle_steps": 30,
            "fidelity.keep_fraction": 0.25,
            "budget.evaluations": 384,
        },
        "hurdle 30 steps, keep 1/4, 384 candidates (about the default's total steps)",
    ),
    "hurdle20_x3": (
        {
            "fidelity.hurdle_steps": 20,
            "fidelity.keep_fraction": 0.25,
            "budget.evaluations": 384,
        },
        "hurdle 20 steps, keep 1/4, 384 candidates (about the default's total steps)",
    ),
    "hurdle40_keep8_x4": (
        {
            "fidelity.hurdle_steps": 40,
            "fidelity.keep_fraction": 0.125,
            "budget.evaluations": 512,
        },
        "hurdle 40 steps, keep 1/8, 512 candidates (about the default's total steps)",
    ),
}


def run_variant(name: str, seed: int, root: str) -> dict:
    """One search of variant ``name`` (resumed or read back when its workdir
    has it) and its figures."""
    from benchmarks import common
    from pathways_jax import api
    from pathways_jax.runs import records

    overrides, _ = VARIANTS[name]
    config = common.mnist1d_config(overrides)
    config.seed = seed
    config.progress.bar = False
    config.progress.report = False
    workdir = os.path.join(root, f"{name}_seed{seed}")
    summary = api.run_search(config, workdir)
    rounds = records.read_json_lines(os.path.join(workdir, records.METRICS_FILE))
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    steps = rounds[-1]["training_steps"]
    return {
        "variant": name,
        "seed": seed,
        "workdir": os.path.relpath(workdir, REPO_ROOT),
        "candidates": summary["evaluations"],
        "fully_trained": sum("fidelity" not in r and "cache_hit_of" not in r for r in history),
        "training_steps": steps,
        "steps_per_candidate": steps / summary["evaluations"],
        "best_validation": rounds[-1]["best_fitness"],
        "retrained_validation": summary["final"]["validation"]["accuracy"],
        "test": summary["final"]["test"]["accuracy"],
        "search_seconds": rounds[-1]["wall_seconds"],
        "best_description": summary["best_description"],
    }


def summarise(runs: list[dict]) -> dict:
    """Per variant: means over seeds, the reduction in steps per candidate and
    the paired difference in best validation accuracy against ``default``."""
    by_variant: dict[str, dict[int, dict]] = {}
    for run in runs:
        by_variant.setdefault(run["variant"], {})[run["seed"]] = run
    reference = by_variant.get("default", {})
    table = {}
    for name, seeds in by_variant.items():
        mean = lambda key, seeds=seeds: statistics.fmean(r[key] for r in seeds.values())
        row = {
            "description": VARIANTS[name][1],
            "seeds": sorted(seeds),
            "candidates": mean("candidates"),
            "fully_trained": mean("fully_trained"),
            "training_steps": mean("training_steps"),
            "steps_per_candidate": mean("steps_per_candidate"),
            "best_validation": mean("best_validation"),
            "retrained_validation": mean("retrained_validation"),
            "test": mean("test"),
        }
        paired = sorted(set(seeds) & set(reference))
        if paired:
            row["reduction"] = statistics.fmean(
                reference[s]["steps_per_candidate"] / seeds[s]["steps_per_candidate"]
                for s in paired
            )
            if name != "default":
                row["best_validation_difference"] = [
                    seeds[s]["best_validation"] - reference[s]["best_validation"] for s in paired
                ]
        table[name] = row
    return table


def markdown(table: dict) -> str:
    """The summary as a Markdown table (accuracies in percent)."""
    lines = [
        "| search | candidates | fully trained | steps per candidate | reduction "
        "| best validation | difference per seed (pp) | retrained validation | test |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in table.values():
        differences = ", ".join(
            f"{100 * d:+.1f}" for d in row.get("best_validation_difference", [])
        )
        lines.append(
            f"| {row['description']} | {row['candidates']:.0f} | {row['fully_trained']:.0f} "
            f"| {row['steps_per_candidate']:.0f} | {row.get('reduction', 1.0):.1f}x "
            f"| {100 * row['best_validation']:.1f}% | {differences or '—'} "
            f"| {100 * row['retrained_validation']:.1f}% | {100 * row['test']:.1f}% |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"subset of {','.join(VARIANTS)}"
    )
    parser.add_argument("--root", default=os.path.join(REPO_ROOT, "runs", "fidelity_search"))
    parser.add_argument(
        "--output", default=os.path.join(REPO_ROOT, "benchmarks", "results", "fidelity_search.json")
    )
    args = parser.parse_args(argv)
    names = [name for name in args.variants.split(",") if name]
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        parser.error(f"--variants: unknown {unknown}; expected names among {list(VARIANTS)}")
    try:
        seeds = [int(seed) for seed in args.seeds.split(",") if seed]
    except ValueError:
        parser.error(f"--seeds={args.seeds!r}: expected comma-separated integers")
    runs = [run_variant(name, seed, args.root) for name in names for seed in seeds]
    table = summarise(runs)
    from pathways_jax.runs import records

    records.write_json(args.output, {"runs": runs, "summary": table})
    print(markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())

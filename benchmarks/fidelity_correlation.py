"""How well short training predicts full training on the default MNIST-1D search.

A hurdle can only keep the right candidates if their fitness after a few
steps ranks them as their fitness after ``train.steps`` does. This trains the
same pathways (same keys, same programs as a search) for several step counts
and reports, against the full count:

- the Spearman rank correlation of validation fitness;
- the recall of the top quarter: the share of the best 25% at full training
  that are also in the best 25% after the short training (what a hurdle with
  ``keep_fraction=0.25`` would keep).

Two sets of pathways: random samples of the space (a first round), and
the last candidates of a finished search's ``history.jsonl`` (evolved
children, the hurdle's real input), when ``--history`` is given.

    JAX_NUM_CPU_DEVICES=2 python -m benchmarks.fidelity_correlation \
        --history=runs/mnist1d_default/history.jsonl
"""

from __future__ import annotations

import argparse
import os

import numpy as np

STEPS = (30, 60, 120, 200)


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of ``values`` (ties share their mean rank)."""
    order = np.argsort(values, kind="stable")
    ranked = np.empty(len(values), np.float64)
    ranked[order] = np.arange(len(values))
    for value in np.unique(values):
        tied = values == value
        ranked[tied] = ranked[tied].mean()
    return ranked


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two samples."""
    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def top_recall(short: np.ndarray, full: np.ndarray, fraction: float = 0.25) -> float:
    """Share of the top ``fraction`` by ``full`` that are also top by ``short``."""
    count = max(1, int(round(fraction * len(full))))
    best_full = set(np.argsort(-full, kind="stable")[:count])
    best_short = set(np.argsort(-short, kind="stable")[:count])
    return len(best_full & best_short) / count


def make_programs(space, config, steps_list) -> dict:
    """One population program per step count (each compiled once, shared by the sets)."""
    from pathways_jax import parallel
    from pathways_jax.population_program import PopulationProgram

    mesh = parallel.population_mesh()
    return {
        steps: PopulationProgram(space, steps, mesh, "shard_map", 1)
        for steps in (*steps_list, config.train.steps)
    }


def measure(genomes, programs: dict, dataset, config) -> dict:
    """Validation fitness of ``genomes`` after each program's step count, and the
    statistics of every shorter count against ``config.train.steps``."""
    import jax
    import jax.numpy as jnp

    from pathways_jax.population_program import candidate_keys, search_keys
    from pathways_jax.spaces.pathway import genome as genome_lib
    from pathways_jax.training import trainer

    count = genome_lib.population_size(genomes)
    _, train_key, _ = search_keys(config.seed)
    keys = candidate_keys(train_key, np.arange(count))
    validation = trainer.make_eval_set(dataset.x_val, dataset.y_val, config.train.eval_chunk)
    inputs, targets = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
    fitness = {}
    for steps, program in programs.items():
        metrics = program(genomes, keys, inputs, targets, (validation,))
        values = np.asarray(jax.device_get(metrics["eval"][0]["fitness"]), np.float64)
        fitness[steps] = np.where(np.isfinite(values), values, -1.0)
    full = fitness[config.train.steps]
    return {
        "pathways": count,
        "full_steps": config.train.steps,
        "median_full_fitness": float(np.median(full)),
        "by_steps": {
            str(steps): {
                "spearman": spearman(fitness[steps], full),
                "top_quarter_recall": top_recall(fitness[steps], full),
                "median_fitness": float(np.median(fitness[steps])),
            }
            for steps in programs
            if steps != config.train.steps
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", default="", help="history.jsonl of a finished search")
    parser.add_argument("--count", type=int, default=48, help="pathways per set")
    parser.add_argument(
        "--out", default=os.path.join(os.path.dirname(__file__), "results", "fidelity.json")
    )
    args = parser.parse_args()

    import jax

    from benchmarks import common
    from pathways_jax.runs import records
    from pathways_jax.spaces.pathway import genome as genome_lib

    space, dataset = common.mnist1d_problem()
    config = common.mnist1d_config()
    sets = {}
    random = jax.vmap(space.sample)(jax.random.split(jax.random.key(1), args.count))
    sets["random samples"] = random
    if args.history:
        history = records.read_json_lines(args.history)
        evolved = [genome_lib.genome_from_json(r["genome"]) for r in history[-args.count :]]
        sets[f"last {len(evolved)} candidates of {args.history}"] = genome_lib.stack_genomes(
            evolved
        )
    programs = make_programs(space, config, STEPS)
    results = {name: measure(g, programs, dataset, config) for name, g in sets.items()}
    records.write_json(args.out, results)
    for name, result in results.items():
        print(f"{name}: {result['pathways']} pathways, full = {result['full_steps']} steps")
        for steps, stats in result["by_steps"].items():
            print(
                f"  {steps:>4} steps: spearman {stats['spearman']:.3f}, top-quarter recall "
                f"{stats['top_quarter_recall']:.2f}, median fitness {stats['median_fitness']:.3f}"
            )


if __name__ == "__main__":
    main()

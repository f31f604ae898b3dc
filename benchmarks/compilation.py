"""Benchmark 2: compilations per search as the population and rounds grow.

Each grid point is one complete search (``run_search`` on MNIST-1D with short
training, so compilation dominates) in a fresh process, so every count starts
from zero. ``population_program`` counts traces of the population program
(``PopulationProgram.compilations``); ``xla`` counts every XLA backend
compilation of the process, with their seconds (``runs.compilations``; in
the quick smoke run, which keeps JAX's persistent cache, a program loaded
from the cache counts as one).

    python -m benchmarks.compilation '{"population": 8, "rounds": 2, "steps": 20}'
"""

from __future__ import annotations

import json
import sys
import tempfile
import time


def search_once(population: int, rounds: int, steps: int, overrides: dict) -> dict:
    """One search with ``rounds`` rounds of 8 candidates and population ``population``."""
    from benchmarks import common
    from pathways_jax import api

    # Every program compiled afresh, except in the quick run (its figures mean
    # nothing), whose programs come from the persistent cache: JAX reports a
    # program loaded from there as a backend compilation too, so the counts agree.
    common.disable_disk_cache()

    config = common.mnist1d_config(overrides)
    config.strategy.population_size = population
    config.strategy.sample_size = min(config.strategy.sample_size, population)
    config.budget.evaluations = rounds * config.parallel.round_size
    config.train.steps = steps
    config.final.steps = steps
    config.progress.bar = False
    config.progress.report = False
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        summary = api.run_search(config, workdir)
        seconds = time.perf_counter() - start
    return {
        "population": population,
        "rounds": rounds,
        "evaluations": summary["evaluations"],
        "population_program": summary["compilations"],
        "xla": summary["xla_compilations"],
        "xla_seconds": summary["xla_compile_seconds"],
        "wall_seconds": seconds,
    }


def run(grid, steps: int, num_devices: int, overrides: dict | None = None) -> dict:
    """Every ``(population, rounds)`` of ``grid``, each in a fresh process."""
    from benchmarks import common

    points = [
        common.run_worker(
            "compilation",
            {"population": p, "rounds": r, "steps": steps, "overrides": overrides or {}},
            num_devices,
        )
        for p, r in grid
    ]
    counts = {(p["population_program"], p["xla"]) for p in points}
    return {
        "steps": steps,
        "devices": num_devices,
        "overrides": overrides or {},
        "points": points,
        "flat": len(counts) == 1,
    }


if __name__ == "__main__":
    arguments = json.loads(sys.argv[1])
    print(
        json.dumps(
            search_once(
                arguments["population"],
                arguments["rounds"],
                arguments["steps"],
                arguments.get("overrides", {}),
            )
        )
    )

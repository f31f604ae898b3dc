"""Benchmark 3: candidates per second of the population program on 1, 2 and
4 devices, and the parallel efficiency.

Each device count runs in a fresh process whose fake CPU devices are set
before JAX starts (``JAX_NUM_CPU_DEVICES``). The program is called twice on
the same pathways; the second (compiled) call is timed. One more process runs
one device pinned to a single core: a single device already spreads its
operations over every core (XLA's intra-op threads), so that point is the
baseline that tells how well devices use the cores they add.

    python -m benchmarks.scaling '{"pathways": 16, "steps": 100}'
"""

from __future__ import annotations

import json
import os
import sys
import time


def measure(pathways: int, steps: int, overrides: dict) -> dict:
    """Warm candidates per second on every local device of this process."""
    from benchmarks import common

    common.disable_disk_cache()
    import jax
    import jax.numpy as jnp

    from benchmarks import throughput
    from pathways_jax import parallel
    from pathways_jax.population_program import PopulationProgram
    from pathways_jax.training import trainer

    space, dataset = common.mnist1d_problem(overrides)
    genomes = common.benchmark_pathways(space, pathways)
    keys = throughput.training_keys(pathways)
    mesh = parallel.population_mesh()
    program = PopulationProgram(space, steps, mesh, "shard_map", 1)
    # Evaluated as the throughput benchmark evaluates (the test split in chunks
    # of 1000): the same program, which the quick run then compiles only once.
    validation = trainer.make_eval_set(dataset.x_test, dataset.y_test, 1000)
    x_train, y_train = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
    start = time.perf_counter()
    first = program(genomes, keys, x_train, y_train, (validation,))
    cold = time.perf_counter() - start
    start = time.perf_counter()
    second = program(genomes, keys, x_train, y_train, (validation,))
    warm = time.perf_counter() - start
    same = bool((first["eval"][0]["fitness"] == second["eval"][0]["fitness"]).all())
    return {
        "devices": jax.device_count(),
        "pathways": pathways,
        "steps": steps,
        "cold_seconds": cold,
        "warm_seconds": warm,
        "candidates_per_second": pathways / warm,
        "fitness": first["eval"][0]["fitness"].tolist(),
        "repeatable": same,
    }


def run(device_counts, pathways: int, steps: int, overrides: dict | None = None) -> dict:
    """Each device count in its own process; efficiency against one device."""
    from benchmarks import common

    args = {"pathways": pathways, "steps": steps, "overrides": overrides or {}}
    points = [common.run_worker("scaling", args, n) for n in device_counts]
    one_core = common.run_worker("scaling", dict(args, one_core=True), 1)
    base = points[0]["candidates_per_second"]
    core_base = one_core["candidates_per_second"]
    cores = os.cpu_count() or 1
    for point in points:
        n = point["devices"]
        point["speedup"] = point["candidates_per_second"] / base
        point["efficiency"] = point["speedup"] / n
        # Against one device on one core; with more devices than cores, at
        # most ``cores`` run at once.
        point["speedup_over_one_core"] = point["candidates_per_second"] / core_base
        point["efficiency_per_core"] = point["speedup_over_one_core"] / min(n, cores)
    identical = len({tuple(p["fitness"]) for p in points}) == 1
    return {
        "pathways": pathways,
        "steps": steps,
        "cores": cores,
        "points": points,
        "one_core": one_core,
        "identical_results": identical,
    }


if __name__ == "__main__":
    arguments = json.loads(sys.argv[1])
    if arguments.get("one_core"):
        # Before JAX starts, so that its thread pools see a single core.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    print(
        json.dumps(
            measure(arguments["pathways"], arguments["steps"], arguments.get("overrides", {}))
        )
    )

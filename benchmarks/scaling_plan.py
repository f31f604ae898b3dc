r"""The measured inputs of the scaling plan in ``docs/scaling.md``.

    python benchmarks/scaling_plan.py [--population=10000]

Measures, on this machine, what a plan for splitting a population of
pathways over many devices needs: the memory one candidate of the default
MNIST-1D search takes while it trains (from XLA's memory analysis of the
compiled training program, at the genome's maximum shapes), the FLOPs and
the number of fused kernels of one training step of the padded
super-network, and the host-side seconds of one round at the full population
size (ask, tell, history records, a checkpoint). Writes
``benchmarks/results/scaling_plan.json``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import common  # noqa: E402
from benchmarks.efficiency import executed_flops_per_example  # noqa: E402
from pathways_jax.core import experiment, stages  # noqa: E402
from pathways_jax.core.records import history_lines  # noqa: E402
from pathways_jax.evaluators.metrics import training_records  # noqa: E402
from pathways_jax.runs import checkpoints, records  # noqa: E402
from pathways_jax.spaces.pathway import genome as genome_lib  # noqa: E402
from pathways_jax.spaces.pathway import network as pathway_network  # noqa: E402
from pathways_jax.training import trainer  # noqa: E402


def largest_genome(space):
    """A genome of the maximum shapes: every block a convolution of the widest
    channels and largest kernel (the super-network's parameters do not depend
    on the genes; the activations of the largest batch are the most)."""
    sample = jax.jit(space.sample)(jax.random.key(0))
    depth = space.tables.max_depth
    full = lambda value: jnp.full((depth,), value, jnp.int32)
    return sample.replace(
        operation=full(genome_lib.CONV),
        width=full(len(space.tables.conv_widths) - 1),
        kernel_size=full(len(space.tables.kernel_sizes) - 1),
        batch_size=jnp.asarray(len(space.tables.batch_sizes) - 1, jnp.int32),
    )


def candidate_memory(space, dataset, steps: int) -> dict:
    """Bytes one candidate's training program holds (XLA's memory analysis)."""
    genome = largest_genome(space)
    params = jax.eval_shape(lambda: pathway_network.init_params(space, genome, jax.random.key(0)))
    param_bytes = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree_util.tree_leaves(params))
    settings = trainer.TrainSettings(steps=steps)
    x_train, y_train = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
    train = jax.jit(lambda g, k, x, y: trainer.train(space, settings, g, k, x, y)[0])
    compiled = train.lower(genome, jax.random.key(1), x_train, y_train).compile()
    analysis = compiled.memory_analysis()
    hlo = compiled.as_text()
    fusions = len(re.findall(r"^\s*\S+ = \S+ fusion\(", hlo, flags=re.MULTILINE))
    return {
        "parameters": int(param_bytes // 4),
        "parameter_bytes": int(param_bytes),
        "train_data_bytes": int(x_train.nbytes + y_train.nbytes),
        "argument_bytes": int(analysis.argument_size_in_bytes),
        "output_bytes": int(analysis.output_size_in_bytes),
        "temp_bytes": int(analysis.temp_size_in_bytes),
        "fused_kernels_in_program": fusions,
        "executed_flops_per_example_forward": executed_flops_per_example(space, genome),
        "batch_size": int(space.tables.batch_sizes[-1]),
    }


def host_round_seconds(space, config, population: int) -> dict:
    """Seconds of the host-side parts of one round of ``population`` children."""
    config.strategy.population_size = population
    config.parallel.round_size = population
    strategy = experiment.build_strategy(config, space)
    timings = {}
    start = time.perf_counter()
    state = strategy.init(jax.random.key(0))
    jax.block_until_ready(state)
    timings["init_seconds"] = time.perf_counter() - start
    rng = np.random.default_rng(0)
    for round_index in range(2):  # The second round is warm (compiled).
        start = time.perf_counter()
        plan = stages.plan_round(strategy, jax.random.key(round_index), state, population)
        jax.block_until_ready(plan.children)
        timings["ask_seconds"] = time.perf_counter() - start
        fitness = jnp.asarray(rng.uniform(size=population), jnp.float32)
        start = time.perf_counter()
        state = strategy.tell(state, plan.children, fitness, population)
        jax.block_until_ready(state)
        timings["tell_seconds"] = time.perf_counter() - start
    metrics = {
        "eval": [{"fitness": np.asarray(fitness), "accuracy": np.asarray(fitness)}],
        "train_loss": np.ones(population, np.float32),
        "diverged": np.zeros(population, bool),
        "num_params": np.ones(population, np.int32),
        "flops": np.ones(population, np.float32),
    }
    ids = np.arange(population)
    start = time.perf_counter()
    rows = training_records(metrics, population)
    lines = history_lines(space, plan, rows, ids, 1)
    timings["history_records_seconds"] = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as workdir:
        writer = records.JsonLinesWriter(os.path.join(workdir, records.HISTORY_FILE))
        start = time.perf_counter()
        writer.write(lines)
        writer.close()
        timings["history_write_seconds"] = time.perf_counter() - start
        timings["history_bytes_per_round"] = os.path.getsize(
            os.path.join(workdir, records.HISTORY_FILE)
        )
        manager = checkpoints.open_manager(workdir, 3)
        progress = {"rounds": 1, "evaluated": population}
        start = time.perf_counter()
        checkpoints.save(manager, 1, state, progress, workdir)
        timings["checkpoint_seconds"] = time.perf_counter() - start
        manager.close()
        timings["state_bytes"] = int(
            sum(leaf.nbytes for leaf in checkpoints.state_to_host(state).values())
        )
    return {name: round(value, 4) for name, value in timings.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=10_000)
    args = parser.parse_args()
    common.disable_disk_cache()
    config = common.mnist1d_config()
    space, dataset = common.mnist1d_problem()
    memory = candidate_memory(space, dataset, steps=config.train.steps)
    host = host_round_seconds(space, config, args.population)
    result = {
        "machine": common.machine(),
        "population": args.population,
        "train_steps": int(config.train.steps),
        "candidate": memory,
        "host_round": host,
    }
    print(common.write_result("scaling_plan", result))
    for section in ("candidate", "host_round"):
        for name, value in result[section].items():
            print(f"{section}.{name}: {value}")


if __name__ == "__main__":
    main()

"""Benchmark 4: achieved FLOP/s of the training program against a measured
float32 matmul peak, and the profile that explains the gap.

- Useful FLOPs are counted from the pathways' own shapes
  (``pathway_network.count_flops``: two per multiply-add of every dense,
  convolution and read-out layer), times three for forward plus backward.
- Executed FLOPs are those of the super-network that trains them: every
  activation lives in the fixed buffer ``[*spatial, C_max]``, so a convolution
  runs ``C_max`` input and output channels over every position, the first dense
  block reads the whole flattened buffer, and the read-out too.
- The matmul peak is the best of a jitted ``[n, n] @ [n, n]`` on one device,
  the same on every device at once, and ``torch.matmul`` with threads = cores.
"""

from __future__ import annotations

import math
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec

from pathways_jax import parallel
from pathways_jax.codegen import decode_blocks
from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway import shape_classes
from pathways_jax.training import trainer


def _best_seconds(fn, repeats: int) -> float:
    jax.block_until_ready(fn())
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return best


def matmul_peak(size: int = 1024, repeats: int = 10) -> dict:
    """Measured float32 matmul FLOP/s: one device, all devices, torch."""
    flops = 2.0 * size**3
    a = jax.random.normal(jax.random.key(0), (size, size), jnp.float32)
    one = jax.jit(lambda x: x @ x)
    results = {"size": size, "one_device": flops / _best_seconds(lambda: one(a), repeats)}
    mesh = parallel.population_mesh()
    count = mesh.devices.size
    stacked = jnp.stack([a] * count)
    spec = PartitionSpec(parallel.POPULATION_AXIS)
    every = jax.jit(
        jax.shard_map(lambda x: x @ x, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)
    )
    results["all_devices"] = count * flops / _best_seconds(lambda: every(stacked), repeats)
    results["devices"] = count
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    t = torch.randn(size, size)
    torch.matmul(t, t)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(t, t)
        best = min(best, time.perf_counter() - start)
    results["torch"] = flops / best
    results["peak"] = max(results["one_device"], results["all_devices"], results["torch"])
    return results


def executed_flops_per_example(space, genome) -> float:
    """Forward FLOPs per example the super-network runs for one genome
    (matrix products only, as :func:`pathway_network.count_flops`)."""
    positions = math.prod(space.spatial_shape) if space.spatial_shape else 1
    channels, units, flat = space.max_channels, space.max_units, space.flat_size
    total = 0.0
    for block in decode_blocks(space, genome):
        if block["op"] == "conv":
            taps = block["kernel"] ** len(space.spatial_shape)
            total += 2.0 * positions * taps * channels * channels
        elif block["op"] == "dense":
            total += 2.0 * (flat if block["first_dense"] else units) * units
    return total + 2.0 * flat * space.num_outputs


def seconds_per_step(
    space, genomes, keys, dataset, steps: int, indices, program_space=None
) -> dict[int, float]:
    """Seconds per training step of each pathway ``indices`` of ``genomes``
    alone on one device, all with one compiled program (in ``program_space``'s
    buffers when given, see ``trainer.train``); the first call compiles and is
    not timed."""
    settings = trainer.TrainSettings(steps=steps)
    x_train, y_train = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
    if program_space is not None:
        x_train = shape_classes.class_inputs(space, program_space, x_train)
    train = jax.jit(
        lambda g, k: trainer.train(
            space, settings, g, k, x_train, y_train, program_space=program_space
        )[1]
    )
    jax.block_until_ready(train(genome_lib.index_population(genomes, indices[0]), keys[0]))
    seconds = {}
    for index in indices:
        one = genome_lib.index_population(genomes, index)
        start = time.perf_counter()
        jax.block_until_ready(train(one, keys[index]))
        seconds[int(index)] = (time.perf_counter() - start) / steps
    return seconds


def step_profile(space, genomes, keys, dataset, steps: int) -> dict:
    """Seconds per training step of each pathway alone, on one device, in the
    full super-network (one compiled program with the genes traced) and in the
    narrowest shape class that holds it (one program per class)."""
    classes = shape_classes.shape_classes(space, "all")
    assignment = shape_classes.assign(space, classes, jax.device_get(genomes))

    def timed(class_space, indices) -> dict[int, float]:
        return seconds_per_step(space, genomes, keys, dataset, steps, indices, class_space)

    count = genome_lib.population_size(genomes)
    full = timed(None, list(range(count)))
    in_class = {}
    for class_index, shape_class in enumerate(classes):
        members = [int(i) for i in np.flatnonzero(assignment == class_index)]
        if not members:
            continue
        if shape_class.name == shape_classes.FULL:
            in_class.update({i: full[i] for i in members})
        else:
            in_class.update(timed(shape_class.space, members))
    return {
        "steps": steps,
        "step_seconds": [full[i] for i in range(count)],
        "class_step_seconds": [in_class[i] for i in range(count)],
        "classes": [classes[i].name for i in assignment],
    }

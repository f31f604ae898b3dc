"""Convolution in the super-network: patches + one matmul ("im2col", the
formulation ``pathway_network`` uses) against XLA's own convolution
(``lax.conv_general_dilated``), on the convolutional benchmark pathways.

Both are swapped into the same super-network, checked to compute the same
outputs, and timed per training step of one pathway alone on one device.
"""

from __future__ import annotations

import contextlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.pathway import buffer_ops
from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway import network as pathway_network
from pathways_jax.training import trainer


def lax_conv(space, h: jnp.ndarray, kernel: jnp.ndarray, kernel_size: int) -> jnp.ndarray:
    """``buffer_ops.conv`` written with ``lax.conv_general_dilated``.

    Args:
      h: ``[B, *spatial, C]`` buffer; kernel ``[K**s * C, C]``; kernel_size odd.

    Returns:
      ``[B, *spatial, C]``, SAME zero padding.
    """
    kernel_max = max(space.tables.kernel_sizes)
    num_spatial = len(space.spatial_shape)
    channels = space.max_channels
    full = kernel.reshape((kernel_max,) * num_spatial + (channels, channels))
    start = (kernel_max - kernel_size) // 2
    taps = full[(slice(start, start + kernel_size),) * num_spatial]
    layout = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}[num_spatial]
    numbers = jax.lax.conv_dimension_numbers(h.shape, taps.shape, layout)
    return jax.lax.conv_general_dilated(
        h, taps, (1,) * num_spatial, "SAME", dimension_numbers=numbers
    )


FORMULATIONS = {"patches_matmul": buffer_ops.conv, "lax_conv": lax_conv}


@contextlib.contextmanager
def formulation(name: str):
    """Use convolution formulation ``name`` in the super-network while inside."""
    original = buffer_ops.conv
    buffer_ops.conv = FORMULATIONS[name]
    try:
        yield
    finally:
        buffer_ops.conv = original


def run(space, genomes, keys, dataset, steps: int) -> dict:
    """Per-step seconds of every convolutional pathway under each formulation,
    and the largest output difference between them."""
    x_train, y_train = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
    batch = x_train[:64]
    settings = trainer.TrainSettings(steps=steps)
    count = genome_lib.population_size(genomes)
    rows = [i for i in range(count) if np.any(np.asarray(genomes.operation[i]) == genome_lib.CONV)]
    results, outputs = {}, {}
    for name in FORMULATIONS:
        with formulation(name):
            train = jax.jit(lambda g, k: trainer.train(space, settings, g, k, x_train, y_train)[1])
            forward = jax.jit(
                lambda g, k: pathway_network.apply(
                    space, g, pathway_network.init_params(space, g, k), batch
                )
            )
            first = genome_lib.index_population(genomes, rows[0])
            jax.block_until_ready(train(first, keys[rows[0]]))
            seconds, outs = [], []
            for index in rows:
                one = genome_lib.index_population(genomes, index)
                start = time.perf_counter()
                jax.block_until_ready(train(one, keys[index]))
                seconds.append((time.perf_counter() - start) / steps)
                outs.append(np.asarray(forward(one, keys[index])))
        results[name] = {
            "median_step_seconds": float(np.median(seconds)),
            "step_seconds": seconds,
        }
        outputs[name] = outs
    difference = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(outputs["patches_matmul"], outputs["lax_conv"], strict=True)
    )
    current = results["patches_matmul"]["median_step_seconds"]
    return {
        "pathways": len(rows),
        "steps": steps,
        "formulations": results,
        "max_output_difference": difference,
        "lax_conv_over_patches_matmul": results["lax_conv"]["median_step_seconds"] / current,
    }

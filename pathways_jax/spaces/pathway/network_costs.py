"""Sizes of the plain network a genome describes: fan-ins, parameters, FLOPs.

These are the counts of the network that :mod:`pathways_jax.codegen` exports
(only the chosen blocks, unpadded), computed from the genes with jit-able
array operations, so a population is counted in one vmapped call.
"""

from __future__ import annotations

import jax.numpy as jnp

from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.genome import (
    CONV,
    DENSE,
    IDENTITY,
    PATCH_EMBEDDING,
    POSITION_EMBEDDING,
    PRE_NORM_OPERATIONS,
    SELF_ATTENTION,
    TRANSFORMER_MLP,
    PathwayGenome,
)


def fan_ins(space, genome: PathwayGenome) -> dict[str, jnp.ndarray]:
    """Fan-in of every kernel of the plain network the genome describes.

    Returns:
      ``[max_depth]`` int32 arrays ``dense``, ``conv``, ``attention_in`` (the
      query, key, value and MLP input projections read the block's input
      channels), ``attention_out`` (the output projection reads ``width``),
      ``mlp_hidden`` and ``patch``; and the scalar ``head``.
    """
    shapes = space.block_shapes(genome)
    tables = space.tables
    # (Spaces without attention keep the exact program they always had: the
    # same operations give the same float rounding, and so the same histories.)
    if tables.attention:
        kernel = genome_lib.choice(tables.kernel_sizes, genome.kernel_size)
    else:
        kernel = jnp.asarray(tables.kernel_sizes, jnp.int32)[genome.kernel_size]
    num_spatial = len(space.spatial_shape)
    positions = jnp.prod(shapes["lengths"], axis=-1) if num_spatial else 1
    flat = jnp.where(shapes["is_vector"], shapes["units"], positions * shapes["channels"])
    channels_in = shapes["channels"][:-1]
    fans = {
        "dense": flat[:-1],
        "conv": kernel**num_spatial * channels_in,
        "head": flat[-1],
    }
    if tables.attention:
        ratio = genome_lib.choice(tables.mlp_ratios, genome.kernel_size)
        patch = genome_lib.choice(tables.patch_sizes, genome.kernel_size)
        fans["attention_in"] = channels_in
        fans["attention_out"] = shapes["channels"][1:]
        fans["mlp_hidden"] = ratio * channels_in
        fans["patch"] = patch**num_spatial * channels_in
    return fans


def _positions(space, shapes) -> jnp.ndarray:
    """``[max_depth + 1]`` float32: positions of each state's map (1 for vectors)."""
    if space.spatial_shape:
        return jnp.prod(shapes["lengths"], axis=-1).astype(jnp.float32)
    return jnp.ones((space.tables.max_depth + 1,), jnp.float32)


def count_parameters(space, genome: PathwayGenome) -> jnp.ndarray:
    """Number of parameters of the plain network the genome describes (int32)."""
    shapes = space.block_shapes(genome)
    fans = fan_ins(space, genome)
    if space.tables.attention:
        positions = _positions(space, shapes).astype(jnp.int32)
    total = jnp.int32(0)
    for block in range(space.tables.max_depth):
        op = genome.operation[block]
        units = shapes["units"][block + 1]
        channels = shapes["channels"][block + 1]
        channels_in = shapes["channels"][block]
        total += jnp.where(op == DENSE, fans["dense"][block] * units + units, 0)
        total += jnp.where(op == CONV, fans["conv"][block] * channels + channels, 0)
        norm_width = jnp.where(shapes["is_vector"][block + 1], units, channels)
        if space.tables.attention:
            width, hidden = channels, fans["mlp_hidden"][block]
            # Query, key (no bias) and value projections, and the output's.
            attention = 3 * channels_in * width + 2 * width + width * width + width
            mlp = 2 * channels_in * hidden + hidden + channels_in
            total += jnp.where(op == SELF_ATTENTION, attention, 0)
            total += jnp.where(op == TRANSFORMER_MLP, mlp, 0)
            total += jnp.where(op == POSITION_EMBEDDING, positions[block] * channels_in, 0)
            patch = fans["patch"][block] * channels + channels
            total += jnp.where(op == PATCH_EMBEDDING, patch, 0)
            pre_norm = jnp.isin(op, jnp.asarray(PRE_NORM_OPERATIONS))
            norm_width = jnp.where(pre_norm, channels_in, norm_width)
        total += jnp.where((op != IDENTITY) & (genome.normalization[block] == 1), 2 * norm_width, 0)
    total += fans["head"] * space.num_outputs + space.num_outputs
    return total


def count_flops(space, genome: PathwayGenome) -> jnp.ndarray:
    """Forward FLOPs per example of the plain network the genome describes:
    two per multiply-add of every dense, convolution, attention (projections,
    scores and the weighted sum of values), MLP, patch-embedding and read-out
    layer (the cost that dominates; pooling, norms and activations are not counted).

    Returns:
      float32 scalar.
    """
    shapes = space.block_shapes(genome)
    fans = fan_ins(space, genome)
    positions = _positions(space, shapes)
    total = jnp.float32(0)
    for block in range(space.tables.max_depth):
        op = genome.operation[block]
        units = shapes["units"][block + 1].astype(jnp.float32)
        channels = shapes["channels"][block + 1].astype(jnp.float32)
        dense = 2.0 * fans["dense"][block].astype(jnp.float32) * units
        conv = 2.0 * fans["conv"][block].astype(jnp.float32) * channels * positions[block + 1]
        total += jnp.where(op == DENSE, dense, 0.0) + jnp.where(op == CONV, conv, 0.0)
        if space.tables.attention:
            tokens, width = positions[block], channels
            channels_in = shapes["channels"][block].astype(jnp.float32)
            projections = 2.0 * tokens * (3.0 * channels_in * width + width * width)
            mixing = 4.0 * tokens * tokens * width
            total += jnp.where(op == SELF_ATTENTION, projections + mixing, 0.0)
            hidden = fans["mlp_hidden"][block].astype(jnp.float32)
            total += jnp.where(op == TRANSFORMER_MLP, 4.0 * tokens * channels_in * hidden, 0.0)
            patch = 2.0 * fans["patch"][block].astype(jnp.float32) * width * positions[block + 1]
            total += jnp.where(op == PATCH_EMBEDDING, patch, 0.0)
    total += 2.0 * fans["head"].astype(jnp.float32) * space.num_outputs
    return total

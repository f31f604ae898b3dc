"""The pathway super-network: one fixed-shape function for every genome.

Every example's activation lives in a buffer of shape ``space.buffer_shape``:
a spatial map ``[*spatial, channels]`` occupies its leading corner and zeros
elsewhere; a vector of ``units`` entries occupies the first ``units`` entries of
the flattened buffer. Each block switches to the operation its genome names
(dense, convolution, max and average pooling; in a space with attention
heads also the operations of
:mod:`~pathways_jax.spaces.pathway.attention_blocks`), then applies its
normalisation, activation, mask, dropout and residual. The padding stays
exactly zero, so a padded convolution computes the same numbers as the same
convolution on the unpadded map with ``SAME`` zero padding, and the
super-network computes the same function as the plain network the genome
describes (tested against :mod:`pathways_jax.codegen`).

Convolutions are computed as patch extraction followed by one matrix product
(an "im2col" convolution); vmapped over a population this is a batched matmul,
which XLA:CPU runs much faster than a grouped convolution.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pathways_jax.spaces.pathway import attention_blocks, buffer_ops
from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.genome import (
    AVG_POOL,
    CONV,
    DENSE,
    IDENTITY,
    MAX_POOL,
    PATCH_EMBEDDING,
    POSITION_EMBEDDING,
    PRE_NORM_OPERATIONS,
    SELF_ATTENTION,
    SEQUENCE_POOL,
    SEQUENCE_READOUTS,
    TRANSFORMER_MLP,
    PathwayGenome,
)
from pathways_jax.spaces.pathway.network_costs import count_flops, count_parameters, fan_ins
from pathways_jax.spaces.pathway.space import PathwaySpace
from pathways_jax.spaces.switch import switch

__all__ = ["apply", "count_flops", "count_parameters", "embed_inputs", "init_params"]

# Truncated normal on [-2, 2] has this standard deviation; dividing by it gives
# the same variance scaling as ``jax.nn.initializers.lecun_normal``.
_TRUNCATED_NORMAL_STDDEV = 0.87962566103423978


ACTIVATION_FUNCTIONS = (
    jax.nn.relu,
    lambda x: jax.nn.gelu(x, approximate=False),
    jnp.tanh,
    jax.nn.sigmoid,
    jax.nn.swish,
    lambda x: x,
    lambda x: jnp.square(jax.nn.relu(x)),  # Primer's squared ReLU (attention spaces).
)
assert len(ACTIVATION_FUNCTIONS) == len(genome_lib.ACTIVATIONS)
LINEAR_ACTIVATION = genome_lib.ACTIVATIONS.index("identity")


def _activation(space: PathwaySpace, index, x):
    """The activation of the space's table that ``index`` (traced int) names."""
    return switch(index, ACTIVATION_FUNCTIONS[: space.tables.num_activations], x)


def init_params(space: PathwaySpace, genome: PathwayGenome, key) -> dict:
    """Parameters of the super-network for one genome.

    Kernels are lecun-normal (truncated normal, variance ``1 / fan_in``) where
    ``fan_in`` is that of the plain network the genome describes, so training
    in the super-network starts from the same distribution as training the
    exported module. Biases are zero, layer-norm scales one.

    Returns:
      ``{'blocks': {...}, 'head': {...}}`` with, for ``D = max_depth``,
      ``F = space.flat_size``, ``U = space.max_units``, ``C = space.max_channels``,
      ``K = max(kernel_sizes)`` and ``s`` spatial dimensions:
      ``flatten_kernel [F, U]`` (the kernel of the first dense block, which
      reads the flattened input map or input vector), ``dense_kernel [D, U, U]``
      (later dense blocks, which read a vector), ``dense_bias [D, U]``,
      ``conv_kernel [D, K**s * C, C]``, ``conv_bias [D, C]``,
      ``norm_scale, norm_bias [D, max(C, U)]``, ``head.kernel [F, O]``, ``head.bias [O]``;
      in a space with attention, also the blocks' ``attention_*``, ``mlp_*``,
      ``position`` and ``patch_*`` parameters
      (:func:`~pathways_jax.spaces.pathway.attention_blocks.init_attention_params`),
      drawn from their own stream of ``key``.
    """
    depth = space.tables.max_depth
    flat, units, channels = space.flat_size, space.max_units, space.max_channels
    kernel_max = max(space.tables.kernel_sizes)
    patch = kernel_max ** len(space.spatial_shape) * channels
    fans = fan_ins(space, genome)
    keys = jax.random.split(key, 4)
    first_dense = _first_dense_blocks(genome)
    flatten_fan_in = jnp.sum(jnp.where(first_dense, fans["dense"], 0))

    def scaled(k, shape, fan_in):
        fan_in = jnp.maximum(fan_in, 1).astype(jnp.float32)
        fan_in = fan_in.reshape(fan_in.shape + (1,) * (len(shape) - fan_in.ndim))
        noise = jax.random.truncated_normal(k, -2.0, 2.0, shape, jnp.float32)
        return noise * jnp.sqrt(1.0 / fan_in) / _TRUNCATED_NORMAL_STDDEV

    norm_width = max(channels, units)
    blocks = {
        "dense_kernel": scaled(keys[0], (depth, units, units), fans["dense"]),
        "dense_bias": jnp.zeros((depth, units), jnp.float32),
        "conv_kernel": scaled(keys[1], (depth, max(patch, 1), max(channels, 1)), fans["conv"]),
        "conv_bias": jnp.zeros((depth, max(channels, 1)), jnp.float32),
        "norm_scale": jnp.ones((depth, norm_width), jnp.float32),
        "norm_bias": jnp.zeros((depth, norm_width), jnp.float32),
    }
    if space.tables.attention:
        attention_key = jax.random.fold_in(key, 5)
        blocks.update(attention_blocks.init_attention_params(space, fans, attention_key, scaled))
    flatten = {"kernel": scaled(keys[3], (flat, units), flatten_fan_in)}
    head = {
        "kernel": scaled(keys[2], (flat, space.num_outputs), fans["head"]),
        "bias": jnp.zeros((space.num_outputs,), jnp.float32),
    }
    return {"blocks": blocks, "flatten": flatten, "head": head}


def _first_dense_blocks(genome: PathwayGenome) -> jnp.ndarray:
    """``[max_depth]`` bool: the block is the first dense block of the pathway."""
    is_dense = genome.operation == DENSE
    return is_dense & (jnp.cumsum(is_dense) == 1)


def embed_inputs(space: PathwaySpace, inputs: jnp.ndarray) -> jnp.ndarray:
    """Place a batch ``[B, *input_shape]`` into buffers ``[B, *buffer_shape]``."""
    pad = [(0, 0)] * inputs.ndim
    pad[-1] = (0, space.buffer_shape[-1] - inputs.shape[-1])
    return jnp.pad(inputs.astype(jnp.float32), pad)


def _block_operation(space: PathwaySpace, genome, block, p, flatten_kernel, h, shapes):
    """The operation of one block on buffer ``h``; only the chosen branch runs
    when the genes are not batched (:func:`switch`)."""
    batch = h.shape[0]
    units_max = space.max_units
    units = genome_lib.dense_width(space.tables, genome.width[block])
    unit_mask = jnp.arange(units_max) < units

    def to_buffer(vector):
        vector = vector * unit_mask
        return jnp.pad(vector, ((0, 0), (0, space.flat_size - units_max))).reshape(h.shape)

    def dense_from_map(h):
        return to_buffer(h.reshape(batch, -1) @ flatten_kernel + p["dense_bias"])

    def dense_from_vector(h):
        # A vector state holds at most ``units_max`` entries: the other rows of
        # the kernel meet zeros, so they are skipped.
        vector = h.reshape(batch, -1)[:, :units_max]
        return to_buffer(vector @ p["dense_kernel"] + p["dense_bias"])

    branches = [lambda h: h, dense_from_map, dense_from_vector]
    tables = space.tables
    if space.spatial_shape:
        for size in tables.kernel_sizes:
            branches.append(
                lambda h, size=size: (
                    buffer_ops.conv(space, h, p["conv_kernel"], size) + p["conv_bias"]
                )
            )
        branches += [
            lambda h: buffer_ops.pool(space, h, jnp.max),
            lambda h: buffer_ops.pool(space, h, jnp.mean),
        ]
    op = genome.operation[block]
    first_dense = _first_dense_blocks(genome)[block]
    num_kernels = len(tables.kernel_sizes)
    option = genome.kernel_size[block]
    conditions = [op == DENSE, op == CONV, op == MAX_POOL, op == AVG_POOL]
    # (Spaces without attention keep the exact program they always had.)
    if tables.attention:
        conv_index = 3 + option % num_kernels
    else:
        conv_index = 3 + jnp.clip(option, 0, num_kernels - 1)
    indices = [jnp.where(first_dense, 1, 2), conv_index, 3 + num_kernels]
    indices.append(4 + num_kernels)
    if tables.attention and space.spatial_shape:
        start = len(branches)
        branches += _attention_branches(space, genome, block, p, shapes)
        num_patches = len(tables.patch_sizes)
        conditions += [
            op == SELF_ATTENTION,
            op == TRANSFORMER_MLP,
            op == POSITION_EMBEDDING,
            op == PATCH_EMBEDDING,
            op == SEQUENCE_POOL,
        ]
        indices += [
            start,
            start + 1,
            start + 2,
            start + 3 + option % num_patches,
            start + 3 + num_patches + option % len(SEQUENCE_READOUTS),
        ]
    return switch(jnp.select(conditions, indices, 0), branches, h)


def _attention_branches(space: PathwaySpace, genome, block, p, shapes) -> list:
    """The attention operations of one block, as branches of its operation switch.

    Self-attention and the MLP read the layer-normed input when the block's
    normalisation gene is set (pre-norm).
    """
    lengths, channels_in = shapes["lengths"][block], shapes["channels"][block]
    width = genome_lib.conv_width(space.tables, genome.width[block])
    heads = attention_blocks.attention_heads(space, genome, block)
    ratio = attention_blocks.mlp_ratio(space, genome, block)

    def pre_norm(h):
        mask = buffer_ops.spatial_mask(space, lengths, channels_in)
        scale, bias = p["norm_scale"][: space.max_channels], p["norm_bias"][: space.max_channels]
        axes = tuple(range(1 + len(space.spatial_shape), h.ndim))
        normed = lambda h: buffer_ops.layer_norm(h, mask, channels_in, scale, bias, axes)
        return switch(genome.normalization[block] == 1, [lambda h: h, normed], h)

    def attention(h):
        return attention_blocks.self_attention(space, p, pre_norm(h), width, heads, lengths)

    def mlp(h):
        activation = lambda x: _activation(space, genome.activation[block], x)
        return attention_blocks.transformer_mlp(
            space, p, pre_norm(h), ratio, channels_in, activation
        )

    branches = [attention, mlp, lambda h: h + p["position"]]
    for size in space.tables.patch_sizes:
        branches.append(lambda h, size=size: attention_blocks.patch_embedding(space, p, h, size))
    for readout in SEQUENCE_READOUTS:
        branches.append(
            lambda h, readout=readout: attention_blocks.sequence_pool(space, h, readout, lengths)
        )
    return branches


def apply(
    space: PathwaySpace,
    genome: PathwayGenome,
    params: dict,
    inputs: jnp.ndarray,
    *,
    dropout_key=None,
) -> jnp.ndarray:
    """Outputs of one genome's network on a batch.

    Args:
      space: the pathway space.
      genome: one genome.
      params: from :func:`init_params`.
      inputs: ``[B, *space.input_shape]`` float32.
      dropout_key: PRNG key to train with dropout; ``None`` for inference.

    Returns:
      ``[B, num_outputs]`` float32 logits (or predictions for regression).
    """
    batch = inputs.shape[0]
    tables = space.tables
    shapes = space.block_shapes(genome)
    dropout_rates = jnp.asarray(tables.dropout_rates, jnp.float32)
    channel_axes = tuple(range(1 + len(space.spatial_shape), 1 + len(space.buffer_shape)))
    vector_axes = tuple(range(1, 1 + len(space.buffer_shape)))
    units_max, channels_max = space.max_units, space.max_channels

    # The named scopes label the compiled program's operations in profiles.
    with jax.named_scope("embed"):
        if space.input_groups:  # Feature selection: unchosen input columns read as 0.
            inputs = inputs * space.input_feature_mask(genome)
        h = embed_inputs(space, inputs)

    def block_step(h, block, p):
        """Block number ``block`` with its parameters ``p`` on ``h``.

        An identity block runs the identity operation, no norm, the linear
        activation, no dropout and no residual: it returns ``h`` unchanged.
        """
        active = genome.operation[block] != IDENTITY
        out_is_vector = shapes["is_vector"][block + 1]
        with jax.named_scope("masks"):
            vector_mask = buffer_ops.vector_mask(space, shapes["units"][block + 1])
            if space.spatial_shape:
                spatial_mask = buffer_ops.spatial_mask(
                    space, shapes["lengths"][block + 1], shapes["channels"][block + 1]
                )
                out_mask = jnp.where(out_is_vector, vector_mask, spatial_mask)
            else:
                out_mask = vector_mask
        with jax.named_scope("operation"):
            flatten_kernel = params["flatten"]["kernel"]
            y = _block_operation(space, genome, block, p, flatten_kernel, h, shapes) * out_mask

        # Layer norm: over channels of a spatial map, over the units of a vector.
        def vector_norm(y):
            scale = buffer_ops.flat_param(space, p["norm_scale"][:units_max])
            bias = buffer_ops.flat_param(space, p["norm_bias"][:units_max])
            count = shapes["units"][block + 1]
            return buffer_ops.layer_norm(y, out_mask, count, scale, bias, vector_axes)

        def map_norm(y):
            scale, bias = p["norm_scale"][:channels_max], p["norm_bias"][:channels_max]
            count = shapes["channels"][block + 1]
            return buffer_ops.layer_norm(y, out_mask, count, scale, bias, channel_axes)

        # Attention and MLP blocks norm their input (pre-norm) and have no
        # activation after; the MLP's activation gene acts on its hidden units.
        if tables.attention:
            post = active & ~jnp.isin(genome.operation[block], jnp.asarray(PRE_NORM_OPERATIONS))
        else:
            post = active
        normalized = post & (genome.normalization[block] == 1)
        norm_index = jnp.where(normalized, 1 + out_is_vector, 0)
        norms = [lambda y: y, map_norm if space.spatial_shape else vector_norm, vector_norm]
        with jax.named_scope("norm"):
            y = switch(norm_index, norms, y)
        with jax.named_scope("activation"):
            activation = jnp.where(post, genome.activation[block], LINEAR_ACTIVATION)
            y = _activation(space, activation, y) * out_mask
        if dropout_key is not None:
            rate = dropout_rates[genome.dropout[block]]
            key = jax.random.fold_in(dropout_key, block)

            # Masks are drawn in a layout every shape class shares (the widest
            # map; the widest vector), so a pathway draws the same mask in any.
            def no_mask():
                return jnp.ones(y.shape, bool)

            def map_mask():
                shape = (batch, *space.spatial_shape, space.widest_channels)
                return jax.random.bernoulli(key, 1.0 - rate, shape)[..., :channels_max]

            def vector_mask():
                keep = jax.random.bernoulli(key, 1.0 - rate, (batch, units_max))
                keep = jnp.pad(keep, ((0, 0), (0, space.flat_size - units_max)))
                return keep.reshape(y.shape)

            dropped = active & (rate > 0)
            mask_index = jnp.where(dropped, 1 + out_is_vector, 0)
            masks = [no_mask, map_mask if space.spatial_shape else vector_mask, vector_mask]
            with jax.named_scope("dropout"):
                # The mask depends on no parameter, so it is drawn by
                # ``lax.switch`` outside the recomputing :func:`switch`: the
                # backward pass reuses it instead of drawing it again.
                keep = jax.lax.switch(mask_index, masks)
                scale = lambda y: jnp.where(keep, y / (1.0 - rate), 0.0)
                y = switch(dropped, [lambda y: y, scale], y)
        with jax.named_scope("residual"):
            residual = space.residual_is_active(shapes, genome, block, tables.attention)
            return jnp.where(residual, y + h, y)

    # Unrolled: a ``lax.scan`` over the blocks compiled a third faster but
    # stepped a fifth slower.
    for block in range(tables.max_depth):
        p = jax.tree_util.tree_map(lambda leaf, b=block: leaf[b], params["blocks"])
        h = block_step(h, block, p)

    with jax.named_scope("head"):
        flat = h.reshape(batch, space.flat_size)
        return flat @ params["head"]["kernel"] + params["head"]["bias"]

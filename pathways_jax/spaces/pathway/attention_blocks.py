"""The attention-space operations of the pathway super-network.

Each function computes one operation on the padded activation buffer
``h [B, *spatial, C]`` (``C = space.max_channels``) whose valid corner is the
block's input map ``[*lengths, c_in]``, and returns a buffer whose valid
corner is the operation's output, as the plain layer computes it on the
unpadded map (``pathways_jax.codegen.plain_network``):

- self-attention: multi-head dot-product attention over the map's positions
  (a sequence, or an image's positions in row-major order), with query, key,
  value and output projections of ``width`` channels; heads split the
  channels into contiguous groups. Padding positions are masked out of the
  keys, so they change nothing.
- transformer MLP: ``dense(ratio * c_in) → activation → dense(c_in)`` at every position;
- position embedding: a learned ``[*spatial, C]`` table added to the map;
- patch embedding: a convolution with kernel and stride ``p`` (no padding);
- sequence pool: the mean over the valid positions, or the first position,
  as a vector of ``c_in`` units.

The parameters are those of :func:`pathways_jax.spaces.pathway.network.init_params`
(``attention_*``, ``mlp_*``, ``position``, ``patch_*``); entries beyond a
block's widths meet zeros or are masked, as the convolution's are.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from pathways_jax.spaces.pathway import genome as genome_lib

# Added to the scores of masked keys: their softmax weight is exactly 0.
_MASKED_SCORE = -1e30
# Position embeddings start close to zero (the scale of ViT's).
POSITION_STDDEV = 0.02


def valid_positions(space, lengths) -> jnp.ndarray:
    """``[*spatial]`` bool: the positions inside a map of ``lengths``."""
    valid = jnp.ones(space.spatial_shape, bool)
    for axis, size in enumerate(space.spatial_shape):
        shape = [1] * len(space.spatial_shape)
        shape[axis] = size
        valid = valid & (jnp.arange(size) < lengths[axis]).reshape(shape)
    return valid


def self_attention(space, p, h, width, heads, lengths) -> jnp.ndarray:
    """Multi-head self-attention of the map in ``h``.

    Args:
      space: the pathway space.
      p: one block's parameters (``attention_kernel [4, C, C]`` for query,
        key, value and output; ``attention_bias [4, C]``, whose key row is unused).
      h: ``[B, *spatial, C]`` buffer (already layer-normed when the block is).
      width: traced int, the attention's channels (a multiple of ``heads``).
      heads: traced int, the number of heads.
      lengths: ``[num_spatial]`` int, the valid extent of the map.

    Returns:
      ``[B, *spatial, C]``: the output projection at every position.
    """
    batch, channels = h.shape[0], space.max_channels
    positions = math.prod(space.spatial_shape)
    tokens = h.reshape(batch, positions, channels)
    kernel, bias = p["attention_kernel"], p["attention_bias"]
    in_width = (jnp.arange(channels) < width).astype(jnp.float32)
    # The key projection has no bias: a bias there shifts every score of a
    # query equally, which the softmax ignores (its gradient is exactly 0).
    query, key, value = (
        tokens @ kernel[0] + bias[0],
        tokens @ kernel[1],
        tokens @ kernel[2] + bias[2],
    )
    head_dim = jnp.maximum(width // heads, 1)
    # [C, H]: 1 where channel c belongs to head j (channels [j*d, (j+1)*d)).
    max_heads = max(space.tables.attention_heads)
    head_of = jnp.arange(channels) // head_dim
    membership = (head_of[:, None] == jnp.arange(max_heads)[None, :]) & (in_width[:, None] > 0)
    membership = membership.astype(jnp.float32)
    scores = jnp.einsum("bnc,bmc,ch->bhnm", query, key, membership)
    scores = scores / jnp.sqrt(head_dim.astype(jnp.float32))
    allowed = valid_positions(space, lengths).reshape(1, 1, 1, positions)
    if space.tables.causal_attention:
        order = jnp.arange(positions)
        allowed = allowed & (order[None, :] <= order[:, None])[None, None]
    scores = jnp.where(allowed, scores, _MASKED_SCORE)
    weights = jax.nn.softmax(scores, axis=-1)
    mixed = jnp.einsum("bhnm,bmc,ch->bnc", weights, value, membership)
    out = (mixed @ kernel[3] + bias[3]) * in_width
    return out.reshape(h.shape)


def transformer_mlp(space, p, h, ratio, channels_in, activation) -> jnp.ndarray:
    """``dense(ratio * c_in) → activation → dense(c_in)`` at every position of ``h``.

    Args:
      p: ``mlp_in_kernel [C, R*C]``, ``mlp_in_bias [R*C]``,
        ``mlp_out_kernel [R*C, C]``, ``mlp_out_bias [C]``.
      ratio: traced int; ``channels_in``: traced int ``c_in``.
      activation: a function of the hidden units.
    """
    hidden_units = p["mlp_in_kernel"].shape[-1]
    hidden_mask = (jnp.arange(hidden_units) < ratio * channels_in).astype(jnp.float32)
    hidden = activation(h @ p["mlp_in_kernel"] + p["mlp_in_bias"]) * hidden_mask
    out_mask = (jnp.arange(space.max_channels) < channels_in).astype(jnp.float32)
    return (hidden @ p["mlp_out_kernel"] + p["mlp_out_bias"]) * out_mask


def patch_embedding(space, p, h, patch: int) -> jnp.ndarray:
    """Non-overlapping ``patch``-wide patches of ``h`` times the kernel, re-padded.

    Args:
      p: ``patch_kernel [P**s * C, C]`` (a ``[*P, C_in, C_out]`` kernel whose
        leading ``[*patch]`` corner a patch of size ``patch`` reads), ``patch_bias [C]``.
      patch: a static patch size of the table.

    Returns:
      ``[B, *spatial, C]`` with the ``[*spatial // patch, C]`` embeddings in its corner.
    """
    batch, channels = h.shape[0], space.max_channels
    spatial = space.spatial_shape
    num_spatial = len(spatial)
    counts = [size // patch for size in spatial]
    trimmed = h[(slice(None), *(slice(0, n * patch) for n in counts))]
    shape = [batch]
    for n in counts:
        shape += [n, patch]
    split = trimmed.reshape(*shape, channels)
    # [B, n0, p, n1, p, C] -> [B, n0, n1, p, p, C]
    order = [0, *(1 + 2 * i for i in range(num_spatial)), *(2 + 2 * i for i in range(num_spatial))]
    patches = split.transpose(*order, 1 + 2 * num_spatial).reshape(
        batch, *counts, patch**num_spatial * channels
    )
    largest = max(space.tables.patch_sizes)
    full = p["patch_kernel"].reshape((largest,) * num_spatial + (channels, channels))
    taps = full[(slice(0, patch),) * num_spatial].reshape(-1, channels)
    out = patches @ taps + p["patch_bias"]
    pad = [(0, 0)] + [(0, size - n) for size, n in zip(spatial, counts, strict=True)] + [(0, 0)]
    return jnp.pad(out, pad)


def sequence_pool(space, h, readout: str, lengths) -> jnp.ndarray:
    """The map in ``h`` read out as a vector in the first entries of the buffer.

    Args:
      readout: ``'mean'`` (over the valid positions) or ``'first'`` (position 0).

    Returns:
      ``[B, *buffer_shape]`` with the ``[C]`` vector in its first flat entries.
    """
    axes = tuple(range(1, 1 + len(space.spatial_shape)))
    if readout == "mean":
        valid = valid_positions(space, lengths).astype(jnp.float32)[..., None]
        count = jnp.maximum(jnp.prod(lengths), 1).astype(jnp.float32)
        vector = jnp.sum(h * valid, axis=axes) / count
    else:
        vector = h[(slice(None), *(0 for _ in axes))]
    flat = jnp.pad(vector, ((0, 0), (0, space.flat_size - vector.shape[-1])))
    return flat.reshape(h.shape)


def init_attention_params(space, fans: dict, key, scaled) -> dict:
    """The attention operations' parameters of one genome (see the module doc).

    Args:
      fans: :func:`pathways_jax.spaces.pathway.network_costs.fan_ins`.
      scaled: ``scaled(key, shape, fan_in)``, the lecun-normal draw of ``init_params``.
    """
    tables = space.tables
    depth, channels = tables.max_depth, space.max_channels
    hidden = max(tables.mlp_ratios) * channels
    patch = max(tables.patch_sizes) ** len(space.spatial_shape) * channels
    keys = jax.random.split(key, 4)
    attention_fans = jnp.stack([fans["attention_in"]] * 3 + [fans["attention_out"]], axis=-1)
    position = jax.random.truncated_normal(
        keys[3], -2.0, 2.0, (depth, *space.spatial_shape, channels), jnp.float32
    )
    return {
        "attention_kernel": scaled(keys[0], (depth, 4, channels, channels), attention_fans),
        "attention_bias": jnp.zeros((depth, 4, channels), jnp.float32),
        "mlp_in_kernel": scaled(keys[1], (depth, channels, hidden), fans["attention_in"]),
        "mlp_in_bias": jnp.zeros((depth, hidden), jnp.float32),
        "mlp_out_kernel": scaled(
            jax.random.fold_in(keys[1], 1), (depth, hidden, channels), fans["mlp_hidden"]
        ),
        "mlp_out_bias": jnp.zeros((depth, channels), jnp.float32),
        "position": POSITION_STDDEV * position,
        "patch_kernel": scaled(keys[2], (depth, patch, channels), fans["patch"]),
        "patch_bias": jnp.zeros((depth, channels), jnp.float32),
    }


def mlp_ratio(space, genome, block):
    """Traced int: the hidden ratio of block ``block``'s transformer MLP."""
    return genome_lib.choice(space.tables.mlp_ratios, genome.kernel_size[block])


def attention_heads(space, genome, block):
    """Traced int: the heads of block ``block``'s self-attention."""
    return genome_lib.choice(space.tables.attention_heads, genome.kernel_size[block])

"""Operations on the super-network's padded activation buffer.

A buffer holds one example's activation in ``space.buffer_shape``: a map
``[*lengths, c]`` in its leading corner, a vector of ``u`` units in its first
flat entries, zeros elsewhere. These operations keep the padding exactly zero
(or mask it), so that they compute what the unpadded layer computes.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp

LAYER_NORM_EPSILON = 1e-6


def spatial_mask(space, lengths, channels):
    """``[*spatial, C]`` float mask of the valid corner of a spatial map."""
    mask = jnp.arange(space.max_channels) < channels
    for axis, size in enumerate(space.spatial_shape):
        shape = [1] * len(space.spatial_shape) + [1]
        shape[axis] = size
        valid = (jnp.arange(size) < lengths[axis]).reshape(shape)
        mask = mask & valid
    return mask.astype(jnp.float32)


def vector_mask(space, units):
    """``[*buffer_shape]`` float mask of the first ``units`` flat entries."""
    return (jnp.arange(space.flat_size) < units).astype(jnp.float32).reshape(space.buffer_shape)


def conv(space, h: jnp.ndarray, kernel: jnp.ndarray, kernel_size: int):
    """SAME convolution with the centred ``kernel_size`` taps of a max-size kernel.

    Args:
      h: ``[B, *spatial, C]`` buffer.
      kernel: ``[K**s * C, C]`` (a ``[*K, C_in, C_out]`` kernel, reshaped).
      kernel_size: odd, at most ``K``.

    Returns:
      ``[B, *spatial, C]``. Computed as patches times kernel ("im2col").
    """
    kernel_max = max(space.tables.kernel_sizes)
    num_spatial = len(space.spatial_shape)
    channels = space.max_channels
    full = kernel.reshape((kernel_max,) * num_spatial + (channels, channels))
    start = (kernel_max - kernel_size) // 2
    taps = full[(slice(start, start + kernel_size),) * num_spatial]
    half = kernel_size // 2
    padded = jnp.pad(h, [(0, 0)] + [(half, half)] * num_spatial + [(0, 0)])
    slices = []
    for offsets in itertools.product(range(kernel_size), repeat=num_spatial):
        index = (slice(None),) + tuple(
            slice(offset, offset + size)
            for offset, size in zip(offsets, space.spatial_shape, strict=True)
        )
        slices.append(padded[index])
    patches = jnp.concatenate(slices, axis=-1)
    return patches @ taps.reshape(-1, channels)


def pool(space, h: jnp.ndarray, reduce) -> jnp.ndarray:
    """Window-2, stride-2 pooling over every spatial axis, re-padded to the buffer."""
    pooled = h
    for axis, size in enumerate(space.spatial_shape):
        axis += 1
        half = size // 2
        trimmed = jax.lax.slice_in_dim(pooled, 0, 2 * half, axis=axis)
        shape = trimmed.shape[:axis] + (half, 2) + trimmed.shape[axis + 1 :]
        pooled = reduce(trimmed.reshape(shape), axis=axis + 1)
        pad = [(0, 0)] * pooled.ndim
        pad[axis] = (0, size - half)
        pooled = jnp.pad(pooled, pad)
    return pooled


def layer_norm(x, mask, count, scale, bias, axes):
    """Layer norm over ``axes`` counting only the ``count`` entries where ``mask`` is 1."""
    count = jnp.maximum(count, 1).astype(jnp.float32)
    mean = jnp.sum(x * mask, axis=axes, keepdims=True) / count
    mean_square = jnp.sum(jnp.square(x) * mask, axis=axes, keepdims=True) / count
    variance = jnp.maximum(mean_square - jnp.square(mean), 0.0)
    return ((x - mean) * jax.lax.rsqrt(variance + LAYER_NORM_EPSILON) * scale + bias) * mask


def flat_param(space, values: jnp.ndarray) -> jnp.ndarray:
    """A ``[U]`` per-unit parameter laid out over the flattened buffer."""
    padded = jnp.pad(values, (0, space.flat_size - values.shape[0]))
    return padded.reshape(space.buffer_shape)

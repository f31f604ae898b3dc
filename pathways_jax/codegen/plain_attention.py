"""The attention-space blocks of a plain network, and their weights from the super-network.

Written plainly (``nn.Dense`` projections and two ``einsum``), so that the
numbers are those of the super-network's
:mod:`~pathways_jax.spaces.pathway.attention_blocks` and of the exported
Flax and PyTorch modules. Layers are named after the block:
``block{i}_query``, ``_key`` (without a bias), ``_value``, ``_out`` (self-attention),
``block{i}_mlp_in``, ``_mlp_out`` (transformer MLP), ``block{i}_position``
(``{embedding [*lengths, c]}``) and ``block{i}_patch`` (an ``nn.Conv`` with
stride equal to its kernel).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

OPERATIONS = (
    "self_attention",
    "transformer_mlp",
    "position_embedding",
    "patch_embedding",
    "sequence_pool",
)
PROJECTIONS = ("query", "key", "value", "out")


class PositionEmbedding(nn.Module):
    """A learned table added to a map of per-example ``shape`` ``(*lengths, c)``."""

    shape: tuple[int, ...]

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        init = nn.initializers.truncated_normal(0.02)
        return x + self.param("embedding", init, self.shape)


def multi_head_attention(query, key, value, heads: int, causal: bool) -> jnp.ndarray:
    """``[B, N, width]`` projections → ``[B, N, width]``: each head (a contiguous
    group of ``width / heads`` channels) attends over the N positions."""
    batch, positions, width = query.shape
    head_dim = width // heads
    split = lambda t: t.reshape(batch, positions, heads, head_dim)
    scores = jnp.einsum("bnhd,bmhd->bhnm", split(query), split(key)) / np.sqrt(head_dim)
    if causal:
        later = jnp.arange(positions)[None, :] > jnp.arange(positions)[:, None]
        scores = jnp.where(later, -1e30, scores)
    weights = jax.nn.softmax(scores, axis=-1)
    return jnp.einsum("bhnm,bmhd->bnhd", weights, split(value)).reshape(batch, positions, width)


def apply(block: dict, name: str, x: jnp.ndarray) -> jnp.ndarray:
    """One attention-space block of ``PlainNetwork`` on ``x`` ``[B, *in_shape]``
    (already layer-normed when the block's norm comes first); called inside
    the network's compact ``__call__``, so its layers are the network's."""
    from pathways_jax.codegen.plain_network import ACTIVATION_FUNCTIONS

    op, batch = block["op"], x.shape[0]
    if op == "self_attention":
        tokens = x.reshape(batch, -1, x.shape[-1])
        # No key bias (it shifts a query's scores equally: the softmax ignores it).
        query, key, value = (
            nn.Dense(block["width"], use_bias=part != "key", name=f"{name}_{part}")(tokens)
            for part in PROJECTIONS[:3]
        )
        mixed = multi_head_attention(query, key, value, block["heads"], block["causal"])
        out = nn.Dense(block["width"], name=f"{name}_out")(mixed)
        return out.reshape(*x.shape[:-1], block["width"])
    if op == "transformer_mlp":
        hidden = nn.Dense(block["hidden"], name=f"{name}_mlp_in")(x)
        hidden = ACTIVATION_FUNCTIONS[block["hidden_activation"]](hidden)
        return nn.Dense(x.shape[-1], name=f"{name}_mlp_out")(hidden)
    if op == "position_embedding":
        return PositionEmbedding(tuple(block["in_shape"]), name=f"{name}_position")(x)
    if op == "patch_embedding":
        patch = (block["patch"],) * (x.ndim - 2)
        conv = nn.Conv(block["width"], patch, strides=patch, padding="VALID", name=f"{name}_patch")
        return conv(x)
    if op == "sequence_pool":
        axes = tuple(range(1, x.ndim - 1))
        if block["readout"] == "mean":
            return jnp.mean(x, axis=axes)
        return x[(slice(None), *(0 for _ in axes))]
    raise ValueError(f"unknown operation {op!r}")


def params_from_supernet(space, block: dict, name: str, supernet: dict) -> dict:
    """The plain layers of one attention-space block from the super-network's
    ``params['blocks']`` (float32 numpy, no population axis)."""
    slot, in_shape = block["slot"], block["in_shape"]
    channels_in, op = in_shape[-1], block["op"]
    if op == "self_attention":
        width = block["width"]
        kernel, bias = supernet["attention_kernel"][slot], supernet["attention_bias"][slot]
        rows = (channels_in, channels_in, channels_in, width)
        layers = {}
        for i, part in enumerate(PROJECTIONS):
            layers[f"{name}_{part}"] = {"kernel": kernel[i][: rows[i], :width]}
            if part != "key":
                layers[f"{name}_{part}"]["bias"] = bias[i][:width]
        return layers
    if op == "transformer_mlp":
        hidden = block["hidden"]
        return {
            f"{name}_mlp_in": {
                "kernel": supernet["mlp_in_kernel"][slot][:channels_in, :hidden],
                "bias": supernet["mlp_in_bias"][slot][:hidden],
            },
            f"{name}_mlp_out": {
                "kernel": supernet["mlp_out_kernel"][slot][:hidden, :channels_in],
                "bias": supernet["mlp_out_bias"][slot][:channels_in],
            },
        }
    if op == "position_embedding":
        corner = tuple(slice(0, n) for n in in_shape)
        return {f"{name}_position": {"embedding": supernet["position"][slot][corner]}}
    if op == "patch_embedding":
        num_spatial, channels = len(in_shape) - 1, space.max_channels
        largest = max(space.tables.patch_sizes)
        full = supernet["patch_kernel"][slot].reshape((largest,) * num_spatial + (channels,) * 2)
        taps = full[(slice(0, block["patch"]),) * num_spatial]
        return {
            f"{name}_patch": {
                "kernel": taps[..., :channels_in, : block["width"]],
                "bias": supernet["patch_bias"][slot][: block["width"]],
            }
        }
    return {}  # A sequence pool has no parameters.

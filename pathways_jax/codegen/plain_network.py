"""The specialised network of one genome: its active blocks only, no masks or padding.

:func:`decode_blocks` reads a genome on the host into plain Python block
descriptions; :class:`PlainNetwork` runs those blocks as an ordinary Flax module
(``nn.Dense``, ``nn.Conv``, pooling, ``nn.LayerNorm``, activations, dropout and
residual adds); :func:`plain_params_from_supernet` converts the super-network
parameters of that genome (:mod:`pathways_jax.spaces.pathway.network`) into the
module's parameters, so that both compute the same function.

Layers are named after the position of the block among the active blocks:
``block0_conv``, ``block0_norm``, ``block1_dense``, ..., and ``head``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.codegen import plain_attention
from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.genome import (
    ACTIVATIONS,
    CONV,
    DENSE,
    IDENTITY,
    NORMALIZATIONS,
    OPERATIONS,
    PATCH_EMBEDDING,
    PRE_NORM_OPERATIONS,
    SELF_ATTENTION,
    SEQUENCE_POOL,
    SEQUENCE_READOUTS,
    TRANSFORMER_MLP,
    PathwayGenome,
)
from pathways_jax.spaces.pathway.space import PathwaySpace

LAYER_NORM_EPSILON = 1e-6
POOL_WINDOW = 2

# The functions the ``activation`` gene names (GELU exact, as in the super-network).
ACTIVATION_FUNCTIONS = {
    "relu": nn.relu,
    "gelu": functools.partial(nn.gelu, approximate=False),
    "tanh": jnp.tanh,
    "sigmoid": nn.sigmoid,
    "swish": nn.swish,
    "identity": lambda x: x,
    "squared_relu": lambda x: jnp.square(nn.relu(x)),
}
assert tuple(ACTIVATION_FUNCTIONS) == ACTIVATIONS


def _state_shape(shapes: dict, index: int) -> tuple[int, ...]:
    """Per-example shape of entry ``index`` of :meth:`PathwaySpace.block_shapes`:
    ``(units,)`` for a vector, ``(*lengths, channels)`` for a spatial map."""
    if bool(shapes["is_vector"][index]):
        return (int(shapes["units"][index]),)
    lengths = tuple(int(n) for n in shapes["lengths"][index])
    return (*lengths, int(shapes["channels"][index]))


@functools.lru_cache(maxsize=32)
def _analyse(space: PathwaySpace):
    """A jitted genome → (is_valid, block_shapes, ``[max_depth]`` residual acts)."""

    def analyse(genome: PathwayGenome):
        shapes = space.block_shapes(genome)
        residual = [
            space.residual_is_active(shapes, genome, block, space.tables.attention)
            for block in range(space.tables.max_depth)
        ]
        residual = jnp.stack(residual) if residual else jnp.zeros((0,), bool)
        return space.is_valid(genome), shapes, residual

    return jax.jit(analyse)


def decode_blocks(space: PathwaySpace, genome: PathwayGenome) -> list[dict[str, Any]]:
    """The active blocks of one valid genome as plain Python values (host side).

    Returns:
      One dict per non-identity block, in order, with keys ``index`` (position
      among the active blocks), ``slot`` (position in the genome), ``op``
      (a name of ``OPERATIONS``), ``width`` (units or channels; ``None`` for
      pooling, the MLP and the position embedding), ``kernel`` (convolution
      kernel size, else ``None``), ``activation`` (a name of ``ACTIVATIONS``,
      applied after the operation; ``'identity'`` for attention and MLP
      blocks), ``norm`` (``'none'`` or ``'layer_norm'``), ``norm_first`` (the
      norm comes before the operation: attention and MLP blocks), ``residual``
      (True only where the residual gene is set *and* acts), ``dropout``
      (rate), ``first_dense`` (the dense block that flattens its input),
      ``in_shape`` and ``out_shape`` (per-example shapes: ``(units,)`` or
      ``(*lengths, channels)``); attention blocks also ``heads`` and
      ``causal``, MLP blocks ``hidden`` and ``hidden_activation``, patch
      embeddings ``patch`` and sequence pools ``readout``.

    Raises:
      ValueError: the genome is invalid for ``space``.
    """
    valid, shapes, residual = jax.device_get(_analyse(space)(genome))
    if not valid:
        raise ValueError("invalid genome: " + "; ".join(space.validate(genome)))
    genes = jax.device_get(genome)
    tables = space.tables
    blocks = []
    seen_dense = False
    for slot in range(tables.max_depth):
        op = int(genes.operation[slot])
        if op == IDENTITY:
            continue
        width = None
        option = int(genes.kernel_size[slot])
        if op == DENSE:
            width = int(genome_lib.dense_width(tables, int(genes.width[slot])))
        elif op in (CONV, SELF_ATTENTION, PATCH_EMBEDDING):
            width = int(genome_lib.conv_width(tables, int(genes.width[slot])))
        activation = ACTIVATIONS[int(genes.activation[slot])]
        block = {
            "index": len(blocks),
            "slot": slot,
            "op": OPERATIONS[op],
            "width": width,
            "kernel": _chosen(tables.kernel_sizes, option) if op == CONV else None,
            "activation": "identity" if op in PRE_NORM_OPERATIONS else activation,
            "norm": NORMALIZATIONS[int(genes.normalization[slot])],
            "norm_first": op in PRE_NORM_OPERATIONS,
            "residual": bool(residual[slot]),
            "dropout": float(tables.dropout_rates[int(genes.dropout[slot])]),
            "first_dense": op == DENSE and not seen_dense,
            "in_shape": _state_shape(shapes, slot),
            "out_shape": _state_shape(shapes, slot + 1),
        }
        if op == SELF_ATTENTION:
            block["heads"] = _chosen(tables.attention_heads, option)
            block["causal"] = bool(tables.causal_attention)
        elif op == TRANSFORMER_MLP:
            block["hidden"] = _chosen(tables.mlp_ratios, option) * block["in_shape"][-1]
            block["hidden_activation"] = activation
        elif op == PATCH_EMBEDDING:
            block["patch"] = _chosen(tables.patch_sizes, option)
        elif op == SEQUENCE_POOL:
            block["readout"] = _chosen(SEQUENCE_READOUTS, option)
        blocks.append(block)
        seen_dense = seen_dense or op == DENSE
    return blocks


def _chosen(table: tuple, option: int):
    """The entry of a table that a block's ``kernel_size`` gene chooses."""
    return table[option % len(table)]


class PlainNetwork(nn.Module):
    """The network a genome describes, as an ordinary Flax module.

    Attributes:
      blocks: from :func:`decode_blocks` (only ``op``, ``width``, ``kernel``,
        ``activation``, ``norm``, ``residual``, ``dropout`` and ``index`` are read).
      num_outputs: width of the dense read-out.
      input_mask: 0/1 per input feature of a space with feature selection
        (unchosen features are multiplied by 0), or None.
    """

    blocks: Sequence[dict[str, Any]]
    num_outputs: int
    input_mask: tuple[int, ...] | None = None

    @nn.compact
    def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
        """``x`` ``[B, *input_shape]`` → ``[B, num_outputs]``; ``train`` enables
        dropout (then pass ``rngs={'dropout': key}``)."""
        batch = x.shape[0]
        x = x.astype(jnp.float32)
        if self.input_mask is not None:
            x = x * jnp.asarray(self.input_mask, jnp.float32)
        for block in self.blocks:
            name = f"block{block['index']}"
            op = block["op"]
            window = (POOL_WINDOW,) * (x.ndim - 2)
            normed = x
            if block["norm_first"] and block["norm"] == "layer_norm":
                normed = nn.LayerNorm(epsilon=LAYER_NORM_EPSILON, name=f"{name}_norm")(x)
            if op in plain_attention.OPERATIONS:
                y = plain_attention.apply(block, name, normed)
            elif op == "dense":
                y = nn.Dense(block["width"], name=f"{name}_dense")(x.reshape(batch, -1))
            elif op == "conv":
                kernel = (block["kernel"],) * (x.ndim - 2)
                y = nn.Conv(block["width"], kernel, padding="SAME", name=f"{name}_conv")(x)
            elif op == "max_pool":
                y = nn.max_pool(x, window, strides=window, padding="VALID")
            elif op == "avg_pool":
                y = nn.avg_pool(x, window, strides=window, padding="VALID")
            else:
                raise ValueError(f"unknown operation {op!r}")
            if block["norm"] == "layer_norm" and not block["norm_first"]:
                y = nn.LayerNorm(epsilon=LAYER_NORM_EPSILON, name=f"{name}_norm")(y)
            y = ACTIVATION_FUNCTIONS[block["activation"]](y)
            if block["dropout"] > 0:
                y = nn.Dropout(block["dropout"], deterministic=not train)(y)
            x = y + x if block["residual"] else y
        return nn.Dense(self.num_outputs, name="head")(x.reshape(batch, -1))


def input_mask(space: PathwaySpace, genome: PathwayGenome) -> tuple[int, ...] | None:
    """0/1 per input feature of a space with feature selection, else None."""
    if not space.input_groups:
        return None
    return tuple(int(v) for v in np.asarray(space.input_feature_mask(genome)))


def build_plain_network(space: PathwaySpace, genome: PathwayGenome) -> PlainNetwork:
    """The :class:`PlainNetwork` of one valid genome."""
    return PlainNetwork(
        blocks=tuple(decode_blocks(space, genome)),
        num_outputs=space.num_outputs,
        input_mask=input_mask(space, genome),
    )


def _flat_rows(space: PathwaySpace, shape: tuple[int, ...], kernel: np.ndarray) -> np.ndarray:
    """Rows of a kernel ``[F, N]`` that reads the flattened buffer, reordered to
    read a state of per-example ``shape`` flattened on its own.

    A vector of ``u`` units holds the first ``u`` flat entries of the buffer; a
    map ``[*lengths, c]`` holds the corner of the buffer ``[*spatial, C_max]``,
    so its row-major index ``(i..., ch)`` is the buffer's index ``(i..., ch)``.

    Returns:
      ``[prod(shape), N]``.
    """
    if len(shape) == 1:
        return kernel[: shape[0]]
    coordinates = np.indices(shape).reshape(len(shape), -1)
    return kernel[np.ravel_multi_index(coordinates, space.buffer_shape)]


def plain_params_from_supernet(
    space: PathwaySpace,
    genome: PathwayGenome,
    params: dict,
    blocks: Sequence[dict[str, Any]] | None = None,
) -> dict:
    """Converts the super-network parameters of one genome into PlainNetwork variables.

    Args:
      space: the pathway space.
      genome: one valid genome.
      params: from :func:`pathways_jax.spaces.pathway.network.init_params` (or
        trained), for this genome alone (no population axis).
      blocks: :func:`decode_blocks` of the genome, if already at hand.

    Returns:
      ``{'params': {...}}`` of float32 numpy arrays, to pass to
      ``PlainNetwork.apply``: ``block{i}_dense`` ``{kernel [n_in, u], bias [u]}``,
      ``block{i}_conv`` ``{kernel [*k, c_in, c_out], bias [c_out]}``,
      ``block{i}_norm`` ``{scale, bias}`` ``[u]`` or ``[c]``, and
      ``head`` ``{kernel [n_in, O], bias [O]}``.
    """
    if blocks is None:
        blocks = decode_blocks(space, genome)
    params = jax.tree_util.tree_map(lambda leaf: np.asarray(leaf, np.float32), params)
    supernet = params["blocks"]
    num_spatial = len(space.spatial_shape)
    kernel_max = max(space.tables.kernel_sizes)
    channels_max = space.max_channels
    plain = {}
    for block in blocks:
        name, slot = f"block{block['index']}", block["slot"]
        in_shape, out_shape = block["in_shape"], block["out_shape"]
        width = block["width"]
        if block["op"] == "dense":
            if block["first_dense"]:
                kernel = _flat_rows(space, in_shape, params["flatten"]["kernel"])[:, :width]
            else:
                kernel = supernet["dense_kernel"][slot][: in_shape[0], :width]
            plain[f"{name}_dense"] = {
                "kernel": kernel,
                "bias": supernet["dense_bias"][slot][:width],
            }
        elif block["op"] == "conv":
            full = supernet["conv_kernel"][slot].reshape(
                (kernel_max,) * num_spatial + (channels_max, channels_max)
            )
            start = (kernel_max - block["kernel"]) // 2
            taps = full[(slice(start, start + block["kernel"]),) * num_spatial]
            plain[f"{name}_conv"] = {
                "kernel": taps[..., : in_shape[-1], :width],
                "bias": supernet["conv_bias"][slot][:width],
            }
        elif block["op"] in plain_attention.OPERATIONS:
            plain.update(plain_attention.params_from_supernet(space, block, name, supernet))
        if block["norm"] == "layer_norm":
            size = in_shape[-1] if block["norm_first"] else out_shape[-1]
            plain[f"{name}_norm"] = {
                "scale": supernet["norm_scale"][slot][:size],
                "bias": supernet["norm_bias"][slot][:size],
            }
    head_shape = blocks[-1]["out_shape"] if blocks else tuple(space.input_shape)
    plain["head"] = {
        "kernel": _flat_rows(space, head_shape, params["head"]["kernel"]),
        "bias": params["head"]["bias"],
    }
    plain = jax.tree_util.tree_map(np.ascontiguousarray, plain)
    return {"params": plain}

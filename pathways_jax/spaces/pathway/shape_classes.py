"""Shape classes: narrower super-networks for the pathways that fit them.

The super-network pads every pathway to the widest buffer its space allows
(``space.buffer_shape``), and most of a training step is memory-bound passes
over that buffer: a pathway whose maps have 8 of 32 channels, or that has no
spatial block at all, pays for the widest. A shape class is a narrower space
whose super-network computes the same function for the genomes that fit it:

- ``vector`` (sequence and image spaces): pathways without convolution or
  pooling read the flattened input, so they train on vectors of
  ``max(input size, max_units)`` entries;
- ``channels<=c``: pathways whose input and convolutions have at most ``c``
  channels train on ``[*spatial, c]`` maps (one class per conv width below the
  widest, raised to ``space.min_channels``);
- ``full``: the space itself, which holds every genome.

Each class is one compiled program, so a search compiles at most
``len(shape_classes(space, which))`` programs whatever its population and
rounds. Which classes a search uses is ``config.parallel.shape_classes``:
``'none'`` (one program), ``'vector'`` (the default: the vector class, which
gains the most) or ``'all'``. Each program costs a compilation, so the
narrower channel classes pay off in longer searches.
Parameters are drawn in the full space and narrowed (:func:`narrow_params`):
a pathway starts from the same weights, and trains to the same function, in
whichever class it runs (up to the float rounding of the different shapes).
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.genome import (
    CONV,
    DENSE,
    MAP_OPERATIONS,
    PATCH_EMBEDDING,
    SELF_ATTENTION,
    PathwayGenome,
)
from pathways_jax.spaces.pathway.space import PathwaySpace

FULL = "full"
VECTOR = "vector"
CHOICES = ("none", "vector", "all")
ATTENTION_PARAMS = (
    "attention_kernel",
    "attention_bias",
    "mlp_in_kernel",
    "mlp_in_bias",
    "mlp_out_kernel",
    "mlp_out_bias",
    "position",
    "patch_kernel",
    "patch_bias",
)


@dataclasses.dataclass(frozen=True)
class ShapeClass:
    """One compiled program's buffers.

    Attributes:
      name: ``'vector'``, ``'channels<=c'`` or ``'full'``.
      space: the (narrower) space whose super-network the program trains.
    """

    name: str
    space: PathwaySpace


def shape_classes(space: PathwaySpace, which: str = "all") -> tuple[ShapeClass, ...]:
    """The classes of ``space``, narrowest first; the last is ``space`` itself.

    Args:
      space: the pathway space.
      which: ``'none'`` (the full space alone), ``'vector'`` (the vector class
        and the full space) or ``'all'`` (every class).
    """
    if which not in CHOICES:
        raise ValueError(f"parallel.shape_classes must be one of {CHOICES}, got {which!r}")
    full = ShapeClass(FULL, space)
    if which == "none" or space.input_kind == "vector":
        return (full,)
    vector_space = PathwaySpace(
        space.tables,
        "vector",
        (math.prod(space.input_shape),),
        space.task,
        space.num_outputs,
        space.mutation_weights,
    )
    classes = [ShapeClass(VECTOR, vector_space)]
    if which == "vector":
        return (*classes, full)
    bounds = sorted({max(width, space.min_channels) for width in space.tables.conv_widths})
    for bound in bounds:
        if bound < space.max_channels:
            narrow = dataclasses.replace(space, channel_bound=bound)
            classes.append(ShapeClass(f"channels<={bound}", narrow))
    classes.append(full)
    return tuple(classes)


def fits(space: PathwaySpace, shape_class: ShapeClass, genomes: PathwayGenome) -> np.ndarray:
    """``[n]`` bool: each of the host ``genomes [n]`` trains in ``shape_class``."""
    operations = np.asarray(genomes.operation)
    if shape_class.name == FULL:
        return np.ones(operations.shape[0], bool)
    if shape_class.name == VECTOR:
        spatial = np.any(np.isin(operations, MAP_OPERATIONS), axis=-1)
        # The first dense block reads the input: a map in the full space, a
        # vector in the vector class, where a residual of the same width would
        # act. Such a genome trains in a spatial class.
        dense = operations == DENSE
        first = np.argmax(dense, axis=-1)[:, None]
        units = np.asarray(genome_lib.dense_width(space.tables, genomes.width))
        first_units = np.take_along_axis(units, first, axis=-1)[:, 0]
        first_residual = np.take_along_axis(np.asarray(genomes.residual), first, axis=-1)[:, 0]
        same_width = first_units == math.prod(space.input_shape)
        residual_differs = np.any(dense, axis=-1) & (first_residual == 1) & same_width
        return ~spatial & ~residual_differs
    widths = np.asarray(genome_lib.conv_width(space.tables, genomes.width))
    widening = np.isin(operations, (CONV, SELF_ATTENTION, PATCH_EMBEDDING))
    widest = np.max(np.where(widening, widths, 0), axis=-1)
    return widest <= shape_class.space.max_channels


def assign(space: PathwaySpace, classes, genomes: PathwayGenome) -> np.ndarray:
    """``[n]`` int: the index in ``classes`` of the narrowest class each genome fits."""
    fitting = np.stack([fits(space, shape_class, genomes) for shape_class in classes])
    if not np.all(np.any(fitting, axis=0)):
        raise ValueError("shape classes must end with the full space, which holds every genome")
    return np.argmax(fitting, axis=0)


def class_inputs(space: PathwaySpace, class_space: PathwaySpace, inputs: jnp.ndarray):
    """Examples ``[..., *space.input_shape]`` laid out as ``[..., *class_space.input_shape]``
    (flattened for the vector class; unchanged otherwise)."""
    leading = inputs.shape[: inputs.ndim - len(space.input_shape)]
    return inputs.reshape(leading + tuple(class_space.input_shape))


def _map_rows(space: PathwaySpace, class_space: PathwaySpace) -> np.ndarray:
    """``[class_space.flat_size]`` int: for each entry of the narrow flat buffer,
    the entry of the full flat buffer that holds the same value of a spatial map
    (``space.flat_size``, a zero row, where none does)."""
    positions = math.prod(space.spatial_shape)
    narrow_channels = (
        class_space.max_channels if class_space.spatial_shape else space.input_shape[-1]
    )
    position, channel = np.divmod(np.arange(positions * narrow_channels), narrow_channels)
    rows = position * space.max_channels + channel
    missing = class_space.flat_size - rows.shape[0]
    return np.concatenate([rows, np.full(missing, space.flat_size)]).astype(np.int32)


def narrow_params(
    space: PathwaySpace, class_space: PathwaySpace, genome: PathwayGenome, params: dict
) -> dict:
    """Parameters of ``space``'s super-network (:func:`pathway_network.init_params`)
    laid out for ``class_space``'s, for a ``genome`` that fits it.

    Every entry the genome's network reads keeps its value; the narrow layout
    drops channels beyond ``class_space.max_channels`` and re-indexes the rows
    of the kernels that read a flattened map (``flatten`` and ``head``).
    """
    if class_space == space:
        return params
    blocks = params["blocks"]
    depth = space.tables.max_depth
    channels, narrow = space.max_channels, class_space.max_channels
    norm_width = max(narrow, class_space.max_units)
    if narrow:
        taps = blocks["conv_kernel"].shape[1] // channels
        kernel = blocks["conv_kernel"].reshape(depth, taps, channels, channels)
        conv_kernel = kernel[:, :, :narrow, :narrow].reshape(depth, taps * narrow, narrow)
        conv_bias = blocks["conv_bias"][:, :narrow]
    else:
        conv_kernel = jnp.zeros((depth, 1, 1), jnp.float32)
        conv_bias = jnp.zeros((depth, 1), jnp.float32)
    rows = _map_rows(space, class_space)

    def map_rows(kernel):
        with_zero_row = jnp.concatenate([kernel, jnp.zeros_like(kernel[:1])])
        return with_zero_row[rows]

    head = params["head"]["kernel"]
    # The read-out reads a vector from the first entries, a map by position.
    reads_vector = space.block_shapes(genome)["is_vector"][-1]
    head_kernel = jnp.where(reads_vector, head[: class_space.flat_size], map_rows(head))
    narrowed = {
        "dense_kernel": blocks["dense_kernel"],
        "dense_bias": blocks["dense_bias"],
        "conv_kernel": conv_kernel,
        "conv_bias": conv_bias,
        "norm_scale": blocks["norm_scale"][:, :norm_width],
        "norm_bias": blocks["norm_bias"][:, :norm_width],
    }
    if space.tables.attention:
        narrowed.update(_narrow_attention_params(space, class_space, blocks))
    return {
        "blocks": narrowed,
        "flatten": {"kernel": map_rows(params["flatten"]["kernel"])},
        "head": {"kernel": head_kernel, "bias": params["head"]["bias"]},
    }


def _narrow_attention_params(space: PathwaySpace, class_space: PathwaySpace, blocks) -> dict:
    """The attention operations' parameters for a narrower channel class.

    A genome of the class has at most ``narrow`` channels in every map, so
    every entry its network reads lies in the leading ``narrow`` channels (and
    the leading ``ratio * narrow`` hidden units); the vector class has no map
    and keeps one-entry placeholders.
    """
    depth, channels = space.tables.max_depth, space.max_channels
    narrow = class_space.max_channels
    if not narrow:
        return {
            name: jnp.zeros((depth,) + (1,) * (blocks[name].ndim - 1), jnp.float32)
            for name in ATTENTION_PARAMS
        }
    hidden = max(space.tables.mlp_ratios) * narrow
    taps = blocks["patch_kernel"].shape[1] // channels
    patch = blocks["patch_kernel"].reshape(depth, taps, channels, channels)
    return {
        "attention_kernel": blocks["attention_kernel"][:, :, :narrow, :narrow],
        "attention_bias": blocks["attention_bias"][:, :, :narrow],
        "mlp_in_kernel": blocks["mlp_in_kernel"][:, :narrow, :hidden],
        "mlp_in_bias": blocks["mlp_in_bias"][:, :hidden],
        "mlp_out_kernel": blocks["mlp_out_kernel"][:, :hidden, :narrow],
        "mlp_out_bias": blocks["mlp_out_bias"][:, :narrow],
        "position": blocks["position"][..., :narrow],
        "patch_kernel": patch[:, :, :narrow, :narrow].reshape(depth, taps * narrow, narrow),
        "patch_bias": blocks["patch_bias"][:, :narrow],
    }

"""Genes of a pathway and the fixed-shape genome that holds them.

A pathway is a sequence of at most ``max_depth`` blocks followed by a dense
read-out, plus the genes that say how it is trained. Every gene is an integer
index into a fixed table (or, for the learning rate, a float in a fixed range),
so a genome is a pytree of fixed-shape arrays and a population is the same
pytree with a leading axis. Variable structure is expressed by the ``identity``
operation: a block whose operation is ``identity`` is skipped, and its other
genes are inactive.

Attention blocks (operations from ``self_attention`` on) exist in a space
whose tables name attention heads (``GeneTables.attention_heads``); the
other spaces keep the five operations and six activations, so their genomes,
samples and histories are those of a space without attention. A block's
``kernel_size`` gene is its table choice: the kernel size of a convolution,
the heads of a self-attention block, the hidden ratio of a transformer MLP,
the patch size of a patch embedding, or the read-out of a sequence pool
(``SEQUENCE_READOUTS``); each table is read modulo its length.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

# Fixed gene tables. Exported code is produced only from entries of these tables.
OPERATIONS = (
    "identity",
    "dense",
    "conv",
    "max_pool",
    "avg_pool",
    # Attention spaces only:
    "self_attention",
    "transformer_mlp",
    "position_embedding",
    "patch_embedding",
    "sequence_pool",
)
(
    IDENTITY,
    DENSE,
    CONV,
    MAX_POOL,
    AVG_POOL,
    SELF_ATTENTION,
    TRANSFORMER_MLP,
    POSITION_EMBEDDING,
    PATCH_EMBEDDING,
    SEQUENCE_POOL,
) = range(len(OPERATIONS))
NUM_BASIC_OPERATIONS = 5  # Operations of a space without attention.
# Operations that read a map ([*spatial, channels]) and keep it a map.
SPATIAL_OPERATIONS = (
    CONV,
    MAX_POOL,
    AVG_POOL,
    SELF_ATTENTION,
    TRANSFORMER_MLP,
    POSITION_EMBEDDING,
    PATCH_EMBEDDING,
)
# Operations that read a map (the spatial ones, and the pool to a vector).
MAP_OPERATIONS = (*SPATIAL_OPERATIONS, SEQUENCE_POOL)
# Operations whose layer norm comes first (pre-norm) and that have no activation after.
PRE_NORM_OPERATIONS = (SELF_ATTENTION, TRANSFORMER_MLP)
SEQUENCE_READOUTS = ("mean", "first")

ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid", "swish", "identity", "squared_relu")
NUM_BASIC_ACTIVATIONS = 6  # Activations of a space without attention.
NORMALIZATIONS = ("none", "layer_norm")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "cosine", "warmup_cosine")
CLASSIFICATION_LOSSES = ("xent", "xent_smooth", "hinge")
REGRESSION_LOSSES = ("mse", "huber")


def losses_for_task(task: str) -> tuple[str, ...]:
    """The loss table that the ``loss`` gene indexes for ``task``."""
    if task == "classification":
        return CLASSIFICATION_LOSSES
    if task == "regression":
        return REGRESSION_LOSSES
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")


@flax.struct.dataclass
class PathwayGenome:
    """One pathway (or, with a leading axis, a population of them).

    Block genes have shape ``[max_depth]`` (``[population, max_depth]`` for a
    population); training genes are scalars (``[population]``). All are int32
    indices into the tables of :class:`GeneTables`, except ``log10_learning_rate``
    (float32) and ``residual`` (int32, 0 or 1). ``input_mask`` (int32 0/1,
    ``[num_input_groups]``) says which input columns the pathway reads, in a
    space with feature selection (``PathwaySpace.input_groups``); None elsewhere.
    """

    operation: jnp.ndarray
    width: jnp.ndarray
    kernel_size: jnp.ndarray
    activation: jnp.ndarray
    normalization: jnp.ndarray
    residual: jnp.ndarray
    dropout: jnp.ndarray
    optimizer: jnp.ndarray
    log10_learning_rate: jnp.ndarray
    schedule: jnp.ndarray
    weight_decay: jnp.ndarray
    l1_penalty: jnp.ndarray
    batch_size: jnp.ndarray
    loss: jnp.ndarray
    input_mask: jnp.ndarray | None = None


BLOCK_GENES = (
    "operation",
    "width",
    "kernel_size",
    "activation",
    "normalization",
    "residual",
    "dropout",
)
TRAINING_GENES = (
    "optimizer",
    "log10_learning_rate",
    "schedule",
    "weight_decay",
    "l1_penalty",
    "batch_size",
    "loss",
)


INPUT_MASK = "input_mask"


@dataclasses.dataclass(frozen=True)
class GeneTables:
    """The values each gene may take; static (hashable) settings of a space.

    Attributes:
      max_depth: number of block slots.
      conv_widths: channel counts a convolution may have.
      dense_widths: unit counts a dense block may have.
      kernel_sizes: odd kernel sizes of a convolution (square for images).
      dropout_rates: dropout rates a block may have.
      batch_sizes: batch sizes a pathway may train with.
      weight_decays: L2 weight decay coefficients (0 means none).
      l1_penalties: L1 penalty coefficients on kernels (0 means none).
      log10_learning_rate_range: inclusive range of the log10 learning rate.
      attention_heads: head counts a self-attention block may have; empty
        (the default): a space without attention blocks.
      mlp_ratios: hidden widths of a transformer MLP, as multiples of its input channels.
      patch_sizes: patch sizes of a patch embedding (square for images).
      causal_attention: self-attention sees only earlier positions (off for
        classification, where every position may read every other).
    """

    max_depth: int = 4
    conv_widths: tuple[int, ...] = (8, 16, 32)
    dense_widths: tuple[int, ...] = (16, 32, 64, 128)
    kernel_sizes: tuple[int, ...] = (3, 5, 7)
    dropout_rates: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3)
    batch_sizes: tuple[int, ...] = (16, 32, 64)
    weight_decays: tuple[float, ...] = (0.0, 1e-5, 1e-4, 1e-3)
    l1_penalties: tuple[float, ...] = (0.0, 1e-6, 1e-5, 1e-4)
    log10_learning_rate_range: tuple[float, float] = (-4.0, -1.0)
    attention_heads: tuple[int, ...] = ()
    mlp_ratios: tuple[int, ...] = (2, 4)
    patch_sizes: tuple[int, ...] = (2, 4)
    causal_attention: bool = False

    @property
    def attention(self) -> bool:
        """The space has the attention operations (and the squared-ReLU activation)."""
        return bool(self.attention_heads)

    @property
    def num_operations(self) -> int:
        return len(OPERATIONS) if self.attention else NUM_BASIC_OPERATIONS

    @property
    def num_activations(self) -> int:
        return len(ACTIVATIONS) if self.attention else NUM_BASIC_ACTIVATIONS

    @property
    def num_choices(self) -> int:
        """Values of the ``kernel_size`` gene: the longest table it chooses from."""
        if not self.attention:
            return len(self.kernel_sizes)
        lengths = (self.kernel_sizes, self.attention_heads, self.mlp_ratios, self.patch_sizes)
        return max(*(len(t) for t in lengths), len(SEQUENCE_READOUTS))

    @property
    def num_widths(self) -> int:
        """Width genes index ``conv_widths`` for convolutions and ``dense_widths``
        for dense blocks; the gene range is the longer of the two and a shorter
        table is read modulo its length."""
        return max(len(self.conv_widths), len(self.dense_widths))

    def gene_cardinalities(self, task: str) -> dict[str, int]:
        """Number of values of every integer gene."""
        return {
            "operation": self.num_operations,
            "width": self.num_widths,
            "kernel_size": self.num_choices,
            "activation": self.num_activations,
            "normalization": len(NORMALIZATIONS),
            "residual": 2,
            "dropout": len(self.dropout_rates),
            "optimizer": len(OPTIMIZERS),
            "schedule": len(SCHEDULES),
            "weight_decay": len(self.weight_decays),
            "l1_penalty": len(self.l1_penalties),
            "batch_size": len(self.batch_sizes),
            "loss": len(losses_for_task(task)),
        }


def conv_width(tables: GeneTables, width_gene):
    """Channels of a convolution for a width gene (works on arrays)."""
    widths = jnp.asarray(tables.conv_widths, jnp.int32)
    return widths[width_gene % len(tables.conv_widths)]


def choice(table: tuple, gene):
    """The entry of ``table`` that a ``kernel_size`` gene chooses (works on arrays)."""
    return jnp.asarray(table)[gene % len(table)]


def dense_width(tables: GeneTables, width_gene):
    """Units of a dense block for a width gene (works on arrays)."""
    widths = jnp.asarray(tables.dense_widths, jnp.int32)
    return widths[width_gene % len(tables.dense_widths)]


def genome_to_json(genome: PathwayGenome) -> dict[str, Any]:
    """Exact, JSON-serialisable genes of one genome (inactive genes included)."""
    genes = {}
    for field in dataclasses.fields(genome):
        value = getattr(genome, field.name)
        if value is not None:  # No input_mask without feature selection.
            genes[field.name] = np.asarray(value).tolist()
    return genes


def genome_from_json(genes: dict[str, Any], max_depth: int | None = None) -> PathwayGenome:
    """Inverse of :func:`genome_to_json`; raises ``ValueError`` naming a bad field."""
    values = {}
    for field in dataclasses.fields(PathwayGenome):
        if field.name == INPUT_MASK:
            if field.name in genes:
                mask = np.asarray(genes[field.name])
                if mask.ndim != 1 or not np.isin(mask, (0, 1)).all():
                    raise ValueError("genome JSON gene 'input_mask' is not a list of 0s and 1s")
                values[field.name] = jnp.asarray(mask, jnp.int32)
            continue
        if field.name not in genes:
            raise ValueError(f"genome JSON is missing the gene {field.name!r}")
        dtype = np.float32 if field.name == "log10_learning_rate" else np.int32
        try:
            value = np.asarray(genes[field.name], dtype=dtype)
        except (TypeError, ValueError) as error:
            raise ValueError(f"genome JSON gene {field.name!r} is not numeric: {error}") from None
        expected_ndim = 1 if field.name in BLOCK_GENES else 0
        if value.ndim != expected_ndim:
            raise ValueError(
                f"genome JSON gene {field.name!r} has {value.ndim} dimensions,"
                f" expected {expected_ndim}"
            )
        if max_depth is not None and field.name in BLOCK_GENES and value.shape[0] != max_depth:
            raise ValueError(
                f"genome JSON gene {field.name!r} has {value.shape[0]} blocks,"
                f" expected max_depth={max_depth}"
            )
        values[field.name] = jnp.asarray(value)
    return PathwayGenome(**values)


def index_population(population: PathwayGenome, index) -> PathwayGenome:
    """Member ``index`` of a population (or a sub-population for an index array)."""
    return jax.tree_util.tree_map(lambda leaf: leaf[index], population)


def stack_genomes(genomes: list[PathwayGenome]) -> PathwayGenome:
    """A population from a list of single genomes."""
    return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *genomes)


def population_size(population: PathwayGenome) -> int:
    """Number of members (the leading axis) of a population."""
    return int(population.optimizer.shape[0])

"""The pathway search space: sampling, variation, validation and description.

``sample``, ``mutate`` and ``crossover`` are pure functions of a PRNG key that
can be jitted and vmapped. They never return an invalid genome: each draws a
fixed number of proposals in parallel and keeps the first valid one, falling
back to a change that is valid by construction (a learning-rate step for
mutation, the first parent for crossover, a linear model for sampling).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.genome import (
    AVG_POOL,
    BLOCK_GENES,
    CONV,
    DENSE,
    IDENTITY,
    MAP_OPERATIONS,
    MAX_POOL,
    PATCH_EMBEDDING,
    POSITION_EMBEDDING,
    SELF_ATTENTION,
    SEQUENCE_POOL,
    TRAINING_GENES,
    TRANSFORMER_MLP,
    GeneTables,
    PathwayGenome,
)
from pathways_jax.spaces.pathway.protocol import CROSSOVER_KINDS, PathwayProtocol
from pathways_jax.spaces.pathway.variation import NUM_PROPOSALS, PathwayVariation
from pathways_jax.training.losses import FITNESS_METRICS

__all__ = ["CROSSOVER_KINDS", "DEFAULT_MUTATION_WEIGHTS", "NUM_PROPOSALS", "PathwaySpace"]

INPUT_KINDS = ("sequence", "image", "vector")
# Probabilities of: block gene change, training gene change, insert, remove, swap.
DEFAULT_MUTATION_WEIGHTS = (0.35, 0.35, 0.1, 0.1, 0.1)


@dataclasses.dataclass(frozen=True)
class PathwaySpace(PathwayVariation, PathwayProtocol):
    """Static description of the pathway space for one dataset.

    Attributes:
      tables: the gene tables.
      input_kind: 'sequence' (inputs ``[length, channels]``), 'image'
        (``[height, width, channels]``) or 'vector' (``[features]``).
      input_shape: shape of one input example.
      task: 'classification' or 'regression'.
      num_outputs: classes, or 1 for regression.
      mutation_weights: relative probabilities of the five mutation kinds
        (block gene, training gene, insert, remove, swap).
      channel_bound: if above 0, the channel axis of the activation buffer
        (``max_channels``) is this many channels instead of the widest the
        tables allow; such a narrower space holds only the genomes whose
        every map fits it (see :mod:`pathways_jax.spaces.pathway.shape_classes`).
      input_groups: feature selection for vector inputs: the group (an input
        column; a table column's one-hot features form one group) of each
        input feature, ``[features]``; a genome's ``input_mask`` then has one
        0/1 gene per group and the pathway reads only the features of its
        chosen groups. Empty: no feature selection (no ``input_mask``).
      fitness_metric: the validation metric that is the fitness (a key of
        ``training.losses.FITNESS_METRICS[task]``, minimised ones negated);
        empty: accuracy or R².
    """

    tables: GeneTables
    input_kind: str
    input_shape: tuple[int, ...]
    task: str
    num_outputs: int
    mutation_weights: tuple[float, ...] = DEFAULT_MUTATION_WEIGHTS
    channel_bound: int = 0
    input_groups: tuple[int, ...] = ()
    fitness_metric: str = ""

    def __post_init__(self):
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {self.input_kind!r}")
        expected_rank = {"sequence": 2, "image": 3, "vector": 1}[self.input_kind]
        if len(self.input_shape) != expected_rank:
            raise ValueError(
                f"input_shape {self.input_shape} does not fit input_kind {self.input_kind!r}"
            )
        if len(self.mutation_weights) != 5 or min(self.mutation_weights) < 0:
            raise ValueError("mutation_weights must be 5 non-negative numbers")
        genome_lib.losses_for_task(self.task)
        allowed = tuple(FITNESS_METRICS[self.task])
        if self.fitness_metric and self.fitness_metric not in allowed:
            raise ValueError(
                f"fitness_metric={self.fitness_metric!r} is invalid: expected '' or one of "
                f"{allowed} for {self.task}"
            )
        if self.input_groups:
            groups = sorted(set(self.input_groups))
            if self.input_kind != "vector" or len(self.input_groups) != self.input_shape[0]:
                raise ValueError(
                    f"input_groups must name a group for each of the {self.input_shape} vector "
                    f"features, got {len(self.input_groups)} for {self.input_kind!r} inputs"
                )
            if groups != list(range(len(groups))):
                raise ValueError("input_groups must number the groups 0, 1, ..., G-1")
        if self.channel_bound:
            if self.input_kind == "vector":
                raise ValueError("channel_bound applies to sequence and image spaces only")
            if self.channel_bound < self.min_channels:
                raise ValueError(
                    f"channel_bound {self.channel_bound} is below the {self.min_channels}"
                    " channels every pathway of this space needs"
                )

    # ---------------------------------------------------------- feature selection
    @property
    def num_input_groups(self) -> int:
        """Genes of ``input_mask`` (0: no feature selection)."""
        return max(self.input_groups) + 1 if self.input_groups else 0

    def input_feature_mask(self, genome: PathwayGenome) -> jnp.ndarray:
        """float32 ``[features]``: 1 for the input features the genome reads."""
        if not self.input_groups:
            return jnp.ones(self.input_shape, jnp.float32)
        groups = jnp.asarray(self.input_groups, jnp.int32)
        return genome.input_mask[groups].astype(jnp.float32)

    def _random_input_mask(self, key) -> jnp.ndarray | None:
        """Each group chosen with probability 3/4, at least one."""
        if not self.input_groups:
            return None
        key_bits, key_one = jax.random.split(key)
        bits = jax.random.bernoulli(key_bits, 0.75, (self.num_input_groups,))
        one = jax.nn.one_hot(
            jax.random.randint(key_one, (), 0, self.num_input_groups), self.num_input_groups
        )
        return jnp.where(jnp.any(bits), bits, one > 0).astype(jnp.int32)

    # ----------------------------------------------------------------- shapes
    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """Spatial dimensions of the input (empty for vectors)."""
        return () if self.input_kind == "vector" else tuple(self.input_shape[:-1])

    @property
    def min_channels(self) -> int:
        """Fewest buffer channels any pathway needs: the input's channels, and
        enough entries for the widest dense vector (0 for vector spaces)."""
        if self.input_kind == "vector":
            return 0
        positions = math.prod(self.spatial_shape)
        return max(self.input_shape[-1], math.ceil(max(self.tables.dense_widths) / positions))

    @property
    def widest_channels(self) -> int:
        """Channels of the widest buffer the tables need (``max_channels``
        unless ``channel_bound`` narrows it; 0 for vector spaces)."""
        if self.input_kind == "vector":
            return 0
        return max(max(self.tables.conv_widths), self.min_channels)

    @property
    def max_channels(self) -> int:
        """Channel axis of the fixed-shape activation buffer."""
        return self.channel_bound or self.widest_channels

    @property
    def buffer_shape(self) -> tuple[int, ...]:
        """Shape of one example's activation buffer: spatial maps live in it as
        ``[*spatial, channels]``; vectors live in its first entries when flattened."""
        if self.input_kind == "vector":
            return (max(self.input_shape[0], max(self.tables.dense_widths)),)
        return (*self.spatial_shape, self.max_channels)

    @property
    def flat_size(self) -> int:
        return math.prod(self.buffer_shape)

    @property
    def max_units(self) -> int:
        return max(self.tables.dense_widths)

    def block_shapes(self, genome: PathwayGenome) -> dict[str, jnp.ndarray]:
        """Shape of the activation entering and leaving each block.

        Args:
          genome: one genome.

        Returns:
          A dict of arrays with leading axis ``[max_depth + 1]`` (entry ``i`` is
          the input of block ``i``; the last entry is the input of the read-out):
          ``lengths`` int32 ``[max_depth + 1, num_spatial]``, ``channels`` int32,
          ``is_vector`` bool and ``units`` int32 (the width of a vector state).
        """
        num_spatial = len(self.spatial_shape)
        lengths = jnp.asarray(self.spatial_shape, jnp.int32).reshape(num_spatial)
        if self.input_kind == "vector":
            channels, is_vector, units = (
                jnp.int32(0),
                jnp.bool_(True),
                jnp.int32(self.input_shape[0]),
            )
        else:
            channels, is_vector, units = (
                jnp.int32(self.input_shape[-1]),
                jnp.bool_(False),
                jnp.int32(0),
            )
        states = [(lengths, channels, is_vector, units)]
        tables = self.tables
        for block in range(tables.max_depth):
            op = genome.operation[block]
            is_pool = (op == MAX_POOL) | (op == AVG_POOL)
            lengths = jnp.where(is_pool, lengths // 2, lengths)
            widens = op == CONV
            pooled_units = channels  # A sequence pool's vector has the map's channels.
            if tables.attention:
                widens = widens | (op == SELF_ATTENTION) | (op == PATCH_EMBEDDING)
                patch = genome_lib.choice(tables.patch_sizes, genome.kernel_size[block])
                lengths = jnp.where(op == PATCH_EMBEDDING, lengths // patch, lengths)
            channels = jnp.where(
                widens, genome_lib.conv_width(tables, genome.width[block]), channels
            )
            units = jnp.where(
                op == DENSE, genome_lib.dense_width(tables, genome.width[block]), units
            )
            is_vector = is_vector | (op == DENSE)
            if tables.attention:
                units = jnp.where(op == SEQUENCE_POOL, pooled_units, units)
                is_vector = is_vector | (op == SEQUENCE_POOL)
            states.append((lengths, channels, is_vector, units))
        stacked = [jnp.stack(values) for values in zip(*states, strict=True)]
        return dict(zip(("lengths", "channels", "is_vector", "units"), stacked, strict=True))

    # ------------------------------------------------------------- validity
    def validity_flags(self, genome: PathwayGenome) -> dict[str, jnp.ndarray]:
        """Boolean arrays that are all True exactly when ``genome`` is valid.

        Jit-able. Keys name the rule; block rules have shape ``[max_depth]``.
        """
        cards = self.tables.gene_cardinalities(self.task)
        flags = {}
        for name, cardinality in cards.items():
            value = getattr(genome, name)
            flags[f"range:{name}"] = (value >= 0) & (value < cardinality)
        low, high = self.tables.log10_learning_rate_range
        lr = genome.log10_learning_rate
        flags["range:log10_learning_rate"] = jnp.isfinite(lr) & (lr >= low) & (lr <= high)
        shapes = self.block_shapes(genome)
        op = genome.operation
        if self.tables.attention:
            reads_map = jnp.isin(op, jnp.asarray(MAP_OPERATIONS))
        else:  # The program spaces without attention always had.
            reads_map = (op == CONV) | (op == MAX_POOL) | (op == AVG_POOL)
        flags["spatial_after_vector"] = ~(reads_map & shapes["is_vector"][:-1])
        is_pool = (op == MAX_POOL) | (op == AVG_POOL)
        if self.spatial_shape:
            too_small = jnp.any(shapes["lengths"][:-1] < 2, axis=-1)
        else:
            too_small = jnp.zeros_like(is_pool)
        flags["pool_too_small"] = ~(is_pool & too_small)
        if self.tables.attention:
            tables = self.tables
            heads = genome_lib.choice(tables.attention_heads, genome.kernel_size)
            width = genome_lib.conv_width(tables, genome.width)
            flags["heads_divide_width"] = ~((op == SELF_ATTENTION) & (width % heads != 0))
            patch = genome_lib.choice(tables.patch_sizes, genome.kernel_size)
            if self.spatial_shape:
                short = jnp.any(shapes["lengths"][:-1] < patch[:, None], axis=-1)
            else:
                short = jnp.zeros_like(is_pool)
            flags["patch_too_large"] = ~((op == PATCH_EMBEDDING) & short)
        if self.input_groups:
            mask = genome.input_mask
            flags["range:input_mask"] = (mask == 0) | (mask == 1)
            flags["reads_an_input"] = jnp.any(mask == 1)
        return flags

    def is_valid(self, genome: PathwayGenome) -> jnp.ndarray:
        """Scalar bool: every validity rule holds. Jit- and vmap-able."""
        return jnp.all(jnp.stack([jnp.all(f) for f in self.validity_flags(genome).values()]))

    def validate(self, genome: PathwayGenome) -> list[str]:
        """The reasons ``genome`` is invalid, one readable sentence each (empty if valid)."""
        flags = jax.device_get(self.validity_flags(genome))
        reasons = []
        for name, ok in flags.items():
            ok = np.asarray(ok)
            if ok.all():
                continue
            where = ""
            per_block = name not in ("range:" + n for n in (*TRAINING_GENES, "input_mask"))
            if ok.ndim == 1 and per_block:
                where = " in block(s) " + ",".join(str(i) for i in np.flatnonzero(~ok))
            if name.startswith("range:"):
                gene = name.split(":", 1)[1]
                value = np.asarray(getattr(genome, gene)).tolist()
                reasons.append(f"gene {gene} is out of range{where}: {value}")
            elif name == "spatial_after_vector":
                reasons.append(
                    f"convolution, pooling or attention applied to a vector{where}"
                    " (spatial blocks must come before dense blocks; vector inputs allow only dense)"
                )
            elif name == "pool_too_small":
                reasons.append(f"pooling would shrink a spatial dimension below 1{where}")
            elif name == "heads_divide_width":
                reasons.append(f"attention width is not a multiple of its heads{where}")
            elif name == "patch_too_large":
                reasons.append(f"patch is larger than the map it embeds{where}")
            elif name == "reads_an_input":
                reasons.append("the input mask chooses no input column")
        return reasons

    # -------------------------------------------------------------- sampling
    def _random_block_genes(self, key, operation) -> dict[str, jnp.ndarray]:
        cards = self.tables.gene_cardinalities(self.task)
        keys = jax.random.split(key, len(BLOCK_GENES))
        genes = {
            name: jax.random.randint(k, (), 0, cards[name])
            for name, k in zip(BLOCK_GENES, keys, strict=True)
        }
        genes["operation"] = jnp.asarray(operation, jnp.int32)
        return genes

    def _random_training_genes(self, key) -> dict[str, jnp.ndarray]:
        cards = self.tables.gene_cardinalities(self.task)
        keys = jax.random.split(key, len(TRAINING_GENES))
        genes = {}
        for name, k in zip(TRAINING_GENES, keys, strict=True):
            if name == "log10_learning_rate":
                low, high = self.tables.log10_learning_rate_range
                genes[name] = jax.random.uniform(k, (), jnp.float32, low, high)
            else:
                genes[name] = jax.random.randint(k, (), 0, cards[name])
        return genes

    def _random_operation(self, key, spatial: bool):
        if self.input_kind == "vector" or not spatial:
            return jnp.int32(DENSE)
        # Convolutions are drawn more often than the two kinds of pooling.
        operations, weights = [CONV, MAX_POOL, AVG_POOL], [0.6, 0.2, 0.2]
        if self.tables.attention:  # Half the draws are attention blocks.
            operations += [SELF_ATTENTION, TRANSFORMER_MLP, POSITION_EMBEDDING, PATCH_EMBEDDING]
            weights = [0.3, 0.1, 0.1, 0.2, 0.15, 0.05, 0.1]
        logits = jnp.log(jnp.asarray(weights))
        return jnp.asarray(operations, jnp.int32)[jax.random.categorical(key, logits)]

    def _propose_random(self, key) -> PathwayGenome:
        depth = self.tables.max_depth
        key_spatial, key_dense, key_ops, key_blocks, key_train = jax.random.split(key, 5)
        max_spatial = 0 if self.input_kind == "vector" else depth
        num_spatial = jax.random.randint(key_spatial, (), 0, max_spatial + 1)
        num_dense = jax.random.randint(key_dense, (), 0, depth - num_spatial + 1)
        slots = jnp.arange(depth)
        op_keys = jax.random.split(key_ops, depth)
        spatial_ops = jax.vmap(lambda k: self._random_operation(k, True))(op_keys)
        ops = jnp.where(
            slots < num_spatial,
            spatial_ops,
            jnp.where(slots < num_spatial + num_dense, DENSE, IDENTITY),
        )
        if self.tables.attention and self.input_kind != "vector":
            # Half the pathways with spatial blocks pool the map to a vector
            # (mean or first position) before their dense blocks.
            pool = jax.random.bernoulli(jax.random.fold_in(key, 2), 0.5)
            pool = pool & (num_spatial > 0) & (num_spatial < depth)
            ops = jnp.where(pool & (slots == num_spatial), SEQUENCE_POOL, ops)
        blocks = jax.vmap(self._random_block_genes)(jax.random.split(key_blocks, depth), ops)
        return PathwayGenome(
            **blocks,
            **self._random_training_genes(key_train),
            input_mask=self._random_input_mask(jax.random.fold_in(key, 1)),
        )

    def linear_model(self, key) -> PathwayGenome:
        """A depth-0 genome (the read-out alone) with random training genes."""
        depth = self.tables.max_depth
        blocks = {name: jnp.zeros((depth,), jnp.int32) for name in BLOCK_GENES}
        mask = jnp.ones((self.num_input_groups,), jnp.int32) if self.input_groups else None
        return PathwayGenome(**blocks, **self._random_training_genes(key), input_mask=mask)

    def sample(self, key) -> PathwayGenome:
        """A random valid genome: spatial blocks, then dense blocks, then empty slots."""
        key_proposals, key_fallback = jax.random.split(key)
        proposals = jax.vmap(self._propose_random)(jax.random.split(key_proposals, NUM_PROPOSALS))
        return self._first_valid(proposals, self.linear_model(key_fallback))

    def _first_valid(self, proposals: PathwayGenome, fallback: PathwayGenome, ok=None):
        valid = jax.vmap(self.is_valid)(proposals)
        if ok is not None:
            valid = valid & ok
        index = jnp.argmax(valid)
        chosen = jax.tree_util.tree_map(lambda leaf: leaf[index], proposals)
        return jax.tree_util.tree_map(lambda a, b: jnp.where(valid[index], a, b), chosen, fallback)

    # -------------------------------------------------------------- mutation
    def describe(self, genome: PathwayGenome) -> str:
        """One readable line, e.g. ``conv1d(k5,32)+gelu → dense(10) | adam lr=3.0e-03 ...``."""
        from pathways_jax.spaces.pathway.description import describe

        return describe(self, genome)

    @staticmethod
    def residual_is_active(shapes, genome: PathwayGenome, block: int, attention: bool = False):
        """A residual gene acts only where a block keeps the shape of its input
        (and, in a space with ``attention`` blocks, not on a position embedding)."""
        same_shape = (
            jnp.all(shapes["lengths"][block] == shapes["lengths"][block + 1])
            & (shapes["channels"][block] == shapes["channels"][block + 1])
            & (shapes["is_vector"][block] == shapes["is_vector"][block + 1])
            & (shapes["units"][block] == shapes["units"][block + 1])
        )
        op = genome.operation[block]
        acts = (genome.residual[block] == 1) & (op != IDENTITY) & same_shape
        if attention:  # A position embedding adds to its input already.
            acts = acts & (op != POSITION_EMBEDDING)
        return acts

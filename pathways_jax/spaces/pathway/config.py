"""The pathway space's config section: its checks and its gene tables.

``config.space`` of a pathway search holds the gene tables
(:class:`~pathways_jax.spaces.pathway.genome.GeneTables`) and the mutation weights; the
``pathway`` space factory (:mod:`pathways_jax.builtin`) checks them here and
builds the tables once.
"""

from __future__ import annotations

import ml_collections

from pathways_jax.config import _positive_ints, _require, default_config
from pathways_jax.spaces.pathway.genome import GeneTables


def check_pathway_space(space: ml_collections.ConfigDict) -> None:
    """Raise :class:`ConfigError` naming the first unusable key of a pathway
    space's ``config.space``."""
    _require(
        isinstance(space.max_depth, int) and 1 <= space.max_depth <= 16,
        "space.max_depth",
        space.max_depth,
        "an integer in [1, 16]",
    )
    for key in ("conv_widths", "dense_widths", "batch_sizes"):
        _require(
            _positive_ints(space[key]),
            f"space.{key}",
            space[key],
            "a non-empty tuple of positive integers",
        )
    kernels = space.kernel_sizes
    _require(
        _positive_ints(kernels) and all(k % 2 == 1 for k in kernels),
        "space.kernel_sizes",
        kernels,
        "a non-empty tuple of odd positive integers",
    )
    _require(
        len(space.dropout_rates) > 0 and all(0 <= r < 1 for r in space.dropout_rates),
        "space.dropout_rates",
        space.dropout_rates,
        "a non-empty tuple of rates in [0, 1)",
    )
    for key in ("weight_decays", "l1_penalties"):
        _require(
            len(space[key]) > 0 and all(v >= 0 for v in space[key]),
            f"space.{key}",
            space[key],
            "a non-empty tuple of numbers >= 0",
        )
    heads = tuple(space.attention_heads)
    _require(
        heads == () or _positive_ints(heads),
        "space.attention_heads",
        heads,
        "() (no attention blocks) or a tuple of positive integers",
    )
    for key in ("mlp_ratios", "patch_sizes"):
        _require(
            _positive_ints(space[key]),
            f"space.{key}",
            space[key],
            "a non-empty tuple of positive integers",
        )
    if heads:
        _require(
            any(width % h == 0 for width in space.conv_widths for h in heads),
            "space.attention_heads",
            heads,
            f"a head count that divides one of space.conv_widths={tuple(space.conv_widths)}",
        )
    _require(
        isinstance(space.causal_attention, bool),
        "space.causal_attention",
        space.causal_attention,
        "True or False",
    )
    low, high = space.log10_learning_rate_min, space.log10_learning_rate_max
    _require(
        -10 <= low <= high <= 1,
        "space.log10_learning_rate_min",
        low,
        f"-10 <= min <= max={high} <= 1",
    )
    weights = tuple(space.mutation_weights)
    _require(
        len(weights) == 5 and min(weights) >= 0 and sum(weights) > 0,
        "space.mutation_weights",
        weights,
        "5 weights >= 0 (block gene, training gene, insert, remove, swap), not all 0",
    )
    _require(
        not set(space) - set(default_config().space),
        "space",
        sorted(set(space) - set(default_config().space)),
        "only the pathway space's keys (see pathways_jax/config.py)",
    )


def gene_tables(space: ml_collections.ConfigDict) -> GeneTables:
    """The :class:`GeneTables` of a pathway space's ``config.space``."""
    if "space" in space:  # A whole config.
        space = space.space
    return GeneTables(
        max_depth=int(space.max_depth),
        conv_widths=tuple(int(v) for v in space.conv_widths),
        dense_widths=tuple(int(v) for v in space.dense_widths),
        kernel_sizes=tuple(int(v) for v in space.kernel_sizes),
        dropout_rates=tuple(float(v) for v in space.dropout_rates),
        batch_sizes=tuple(int(v) for v in space.batch_sizes),
        weight_decays=tuple(float(v) for v in space.weight_decays),
        l1_penalties=tuple(float(v) for v in space.l1_penalties),
        log10_learning_rate_range=(
            float(space.log10_learning_rate_min),
            float(space.log10_learning_rate_max),
        ),
        attention_heads=tuple(int(v) for v in space.attention_heads),
        mlp_ratios=tuple(int(v) for v in space.mlp_ratios),
        patch_sizes=tuple(int(v) for v in space.patch_sizes),
        causal_attention=bool(space.causal_attention),
    )

"""Populations of any space: a genome is a pytree of fixed-shape arrays, a
population the same pytree with a leading axis ``[n]``."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def index_population(population, index):
    """Member ``index`` of a population (a sub-population for an index array)."""
    return jax.tree_util.tree_map(lambda leaf: leaf[index], population)


def stack_genomes(genomes: list):
    """A population ``[len(genomes)]`` from single genomes."""
    return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *genomes)


def population_size(population) -> int:
    """Number of members (the leading axis) of a population."""
    return int(jax.tree_util.tree_leaves(population)[0].shape[0])


def where_members(mask, chosen, other):
    """Members of ``chosen`` where ``mask [n]`` is True, else of ``other``."""
    return jax.tree_util.tree_map(
        lambda a, b: jnp.where(mask.reshape(-1, *[1] * (max(a.ndim, b.ndim) - 1)), a, b),
        chosen,
        other,
    )


def broadcast_member(genome, size: int):
    """A population ``[size]`` of copies of one genome."""
    return jax.tree_util.tree_map(lambda leaf: jnp.broadcast_to(leaf, (size, *leaf.shape)), genome)

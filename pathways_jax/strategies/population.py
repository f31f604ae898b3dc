"""The population state every strategy keeps, and the operations they share.

A population is a fixed-size pytree of genomes with one fitness (or a row of
objectives) and one birth id per member. Empty slots have birth ``-1`` and
fitness ``-inf``. Strategies differ only in how they pick parents and which
members survive; both are written here as pure functions of the state.
"""

from __future__ import annotations

import functools

import flax.struct
import jax
import jax.numpy as jnp

from pathways_jax.core.protocols import Genome, SearchSpace

EMPTY = -1
UNREAL = -2  # Birth of a padded child slot that was not evaluated.

STRATEGY_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}


def strategy_jit(method=None, *, static_argnums=0):
    """``jax.jit`` for a strategy's ``init``, ``ask`` and ``tell`` (argument 0,
    the strategy, is static).

    These programs are thousands of small integer operations on genomes (every
    random draw of sampling, mutation and crossover is a threefry hash unrolled
    into the program) that run once a round, so a top-level call compiles them
    without LLVM's optimisation passes (:data:`STRATEGY_COMPILER_OPTIONS`), in
    less than half the time (``docs/architecture.md``, "Compilations"), with
    the same results and a few milliseconds more per round. Called inside another
    transformation (the size repair vmaps ``ask``), it is an ordinary nested
    ``jax.jit``, since only a top-level jit takes compiler options.
    """
    if method is None:
        return functools.partial(strategy_jit, static_argnums=static_argnums)
    top_level = jax.jit(
        method, static_argnums=static_argnums, compiler_options=STRATEGY_COMPILER_OPTIONS
    )
    nested = jax.jit(method, static_argnums=static_argnums)

    @functools.wraps(method)
    def call(*args, **kwargs):
        traced = any(
            isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves((args, kwargs))
        )
        return (nested if traced else top_level)(*args, **kwargs)

    return call


@flax.struct.dataclass
class PopulationState:
    """Everything that changes during a search.

    Attributes:
      population: genomes with leading axis ``[population_size]``.
      fitness: ``[population_size]`` float32 (higher is better); ``-inf`` for
        empty slots. For multi-objective strategies, the first objective.
      objectives: ``[population_size, num_objectives]`` float32, every
        objective oriented so that higher is better (one column for
        single-objective strategies, equal to ``fitness``).
      birth: ``[population_size]`` int32, the id of each member (ids count
        evaluated candidates from 0, so a smaller id is an older member);
        ``-1`` for empty slots.
      key: PRNG key of the strategy.
      num_evaluated: int32, candidates told so far (the next id).
      num_rounds: int32, rounds told so far.
    """

    population: Genome
    fitness: jnp.ndarray
    objectives: jnp.ndarray
    birth: jnp.ndarray
    key: jnp.ndarray
    num_evaluated: jnp.ndarray
    num_rounds: jnp.ndarray


def init_population(
    space: SearchSpace, population_size: int, key, num_objectives: int = 1
) -> PopulationState:
    """An empty population (every slot ``EMPTY``); its genomes are only a
    template of the shapes (the space's fallback, else a sample)."""
    template = space.fallback(key) if hasattr(space, "fallback") else space.sample(key)
    population = jax.tree_util.tree_map(
        lambda leaf: jnp.broadcast_to(leaf, (population_size, *leaf.shape)), template
    )
    return PopulationState(
        population=population,
        fitness=jnp.full((population_size,), -jnp.inf, jnp.float32),
        objectives=jnp.full((population_size, num_objectives), -jnp.inf, jnp.float32),
        birth=jnp.full((population_size,), EMPTY, jnp.int32),
        key=key,
        num_evaluated=jnp.zeros((), jnp.int32),
        num_rounds=jnp.zeros((), jnp.int32),
    )


def is_full(state: PopulationState) -> jnp.ndarray:
    """Scalar bool: no slot is empty (breeding starts then)."""
    return jnp.all(state.birth != EMPTY)


def member(state: PopulationState, index) -> Genome:
    return jax.tree_util.tree_map(lambda leaf: leaf[index], state.population)


def tournament_winner(
    key, fitness: jnp.ndarray, sample_size: int, with_replacement: bool = False
) -> jnp.ndarray:
    """Index of the fittest of ``sample_size`` members drawn without
    replacement (or with it, as AutoML-Zero: no permutation of the population
    per tournament, which dominates ``ask`` for large populations)."""
    if with_replacement:
        contestants = jax.random.randint(key, (sample_size,), 0, fitness.shape[0])
        return contestants[jnp.argmax(fitness[contestants])]
    contestants = jax.random.choice(key, fitness.shape[0], (sample_size,), replace=False)
    return contestants[jnp.argmax(fitness[contestants])]


def breed(
    space: SearchSpace,
    key,
    state: PopulationState,
    first: jnp.ndarray,
    second: jnp.ndarray,
    crossover_probability: float,
    crossover_kind: str,
):
    """A child of member ``first`` (crossed with ``second`` with probability
    ``crossover_probability``), then mutated.

    Returns:
      ``(child, parent_ids [2])`` with ``-1`` for no second parent.
    """
    key_cross, key_coin, key_mutate = jax.random.split(key, 3)
    if crossover_probability:
        crossed = space.crossover(
            key_cross, member(state, first), member(state, second), crossover_kind
        )
        use_crossover = jax.random.bernoulli(key_coin, crossover_probability)
        parent = jax.tree_util.tree_map(
            lambda a, b: jnp.where(use_crossover, a, b), crossed, member(state, first)
        )
    else:  # No crossover (what the coin would always say): the first parent.
        use_crossover = jnp.asarray(False)
        parent = member(state, first)
    child = space.mutate(key_mutate, parent)
    parents = jnp.stack([state.birth[first], jnp.where(use_crossover, state.birth[second], EMPTY)])
    return child, parents


def random_round(space: SearchSpace, key, round_size: int):
    """``round_size`` random genomes and their (absent) parents ``[round_size, 2]``."""
    children = jax.vmap(space.sample)(jax.random.split(key, round_size))
    return children, jnp.full((round_size, 2), EMPTY, jnp.int32)


def merged_candidates(state: PopulationState, children: Genome, values, num_real, admitted=None):
    """The population followed by the round's children, as flat arrays.

    Args:
      values: ``[round_size]`` fitness or ``[round_size, k]`` objectives.
      num_real: children ``0 .. num_real-1`` were evaluated; the rest are padding.
      admitted: optional bool ``[round_size]``; a child where it is False was
        evaluated (it keeps its id) but may not join the population, like
        padding (a child stopped at a multi-fidelity hurdle).

    Returns:
      ``(genomes [P+R], births [P+R], objectives [P+R, k])``; padded and
      unadmitted children have birth ``UNREAL`` and objectives ``-inf``.
    """
    round_size = values.shape[0]
    objectives = values.reshape(round_size, -1).astype(jnp.float32)
    real = jnp.arange(round_size) < num_real
    if admitted is not None:
        real = real & jnp.asarray(admitted, bool)
    child_birth = jnp.where(real, state.num_evaluated + jnp.arange(round_size), UNREAL)
    child_objectives = jnp.where(real[:, None], objectives, -jnp.inf)
    genomes = jax.tree_util.tree_map(
        lambda old, new: jnp.concatenate([old, new]), state.population, children
    )
    births = jnp.concatenate([state.birth, child_birth.astype(jnp.int32)])
    all_objectives = jnp.concatenate([state.objectives, child_objectives])
    return genomes, births, all_objectives


def survivors(state, genomes, births, objectives, keep, num_real) -> PopulationState:
    """The state whose members are entries ``keep [P]`` of the merged arrays."""
    return state.replace(
        population=jax.tree_util.tree_map(lambda leaf: leaf[keep], genomes),
        fitness=objectives[keep, 0],
        objectives=objectives[keep],
        birth=births[keep],
        num_evaluated=state.num_evaluated + num_real,
        num_rounds=state.num_rounds + 1,
    )


def fittest_first(births: jnp.ndarray, fitness: jnp.ndarray) -> jnp.ndarray:
    """Indices ordered by fitness (newer first among equals), members before
    empty slots before unevaluated padding; non-finite fitness ranks last among
    members."""
    category = jnp.where(births == UNREAL, 2, jnp.where(births == EMPTY, 1, 0))
    finite = jnp.where(jnp.isfinite(fitness), fitness, -jnp.inf)
    # lexsort's last key is the primary one.
    return jnp.lexsort((-births, -finite, category))


def oldest_die(births: jnp.ndarray) -> jnp.ndarray:
    """Indices ordered youngest first; empty and unevaluated slots last."""
    return jnp.argsort(-births, stable=True)


def bred_or_random(space: SearchSpace, key, state: PopulationState, round_size: int, child_fn):
    """A round of children: random genomes until the population is full, then
    ``child_fn(key) -> (child, parent_ids [2])`` vmapped over ``round_size`` keys.

    Returns:
      ``(children [round_size], parent_ids [round_size, 2])``.
    """
    random_children, no_parents = random_round(space, key, round_size)
    bred, parents = jax.vmap(child_fn)(jax.random.split(key, round_size))
    filled = is_full(state)
    children = jax.tree_util.tree_map(lambda a, b: jnp.where(filled, a, b), bred, random_children)
    return children, jnp.where(filled, parents, no_parents)

"""Regularized (aging) evolution, Real et al. 2019, batched by rounds.

The population is a queue of ``population_size`` members. Each round asks for
``round_size`` children: each child's parent is the fittest of
``sample_size`` members drawn uniformly without replacement, and the child is
a mutation of it (optionally a crossover with the winner of a second
tournament first). Telling the children appends them to the queue and the
oldest members die, whatever their fitness. Until the population is full, ask
returns random genomes.

The strategy object holds only static settings; all mutable state is a
:class:`RegularizedEvolutionState` pytree, so ``ask`` and ``tell`` are pure,
jit-able functions and the state can be checkpointed as data.
"""

from __future__ import annotations

import dataclasses
import functools

import flax.struct
import jax
import jax.numpy as jnp

from pathways_jax.genome import PathwayGenome
from pathways_jax.spaces.pathway import PathwaySpace

EMPTY = -1


@flax.struct.dataclass
class RegularizedEvolutionState:
    """Everything that changes during a search.

    Attributes:
      population: genomes with leading axis ``[population_size]``.
      fitness: ``[population_size]`` float32; ``-inf`` for empty slots.
      birth: ``[population_size]`` int32, the id of each member (ids count
        evaluated candidates from 0, so a smaller id is an older member);
        ``-1`` for empty slots.
      key: PRNG key of the strategy.
      num_evaluated: int32, candidates told so far (the next id).
      num_rounds: int32, rounds told so far.
    """

    population: PathwayGenome
    fitness: jnp.ndarray
    birth: jnp.ndarray
    key: jnp.ndarray
    num_evaluated: jnp.ndarray
    num_rounds: jnp.ndarray


@dataclasses.dataclass(frozen=True)
class RegularizedEvolution:
    """Static settings of aging evolution.

    Attributes:
      space: the search space (provides ``sample``, ``mutate``, ``crossover``).
      population_size: P, members alive at once.
      sample_size: S, tournament size.
      round_size: children asked for per round (the training slots).
      crossover_probability: chance a child is a crossover of two tournament
        winners before it is mutated.
      aging: True kills the oldest member (regularized evolution); False kills
        the least fit (non-aging tournament selection).
    """

    space: PathwaySpace
    population_size: int
    sample_size: int
    round_size: int
    crossover_probability: float = 0.0
    aging: bool = True

    def __post_init__(self):
        if self.population_size < 2:
            raise ValueError(f"population_size must be at least 2, got {self.population_size}")
        if not 1 <= self.sample_size <= self.population_size:
            raise ValueError(
                f"sample_size must be between 1 and population_size={self.population_size},"
                f" got {self.sample_size}"
            )
        if self.round_size < 1:
            raise ValueError(f"round_size must be at least 1, got {self.round_size}")
        if not 0.0 <= self.crossover_probability <= 1.0:
            raise ValueError(
                f"crossover_probability must be in [0, 1], got {self.crossover_probability}"
            )

    @functools.partial(jax.jit, static_argnums=0)
    def init(self, key) -> RegularizedEvolutionState:
        """An empty population (filled by the first rounds' random genomes)."""
        template = self.space.linear_model(key)
        population = jax.tree_util.tree_map(
            lambda leaf: jnp.broadcast_to(leaf, (self.population_size, *leaf.shape)), template
        )
        return RegularizedEvolutionState(
            population=population,
            fitness=jnp.full((self.population_size,), -jnp.inf, jnp.float32),
            birth=jnp.full((self.population_size,), EMPTY, jnp.int32),
            key=key,
            num_evaluated=jnp.zeros((), jnp.int32),
            num_rounds=jnp.zeros((), jnp.int32),
        )

    def _tournament(self, key, state: RegularizedEvolutionState) -> jnp.ndarray:
        contestants = jax.random.choice(
            key, self.population_size, (self.sample_size,), replace=False
        )
        return contestants[jnp.argmax(state.fitness[contestants])]

    def _child(self, key, state: RegularizedEvolutionState):
        key_first, key_second, key_cross, key_coin, key_mutate = jax.random.split(key, 5)
        first = self._tournament(key_first, state)
        second = self._tournament(key_second, state)
        pick = lambda index: jax.tree_util.tree_map(lambda leaf: leaf[index], state.population)
        crossed = self.space.crossover(key_cross, pick(first), pick(second))
        use_crossover = jax.random.bernoulli(key_coin, self.crossover_probability)
        parent = jax.tree_util.tree_map(
            lambda a, b: jnp.where(use_crossover, a, b), crossed, pick(first)
        )
        child = self.space.mutate(key_mutate, parent)
        parents = jnp.stack(
            [state.birth[first], jnp.where(use_crossover, state.birth[second], EMPTY)]
        )
        return child, parents

    @functools.partial(jax.jit, static_argnums=0)
    def ask(self, key, state: RegularizedEvolutionState):
        """Children for one round.

        Returns:
          ``(children, parent_ids)``: genomes with leading axis ``[round_size]``
          and int32 ``[round_size, 2]`` ids of the parents (``-1`` for none;
          random genomes have none).
        """
        keys = jax.random.split(key, self.round_size)
        random_children = jax.vmap(self.space.sample)(keys)
        bred_children, parents = jax.vmap(self._child, in_axes=(0, None))(keys, state)
        filled = jnp.all(state.birth != EMPTY)
        children = jax.tree_util.tree_map(
            lambda bred, rand: jnp.where(filled, bred, rand), bred_children, random_children
        )
        parents = jnp.where(filled, parents, EMPTY)
        return children, parents

    @functools.partial(jax.jit, static_argnums=0)
    def tell(
        self, state: RegularizedEvolutionState, children: PathwayGenome, fitness, num_real
    ) -> RegularizedEvolutionState:
        """Add the first ``num_real`` children (ids ``num_evaluated + i``) with
        their ``fitness [round_size]``; the oldest members (or, without aging,
        the least fit) make room."""
        index = jnp.arange(self.round_size)
        real = index < num_real
        child_birth = jnp.where(real, state.num_evaluated + index, -2).astype(jnp.int32)
        child_fitness = jnp.where(real, fitness.astype(jnp.float32), -jnp.inf)
        births = jnp.concatenate([state.birth, child_birth])
        fitnesses = jnp.concatenate([state.fitness, child_fitness])
        if self.aging:
            priority = births.astype(jnp.float32)
        else:
            # Keep the fittest; empty and unreal slots last, ties to the newer.
            priority = jnp.where(births >= 0, fitnesses, -jnp.inf)
            priority = jnp.where(births == EMPTY, -1e30, jnp.where(births == -2, -2e30, priority))
            priority = jnp.nan_to_num(priority, neginf=-1e29) + births.astype(jnp.float32) * 1e-9
        keep = jnp.argsort(-priority, stable=True)[: self.population_size]
        merged = jax.tree_util.tree_map(
            lambda old, new: jnp.concatenate([old, new]), state.population, children
        )
        return state.replace(
            population=jax.tree_util.tree_map(lambda leaf: leaf[keep], merged),
            fitness=fitnesses[keep],
            birth=births[keep],
            num_evaluated=state.num_evaluated + num_real,
            num_rounds=state.num_rounds + 1,
        )

"""Binary tournaments (PathNet, Fernando et al. 2017): the loser of each pair
is overwritten by a mutated copy of the winner.

Every round asks for ``K = round_size / 2`` disjoint pairs of population
members drawn uniformly; the children are the members themselves, evaluated
again (with shared weights a member's fitness changes as the weights train).
Telling the fitness compares each pair (the first wins ties) and writes a
mutation of the winner into the loser's slot. The population starts as
``population_size`` random genomes, all of them eligible from the first round.

A member's ``birth`` is the id of the history record it descends from: its
own last evaluation, or, for a mutated copy, the winner's evaluation; so a
record's parent is the record whose genome it continues. ``ask`` and ``tell`` both derive the
round's pairs from the state (its key and round count), so ``tell`` knows the
slots ``ask`` drew without the state carrying them; the key the loop passes
to ``ask`` is not needed.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from pathways_jax.core.protocols import Genome, SearchSpace
from pathways_jax.strategies import population as population_lib
from pathways_jax.strategies.population import EMPTY, PopulationState


@dataclasses.dataclass(frozen=True)
class BinaryTournament:
    """Static settings of binary tournaments.

    Attributes:
      space: the search space.
      population_size: P members (64 in the paper).
      round_size: members evaluated per round, two per tournament.
      evolve: False keeps the population as it is (no overwriting), for
        controls that train one fixed pathway.
    """

    space: SearchSpace
    population_size: int
    round_size: int
    evolve: bool = True

    objective_names = ("fitness",)

    def __post_init__(self):
        if self.round_size < 2 or self.round_size % 2:
            raise ValueError(
                f"round_size must be an even number >= 2 (two members per tournament), "
                f"got {self.round_size}"
            )
        if self.round_size > self.population_size:
            raise ValueError(
                f"round_size={self.round_size} is more than population_size="
                f"{self.population_size} (tournament pairs are disjoint)"
            )

    @property
    def num_tournaments(self) -> int:
        return self.round_size // 2

    @population_lib.strategy_jit
    def init(self, key) -> PopulationState:
        """``population_size`` random members, none evaluated yet."""
        population_key, key = jax.random.split(key)
        state = population_lib.init_population(self.space, self.population_size, key)
        members = jax.vmap(self.space.sample)(
            jax.random.split(population_key, self.population_size)
        )
        return state.replace(population=members)

    def _round_keys(self, state: PopulationState):
        base = jax.random.fold_in(state.key, state.num_rounds)
        return jax.random.split(base)  # (pairs, mutations)

    def slots(self, state: PopulationState) -> jnp.ndarray:
        """The population slots ``[2K]`` of this round's pairs."""
        pairs_key, _ = self._round_keys(state)
        return jax.random.permutation(pairs_key, self.population_size)[: self.round_size]

    @population_lib.strategy_jit
    def ask(self, key, state: PopulationState):
        """The members of ``K`` disjoint pairs: ``(children [2K], parent_ids [2K, 2])``
        (pair ``k`` is children ``2k`` and ``2k + 1``)."""
        del key
        slots = self.slots(state)
        children = population_lib.member(state, slots)
        parents = jnp.stack([state.birth[slots], jnp.full((self.round_size,), EMPTY)], axis=1)
        return children, parents.astype(jnp.int32)

    @population_lib.strategy_jit
    def tell(
        self, state: PopulationState, children: Genome, fitness, num_real, admitted=None
    ) -> PopulationState:
        """Each pair's loser slot gets a mutation of its winner."""
        del admitted
        _, mutate_key = self._round_keys(state)
        slots = self.slots(state)
        ids = state.num_evaluated + jnp.arange(self.round_size, dtype=jnp.int32)
        fitness = jnp.asarray(fitness, jnp.float32).reshape(self.num_tournaments, 2)
        first_wins = fitness[:, 0] >= fitness[:, 1]
        pair = jnp.arange(self.num_tournaments) * 2
        winner = jnp.where(first_wins, pair, pair + 1)  # Positions among the children.
        loser = jnp.where(first_wins, pair + 1, pair)
        birth = state.birth.at[slots].set(ids)
        values = state.fitness.at[slots].set(fitness.reshape(-1))
        population = state.population
        if self.evolve:
            winners = jax.tree_util.tree_map(lambda leaf: leaf[winner], children)
            mutated = jax.vmap(self.space.mutate)(
                jax.random.split(mutate_key, self.num_tournaments), winners
            )
            population = jax.tree_util.tree_map(
                lambda leaf, new: leaf.at[slots[loser]].set(new), population, mutated
            )
            birth = birth.at[slots[loser]].set(ids[winner])
            values = values.at[slots[loser]].set(-jnp.inf)
        return state.replace(
            population=population,
            fitness=values,
            objectives=values[:, None],
            birth=birth,
            num_evaluated=state.num_evaluated + num_real,
            num_rounds=state.num_rounds + 1,
        )

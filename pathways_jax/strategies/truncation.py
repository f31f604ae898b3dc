"""(μ+λ) truncation selection and random search.

Truncation: the population holds the μ = ``population_size`` fittest
candidates seen so far; each child is a mutation of a member drawn uniformly
(optionally crossed with a second one); parents and children compete and the
μ fittest survive.

Random search: every child is a fresh random genome; the population only
keeps the fittest seen so far, for reporting. It is the baseline every paper
reports.
"""

from __future__ import annotations

import dataclasses

import jax

from pathways_jax.core.protocols import Genome, SearchSpace
from pathways_jax.strategies import population as population_lib
from pathways_jax.strategies.population import PopulationState
from pathways_jax.strategies.regularized import check_settings


def _keep_fittest(state, children, fitness, num_real, population_size, admitted) -> PopulationState:
    genomes, births, objectives = population_lib.merged_candidates(
        state, children, fitness, num_real, admitted
    )
    keep = population_lib.fittest_first(births, objectives[:, 0])[:population_size]
    return population_lib.survivors(state, genomes, births, objectives, keep, num_real)


@dataclasses.dataclass(frozen=True)
class TruncationSelection:
    """Static settings of (μ+λ) truncation selection (μ = ``population_size``,
    λ = ``round_size``)."""

    space: SearchSpace
    population_size: int
    round_size: int
    crossover_probability: float = 0.0
    crossover_kind: str = "block"

    objective_names = ("fitness",)

    def __post_init__(self):
        check_settings(
            self.population_size,
            self.round_size,
            self.crossover_probability,
            self.crossover_kind,
            self.space.crossover_kinds,
        )

    @population_lib.strategy_jit
    def init(self, key) -> PopulationState:
        return population_lib.init_population(self.space, self.population_size, key)

    def _child(self, key, state: PopulationState):
        key_first, key_second, key_breed = jax.random.split(key, 3)
        first = jax.random.randint(key_first, (), 0, self.population_size)
        second = jax.random.randint(key_second, (), 0, self.population_size)
        return population_lib.breed(
            self.space,
            key_breed,
            state,
            first,
            second,
            self.crossover_probability,
            self.crossover_kind,
        )

    @population_lib.strategy_jit
    def ask(self, key, state: PopulationState):
        """``(children [round_size], parent_ids [round_size, 2])``."""
        return population_lib.bred_or_random(
            self.space, key, state, self.round_size, lambda k: self._child(k, state)
        )

    @population_lib.strategy_jit
    def tell(self, state, children: Genome, fitness, num_real, admitted=None) -> PopulationState:
        """Parents and children compete; the μ fittest survive (only children
        where ``admitted [round_size]`` is True, when it is given)."""
        return _keep_fittest(state, children, fitness, num_real, self.population_size, admitted)


@dataclasses.dataclass(frozen=True)
class RandomSearch:
    """Random search: every candidate is sampled from the space independently."""

    space: SearchSpace
    population_size: int
    round_size: int

    objective_names = ("fitness",)

    def __post_init__(self):
        check_settings(self.population_size, self.round_size, 0.0)

    @population_lib.strategy_jit
    def init(self, key) -> PopulationState:
        return population_lib.init_population(self.space, self.population_size, key)

    @population_lib.strategy_jit
    def ask(self, key, state: PopulationState):
        """``round_size`` random genomes, without parents."""
        del state
        return population_lib.random_round(self.space, key, self.round_size)

    @population_lib.strategy_jit
    def tell(self, state, children: Genome, fitness, num_real, admitted=None) -> PopulationState:
        """Keep the fittest seen so far (for reporting only)."""
        return _keep_fittest(state, children, fitness, num_real, self.population_size, admitted)

"""Regularized (aging) evolution, Real et al. 2019, batched by rounds; and
the same without aging (non-aging tournament selection).

The population is a queue of ``population_size`` members. Each round asks for
``round_size`` children: each child's parent is the fittest of
``sample_size`` members drawn uniformly without replacement, and the child is
a mutation of it (optionally a crossover with the winner of a second
tournament first). Telling the children adds them and the oldest members die,
whatever their fitness (with ``aging=False``: the least fit die). Until the
population is full, ask returns random genomes.

The strategy object holds only static settings; all mutable state is a
:class:`~pathways_jax.strategies.population.PopulationState` pytree, so
``ask`` and ``tell`` are pure, jit-able functions and the state can be
checkpointed as data.
"""

from __future__ import annotations

import dataclasses

import jax

from pathways_jax.core.protocols import Genome, SearchSpace
from pathways_jax.strategies import population as population_lib
from pathways_jax.strategies.population import PopulationState


def check_settings(
    population_size, round_size, crossover_probability, crossover_kind=None, kinds=()
) -> None:
    """Raise ``ValueError`` naming the first unusable setting of a strategy
    (``kinds``: the crossover kinds of its space; the kind is not used, nor
    checked, when ``crossover_probability`` is 0)."""
    if population_size < 2:
        raise ValueError(f"population_size must be at least 2, got {population_size}")
    if round_size < 1:
        raise ValueError(f"round_size must be at least 1, got {round_size}")
    if not 0.0 <= crossover_probability <= 1.0:
        raise ValueError(f"crossover_probability must be in [0, 1], got {crossover_probability}")
    if crossover_probability and crossover_kind not in kinds:
        raise ValueError(f"crossover_kind must be one of {tuple(kinds)}, got {crossover_kind!r}")


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
      crossover_kind: ``'block'``, ``'uniform'`` or ``'one_point'``.
      aging: True kills the oldest member (regularized evolution); False kills
        the least fit (non-aging tournament selection).
      with_replacement: tournament contestants drawn with replacement (as
        AutoML-Zero does), not without.
    """

    space: SearchSpace
    population_size: int
    sample_size: int
    round_size: int
    crossover_probability: float = 0.0
    crossover_kind: str = "block"
    aging: bool = True
    with_replacement: bool = False

    objective_names = ("fitness",)

    def __post_init__(self):
        check_settings(
            self.population_size,
            self.round_size,
            self.crossover_probability,
            self.crossover_kind,
            self.space.crossover_kinds,
        )
        if not 1 <= self.sample_size <= self.population_size:
            raise ValueError(
                f"sample_size must be between 1 and population_size={self.population_size},"
                f" got {self.sample_size}"
            )

    @population_lib.strategy_jit
    def init(self, key) -> PopulationState:
        """An empty population (filled by the first rounds' random genomes)."""
        return population_lib.init_population(self.space, self.population_size, key)

    def _child(self, key, state: PopulationState):
        key_first, key_second, key_breed = jax.random.split(key, 3)
        fitness, size, replace = state.fitness, self.sample_size, self.with_replacement
        first = population_lib.tournament_winner(key_first, fitness, size, replace)
        second = population_lib.tournament_winner(key_second, fitness, size, replace)
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
        """Children for one round.

        Returns:
          ``(children, parent_ids)``: genomes with leading axis ``[round_size]``
          and int32 ``[round_size, 2]`` ids of the parents (``-1`` for none;
          random genomes have none).
        """
        return population_lib.bred_or_random(
            self.space, key, state, self.round_size, lambda k: self._child(k, state)
        )

    @population_lib.strategy_jit
    def tell(
        self, state: PopulationState, children: Genome, fitness, num_real, admitted=None
    ) -> PopulationState:
        """Add the first ``num_real`` children (ids ``num_evaluated + i``) with
        their ``fitness [round_size]``; the oldest members (or, without aging,
        the least fit) make room. With ``admitted`` (bool ``[round_size]``),
        only the children where it is True join; the others still count as
        evaluated."""
        genomes, births, objectives = population_lib.merged_candidates(
            state, children, fitness, num_real, admitted
        )
        if self.aging:
            order = population_lib.oldest_die(births)
        else:
            order = population_lib.fittest_first(births, objectives[:, 0])
        keep = order[: self.population_size]
        return population_lib.survivors(state, genomes, births, objectives, keep, num_real)

"""Population-based training (Jaderberg et al. 2017).

Every round, each of the ``population_size`` members trains for one interval
(``train.steps``) from the weights it ended the previous interval with; then
the bottom ``truncation_fraction`` of the members (by fitness) **exploit**: each
copies the weights, optimizer state and genes of a member drawn uniformly from
the top ``truncation_fraction``, and **explores**: its learning rate is
multiplied by 0.8 or 1.2 and each of its batch size, weight decay and L1
genes is resampled with ``resample_probability``. The other members continue
unchanged. The architecture of a member never changes, only the training
genes: weights inherited across rounds need the same network.

In the ask/tell protocol a round's children are the members of the next
interval; the parent of child ``i`` is the member whose weights it starts from
(its own previous self, or the donor it copied). The weights themselves are
kept by the evaluator (:mod:`pathways_jax.evaluators.member_weights`), which
finds them by that parent id. ``round_size`` equals ``population_size`` and
child ``i`` always occupies slot ``i``.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp

from pathways_jax.core.protocols import Genome, SearchSpace
from pathways_jax.strategies import population as population_lib
from pathways_jax.strategies.population import EMPTY, PopulationState


@dataclasses.dataclass(frozen=True)
class PopulationBasedTraining:
    """Static settings of population-based training."""

    space: SearchSpace
    population_size: int
    round_size: int
    truncation_fraction: float = 0.2
    resample_probability: float = 0.25

    objective_names = ("fitness",)
    inherits_weights = True

    def __post_init__(self):
        if self.round_size != self.population_size:
            raise ValueError(
                f"parallel.round_size={self.round_size} is invalid for strategy.name='pbt': "
                f"expected strategy.population_size={self.population_size} (every member "
                "trains every round)"
            )
        if not hasattr(self.space, "perturb_training"):
            raise ValueError(
                f"strategy.name='pbt' needs a space with a perturb_training hook; "
                f"{type(self.space).__name__} has none"
            )
        if not 0 < self.truncation_fraction <= 0.5:
            raise ValueError(
                f"truncation_fraction={self.truncation_fraction} is invalid: expected (0, 0.5]"
            )

    @property
    def num_exploiting(self) -> int:
        """Members that copy a better one every round (at least 1)."""
        return max(1, math.floor(self.truncation_fraction * self.population_size))

    @population_lib.strategy_jit
    def init(self, key) -> PopulationState:
        return population_lib.init_population(self.space, self.population_size, key)

    def explore(self, key, genome: Genome) -> Genome:
        """Perturb the training genes a member copied (not its architecture):
        the space's ``perturb_training`` hook."""
        return self.space.perturb_training(key, genome, self.resample_probability)

    @population_lib.strategy_jit
    def ask(self, key, state: PopulationState):
        """The members of the next interval and the ids whose weights they start
        from: ``(children [P], parent_ids [P, 2])`` (``-1`` where a member starts
        from fresh weights: the first round)."""
        size = self.population_size
        key_fresh, key_donor, key_explore = jax.random.split(key, 3)
        fresh, no_parents = population_lib.random_round(self.space, key_fresh, size)
        order = population_lib.fittest_first(state.birth, state.fitness)
        rank = jnp.argsort(order)  # rank[i]: position of member i, 0 = fittest.
        exploits = rank >= size - self.num_exploiting
        donors = order[jax.random.randint(key_donor, (size,), 0, self.num_exploiting)]
        sources = jnp.where(exploits, donors, jnp.arange(size))
        copied = jax.tree_util.tree_map(lambda leaf: leaf[sources], state.population)
        explored = jax.vmap(self.explore)(jax.random.split(key_explore, size), copied)
        children = jax.tree_util.tree_map(
            lambda new, old: jnp.where(exploits.reshape(-1, *[1] * (new.ndim - 1)), new, old),
            explored,
            copied,
        )
        parents = jnp.stack([state.birth[sources], jnp.full((size,), EMPTY)], axis=1)
        filled = population_lib.is_full(state)
        children = jax.tree_util.tree_map(lambda a, b: jnp.where(filled, a, b), children, fresh)
        return children, jnp.where(filled, parents, no_parents).astype(jnp.int32)

    @population_lib.strategy_jit(static_argnums=(0, 4))
    def tell(self, state: PopulationState, children, fitness, num_real: int) -> PopulationState:
        """Child ``i`` replaces member ``i`` (all members trained this round)."""
        fitness = jnp.asarray(fitness, jnp.float32).reshape(-1)
        births = state.num_evaluated + jnp.arange(self.population_size, dtype=jnp.int32)
        return state.replace(
            population=children,
            fitness=fitness,
            objectives=fitness[:, None],
            birth=births,
            num_evaluated=state.num_evaluated + num_real,
            num_rounds=state.num_rounds + 1,
        )

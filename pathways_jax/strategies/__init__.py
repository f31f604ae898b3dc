"""Search strategies with a functional ask/tell interface.

Every strategy is a frozen dataclass of static settings with ``init(key)``,
``ask(key, state) -> (children, parent_ids)`` and
``tell(state, children, values, num_real)``, all jitted; ``values`` are the
fitness ``[round]`` or, for NSGA-II, objectives ``[round, k]``. The state is
a :class:`PopulationState` pytree.
"""

from pathways_jax.strategies.binary_tournament import BinaryTournament
from pathways_jax.strategies.nsga2 import NSGA2, OBJECTIVES, hypervolume, oriented_objectives
from pathways_jax.strategies.pbt import PopulationBasedTraining
from pathways_jax.strategies.population import PopulationState
from pathways_jax.strategies.regularized import RegularizedEvolution
from pathways_jax.strategies.truncation import RandomSearch, TruncationSelection

# Kept for code written against the first strategy.
RegularizedEvolutionState = PopulationState

STRATEGY_NAMES = (
    "regularized",
    "tournament",
    "truncation",
    "random",
    "nsga2",
    "pbt",
    "binary_tournament",
)

__all__ = [
    "BinaryTournament",
    "NSGA2",
    "OBJECTIVES",
    "STRATEGY_NAMES",
    "PopulationBasedTraining",
    "PopulationState",
    "RandomSearch",
    "RegularizedEvolution",
    "RegularizedEvolutionState",
    "TruncationSelection",
    "hypervolume",
    "oriented_objectives",
]

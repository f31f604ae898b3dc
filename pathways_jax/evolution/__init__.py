"""Search strategies with a functional ask/tell interface."""

from pathways_jax.evolution.regularized import RegularizedEvolution, RegularizedEvolutionState

STRATEGIES = {"regularized": RegularizedEvolution}

__all__ = ["STRATEGIES", "RegularizedEvolution", "RegularizedEvolutionState"]

"""Evaluators: what trains and scores a round, and finishes a search.

- :class:`FreshWeights` (``fresh_weights``): every child trained from fresh
  weights in the population programs, behind hurdles if configured.
- :class:`MemberWeights` (``member_weights``): members that continue their
  parents' training (population-based training).
- :class:`FunctionEvaluator` (``function``): a pure fitness function of the
  genome, for spaces that need no training.
"""

from pathways_jax.evaluators.fresh_weights import FreshWeights, FreshWeightsSettings
from pathways_jax.evaluators.function import FunctionEvaluator
from pathways_jax.evaluators.member_weights import MemberWeights, MemberWeightsSettings

__all__ = [
    "FreshWeights",
    "FreshWeightsSettings",
    "FunctionEvaluator",
    "MemberWeights",
    "MemberWeightsSettings",
]

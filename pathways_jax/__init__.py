"""pathways_jax: evolutionary pathway search in JAX.

The public API (each name is imported on first use):

- :func:`run_search` ``(config, workdir)``: the search a config describes,
  as the search command runs it; :func:`load_config` reads a config file.
- :func:`search` ``(space=, strategy=, evaluator=, settings=, workdir=)``: the
  same loop on objects built in Python; returns a :class:`SearchResult`.
- The protocols :class:`SearchSpace`, :class:`Strategy`, :class:`Evaluator`
  and the registries' decorators :func:`register_space`,
  :func:`register_strategy`, :func:`register_evaluator`.
- Built-in spaces (:class:`PathwaySpace`, :class:`PathNetSpace`), strategies
  (:class:`RegularizedEvolution`, :class:`TruncationSelection`,
  :class:`RandomSearch`, :class:`NSGA2`, :class:`PopulationBasedTraining`,
  :class:`BinaryTournament`)
  and evaluators (:class:`FreshWeights`, :class:`MemberWeights`,
  :class:`FunctionEvaluator`), with :class:`LoopSettings`.
"""

from pathways_jax import lazy

_EXPORTS = {
    "run_search": "pathways_jax.api",
    "search": "pathways_jax.api",
    "load_config": ("pathways_jax.config", "load_config_file"),
    "default_config": "pathways_jax.config",
    "SearchSpace": "pathways_jax.core.protocols",
    "Strategy": "pathways_jax.core.protocols",
    "Evaluator": "pathways_jax.core.protocols",
    "register_space": "pathways_jax.core.registry",
    "register_strategy": "pathways_jax.core.registry",
    "register_evaluator": "pathways_jax.core.registry",
    "LoopSettings": "pathways_jax.core.loop",
    "SearchResult": "pathways_jax.core.loop",
    "PathwaySpace": "pathways_jax.spaces.pathway",
    "RegularizedEvolution": "pathways_jax.strategies",
    "TruncationSelection": "pathways_jax.strategies",
    "RandomSearch": "pathways_jax.strategies",
    "NSGA2": "pathways_jax.strategies",
    "PopulationBasedTraining": "pathways_jax.strategies",
    "BinaryTournament": "pathways_jax.strategies",
    "PathNetSpace": "pathways_jax.spaces.pathnet",
    "FreshWeights": "pathways_jax.evaluators",
    "MemberWeights": "pathways_jax.evaluators",
    "FunctionEvaluator": "pathways_jax.evaluators",
    "PathwayClassifier": "pathways_jax.automodel",
    "PathwayRegressor": "pathways_jax.automodel",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy.exports(__name__, _EXPORTS)

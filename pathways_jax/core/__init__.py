"""The engine: protocols, registries, round stages and the search loop.

Nothing here names a particular space: see :mod:`.protocols` for what a
space, strategy and evaluator provide, :mod:`.registry` for adding one by
name, :mod:`.stages` for the per-round filters and :mod:`.loop` for the loop.
The names below are imported on first use (the modules import each other's
packages).
"""

from pathways_jax import lazy

_EXPORTS = {
    "Experiment": ".loop",
    "LoopSettings": ".loop",
    "SearchResult": ".loop",
    "run": ".loop",
    "Evaluator": ".protocols",
    "SearchSpace": ".protocols",
    "Strategy": ".protocols",
    "BuildContext": ".registry",
    "RegistryError": ".registry",
    "register_evaluator": ".registry",
    "register_space": ".registry",
    "register_strategy": ".registry",
    "ConstraintRepair": ".stages",
    "EquivalenceCache": ".stages",
    "RoundPlan": ".stages",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy.exports(__name__, _EXPORTS)

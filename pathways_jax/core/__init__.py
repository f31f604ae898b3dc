"""The engine: protocols, registries, round stages and the search loop.

Nothing here names a particular space: see :mod:`.protocols` for what a
space, strategy and evaluator provide, :mod:`.registry` for adding one by
name, :mod:`.stages` for the per-round filters and :mod:`.loop` for the loop.
The names below are imported on first use (the modules import each other's
packages).
"""

import importlib

_EXPORTS = {
    "Experiment": "loop",
    "LoopSettings": "loop",
    "SearchResult": "loop",
    "run": "loop",
    "Evaluator": "protocols",
    "SearchSpace": "protocols",
    "Strategy": "protocols",
    "BuildContext": "registry",
    "RegistryError": "registry",
    "register_evaluator": "registry",
    "register_space": "registry",
    "register_strategy": "registry",
    "ConstraintRepair": "stages",
    "EquivalenceCache": "stages",
    "RoundPlan": "stages",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pathways_jax.core' has no attribute {name!r}")
    return getattr(importlib.import_module(f"pathways_jax.core.{_EXPORTS[name]}"), name)

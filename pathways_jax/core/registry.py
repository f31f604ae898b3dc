"""Components found by name: spaces, strategies and evaluators.

A config names its components (``config.space.name``, ``config.strategy.name``,
``config.evaluator.name``); the builder looks each name up here and calls the
registered factory with that component's own config section. The built-in
components register themselves when :mod:`pathways_jax` is imported; a user's
module registers its own with the decorators below and is imported by name
from the config (``config.space.module = 'my_package.my_space'``, or a config
file that imports it), without touching the package::

    from pathways_jax import core

    @core.register_space("bitstring")
    def build(settings, context):
        return BitStringSpace(length=settings.length)

A space factory takes ``(settings, context)``: its config section and a
:class:`BuildContext` (the data, loaded only if the factory asks for it). A
strategy factory takes ``(settings, space, round_size)``; an evaluator
factory ``(config, context)``: evaluators read the sections they train by
(``train``, ``final``, ``fidelity``, ``parallel``, ``evaluator``) into
settings of their own, and ``context.space`` is the space.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable

SPACES: dict[str, Callable] = {}
STRATEGIES: dict[str, Callable] = {}
EVALUATORS: dict[str, Callable] = {}

_KINDS = {"space": SPACES, "strategy": STRATEGIES, "evaluator": EVALUATORS}


class RegistryError(ValueError):
    """A name is not registered, or a module that should register it fails to import."""


def _origin(factory: Callable) -> tuple[str, str]:
    code = getattr(factory, "__code__", None)
    source = os.path.realpath(code.co_filename) if code else factory.__module__
    return source, factory.__qualname__


def _register(kind: str, name: str):
    table = _KINDS[kind]

    def decorator(factory: Callable) -> Callable:
        if name in table and table[name] is not factory:
            # The same definition imported again (a config file that is also
            # the space's module) replaces itself; another one is an error.
            existing = table[name]
            if _origin(existing) != _origin(factory):
                raise RegistryError(
                    f"a {kind} named {name!r} is already registered by {existing.__module__}"
                )
        table[name] = factory
        return factory

    return decorator


def register_space(name: str):
    """Decorator: register ``factory(settings, context) -> SearchSpace`` as ``name``."""
    return _register("space", name)


def register_strategy(name: str):
    """Decorator: register ``factory(settings, space, round_size) -> Strategy``."""
    return _register("strategy", name)


def register_evaluator(name: str):
    """Decorator: register ``factory(config, context) -> Evaluator``."""
    return _register("evaluator", name)


def import_module(module: str, key: str) -> None:
    """Import a user's module that registers components: a module name on
    ``sys.path`` (``'my_package.my_space'``) or the path of a ``.py`` file.
    ``key`` names the config key that asked for it, for the error."""
    if module.endswith(".py") and not os.path.isfile(os.path.expanduser(module)):
        raise RegistryError(f"config.{key}={module!r} cannot be imported: no such file")
    try:
        if module.endswith(".py"):
            path = os.path.abspath(os.path.expanduser(module))
            name = "pathways_jax_user_" + os.path.splitext(os.path.basename(path))[0]
            spec = importlib.util.spec_from_file_location(name, path)
            loaded = importlib.util.module_from_spec(spec)
            sys.modules[name] = loaded
            spec.loader.exec_module(loaded)
        else:
            importlib.import_module(module)
    except Exception as error:  # Any failure of a user's module is one line.
        raise RegistryError(
            f"config.{key}={module!r} cannot be imported: {type(error).__name__}: {error}"
        ) from None


def lookup(kind: str, name: str, key: str) -> Callable:
    """The factory registered as ``name`` (``key``: the config key, for the error)."""
    table = _KINDS[kind]
    if name not in table:
        raise RegistryError(
            f"config.{key}={name!r} is not a registered {kind}: expected one of "
            f"{tuple(sorted(table))} (a module of your own registers more: see "
            "docs/extending.md)"
        )
    return table[name]


def names(kind: str) -> tuple[str, ...]:
    """The registered names of ``kind`` (``'space'``, ``'strategy'``, ``'evaluator'``)."""
    return tuple(sorted(_KINDS[kind]))


class BuildContext:
    """What factories may need besides their own settings.

    Attributes:
      seed: the search's seed.
      dataset_settings: ``config.dataset``.
      mesh: the population mesh.
      num_rounds: rounds the budget allows.
      space: the search space, once it is built (for evaluator factories).
    """

    def __init__(self, seed, dataset_settings, mesh, num_rounds, dataset=None):
        self.seed = seed
        self.dataset_settings = dataset_settings
        self.mesh = mesh
        self.num_rounds = num_rounds
        self.space = None
        self._dataset = dataset  # An already loaded one, else loaded on first use.

    @property
    def dataset(self):
        """The dataset (loaded on first use, so spaces that need none load none)."""
        if self._dataset is None:
            from absl import logging

            from pathways_jax import data

            self._dataset = data.load_dataset(self.dataset_settings, seed=self.seed)
            logging.info("Data: %s", self._dataset.summary())
        return self._dataset

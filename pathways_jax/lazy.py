"""Package attributes imported on first use (``PEP 562`` module ``__getattr__``),
for package ``__init__`` files whose modules import each other's packages."""

from __future__ import annotations

import importlib


def exports(package: str, names: dict):
    """A module ``__getattr__`` for ``package``.

    Args:
      package: the package's name, for the error.
      names: attribute -> the module it lives in (a name relative to
        ``package`` when it starts with a dot), or ``(module, attribute)``
        when the attribute is named differently there.
    """

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = names[name]
        module, attribute = target if isinstance(target, tuple) else (target, name)
        if module.startswith("."):
            module = package + module
        return getattr(importlib.import_module(module), attribute)

    return __getattr__

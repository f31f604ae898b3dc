"""Counting compilations: the evidence that a search compiles a fixed number
of programs however many rounds and candidates it runs.

Two counters: :class:`TraceCounter` counts how often JAX traces one function
(every trace of a jitted program precedes a compilation of it), and
:func:`backend_compilations` counts every XLA backend compilation in the
process, with their total seconds, from JAX's monitoring events.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

import jax

_BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_lock = threading.Lock()
_backend = {"count": 0, "seconds": 0.0, "listening": False}


def _on_duration(event: str, duration_secs: float, **_) -> None:
    if event == _BACKEND_COMPILE_EVENT:
        with _lock:
            _backend["count"] += 1
            _backend["seconds"] += float(duration_secs)


def backend_compilations() -> tuple[int, float]:
    """``(count, seconds)`` of XLA backend compilations in this process since
    the first call of this function (which starts listening)."""
    with _lock:
        if not _backend["listening"]:
            jax.monitoring.register_event_duration_secs_listener(_on_duration)
            _backend["listening"] = True
        return _backend["count"], _backend["seconds"]


class TraceCounter:
    """Wraps ``fn`` and counts how many times it is called.

    Use the instance in place of ``fn`` inside a jitted program: the body of a
    compiled program runs only while JAX traces it, so ``count`` is the number
    of times that program was (re)traced, hence compiled.
    """

    def __init__(self, fn: Callable):
        self.count = 0
        self._fn = fn
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        self.count += 1
        return self._fn(*args, **kwargs)

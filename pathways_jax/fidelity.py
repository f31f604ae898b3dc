"""Training a round at full fidelity, or behind hurdles (successive halving).

With ``fidelity.hurdle_steps = 0`` every child of a round trains for
``train.steps``. With a hurdle (multi-fidelity, as AutoML-Zero's hurdles),
every child first trains for ``fidelity.hurdle_steps``; only the best
``fidelity.keep_fraction`` of the round (by that short-training fitness) is
then trained for ``train.steps`` and judged by it, the others keep their
short-training fitness. With several hurdles, ``fidelity.rung_steps = (s1,
s2, ...)`` increasing, this is successive halving: after each rung the best
``keep_fraction`` of the survivors go on to the next, longer rung, and the
last survivors train for ``train.steps``. Every stage trains from scratch with
the same key, so a candidate that passes gets exactly the metrics it would get
without hurdles.

One compiled program per stage, each of fixed shape (``round_size`` slots for
the first, ``ceil(keep_fraction**k * round_size)`` for stage ``k``), so the
compile count stays flat. A child stopped by a hurdle is marked
``"fidelity": "hurdle"`` with ``"rung"``, the index of the last rung it
trained; steps are counted per trained candidate and logged with them.
Stopped children do not join the strategy's population unless
``fidelity.stopped_join_population`` (the evaluator's ``admission`` passes
``admitted`` to ``tell``), so tournaments compare fully trained members only.
The training itself is :class:`pathways_jax.evaluators.fresh_weights.FreshWeights`.
"""

from __future__ import annotations

HURDLE = "hurdle"


def rung_steps(fidelity) -> tuple[int, ...]:
    """The hurdles' step counts of a ``config.fidelity`` (``()``: none)."""
    if fidelity.hurdle_steps:
        return (int(fidelity.hurdle_steps),)
    return tuple(int(steps) for steps in fidelity.rung_steps)

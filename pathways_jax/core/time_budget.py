"""A wall-clock budget: stop at the round boundary where the next round would
not fit.

The loop tells :class:`TimeBudget` every round's duration and the part of it
XLA spent compiling, and asks :meth:`TimeBudget.exhausted` after every round.
The next round is estimated as the longer of the last two rounds without
their compilations, plus the last round's compilation unless that was the
session's first (a later round that compiled a new program may be followed
by another that does); the finish as the
evaluator's ``finalize_seconds`` estimate when it has that hook (else one
more round). The search stops when

    elapsed + next round + finish > seconds

so the end can pass the budget only by what the estimates miss (the
finish's plots, report and export, and a round slower than the last two);
``docs/automodel.md`` measures it. A budget in seconds makes the history
depend on the machine's speed: ``budget.evaluations`` is the reproducible
budget, and with both the search stops at whichever comes first.
"""

from __future__ import annotations

import math


class TimeBudget:
    """Round-boundary decisions for a budget of ``seconds`` (``inf``: none).

    Args:
      seconds: wall-clock seconds for the whole search, finish included,
        counted over every session of a resumed run.
      evaluator: asked for ``finalize_seconds(round_seconds, num_finalists,
        compile_seconds)`` when it has that hook (``round_seconds``: this
        session's rounds without their compilations; ``compile_seconds``: the
        longest compilation of a round).
      num_finalists: candidates ``finalize`` retrains (``top_k``).
    """

    def __init__(self, seconds: float, evaluator=None, num_finalists: int = 1):
        self.seconds = float(seconds)
        self.evaluator = evaluator
        self.num_finalists = num_finalists
        self.round_seconds: list[float] = []
        self.compile_seconds: list[float] = []

    @property
    def limited(self) -> bool:
        return math.isfinite(self.seconds)

    def add_round(self, seconds: float, compile_seconds: float = 0.0) -> None:
        """Record a round of this session: its duration and the part of it spent compiling."""
        compile_seconds = min(max(float(compile_seconds), 0.0), float(seconds))
        self.round_seconds.append(float(seconds) - compile_seconds)
        self.compile_seconds.append(compile_seconds)

    def next_round_seconds(self) -> float:
        """Estimated duration of the next round (0 before any is measured)."""
        if not self.round_seconds:
            return 0.0
        # The session's first compilations are paid once; a later round that
        # compiled (a new shape class) may be followed by another that does.
        recompiles = self.compile_seconds[-1] if len(self.round_seconds) > 1 else 0.0
        return max(self.round_seconds[-2:]) + recompiles

    def finish_seconds(self) -> float:
        """Estimated duration of ``finalize`` (retraining and testing the finalists)."""
        hook = getattr(self.evaluator, "finalize_seconds", None)
        if hook is None or not self.round_seconds:
            return self.next_round_seconds()
        return float(hook(tuple(self.round_seconds), self.num_finalists, max(self.compile_seconds)))

    def exhausted(self, elapsed: float) -> bool:
        """Whether a search at ``elapsed`` seconds should start no more rounds."""
        if not self.limited:
            return False
        return elapsed + self.next_round_seconds() + self.finish_seconds() > self.seconds

    def record(self, elapsed: float, stopped: bool) -> dict:
        """The summary's ``time_budget`` entry."""
        return {
            "seconds": self.seconds,
            "stopped_by_time": bool(stopped),
            "elapsed_seconds": round(float(elapsed), 3),
            "over_budget_seconds": round(max(float(elapsed) - self.seconds, 0.0), 3),
        }

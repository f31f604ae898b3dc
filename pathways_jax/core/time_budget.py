"""A wall-clock budget: stop at the round boundary where the next round would
not fit.

The loop asks :meth:`TimeBudget.exhausted` after every round. A round's
duration is estimated from the rounds measured in this session (the longer
of the last two, so a round that compiled a new program is not forgotten at
once), and the finish from the evaluator's ``finalize_seconds`` hook when it
has one (else one more round). The search stops when

    elapsed + next round + finish > seconds

so the end can pass the budget only by what the estimates miss (the
finish's plots, report and export, and a round slower than the last two);
``docs/time_budget.md`` measures it. A budget in seconds makes the history
depend on the machine's speed: ``budget.evaluations`` is the reproducible
budget, and with both the search stops at whichever comes first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


class TimeBudget:
    """Round-boundary decisions for a budget of ``seconds`` (``inf``: none).

    Args:
      seconds: wall-clock seconds for the whole search, finish included,
        counted over every session of a resumed run.
      evaluator: asked for ``finalize_seconds(round_seconds, num_finalists)``
        when it has that hook.
      num_finalists: candidates ``finalize`` retrains (``top_k``).
    """

    def __init__(self, seconds: float, evaluator=None, num_finalists: int = 1):
        self.seconds = float(seconds)
        self.evaluator = evaluator
        self.num_finalists = num_finalists
        self.round_seconds: list[float] = []

    @property
    def limited(self) -> bool:
        return math.isfinite(self.seconds)

    def add_round(self, seconds: float) -> None:
        """Record the duration of a round of this session."""
        self.round_seconds.append(float(seconds))

    def next_round_seconds(self) -> float:
        """Estimated duration of the next round (0 before any is measured)."""
        return max(self.round_seconds[-2:], default=0.0)

    def finish_seconds(self) -> float:
        """Estimated duration of ``finalize`` (retraining and testing the finalists)."""
        hook = getattr(self.evaluator, "finalize_seconds", None)
        if hook is None or not self.round_seconds:
            return self.next_round_seconds()
        return float(hook(tuple(self.round_seconds), self.num_finalists))

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


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return 0.5 * (ordered[middle - 1] + ordered[middle])

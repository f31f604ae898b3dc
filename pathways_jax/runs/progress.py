"""How far a search is: a progress bar on a terminal, log lines otherwise.

:func:`progress_text` formats one status (pure); :class:`Progress` decides
where it goes: redrawn in place on an interactive stderr, or logged with absl
at most every ``log_every_seconds`` (and always for the last round).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from absl import logging

BAR_WIDTH = 24


def format_seconds(seconds: float) -> str:
    """``h:mm:ss`` (``?`` when unknown)."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def progress_text(
    round_index: int,
    num_rounds: int,
    evaluated: int,
    budget: int,
    best_fitness: float,
    rate: float,
    bar: bool,
) -> str:
    """One line: round, candidates evaluated out of the budget, best fitness,
    candidates per second and the time left at that rate.

    Args:
      round_index: rounds done (1-based).
      num_rounds: rounds in the whole search.
      evaluated: candidates evaluated so far.
      budget: candidates in the whole search.
      best_fitness: best validation fitness so far.
      rate: candidates per second (0 when unknown).
      bar: prefix a drawn bar.
    """
    eta = (budget - evaluated) / rate if rate > 0 else float("nan")
    text = (
        f"round {round_index}/{num_rounds}  {evaluated}/{budget} candidates  "
        f"best {best_fitness:.4f}  {rate:.2f} cand/s  ETA {format_seconds(eta)}"
    )
    if bar:
        filled = int(BAR_WIDTH * evaluated / max(budget, 1))
        text = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {text}"
    return text


class Progress:
    """Reports rounds of a search.

    Args:
      num_rounds, budget: size of the whole search.
      start_evaluated: candidates already evaluated when this session started
        (a resumed run); the rate counts this session's candidates only.
      bar: draw a bar when the stream is a terminal.
      log_every_seconds: least interval between log lines otherwise.
      stream: where the bar goes (stderr by default).
      clock: seconds, monotonic (injected by tests).
    """

    def __init__(
        self,
        num_rounds: int,
        budget: int,
        start_evaluated: int = 0,
        bar: bool = True,
        log_every_seconds: float = 10.0,
        stream=None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.num_rounds = num_rounds
        self.budget = budget
        self.stream = stream or sys.stderr
        self.use_bar = bar and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.log_every_seconds = log_every_seconds
        self._clock = clock
        self._start = clock()
        self._start_evaluated = start_evaluated
        self._last_log = None
        self._line_open = False
        self.lines_logged = 0

    def update(self, round_index: int, evaluated: int, best_fitness: float) -> None:
        """Report that ``round_index`` (1-based) rounds are done."""
        now = self._clock()
        elapsed = now - self._start
        done = evaluated - self._start_evaluated
        rate = done / elapsed if elapsed > 0 and done > 0 else 0.0
        args = (round_index, self.num_rounds, evaluated, self.budget, best_fitness, rate)
        last = round_index >= self.num_rounds
        if self.use_bar:
            self.stream.write("\r" + progress_text(*args, bar=True))
            if last:
                self.stream.write("\n")
            self._line_open = not last
            self.stream.flush()
            return
        if self.log_every_seconds == float("inf"):  # A silent run (e.g. one of many in a script).
            return
        due = self._last_log is None or now - self._last_log >= self.log_every_seconds
        if due or last:
            logging.info("%s", progress_text(*args, bar=False))
            self._last_log = now
            self.lines_logged += 1

    def close(self) -> None:
        """End the bar's line if the search stops early."""
        if self._line_open:
            self.stream.write("\n")
            self.stream.flush()
            self._line_open = False

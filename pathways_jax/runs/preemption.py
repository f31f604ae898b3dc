"""Stopping a search cleanly when the process is asked to stop.

While :class:`StopSignals` is active, SIGTERM and SIGINT do not kill the
search: they set ``requested`` and the search loop saves a checkpoint at the
end of the round it is in, then stops with :class:`SearchInterrupted`. A second
SIGINT interrupts at once (``KeyboardInterrupt``), losing only the round in
progress.
"""

from __future__ import annotations

import signal
import threading

from absl import logging

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SearchInterrupted(RuntimeError):
    """The search stopped before its budget, after saving a checkpoint.

    Attributes:
      signal_number: the signal that asked it to stop, or None (a test hook).
    """

    def __init__(self, message: str, signal_number: int | None = None):
        super().__init__(message)
        self.signal_number = signal_number


def signal_name(number: int | None) -> str:
    """``SIGTERM`` for a signal number; ``request`` for None (a test hook)."""
    return signal.Signals(number).name if number is not None else "request"


class StopSignals:
    """Context manager that turns SIGTERM/SIGINT into a stop request.

    Attributes:
      requested: the number of the first signal received, or None.
    """

    def __init__(self):
        self.requested: int | None = None
        self._previous = {}

    def _handle(self, number, frame) -> None:
        if self.requested is not None and number == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = number
        logging.warning(
            "Received %s: the search stops after this round and saves a checkpoint",
            signal.Signals(number).name,
        )

    def __enter__(self) -> StopSignals:
        # Handlers can only be installed from the main thread.
        if threading.current_thread() is threading.main_thread():
            for number in HANDLED_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

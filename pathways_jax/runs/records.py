"""The files a search writes into its workdir, and how they are written.

Every record is JSON: ``config.json`` and ``summary.json`` are single objects,
``metrics.jsonl`` (one line per round) and ``history.jsonl`` (one line per
evaluated candidate) are JSON lines appended as the run goes, flushed after
every round so that a reader (or a crash) sees whole lines only.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from typing import Any

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
HISTORY_FILE = "history.jsonl"
SUMMARY_FILE = "summary.json"
BEST_DIR = "best"
BEST_GENOME_FILE = os.path.join(BEST_DIR, "genome.json")


def _finite_or_string(value: Any) -> Any:
    """JSON has no infinities or NaN: write them as the strings ``"inf"``,
    ``"-inf"`` and ``"nan"`` so that every file stays strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {key: _finite_or_string(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_string(item) for item in value]
    return value


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats replaced by strings (see :func:`to_json`)."""
    return _finite_or_string(value)


def json_restore(value: Any) -> Any:
    """Inverse of :func:`json_safe`."""
    return _restore_floats(value)


def to_json(value: Any) -> str:
    """One line of strict JSON for ``value`` (non-finite floats as strings)."""
    try:  # Most records hold no infinity: they need no walk.
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except ValueError:
        return json.dumps(_finite_or_string(value), sort_keys=True, allow_nan=False)


def _restore_floats(value: Any) -> Any:
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, dict):
        return {key: _restore_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_restore_floats(item) for item in value]
    return value


_NON_FINITE = ('"inf"', '"-inf"', '"nan"')


def from_json(text: str) -> Any:
    """Inverse of :func:`to_json`."""
    if any(marker in text for marker in _NON_FINITE):
        return _restore_floats(json.loads(text))
    return json.loads(text)


def write_json(path: str, value: Any) -> None:
    """Write ``value`` to ``path`` atomically (a temporary file, then a rename),
    creating the parent directory if needed."""
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        file.write(json.dumps(_finite_or_string(value), sort_keys=True, indent=2))
        file.write("\n")
    os.replace(temporary, path)


def read_json(path: str) -> Any:
    """The object in the JSON file ``path``."""
    with open(path, encoding="utf-8") as file:
        return _restore_floats(json.load(file))


def read_json_lines(path: str) -> list[Any]:
    """Every record of the JSON-lines file ``path``, in order."""
    with open(path, encoding="utf-8") as file:
        return [from_json(line) for line in file if line.strip()]


class JsonLinesWriter:
    """Appends records to a JSON-lines file, one flush per :meth:`write`; a
    no-op when ``enabled`` is False (processes other than 0)."""

    def __init__(self, path: str, enabled: bool = True):
        self.path = path
        self._file = None
        if enabled:
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close().

    def write(self, values: Iterable[Any]) -> None:
        """Append one line per value and flush."""
        if self._file is not None:
            self._file.write("".join(to_json(value) + "\n" for value in values))
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> JsonLinesWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

"""Raw tables as a dataset source: text, boolean and missing cells, string labels.

A source whose features are not all numbers (a CSV with a text column or an
empty cell, a pandas DataFrame) provides a :class:`RawTable` as its ``x``.
:func:`labels` turns its label cells into class ids (remembering the class
names) or targets; :func:`encode_splits` fits the encoding of
:mod:`pathways_jax.data.table_encoding` on the training rows only and encodes
every split with it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from pathways_jax.data import table_encoding
from pathways_jax.data.dataset import DataError


class RawTable(NamedTuple):
    """Columns of raw cells.

    Attributes:
      columns: ``{name: 1-D array [rows]}`` (numeric, boolean or object dtype).
    """

    columns: dict

    @property
    def num_columns(self) -> int:
        return len(self.columns)

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def rows(self, index: np.ndarray) -> dict:
        """The table of the rows ``index``."""
        return {name: np.asarray(cells)[index] for name, cells in self.columns.items()}


def table_from_frame(frame) -> RawTable:
    """A pandas DataFrame (or anything with ``.columns`` and ``[name]``) as a table."""
    return RawTable({str(name): np.asarray(frame[name].to_numpy()) for name in frame.columns})


def table_from_array(x: np.ndarray, names: list[str] | None = None) -> RawTable:
    """A 2-D array [rows, columns] as a table with columns ``names`` (``x0``, ``x1``, ...)."""
    x = np.asarray(x)
    names = names or [f"x{i}" for i in range(x.shape[1])]
    return RawTable({name: x[:, i] for i, name in enumerate(names)})


def needs_encoding(x) -> bool:
    """Whether 2-D features ``x`` hold anything but finite numbers (text,
    booleans, missing values), so that they go through the table encoding."""
    if isinstance(x, RawTable):
        return True
    x = np.asarray(x)
    if x.dtype.kind not in "iuf":
        return True
    return x.dtype.kind == "f" and bool(np.isnan(x).any())


def labels(source: str, what: str, cells, task: str) -> tuple[np.ndarray, str, tuple | None]:
    """``(y, task, class names)`` of raw label cells.

    Text labels make a classification task whose class ids index the sorted
    class names; numeric labels keep today's rules (``task='auto'`` infers).

    Raises:
      DataError: a label is missing, or text labels with ``task='regression'``.
    """
    cells = np.asarray(cells)
    absent = [i for i, cell in enumerate(cells.tolist()) if table_encoding.is_missing(cell)]
    if absent:
        raise DataError(
            f"{source}: {what} has {len(absent)} missing values, e.g. in data row {absent[0] + 1} "
            "(expected a label in every row)"
        )
    if cells.dtype.kind in "biuf":
        return cells, task, None
    numbers = [_number(cell) for cell in cells.tolist()]
    if all(number is not None for number in numbers):
        return np.asarray(numbers, np.float64), task, None
    if task == "regression":
        text = next(c for c, n in zip(cells.tolist(), numbers, strict=True) if n is None)
        raise DataError(
            f"{source}: {what} has text value {text!r} but task='regression' "
            "(expected numbers, or task='classification')"
        )
    names = tuple(sorted({str(cell).strip() for cell in cells.tolist()}))
    index = {name: i for i, name in enumerate(names)}
    y = np.asarray([index[str(cell).strip()] for cell in cells.tolist()], np.int32)
    return y, "classification", names


def _number(cell) -> float | None:
    if isinstance(cell, int | float | np.integer | np.floating) and not isinstance(cell, bool):
        return float(cell)
    try:
        return float(str(cell).strip())
    except ValueError:
        return None


def encode_splits(source: str, table: RawTable, train, splits) -> tuple[dict, list[np.ndarray]]:
    """``(encoding, [x of each split])``: the encoding fitted on the rows
    ``train`` and applied to the rows of each index array in ``splits``."""
    encoding = table_encoding.fit_encoding(table.rows(train))
    if not encoding["features"]:
        raise DataError(f"{source}: no feature columns (expected at least one besides the label)")
    try:
        return encoding, [table_encoding.encode(encoding, table.rows(rows)) for rows in splits]
    except ValueError as error:
        raise DataError(f"{source}: {error}") from None

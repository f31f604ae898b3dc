"""Raw table columns -> model inputs, fitted on the training rows only.

A table is a dict ``{column name: 1-D array}`` whose cells may be numbers,
booleans, strings or missing (``None``, NaN, or one of :data:`MISSING_TEXT`).
:func:`fit_encoding` decides each column's kind from the training rows and
records everything needed to encode new rows as a JSON-able dict
(``preprocessing.json``); :func:`encode` applies it:

- numeric and boolean columns: missing cells get the training median, then
  the column is standardised with the training mean and std; a column that
  had missing cells also gets a 0/1 ``"NAME missing"`` column;
- categorical columns with at most :data:`MAX_ONE_HOT_LEVELS` levels: one
  0/1 column per training level (a missing cell is a level of its own when
  the training rows had one); a category never seen in training encodes as
  all zeros (scikit-learn's ``handle_unknown='ignore'``), and
  :func:`unknown_categories` names such cells so that callers can warn;
- categorical columns with more levels: one ordinal column, the level's
  frequency rank in training, standardised; an unseen level gets the rank
  after the last.

This module needs only numpy and the standard library: an export writes a
copy of it beside ``predict.py``, so exported code accepts the same raw rows.
"""

from __future__ import annotations

import math

import numpy as np

MAX_ONE_HOT_LEVELS = 16
MISSING_TEXT = ("", "na", "n/a", "nan", "none", "null", "?")
_TRUE_TEXT = ("true", "yes")
_FALSE_TEXT = ("false", "no")


def is_missing(cell) -> bool:
    """Whether a raw cell is missing."""
    if cell is None or type(cell).__name__ in ("NAType", "NaTType"):  # pandas' missing values.
        return True
    if isinstance(cell, float | np.floating):
        return math.isnan(float(cell))
    if isinstance(cell, str | np.str_):
        return cell.strip().lower() in MISSING_TEXT
    return False


def _as_number(cell) -> float | None:
    """A cell as a float (booleans as 0/1), or None if it is not a number."""
    if isinstance(cell, bool | np.bool_):
        return float(cell)
    if isinstance(cell, int | float | np.integer | np.floating):
        return float(cell)
    text = str(cell).strip()
    if text.lower() in _TRUE_TEXT:
        return 1.0
    if text.lower() in _FALSE_TEXT:
        return 0.0
    try:
        return float(text)
    except ValueError:
        return None


def _category(cell) -> str:
    if isinstance(cell, float | np.floating) and float(cell).is_integer():
        return str(int(cell))
    return str(cell).strip()


def _numeric_array(cells) -> np.ndarray | None:
    """float64 values of a column stored as numbers or booleans (the fast path), else None."""
    if isinstance(cells, np.ndarray) and cells.dtype.kind in "biuf":
        return cells.astype(np.float64)
    return None


def _column_kind(cells) -> str:
    if _numeric_array(cells) is not None:
        return "numeric"
    present = [cell for cell in cells if not is_missing(cell)]
    if present and all(_as_number(cell) is not None for cell in present):
        return "numeric"
    return "categorical"


def _numbers(cells) -> np.ndarray:
    fast = _numeric_array(cells)
    if fast is not None:
        return fast
    values = [math.nan if is_missing(c) else _as_number(c) for c in cells]
    return np.asarray([math.nan if v is None else v for v in values], np.float64)


def _scale(values: np.ndarray) -> dict:
    """``{mean, std}`` that standardise ``values`` (std 1 for a constant column)."""
    std = float(np.std(values))
    return {"mean": float(np.mean(values)), "std": std if std > 0 else 1.0}


def fit_encoding(table: dict, max_one_hot_levels: int = MAX_ONE_HOT_LEVELS) -> dict:
    """The encoding of ``table`` (training rows only), as a JSON-able dict.

    Args:
      table: ``{column name: 1-D sequence of raw cells}``, columns in order.
      max_one_hot_levels: most levels a categorical column is one-hot encoded with.

    Returns:
      ``{'columns': [per-column record], 'features': [encoded feature names]}``.
    """
    columns = []
    for name, cells in table.items():
        if _column_kind(cells) == "numeric":
            values = _numbers(cells)
            missing = int(np.isnan(values).sum())
            present = values[~np.isnan(values)]
            median = float(np.median(present)) if len(present) else 0.0
            filled = np.where(np.isnan(values), median, values)
            columns.append(
                {
                    "name": name,
                    "kind": "numeric",
                    "fill": median,
                    **_scale(filled),
                    "missing_indicator": bool(missing),
                }
            )
            continue
        counts = {}
        cells = list(cells)
        for cell in cells:
            level = None if is_missing(cell) else _category(cell)
            counts[level] = counts.get(level, 0) + 1
        has_missing = None in counts
        counts.pop(None, None)
        levels = sorted(counts, key=lambda level: (-counts[level], level))
        if len(levels) <= max_one_hot_levels:
            columns.append(
                {"name": name, "kind": "one_hot", "levels": levels, "missing_level": has_missing}
            )
            continue
        rank = {level: index for index, level in enumerate(levels)}
        ranks = np.asarray(
            [len(levels) if is_missing(c) else rank[_category(c)] for c in cells], np.float64
        )
        columns.append({"name": name, "kind": "ordinal", "levels": levels, **_scale(ranks)})
    return {"columns": columns, "features": feature_names({"columns": columns})}


def feature_names(encoding: dict) -> list[str]:
    """Names of the encoded features, in order (``NAME``, ``NAME=LEVEL``, ...)."""
    names = []
    for column in encoding["columns"]:
        name = column["name"]
        if column["kind"] == "one_hot":
            names += [f"{name}={level}" for level in column["levels"]]
            if column["missing_level"]:
                names.append(f"{name} missing")
        else:
            names.append(name)
            if column.get("missing_indicator"):
                names.append(f"{name} missing")
    return names


def feature_groups(encoding: dict) -> dict[str, list[int]]:
    """``{column name: indices of its encoded features}``."""
    groups, start = {}, 0
    for column in encoding["columns"]:
        width = feature_width(column)
        groups[column["name"]] = list(range(start, start + width))
        start += width
    return groups


def feature_width(column: dict) -> int:
    """Encoded features of one column."""
    if column["kind"] == "one_hot":
        return len(column["levels"]) + int(column["missing_level"])
    return 1 + int(bool(column.get("missing_indicator")))


def check_columns(encoding: dict, table: dict, unused=()) -> None:
    """Raise ValueError naming a column the encoding needs that ``table`` lacks
    (columns named in ``unused``, which the model does not read, may be absent)."""
    needed = [column["name"] for column in encoding["columns"]]
    missing = [name for name in needed if name not in table and name not in unused]
    if missing:
        raise ValueError(
            f"missing columns {missing} (expected the training columns {needed}; "
            "extra columns are ignored)"
        )
    lengths = {len(table[name]) for name in needed if name in table}
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths {sorted(lengths)} (expected one per row)")


def encode(encoding: dict, table: dict, unused=()) -> np.ndarray:
    """Encoded features float32 [rows, features] of a raw ``table``.

    Columns named in ``unused`` (which the model does not read) may be absent:
    they are encoded as missing cells.

    Raises:
      ValueError: a needed column is missing, or a numeric column holds text.
    """
    check_columns(encoding, table, unused)
    present = [name for name in table if name in {c["name"] for c in encoding["columns"]}]
    rows = len(table[present[0]]) if present else 0
    table = {**{name: [None] * rows for name in unused}, **table}
    parts = []
    for column in encoding["columns"]:
        cells = table[column["name"]]
        if column["kind"] == "numeric":
            values = _numbers(cells)
            text = [
                c
                for c, v in zip(list(cells), values, strict=True)
                if np.isnan(v) and not is_missing(c)
            ]
            if text:
                raise ValueError(
                    f"column {column['name']!r} has non-numeric value {text[0]!r} "
                    "(expected a number, as in training)"
                )
            absent = np.isnan(values)
            filled = np.where(absent, column["fill"], values)
            parts.append(((filled - column["mean"]) / column["std"])[:, None])
            if column["missing_indicator"]:
                parts.append(absent.astype(np.float64)[:, None])
        elif column["kind"] == "one_hot":
            cells = list(cells)
            levels = {level: index for index, level in enumerate(column["levels"])}
            width = feature_width(column)
            block = np.zeros((len(cells), width))
            for row, cell in enumerate(cells):
                if is_missing(cell):
                    if column["missing_level"]:
                        block[row, width - 1] = 1.0
                elif _category(cell) in levels:
                    block[row, levels[_category(cell)]] = 1.0
            parts.append(block)
        else:
            levels = {level: index for index, level in enumerate(column["levels"])}
            ranks = np.asarray(
                [
                    len(levels) if is_missing(c) else levels.get(_category(c), len(levels))
                    for c in cells
                ],
                np.float64,
            )
            parts.append(((ranks - column["mean"]) / column["std"])[:, None])
    if not parts:
        return np.zeros((rows, 0), np.float32)
    return np.concatenate(parts, axis=1).astype(np.float32)


def unknown_categories(encoding: dict, table: dict) -> dict[str, list[str]]:
    """``{column: levels}`` of ``table``'s categorical cells never seen in training."""
    unknown = {}
    for column in encoding["columns"]:
        if column["kind"] == "numeric" or column["name"] not in table:
            continue
        seen = set(column["levels"])
        new = sorted({_category(c) for c in table[column["name"]] if not is_missing(c)} - seen)
        if new:
            unknown[column["name"]] = new
    return unknown

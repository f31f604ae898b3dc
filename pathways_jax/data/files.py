"""Readers for user-provided `.npz` and `.csv` files, returning unvalidated `SourceArrays`."""

from __future__ import annotations

import csv
import math
import os
import zipfile

import numpy as np

from pathways_jax.data import tables
from pathways_jax.data.dataset import DataError, SourceArrays

NPZ_POOLED_KEYS = ("x", "y")
NPZ_SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")
_NPY_MAGIC = b"\x93NUMPY"


def _check_file(source: str, path: str, expected: str) -> str:
    resolved = os.path.expanduser(path)
    if not path:
        raise DataError(f"{source}: no file path given (expected {expected})")
    if not os.path.exists(resolved):
        raise DataError(f"{source}: file not found (expected {expected})")
    if not os.path.isfile(resolved):
        raise DataError(f"{source}: path is not a regular file (expected {expected})")
    return resolved


def _npz_form(source: str, keys: set[str]) -> tuple[str, ...]:
    has_pooled = set(NPZ_POOLED_KEYS) <= keys
    has_split = set(NPZ_SPLIT_KEYS) <= keys
    if has_pooled and has_split:
        raise DataError(
            f"{source}: has both arrays {NPZ_POOLED_KEYS} and {NPZ_SPLIT_KEYS} "
            f"(expected exactly one of the two forms)"
        )
    if has_pooled:
        return NPZ_POOLED_KEYS
    if has_split:
        return NPZ_SPLIT_KEYS
    split_keys_present = keys & set(NPZ_SPLIT_KEYS)
    form = NPZ_SPLIT_KEYS if split_keys_present else NPZ_POOLED_KEYS
    missing = [key for key in form if key not in keys]
    raise DataError(
        f"{source}: missing arrays {missing} (found {sorted(keys)}; expected arrays "
        f"'x', 'y' or 'x_train', 'y_train', 'x_test', 'y_test')"
    )


def read_npz(source: str, path: str) -> SourceArrays:
    """Reads arrays `x`, `y` or `x_train`, `y_train`, `x_test`, `y_test` from an .npz file.

    Other arrays in the file are ignored. Pickled (object) arrays are refused.

    Returns:
      SourceArrays with x [n, ...] and y [n] (or the train part), and the test part if the
      file is pre-split; dtypes as stored.
    """
    expected = "an .npz archive with arrays x, y or x_train, y_train, x_test, y_test"
    resolved = _check_file(source, path, expected)
    try:
        with open(resolved, "rb") as file:
            is_npy = file.read(len(_NPY_MAGIC)) == _NPY_MAGIC
        if is_npy:
            raise DataError(f"{source}: file holds a single .npy array (expected {expected})")
        if not zipfile.is_zipfile(resolved):
            raise DataError(f"{source}: file is not a zip (.npz) archive (expected {expected})")
        with np.load(resolved, allow_pickle=False) as archive:
            keys = _npz_form(source, set(archive.files))
            arrays = {}
            for key in keys:
                try:
                    arrays[key] = archive[key]
                except ValueError as error:
                    raise DataError(
                        f"{source}: array '{key}' cannot be read without pickle ({error}) "
                        f"(expected a numeric array)"
                    ) from error
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(
            f"{source}: unreadable .npz file ({type(error).__name__}: {error}) (expected {expected})"
        ) from error
    if keys == NPZ_POOLED_KEYS:
        return SourceArrays(x=arrays["x"], y=arrays["y"])
    return SourceArrays(
        x=arrays["x_train"], y=arrays["y_train"], x_test=arrays["x_test"], y_test=arrays["y_test"]
    )


def _read_rows(source: str, path: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank data rows, each with its 1-based line number."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DataError(
            f"{source}: unreadable .csv file ({type(error).__name__}: {error}) "
            f"(expected UTF-8 comma-separated values with a header row)"
        ) from error
    if not rows:
        raise DataError(f"{source}: file is empty (expected a header row and data rows)")
    (_, header), data = rows[0], rows[1:]
    return [name.strip() for name in header], data


def read_csv(source: str, path: str, label_column: str) -> SourceArrays:
    """Reads a .csv file with a header row; `label_column` is y, every other column is a feature.

    Blank lines are skipped. When every feature cell is a number, x is that
    matrix (NaN/inf are caught later); a text or empty cell makes x a raw
    table (:class:`~pathways_jax.data.tables.RawTable`) that is encoded with
    statistics of the training rows. Text labels are class names.

    Returns:
      SourceArrays with x float64 [rows, columns - 1] or a RawTable, and y
      float64 [rows] (or the label cells as text).
    """
    resolved = _check_file(source, path, "a .csv file with a header row")
    header, data = _read_rows(source, resolved)
    if all(_is_number(name) for name in header):
        raise DataError(
            f"{source}: first row {header} is all numbers (expected a header row of column names)"
        )
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise DataError(f"{source}: duplicate column names {duplicates} (expected unique names)")
    if label_column not in header:
        raise DataError(
            f"{source}: no column label_column={label_column!r} in header {header} "
            f"(expected the label column's name)"
        )
    if len(header) < 2:
        raise DataError(f"{source}: only the label column (expected at least one feature column)")
    if not data:
        raise DataError(f"{source}: header but no data rows (expected at least one data row)")
    label_index = header.index(label_column)
    for line, row in data:
        if len(row) != len(header):
            raise DataError(
                f"{source}: line {line} has {len(row)} cells (expected {len(header)}, "
                f"one per header column)"
            )
    cells = np.asarray([[cell.strip() for cell in row] for _, row in data], dtype=object)
    features = np.delete(cells, label_index, axis=1)
    labels = cells[:, label_index]
    names = [name for i, name in enumerate(header) if i != label_index]
    if not all(_is_number(cell) for cell in features.ravel()):
        # Text or empty cells: a raw table, encoded with statistics of the training rows.
        return SourceArrays(x=tables.table_from_array(features, names), y=labels)
    x = features.astype(np.float64)
    if all(_is_number(cell) for cell in labels):
        labels = labels.astype(np.float64)
    return SourceArrays(x=x, y=labels)


def _is_number(text: str) -> bool:
    """Whether a cell is a number (NaN, which is a missing value, is not)."""
    try:
        return not math.isnan(float(text))
    except ValueError:
        return False

"""What ``fit`` is given, as a dataset: the input decides the space.

2-D numeric arrays, tables (pandas DataFrames, arrays of objects) → vectors
(tables through :mod:`pathways_jax.data.table_encoding`); ``[n, length,
channels]`` → sequences; ``[n, h, w, c]`` (or ``[n, h, w]`` with
``input_kind='image'``) → images. Time budgets are seconds or text such as
``"90s"``, ``"5m"``, ``"1h"``.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from pathways_jax.data import tables
from pathways_jax.data.dataset import DataError, SourceArrays

INPUT_KINDS = ("auto", "vector", "sequence", "image")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*(s|sec|m|min|h)?\s*$")
_UNIT_SECONDS = {None: 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(value) -> float:
    """Seconds of a time budget: a number of seconds, or ``'90s'``, ``'5m'``,
    ``'1.5h'``; ``None`` is no limit (``inf``).

    Raises:
      ValueError: anything else, or a budget that is not positive.
    """
    if value is None:
        return float("inf")
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(
                f"time_budget={value!r} is invalid: expected seconds, or a number with "
                "s, m or h (e.g. '90s', '5m', '1h')"
            )
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not seconds > 0:
        raise ValueError(f"time_budget={value!r} is invalid: expected a positive duration")
    return seconds


def is_frame(x) -> bool:
    """Whether ``x`` is a pandas DataFrame (without importing pandas)."""
    return hasattr(x, "columns") and hasattr(x, "dtypes") and hasattr(x, "iloc")


def feature_table(x, feature_names: list[str] | None = None):
    """``(table or array, input kind)`` of features given to ``fit`` or ``predict``.

    A DataFrame, or a 2-D array that holds text, booleans or missing values,
    becomes a :class:`~pathways_jax.data.tables.RawTable`; other numeric
    arrays stay arrays.
    """
    if is_frame(x):
        return tables.table_from_frame(x), "vector"
    if isinstance(x, tables.RawTable):
        return x, "vector"
    if hasattr(x, "toarray") or type(x).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "X is a sparse matrix: sparse input is not supported (expected a dense array: "
            "X.toarray())"
        )
    array = np.asarray(x)
    if array.dtype.kind == "c":
        raise DataError(
            f"X has dtype {array.dtype}: Complex data not supported (expected real numbers)"
        )
    if array.ndim == 2 and array.shape[1] == 0:
        raise DataError(
            f"X has 0 feature(s) (shape={array.shape}) while a minimum of 1 is required."
        )
    if array.ndim == 2 and tables.needs_encoding(array):
        return tables.table_from_array(array, feature_names), "vector"
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"X has dtype {array.dtype} and shape {array.shape} (expected numbers, or a 2-D "
            "table of numbers, text and missing values)"
        )
    return array, None


def input_array(x: np.ndarray, input_kind: str) -> tuple[np.ndarray, str]:
    """A numeric array in the layout of its input kind: ``[n, features]``,
    ``[n, length, channels]`` or ``[n, h, w, channels]``."""
    if input_kind not in INPUT_KINDS:
        raise ValueError(f"input_kind={input_kind!r} is invalid: expected one of {INPUT_KINDS}")
    if x.ndim == 1:
        raise DataError(
            f"X has shape {x.shape} (expected 2-D [n_samples, n_features]; reshape a single "
            "feature with X.reshape(-1, 1))"
        )
    if input_kind == "image" and x.ndim == 3:
        x = x[..., None]
    kind = {2: "vector", 3: "sequence", 4: "image"}.get(x.ndim)
    if kind is None:
        raise DataError(
            f"X has shape {x.shape} (expected [n, features], [n, length, channels] or "
            "[n, h, w, channels])"
        )
    if input_kind not in ("auto", kind):
        raise DataError(
            f"X has shape {x.shape}, which is {kind} input, not input_kind={input_kind!r}"
        )
    return x, kind


def source_of(x, y, input_kind: str = "auto") -> tuple[SourceArrays, str, dict]:
    """``(source arrays, input kind, message names)`` of ``fit``'s ``X`` and ``y``
    (``y``: class ids or targets, already numeric)."""
    features, kind = feature_table(x)
    if kind is None:
        features, kind = input_array(features, input_kind)
    count = features.num_rows if isinstance(features, tables.RawTable) else len(features)
    if len(y) != count:
        raise DataError(f"X has {count} rows but y has {len(y)} (expected one label per row)")
    names = {"x": "X", "y": "y", "x_test": "X", "y_test": "y"}
    return SourceArrays(features, np.asarray(y)), kind, names


def data_digest(x, y) -> str:
    """A short hash of the training data (a resumed ``fit`` must see the same data)."""
    digest = hashlib.sha1()
    if is_frame(x) or isinstance(x, tables.RawTable):
        columns = tables.table_from_frame(x).columns if is_frame(x) else x.columns
        for name, cells in columns.items():
            digest.update(str(name).encode())
            digest.update(np.asarray(cells).astype(str).tobytes())
    else:
        array = np.asarray(x)
        digest.update(str(array.shape).encode())
        digest.update(array.astype(str).tobytes() if array.dtype.kind == "O" else array.tobytes())
    digest.update(np.asarray(y).astype(str).tobytes())
    return digest.hexdigest()[:12]

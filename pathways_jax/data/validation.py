"""Checks on configuration values and raw arrays; every failure raises a one-line `DataError`.

Each check takes `source` (the dataset name or file, e.g. 'npz:data/x.npz') and a description
of the field it checks (e.g. "array 'y'"), so messages say where the problem is.
"""

from __future__ import annotations

import numpy as np

from pathways_jax.data.dataset import TASKS, DataError, SourceArrays

TASK_OPTIONS = ("auto", *TASKS)
INPUT_KIND_BY_RANK = {2: "vector", 3: "sequence", 4: "image"}
# 'auto' treats float targets as class ids only if they are integral with at most this many
# distinct values; integer dtypes are always class ids.
MAX_AUTO_CLASSES = 100


def check_fraction(source: str, field: str, value: object) -> float:
    """Returns `value` as a float, requiring 0 < value < 1."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise DataError(f"{source}: {field}={value!r} (expected a number in (0, 1))")
    if not 0.0 < float(value) < 1.0:
        raise DataError(f"{source}: {field}={value!r} is outside (0, 1) (expected 0 < {field} < 1)")
    return float(value)


def check_int(source: str, field: str, value: object, minimum: int) -> int:
    """Returns `value` as an int, requiring an integer (not bool) >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise DataError(f"{source}: {field}={value!r} (expected an integer >= {minimum})")
    return int(value)


def check_task_option(source: str, task: object) -> str:
    """Returns `task`, requiring one of 'auto', 'classification', 'regression'."""
    if task not in TASK_OPTIONS:
        raise DataError(f"{source}: task={task!r} (expected one of {', '.join(TASK_OPTIONS)})")
    return str(task)


def _check_numeric(source: str, what: str, array: np.ndarray) -> None:
    dtype = array.dtype
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise DataError(f"{source}: {what} has dtype {dtype} (expected integer or float numbers)")


def _check_finite(source: str, what: str, array: np.ndarray) -> None:
    if np.issubdtype(array.dtype, np.integer):
        return
    num_nan = int(np.isnan(array).sum())
    num_inf = int(np.isinf(array).sum())
    if num_nan or num_inf:
        raise DataError(
            f"{source}: {what} has {num_nan} NaN and {num_inf} inf values "
            f"(expected finite numbers within float32 range)"
        )


def check_features(source: str, what: str, x: np.ndarray) -> np.ndarray:
    """Validates features and returns them as float32.

    Args:
      x: numeric array of rank 2 [n, features], 3 [n, length, channels] or
        4 [n, height, width, channels], non-empty and finite in float32.

    Returns:
      float32 array of the same shape.
    """
    x = np.asarray(x)
    _check_numeric(source, what, x)
    if x.ndim not in INPUT_KIND_BY_RANK:
        raise DataError(
            f"{source}: {what} has rank {x.ndim} with shape {x.shape} "
            f"(expected rank 2 [n, features], 3 [n, length, channels] or 4 [n, h, w, channels])"
        )
    if x.size == 0:
        raise DataError(f"{source}: {what} has shape {x.shape} and is empty (expected values)")
    with np.errstate(over="ignore"):
        x = x.astype(np.float32)
    _check_finite(source, what, x)
    return x


def check_targets(source: str, what: str, y: np.ndarray, x_what: str, num_rows: int) -> np.ndarray:
    """Validates labels or targets: numeric, rank 1, one per row of x, finite.

    Returns:
      y unchanged in dtype, [num_rows].
    """
    y = np.asarray(y)
    _check_numeric(source, what, y)
    if y.ndim != 1:
        raise DataError(f"{source}: {what} has shape {y.shape} (expected rank 1 [n])")
    if len(y) != num_rows:
        raise DataError(
            f"{source}: {what} has {len(y)} entries but {x_what} has {num_rows} "
            f"(expected one label per row of {x_what})"
        )
    if np.issubdtype(y.dtype, np.floating):
        with np.errstate(over="ignore"):
            _check_finite(source, what, y.astype(np.float32))
    return y


def input_kind_for_rank(rank: int) -> str:
    """'vector' for rank-2 x, 'sequence' for rank 3, 'image' for rank 4."""
    return INPUT_KIND_BY_RANK[rank]


def infer_task(y: np.ndarray) -> str:
    """The task that `task='auto'` picks for targets `y` [n].

    Classification if y has an integer dtype, or is float with every value integral and at
    most `MAX_AUTO_CLASSES` distinct values; regression otherwise.
    """
    if np.issubdtype(y.dtype, np.integer):
        return "classification"
    if np.all(y == np.round(y)) and len(np.unique(y)) <= MAX_AUTO_CLASSES:
        return "classification"
    return "regression"


def check_class_labels(source: str, what: str, y: np.ndarray) -> np.ndarray:
    """Validates class ids (non-negative integers below 2**31) and returns them as int32 [n]."""
    if np.issubdtype(y.dtype, np.floating):
        non_integral = int(np.sum(y != np.round(y)))
        if non_integral:
            raise DataError(
                f"{source}: {what} has {non_integral} non-integer values, e.g. "
                f"{y[y != np.round(y)][0].item()!r} (expected class ids 0..K-1, "
                f"or set task='regression')"
            )
    if np.any(y < 0):
        raise DataError(
            f"{source}: {what} has {int(np.sum(y < 0))} negative values, e.g. "
            f"{y[y < 0][0].item()!r} (expected class ids 0..K-1, or set task='regression')"
        )
    if np.any(y >= 2**31):
        raise DataError(f"{source}: {what} has values >= 2**31 (expected class ids 0..K-1)")
    return y.astype(np.int32)


def count_classes(source: str, what: str, *labels: np.ndarray) -> int:
    """Returns K = max label + 1 over all `labels` (int32 arrays), requiring >= 2 distinct."""
    all_labels = np.concatenate(labels)
    distinct = np.unique(all_labels)
    if len(distinct) < 2:
        raise DataError(
            f"{source}: {what} has {len(distinct)} distinct class {distinct.tolist()} "
            f"(expected at least 2 classes for classification)"
        )
    return int(distinct[-1]) + 1


def check_source_arrays(
    source: str, arrays: SourceArrays, names: dict[str, str], task: str
) -> tuple[SourceArrays, str, int]:
    """Validates all of a source's arrays and resolves task 'auto' from its (train) targets.

    Args:
      arrays: as the source provides them.
      names: how messages call each of 'x', 'y', 'x_test', 'y_test', e.g. "array 'x_train'".
      task: 'auto', 'classification' or 'regression'.

    Returns:
      (arrays with x float32 and y int32 class ids or float32 targets, task, num_classes),
      num_classes being 0 for regression.
    """
    x = check_features(source, names["x"], arrays.x)
    y = check_targets(source, names["y"], arrays.y, names["x"], len(x))
    x_test = y_test = None
    if arrays.has_test_split:
        x_test = check_features(source, names["x_test"], arrays.x_test)
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(
                f"{source}: {names['x_test']} has shape {x_test.shape} but {names['x']} has "
                f"{x.shape} (expected the same shape per example)"
            )
        y_test = check_targets(source, names["y_test"], arrays.y_test, names["x_test"], len(x_test))
    task = infer_task(y) if task == "auto" else task
    if task == "regression":
        y_test = None if y_test is None else y_test.astype(np.float32)
        return SourceArrays(x, y.astype(np.float32), x_test, y_test), task, 0
    y = check_class_labels(source, names["y"], y)
    labels = [y]
    if y_test is not None:
        y_test = check_class_labels(source, names["y_test"], y_test)
        labels.append(y_test)
    return SourceArrays(x, y, x_test, y_test), task, count_classes(source, names["y"], *labels)

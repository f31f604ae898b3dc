"""The `Dataset` container, the raw arrays a source provides, and `DataError`."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

TASKS = ("classification", "regression")
INPUT_KINDS = ("vector", "sequence", "image")


class DataError(ValueError):
    """A dataset could not be loaded or failed validation.

    Messages are one line: they name the dataset or file, the offending field or array,
    and the expected form. Line breaks in a message are replaced by spaces.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).splitlines()))


class SourceArrays(NamedTuple):
    """Arrays exactly as a source provides them, before validation and splitting.

    Attributes:
      x: features, any numeric dtype, [n, *input_shape].
      y: labels or targets, any numeric dtype, [n].
      x_test: features of the source's own test split, or None if it has none.
      y_test: labels or targets of that test split, or None.
    """

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None

    @property
    def has_test_split(self) -> bool:
        return self.x_test is not None


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A validated dataset split into train, validation and test parts.

    Attributes:
      name: the dataset name as configured, e.g. 'mnist1d' or 'npz:data/x.npz'.
      task: 'classification' or 'regression'.
      input_kind: 'vector' (x is [n, features]), 'sequence' ([n, length, channels]) or
        'image' ([n, height, width, channels]).
      num_classes: number of classes for classification; 0 for regression.
      x_train, x_val, x_test: float32 [n_split, *input_shape].
      y_train, y_val, y_test: int32 [n_split] class ids in 0..num_classes-1 (classification)
        or float32 [n_split] standardised targets (regression).
      target_mean, target_std: regression targets were standardised as
        (y - target_mean) / target_std; `y * target_std + target_mean` undoes it.
      input_mean, input_std: float64 [*input_shape] when inputs were standardised
        as (x - input_mean) / input_std (vector features), else None.
      encoding: how raw table rows became x (``data.table_encoding``: imputed,
        one-hot or ordinal, standardised), or None for a numeric source.
      class_names: the class names of text labels (class id i is
        ``class_names[i]``), or None.
      raw_test: the test rows as the source gave them (``{column: cells}``)
        when ``encoding`` is set, for exported code to be checked on raw rows.
    """

    name: str
    task: str
    input_kind: str
    num_classes: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    target_mean: float = 0.0
    target_std: float = 1.0
    input_mean: np.ndarray | None = None
    input_std: np.ndarray | None = None
    encoding: dict | None = None
    class_names: tuple | None = None
    raw_test: dict | None = None

    def __post_init__(self):
        if self.task not in TASKS:
            raise DataError(f"{self.name}: task={self.task!r} (expected one of {TASKS})")
        if self.input_kind not in INPUT_KINDS:
            raise DataError(
                f"{self.name}: input_kind={self.input_kind!r} (expected one of {INPUT_KINDS})"
            )
        for split in ("train", "val", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.shape[1:] != self.x_train.shape[1:] or y.shape != x.shape[:1]:
                raise DataError(
                    f"{self.name}: x_{split} has shape {x.shape} and y_{split} {y.shape} "
                    f"(expected [n, *{self.x_train.shape[1:]}] and [n])"
                )

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one example, e.g. (40, 1) for mnist1d."""
        return tuple(self.x_train.shape[1:])

    @property
    def num_outputs(self) -> int:
        """Width of the model's output layer: num_classes, or 1 for regression."""
        return self.num_classes if self.task == "classification" else 1

    def summary(self) -> str:
        """One line describing the dataset, e.g. for logs."""
        target = f"{self.num_classes} classes" if self.task == "classification" else "1 target"
        sizes = f"{len(self.y_train)}/{len(self.y_val)}/{len(self.y_test)}"
        return (
            f"{self.name}: {self.task}, {self.input_kind} input {list(self.input_shape)}, "
            f"{target}, train/val/test {sizes}"
        )

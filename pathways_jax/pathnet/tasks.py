"""Binary classification tasks for PathNet: class pairs of an offline dataset.

As the paper's binary MNIST tasks, a task is two classes ``(a, b)`` of a
dataset (MNIST-1D or digits here), relabelled ``a -> 0`` and ``b -> 1``, with
optional salt-and-pepper noise: each input value is replaced, with probability
``noise``, by the minimum or the maximum (equally likely) that this feature
takes over the training split. The noise is drawn once per task from its seed,
so a task is the same arrays every time.

Every task of a dataset is padded to the same capacity (the dataset's split
sizes), so one compiled round program serves every pair.
"""

from __future__ import annotations

import dataclasses

import flax.struct
import jax.numpy as jnp
import numpy as np

from pathways_jax.data import DataError, Dataset


@flax.struct.dataclass
class TaskData:
    """One binary task as fixed-shape device arrays.

    Attributes:
      x_train: float32 ``[capacity_train, *input_shape]``, the first
        ``num_train`` rows are the task's examples, the rest zeros.
      y_train: int32 ``[capacity_train]`` labels 0/1.
      num_train: int32 scalar, examples of the task (minibatches draw from these).
      x_val, y_val: the validation split, padded likewise.
      val_weight: float32 ``[capacity_val]``, ``1 / num_val`` on real rows, 0 on padding.
      x_test, y_test, test_weight: the test split, padded likewise.
    """

    x_train: jnp.ndarray
    y_train: jnp.ndarray
    num_train: jnp.ndarray
    x_val: jnp.ndarray
    y_val: jnp.ndarray
    val_weight: jnp.ndarray
    x_test: jnp.ndarray
    y_test: jnp.ndarray
    test_weight: jnp.ndarray


def check_pair(dataset: Dataset, pair, field: str) -> tuple[int, int]:
    """``pair`` as two distinct class ids of ``dataset`` (a one-line error names ``field``)."""
    valid = (
        isinstance(pair, (tuple, list))
        and len(pair) == 2
        and all(isinstance(c, (int, np.integer)) and 0 <= c < dataset.num_classes for c in pair)
        and pair[0] != pair[1]
    )
    if dataset.task != "classification":
        raise DataError(f"{dataset.name}: PathNet tasks need a classification dataset")
    if not valid:
        raise DataError(
            f"{field}={pair!r} (expected two different class ids of {dataset.name} "
            f"in [0, {dataset.num_classes}), e.g. (3, 8))"
        )
    return int(pair[0]), int(pair[1])


def _salt_and_pepper(x: np.ndarray, low, high, noise: float, rng) -> np.ndarray:
    if noise <= 0:
        return x
    hit = rng.random(x.shape) < noise
    salt = rng.random(x.shape) < 0.5
    replaced = np.where(salt, np.broadcast_to(high, x.shape), np.broadcast_to(low, x.shape))
    return np.where(hit, replaced, x).astype(np.float32)


def _padded(x: np.ndarray, y: np.ndarray, capacity: int):
    x_out = np.zeros((capacity, *x.shape[1:]), np.float32)
    y_out = np.zeros((capacity,), np.int32)
    x_out[: len(x)], y_out[: len(y)] = x, y
    weight = np.zeros((capacity,), np.float32)
    weight[: len(y)] = 1.0 / max(len(y), 1)
    return x_out, y_out, weight


def binary_task(dataset: Dataset, pair, *, noise: float = 0.0, seed: int = 0) -> TaskData:
    """The task "class ``pair[0]`` (label 0) vs class ``pair[1]`` (label 1)".

    Args:
      dataset: a classification ``Dataset``.
      pair: two class ids.
      noise: salt-and-pepper probability per input value, in [0, 1).
      seed: seed of the noise.

    Returns:
      ``TaskData`` padded to the dataset's split sizes.
    """
    first, second = check_pair(dataset, pair, "pair")
    if not 0.0 <= noise < 1.0:
        raise DataError(f"noise={noise!r} (expected a probability in [0, 1))")
    rng = np.random.default_rng([seed, first, second])
    low = dataset.x_train.min(axis=0)
    high = dataset.x_train.max(axis=0)
    splits = []
    for split in ("train", "val", "test"):
        x, y = getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")
        keep = (y == first) | (y == second)
        if not keep.any():
            raise DataError(
                f"{dataset.name}: the {split} split has no examples of classes {first} and {second}"
            )
        x_task = _salt_and_pepper(x[keep].astype(np.float32), low, high, noise, rng)
        splits.append(_padded(x_task, (y[keep] == second).astype(np.int32), len(y)))
        if split == "train":
            num_train = int(keep.sum())
    (x_train, y_train, _), (x_val, y_val, val_weight), (x_test, y_test, test_weight) = splits
    return TaskData(
        x_train=jnp.asarray(x_train),
        y_train=jnp.asarray(y_train),
        num_train=jnp.asarray(num_train, jnp.int32),
        x_val=jnp.asarray(x_val),
        y_val=jnp.asarray(y_val),
        val_weight=jnp.asarray(val_weight),
        x_test=jnp.asarray(x_test),
        y_test=jnp.asarray(y_test),
        test_weight=jnp.asarray(test_weight),
    )


@dataclasses.dataclass
class BinaryTask:
    """One task of a PathNet task sequence: its arrays and what it is.

    Attributes:
      arrays: the padded :class:`TaskData`.
      pair: the two class ids (label 0, label 1).
      dataset: the dataset's name.
    """

    arrays: TaskData
    pair: tuple[int, int]
    dataset: str

    @property
    def description(self) -> str:
        return f"classes {self.pair[0]} (label 0) vs {self.pair[1]} (label 1) of {self.dataset}"

    def summary(self) -> str:
        return self.description

    def __getattr__(self, name):  # x_test, test_weight, ... of the arrays.
        if name == "arrays":
            raise AttributeError(name)
        return getattr(self.arrays, name)

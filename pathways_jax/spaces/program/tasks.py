"""The tasks programs learn: AutoML-Zero's task generators, deterministic by seed.

A task is a small supervised problem (training and validation examples of
``F`` features and a scalar label). A search uses three disjoint sets, drawn
from different seeds: the **search** tasks (the fitness evolution sees), the
**selection** tasks (the finalists are compared on them) and the **final**
tasks (the chosen program is evaluated on them once, like a test split).

Kinds:

- ``linear``: ``y = w . x``, ``x ~ N(0, I)``, a weight vector ``w ~ N(0, I)``
  per task (the paper's scalar linear regression).
- ``nonlinear``: ``y = u . relu(W x)``, ``W`` ``[F, F]`` and ``u`` ``[F]``
  normal with rows 0 and 2 of ``W`` and entries 0 and 2 of ``u`` zero, per
  task (the paper's 2-layer network regression).
- ``projected``: binary classification between two classes of a dataset of
  the framework (``digits`` or ``mnist1d``), the inputs projected to ``F``
  dimensions by a random Gaussian matrix per task and standardised, labels 0
  and 1 (the paper projects pairs of CIFAR-10 classes). Each task draws its
  pair of classes; training examples come from the dataset's training split,
  validation examples of search and selection tasks from its validation split,
  and those of final tasks from its test split.
"""

from __future__ import annotations

import dataclasses
import functools

import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.program.interpreter import Tasks

KINDS = ("linear", "nonlinear", "projected")
SETS = ("search", "selection", "final")
_SET_OFFSETS = {"search": 0, "selection": 1_000_000, "final": 2_000_000}


@dataclasses.dataclass(frozen=True)
class TaskSettings:
    """How a search's task sets are generated.

    Attributes:
      kind: one of :data:`KINDS`.
      feature_size: ``F``.
      num_train, num_valid: examples per search task.
      final_num_train, final_num_valid: examples per selection and final task.
      num_search, num_selection, num_final: tasks per set.
      seed: the base seed of every set (each set and task offsets it).
      dataset: the dataset of ``projected`` tasks (``'digits'`` or ``'mnist1d'``).
    """

    kind: str = "linear"
    feature_size: int = 4
    num_train: int = 100
    num_valid: int = 100
    final_num_train: int = 1000
    final_num_valid: int = 100
    num_search: int = 10
    num_selection: int = 100
    num_final: int = 100
    seed: int = 0
    dataset: str = "digits"

    @property
    def classification(self) -> bool:
        return self.kind == "projected"

    def size(self, which: str) -> tuple[int, int, int]:
        """``(tasks, train examples, validation examples)`` of a set."""
        if which == "search":
            return self.num_search, self.num_train, self.num_valid
        count = self.num_selection if which == "selection" else self.num_final
        return count, self.final_num_train, self.final_num_valid


def _regression_task(kind: str, rng: np.random.Generator, size: int, count: int):
    x = rng.standard_normal((count, size)).astype(np.float32)
    if kind == "linear":
        weights = rng.standard_normal(size).astype(np.float32)
        return x, x @ weights
    hidden = rng.standard_normal((size, size)).astype(np.float32)
    readout = rng.standard_normal(size).astype(np.float32)
    hidden[[i for i in (0, 2) if i < size]] = 0.0
    readout[[i for i in (0, 2) if i < size]] = 0.0
    return x, np.maximum(x @ hidden.T, 0.0) @ readout


@functools.lru_cache(maxsize=4)
def _projected_source(dataset: str, seed: int):
    """The dataset's splits, flattened (loaded once for a search's three task sets)."""
    from pathways_jax import data

    config = data.default_dataset_config()
    config.name = dataset
    loaded = data.load_dataset(config, seed=seed)
    flat = lambda x: np.asarray(x, np.float32).reshape(x.shape[0], -1)
    splits = {
        "train": (flat(loaded.x_train), np.asarray(loaded.y_train)),
        "val": (flat(loaded.x_val), np.asarray(loaded.y_val)),
        "test": (flat(loaded.x_test), np.asarray(loaded.y_test)),
    }
    return splits, int(loaded.num_classes)


def _projected_task(source, which: str, rng, settings: TaskSettings, num_train, num_valid):
    splits, num_classes = source
    positive, negative = rng.choice(num_classes, 2, replace=False)
    dim = splits["train"][0].shape[1]
    projection = (rng.standard_normal((dim, settings.feature_size)) / np.sqrt(dim)).astype(
        np.float32
    )

    def examples(split: str, count: int):
        x, y = splits[split]
        pool = np.flatnonzero((y == positive) | (y == negative))
        if pool.size < count:
            raise ValueError(
                f"config.evaluator.tasks: the {split} split of {settings.dataset} has "
                f"{pool.size} examples of classes {positive} and {negative}, fewer than "
                f"the {count} a task needs"
            )
        chosen = rng.choice(pool, count, replace=False)
        return x[chosen] @ projection, (y[chosen] == positive).astype(np.float32)

    x_train, y_train = examples("train", num_train)
    x_valid, y_valid = examples("test" if which == "final" else "val", num_valid)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6
    return (x_train - mean) / std, y_train, (x_valid - mean) / std, y_valid


def make_tasks(settings: TaskSettings, which: str) -> Tasks:
    """The task set ``which`` (``'search'``, ``'selection'`` or ``'final'``)."""
    count, num_train, num_valid = settings.size(which)
    base = settings.seed + _SET_OFFSETS[which]
    source = _projected_source(settings.dataset, settings.seed) if settings.classification else None
    columns = {name: [] for name in ("x_train", "y_train", "x_valid", "y_valid")}
    for index in range(count):
        rng = np.random.default_rng([base, index])
        if settings.classification:
            task = _projected_task(source, which, rng, settings, num_train, num_valid)
        else:
            x, y = _regression_task(
                settings.kind, rng, settings.feature_size, num_train + num_valid
            )
            task = x[:num_train], y[:num_train], x[num_train:], y[num_train:]
        for name, value in zip(columns, task, strict=True):
            columns[name].append(np.asarray(value, np.float32))
    seeds = np.asarray([(base * 7919 + index) % 2**32 for index in range(count)], np.uint32)
    return Tasks(
        **{name: jnp.asarray(np.stack(v)) for name, v in columns.items()}, seeds=jnp.asarray(seeds)
    )

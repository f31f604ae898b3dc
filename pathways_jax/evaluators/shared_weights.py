"""The evaluator whose candidates share one set of weights: PathNet.

Every round's pathways train together on the shared module weights for
``steps_per_round`` minibatches (:func:`pathways_jax.pathnet.training.train_round`)
and are scored by their training (or validation) accuracy; the weights, their
optimizer state and the frozen modules are carried from round to round, and
saved in every checkpoint. ``finalize`` scores the finalists with the final
weights on validation, chooses one and tests it once; nothing is retrained
(the product is the shared weights). A task sequence (PathNet's transfer,
:mod:`pathways_jax.pathnet.transfer`) starts a task's evaluator from the
previous task's weights with :meth:`SharedWeights.start_from`.
"""

from __future__ import annotations

import jax
import numpy as np

from pathways_jax.core.records import metric_rows
from pathways_jax.pathnet import training
from pathways_jax.runs import compilations

_TRAIN_TRACES = compilations.TraceCounter(training.train_round)
_train_round = jax.jit(_TRAIN_TRACES, static_argnums=(0, 1))


class SharedWeights:
    """Trains each round's pathways on the shared weights (see the module doc).

    Args:
      space: a :class:`~pathways_jax.spaces.pathnet.PathNetSpace`.
      task: the :class:`~pathways_jax.pathnet.tasks.BinaryTask` learnt.
      settings: :class:`~pathways_jax.pathnet.training.RoundSettings`.
      key: PRNG key of the initial weights (unused with ``weights``).
      weights: the shared weights to start from (``training.initial_weights``
        layout), instead of fresh ones.
    """

    def __init__(self, space, task, settings: training.RoundSettings, key, weights=None):
        self.space, self.data, self.settings = space, task, settings
        if weights is None:
            weights = training.initial_weights(space, settings, key)
        self.weights = weights

    @property
    def compilations(self) -> int:
        return _TRAIN_TRACES.count

    def start_from(self, weights: dict) -> None:
        """Start from given shared weights (a previous task's, transferred)."""
        self.weights = weights

    def evaluate(self, plan, keys, num_real: int, ids) -> list[dict]:
        """Train the round's pathways together: metrics of the first ``num_real``."""
        del ids
        self.weights, metrics = _train_round(
            self.space, self.settings, self.weights, plan.trained, self.data.arrays, keys[0]
        )
        return metric_rows(jax.device_get(metrics), num_real)

    def finalize(self, finalists: list[dict], latest: dict, key) -> tuple[dict, dict, dict]:
        """The finalist with the best validation accuracy under the final
        weights, tested once: ``(final, chosen record, the shared params)``."""
        del latest, key
        genomes = np.stack([np.asarray(self.space.from_json(r["genome"])) for r in finalists])
        scores = jax.device_get(
            training.evaluate_pathways(
                self.space, self.weights["params"], genomes, self.data.arrays
            )
        )
        chosen = int(np.argmax(scores["val_accuracy"]))
        accuracy = lambda name: {"accuracy": float(scores[name][chosen])}
        final = {
            "retrained_ids": [],
            "retrained_validation_fitness": [],
            "validation_accuracies": [float(v) for v in scores["val_accuracy"]],
            "diverged": False,
            "validation": accuracy("val_accuracy"),
            "test": accuracy("test_accuracy"),
            "frozen_modules": (~np.asarray(self.weights["trainable"])).astype(int).tolist(),
        }
        return final, finalists[chosen], jax.device_get(self.weights["params"])

    def carried(self) -> dict:
        """The shared weights, their optimizer state and the frozen modules."""
        return self.weights

    def restore(self, carried: dict) -> None:
        self.weights = carried

    def steps_of(self, record: dict) -> int:
        del record
        return self.settings.steps_per_round

    def admission(self, notes: list[dict]) -> dict:
        del notes
        return {}

"""The evaluator of spaces whose fitness is a pure function of the genome.

Benchmarks with a known optimum (bit strings, integer vectors, test functions)
and spaces whose candidates need no training implement one hook,
``metrics(key, genome) -> dict[str, scalar]`` (jit-able, ``fitness`` among the
metrics, higher is better); the evaluator vmaps it over a round in one
compiled program. A space may add ``test_metrics(key, genome)`` for the
single final evaluation (e.g. a noise-free or held-out score); without it the
final test repeats ``metrics`` with the final key.
"""

from __future__ import annotations

import jax
import numpy as np

from pathways_jax.core.records import metric_rows
from pathways_jax.runs import compilations


class FunctionEvaluator:
    """Scores a round with the space's ``metrics`` hook (nothing is trained)."""

    data = None

    def __init__(self, space):
        if not hasattr(space, "metrics"):
            raise ValueError(
                f"evaluator 'function' needs a space with a metrics(key, genome) hook; "
                f"{type(space).__name__} has none"
            )
        self.space = space
        self._counter = compilations.TraceCounter(lambda keys, genomes: self._round(keys, genomes))
        self._score = jax.jit(self._counter)
        test = getattr(space, "test_metrics", space.metrics)
        self._test = jax.jit(test)

    def _round(self, keys, genomes):
        return jax.vmap(self.space.metrics)(keys, genomes)

    @property
    def compilations(self) -> int:
        return self._counter.count

    def evaluate(self, plan, keys, num_real: int, ids) -> list[dict]:
        del ids
        columns = jax.device_get(self._score(keys, plan.trained))
        rows = metric_rows(columns, num_real)
        for row in rows:
            if not np.isfinite(row["fitness"]):
                row["fitness"] = float("-inf")
                row["reason"] = "fitness is NaN or infinite"
        return rows

    def finalize(self, finalists: list[dict], latest: dict, key) -> tuple[dict, dict, None]:
        """The best finalist by its search fitness, scored once by ``test_metrics``."""
        del latest
        chosen = finalists[0]
        genome = self.space.from_json(chosen["genome"])
        test = jax.device_get(self._test(key, genome))
        final = {
            "retrained_ids": [],
            "retrained_validation_fitness": [],
            "diverged": False,
            "validation": dict(chosen["metrics"]),
            "test": {name: float(value) for name, value in test.items()},
        }
        return final, chosen, None

    def carried(self) -> tuple:
        return ()

    def restore(self, carried) -> None:
        del carried

    def steps_of(self, record: dict) -> int:
        del record
        return 0

    def admission(self, notes: list[dict]) -> dict:
        del notes
        return {}

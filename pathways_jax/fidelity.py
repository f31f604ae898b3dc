"""Training a round at full fidelity, or behind a hurdle.

With ``fidelity.hurdle_steps = 0`` every child of a round trains for
``train.steps``. With a hurdle (multi-fidelity, as AutoML-Zero's hurdles and
one rung of successive halving), every child first trains for
``fidelity.hurdle_steps``; only the best ``fidelity.keep_fraction`` of the
round (by that short-training fitness) is then trained for ``train.steps``
and judged by it, the others keep their short-training fitness. The full
stage trains from scratch with the same key, so a candidate that passes the
hurdle gets exactly the metrics it would get without one.

Two compiled programs, each of fixed shape (``round_size`` hurdle slots,
``ceil(keep_fraction * round_size)`` full slots), so the compile count stays
flat. Steps are counted per trained candidate and logged with the candidates.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from pathways_jax import genome
from pathways_jax.population_program import PopulationProgram

HURDLE = "hurdle"


class RoundTrainer:
    """Trains and evaluates the ``trained`` genomes of a round plan."""

    def __init__(self, space, config, mesh):
        backend, width = config.parallel.backend, config.parallel.vmap_width
        self.steps = config.train.steps
        self.hurdle_steps = int(config.fidelity.hurdle_steps)
        self.full = PopulationProgram(space, self.steps, mesh, backend, width)
        self.hurdle = None
        self.full_slots = config.parallel.round_size
        if self.hurdle_steps:
            self.hurdle = PopulationProgram(space, self.hurdle_steps, mesh, backend, width)
            fraction = float(config.fidelity.keep_fraction)
            self.full_slots = max(1, math.ceil(fraction * config.parallel.round_size))

    @property
    def compilations(self) -> int:
        """Traces of the population programs (one each)."""
        return self.full.compilations + (self.hurdle.compilations if self.hurdle else 0)

    def steps_of(self, record: dict) -> int:
        """Training steps a history record cost (0 for a cache hit)."""
        if "cache_hit_of" in record:
            return 0
        if not self.hurdle_steps:
            return self.steps
        return self.hurdle_steps + (0 if record.get("fidelity") == HURDLE else self.steps)

    def carried(self) -> tuple:
        """Nothing is carried from round to round (every child trains afresh)."""
        return ()

    def restore(self, carried: tuple) -> None:
        del carried

    def __call__(
        self, plan, keys, num_real, train_inputs, train_targets, eval_sets, ids=None
    ) -> dict:
        """Host metrics ``[round_size]`` of the round; children stopped at the
        hurdle get ``plan.notes[i]['fidelity'] = 'hurdle'``. (``ids`` are not
        needed: a child's training depends only on its key.)"""
        if self.hurdle is None:
            return self.full(plan.trained, keys, train_inputs, train_targets, eval_sets)
        metrics = self.hurdle(plan.trained, keys, train_inputs, train_targets, eval_sets)
        fitness = np.where(
            np.isfinite(metrics["eval"][0]["fitness"]), metrics["eval"][0]["fitness"], -np.inf
        )
        eligible = [i for i in range(num_real) if plan.cached[i] is None]
        ranked = sorted(eligible, key=lambda i: (-fitness[i], i))
        passed = sorted(ranked[: self.full_slots])
        for slot in eligible:
            if slot not in passed:
                plan.notes[slot]["fidelity"] = HURDLE
        if not passed:
            return metrics
        slots = np.asarray(passed + [passed[0]] * (self.full_slots - len(passed)))
        full = self.full(
            genome.index_population(plan.trained, slots),
            keys[slots],
            train_inputs,
            train_targets,
            eval_sets,
        )

        def merge(short, long):
            merged = np.array(short)
            merged[passed] = np.asarray(long)[: len(passed)]
            return merged

        return jax.tree_util.tree_map(merge, metrics, full)

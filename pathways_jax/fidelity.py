"""Training a round at full fidelity, or behind hurdles (successive halving).

With ``fidelity.hurdle_steps = 0`` every child of a round trains for
``train.steps``. With a hurdle (multi-fidelity, as AutoML-Zero's hurdles),
every child first trains for ``fidelity.hurdle_steps``; only the best
``fidelity.keep_fraction`` of the round (by that short-training fitness) is
then trained for ``train.steps`` and judged by it, the others keep their
short-training fitness. With several hurdles, ``fidelity.rung_steps = (s1,
s2, ...)`` increasing, this is successive halving: after each rung the best
``keep_fraction`` of the survivors go on to the next, longer rung, and the
last survivors train for ``train.steps``. Every stage trains from scratch with
the same key, so a candidate that passes gets exactly the metrics it would get
without hurdles.

One compiled program per stage, each of fixed shape (``round_size`` slots for
the first, ``ceil(keep_fraction**k * round_size)`` for stage ``k``), so the
compile count stays flat. A child stopped by a hurdle is marked
``"fidelity": "hurdle"`` with ``"rung"``, the index of the last rung it
trained; steps are counted per trained candidate and logged with them.
Stopped children do not join the strategy's population unless
``fidelity.stopped_join_population`` (the search passes ``admitted`` to
``tell``), so tournaments compare fully trained members only.
"""

from __future__ import annotations

import math

import jax
import numpy as np

from pathways_jax import genome
from pathways_jax.population_program import PopulationProgram

HURDLE = "hurdle"


def rung_steps(fidelity) -> tuple[int, ...]:
    """The hurdles' step counts of a ``config.fidelity`` (``()``: none)."""
    if fidelity.hurdle_steps:
        return (int(fidelity.hurdle_steps),)
    return tuple(int(steps) for steps in fidelity.rung_steps)


def admission(fidelity, notes: list[dict]) -> dict:
    """Keyword arguments for ``strategy.tell``: ``{'admitted': bool [round_size]}``
    keeping the children a hurdle stopped (by their ``notes``) out of the
    population; ``{}`` without hurdles or with ``stopped_join_population``."""
    if not rung_steps(fidelity) or fidelity.stopped_join_population:
        return {}
    return {"admitted": np.asarray([note.get("fidelity") != HURDLE for note in notes])}


class RoundTrainer:
    """Trains and evaluates the ``trained`` genomes of a round plan."""

    def __init__(self, space, config, mesh):
        backend, width = config.parallel.backend, config.parallel.vmap_width
        self.steps = config.train.steps
        self.rungs = rung_steps(config.fidelity)
        round_size = config.parallel.round_size
        fraction = float(config.fidelity.keep_fraction)
        # (steps, slots) of every stage: the rungs, then full training.
        self.stages = [
            (steps, round_size if k == 0 else max(1, math.ceil(fraction**k * round_size)))
            for k, steps in enumerate((*self.rungs, self.steps))
        ]
        classes = config.parallel.shape_classes
        self.programs = [
            PopulationProgram(space, steps, mesh, backend, width, classes)
            for steps, _ in self.stages
        ]
        self.full = self.programs[-1]

    @property
    def compilations(self) -> int:
        """Traces of the population programs (one each)."""
        return sum(program.compilations for program in self.programs)

    def steps_of(self, record: dict) -> int:
        """Training steps a history record cost (0 for a cache hit)."""
        if "cache_hit_of" in record:
            return 0
        if record.get("fidelity") == HURDLE:
            return sum(self.rungs[: record.get("rung", 0) + 1])
        return sum(self.rungs) + self.steps

    def carried(self) -> tuple:
        """Nothing is carried from round to round (every child trains afresh)."""
        return ()

    def restore(self, carried: tuple) -> None:
        del carried

    def __call__(
        self, plan, keys, num_real, train_inputs, train_targets, eval_sets, ids=None
    ) -> dict:
        """Host metrics ``[round_size]`` of the round; children stopped at a
        hurdle get ``plan.notes[i]['fidelity'] = 'hurdle'`` and ``['rung']``.
        (``ids`` are not needed: a child's training depends only on its key.)"""
        shared = (train_inputs, train_targets, eval_sets)
        metrics = self.programs[0](plan.trained, keys, *shared)
        survivors = [i for i in range(num_real) if plan.cached[i] is None]
        for stage, (program, (_, slots)) in enumerate(
            zip(self.programs[1:], self.stages[1:], strict=True)
        ):
            fitness = metrics["eval"][0]["fitness"]
            fitness = np.where(np.isfinite(fitness), fitness, -np.inf)
            ranked = sorted(survivors, key=lambda i: (-fitness[i], i))
            passed = sorted(ranked[:slots])
            for slot in survivors:
                if slot not in passed:
                    plan.notes[slot].update(fidelity=HURDLE, rung=stage)
            if not passed:
                break
            chosen = np.asarray(passed + [passed[0]] * (slots - len(passed)))
            longer = program(genome.index_population(plan.trained, chosen), keys[chosen], *shared)

            def merge(short, long, passed=passed):
                merged = np.array(short)
                merged[passed] = np.asarray(long)[: len(passed)]
                return merged

            metrics = jax.tree_util.tree_map(merge, metrics, longer)
            survivors = passed
        return metrics

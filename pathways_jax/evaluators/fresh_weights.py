"""The evaluator that trains every child from fresh weights, at full fidelity
or behind hurdles, and retrains the finalists at the end.

A round is trained by the population programs of
:mod:`pathways_jax.population_program` (one compiled program per shape class
and stage). With hurdles (:mod:`pathways_jax.fidelity`) every child first
trains the rung steps, and only the best ``keep_fraction`` goes on; every
stage trains from scratch with the same key, so a candidate that passes gets
exactly the metrics it would get without hurdles. ``finalize`` retrains the
``top_k`` finalists for ``final_steps`` (:mod:`.final_training`), chooses on
validation and evaluates that one, once, on the test split.
"""

from __future__ import annotations

import dataclasses
import math
import statistics

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax import fidelity
from pathways_jax.core import genomes
from pathways_jax.core.loop import candidate_keys
from pathways_jax.core.records import is_cache_hit
from pathways_jax.evaluators import final_training
from pathways_jax.evaluators.metrics import training_records
from pathways_jax.population_program import PopulationProgram
from pathways_jax.training import trainer

BEHAVIOUR_STEPS = 10  # Training steps of the behaviour fingerprint.
BEHAVIOUR_EXAMPLES = 64  # Validation examples it is measured on.


@dataclasses.dataclass(frozen=True)
class FreshWeightsSettings:
    """Static settings of :class:`FreshWeights`.

    Attributes:
      steps: training steps of every child.
      final_steps: steps to retrain the finalists (0: ``steps``).
      eval_chunk: validation examples evaluated at once.
      round_size: training slots per round.
      rung_steps: the hurdles' steps, increasing (empty: none).
      keep_fraction: share of a stage's survivors that go on to the next.
      stopped_join_population: a child stopped at a hurdle joins the population.
      backend: ``'shard_map'`` or ``'pmap'``.
      vmap_width: candidates vmapped together inside a device.
      shape_classes: ``'none'``, ``'vector'`` or ``'all'``.
    """

    steps: int = 500
    final_steps: int = 0
    eval_chunk: int = 500
    round_size: int = 8
    rung_steps: tuple[int, ...] = ()
    keep_fraction: float = 0.25
    stopped_join_population: bool = False
    backend: str = "shard_map"
    vmap_width: int = 1
    shape_classes: str = "vector"

    @property
    def retrain_steps(self) -> int:
        return self.final_steps or self.steps


def dataset_arrays(dataset, eval_chunk: int):
    """``(train_inputs, train_targets, validation, test)`` device arrays."""
    validation = trainer.make_eval_set(dataset.x_val, dataset.y_val, eval_chunk)
    test = trainer.make_eval_set(dataset.x_test, dataset.y_test, eval_chunk)
    return jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train), validation, test


class FreshWeights:
    """Trains and evaluates each round's children afresh (see the module doc)."""

    def __init__(self, space, data, settings: FreshWeightsSettings, mesh):
        self.space, self.data, self.settings = space, data, settings
        self.rungs = tuple(settings.rung_steps)
        fraction = float(settings.keep_fraction)
        # (steps, slots) of every stage: the rungs, then full training.
        self.stages = [
            (
                steps,
                settings.round_size
                if k == 0
                else max(1, math.ceil(fraction**k * settings.round_size)),
            )
            for k, steps in enumerate((*self.rungs, settings.steps))
        ]
        self.programs = [
            PopulationProgram(
                space, steps, mesh, settings.backend, settings.vmap_width, settings.shape_classes
            )
            for steps, _ in self.stages
        ]
        self.train_inputs, self.train_targets, self.validation, self.test = dataset_arrays(
            data, settings.eval_chunk
        )
        self.num_devices = mesh.size if mesh is not None else 1
        self.mesh = mesh
        self._behaviour_program = None

    def behaviour(self, candidates) -> np.ndarray:
        """float ``[n, k]``: the behaviour cache's signal of ``candidates [n]``:
        the validation metrics on the first ``BEHAVIOUR_EXAMPLES`` validation
        examples after ``BEHAVIOUR_STEPS`` training steps, every candidate from
        the same key (so equal signals mean pathways that learn alike, which
        genes alone miss when they differ where it does not matter). One more
        compiled program per shape class, the first time it is asked for."""
        if self._behaviour_program is None:
            settings = self.settings
            self._behaviour_program = PopulationProgram(
                self.space,
                BEHAVIOUR_STEPS,
                self.mesh,
                settings.backend,
                settings.vmap_width,
                settings.shape_classes,
            )
            count = min(BEHAVIOUR_EXAMPLES, len(self.data.y_val))
            self._behaviour_set = trainer.make_eval_set(
                self.data.x_val[:count], self.data.y_val[:count], count
            )
        count = genomes.population_size(candidates)
        keys = jnp.broadcast_to(jax.random.key(0), (count,))
        metrics = self._behaviour_program(
            candidates, keys, self.train_inputs, self.train_targets, (self._behaviour_set,)
        )
        values = metrics["eval"][0]
        return np.stack([np.asarray(values[name], np.float64) for name in sorted(values)], axis=1)

    @property
    def compilations(self) -> int:
        """Traces of the population programs (one per shape class and stage,
        and of the behaviour fingerprint's if the behaviour cache is on)."""
        extra = [self._behaviour_program] if self._behaviour_program is not None else []
        return sum(program.compilations for program in (*self.programs, *extra))

    def steps_of(self, record: dict) -> int:
        """Training steps a history record cost (0 for a cache hit)."""
        if is_cache_hit(record):
            return 0
        if record.get("fidelity") == fidelity.HURDLE:
            return sum(self.rungs[: record.get("rung", 0) + 1])
        return sum(self.rungs) + self.settings.steps

    def carried(self) -> tuple:
        """Nothing is carried from round to round (every child trains afresh)."""
        return ()

    def restore(self, carried: tuple) -> None:
        del carried

    def admission(self, notes: list[dict]) -> dict:
        """Children stopped at a hurdle stay out of the population unless
        ``stopped_join_population``."""
        if not self.rungs or self.settings.stopped_join_population:
            return {}
        return {"admitted": np.asarray([note.get("fidelity") != fidelity.HURDLE for note in notes])}

    def evaluate(self, plan, keys, num_real: int, ids) -> list[dict]:
        """History metrics of the round's first ``num_real`` children; children
        stopped at a hurdle get ``plan.notes[i]['fidelity'] = 'hurdle'`` and
        ``['rung']``."""
        del ids  # A child's training depends only on its key.
        shared = (self.train_inputs, self.train_targets, (self.validation,))
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
                    plan.notes[slot].update(fidelity=fidelity.HURDLE, rung=stage)
            if not passed:
                break
            chosen = np.asarray(passed + [passed[0]] * (slots - len(passed)))
            longer = program(genomes.index_population(plan.trained, chosen), keys[chosen], *shared)

            def merge(short, long, passed=passed):
                merged = np.array(short)
                merged[passed] = np.asarray(long)[: len(passed)]
                return merged

            metrics = jax.tree_util.tree_map(merge, metrics, longer)
            survivors = passed
        return training_records(metrics, num_real)

    def finalize_seconds(
        self, round_seconds: tuple[float, ...], num_finalists: int, compile_seconds: float
    ) -> float:
        """Estimated seconds of :meth:`finalize`: one compilation (as long as a
        round's longest) and ``num_finalists`` retrainings of ``final_steps``
        at the seconds per candidate step the rounds took on one device
        (``round_seconds``: this session's rounds without their compilations)."""
        typical = statistics.median(round_seconds)
        steps_per_device = sum(steps * slots for steps, slots in self.stages) / self.num_devices
        step_seconds = typical / max(steps_per_device, 1)
        return compile_seconds + num_finalists * self.settings.retrain_steps * step_seconds

    def retrain(self, records: list[dict], key) -> tuple[list, list[dict]]:
        """``(params, validation metrics)`` of history records retrained for
        ``final_steps``, each with the key of its id (:func:`retrain_records`)."""
        return retrain_records(
            self.space,
            self.settings.retrain_steps,
            records,
            key,
            (self.train_inputs, self.train_targets, self.validation),
        )

    def finalize(self, finalists: list[dict], latest: dict, key) -> tuple[dict, dict, dict]:
        """Retrain the finalists, choose the best on validation and evaluate it
        once on the test split: ``(final, chosen record, its parameters)``."""
        del latest
        params, validation = self.retrain(finalists, key)
        fitness = [metrics["fitness"] for metrics in validation]
        chosen = int(np.argmax(fitness))
        genome = self.space.from_json(finalists[chosen]["genome"])
        steps = self.settings.retrain_steps
        test = final_training.evaluate(self.space, steps, genome, params[chosen], self.test)
        final = {
            "steps": steps,
            "retrained_ids": [record["id"] for record in finalists],
            "retrained_validation_fitness": fitness,
            "diverged": bool(not np.isfinite(fitness[chosen])),
            "validation": validation[chosen],
            "test": test,
        }
        return final, finalists[chosen], params[chosen]


def retrain_records(space, steps: int, records: list[dict], key, arrays) -> tuple[list, list]:
    """``(params, validation metrics)`` of history records, each retrained
    alone for ``steps`` with the key of its id (the same on any device
    layout: :mod:`.final_training`); ``arrays`` is ``(train_inputs,
    train_targets, validation)``."""
    train_inputs, train_targets, validation = arrays
    keys = candidate_keys(key, np.asarray([record["id"] for record in records]))
    params, metrics = [], []
    for index, record in enumerate(records):
        genome = space.from_json(record["genome"])
        trained = final_training.retrain(
            space, steps, genome, keys[index], train_inputs, train_targets
        )
        params.append(trained)
        metrics.append(final_training.evaluate(space, steps, genome, trained, validation))
    return params, metrics

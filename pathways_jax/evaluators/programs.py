"""The evaluator of the program space: programs run on tasks by the batched interpreter.

A round's programs (those no cache stage answered) are scored in chunks of
``chunk_size`` by one compiled function (the interpreter over programs and
search tasks, fitness averaged over tasks). At the end the finalists are
compared on the selection tasks and the chosen one is evaluated once on the
final tasks. Four programs are compiled in a whole search, whatever its
length: the search chunk, the behaviour fingerprint (when the cache is on),
the finalists on the selection tasks, the chosen on the final tasks.

The evaluator also offers :meth:`ProgramEvaluator.behaviour`, the signal of
the behavioural equivalence cache (:mod:`pathways_jax.core.behaviour_cache`):
a program's training errors and predictions on the first examples of the
first search tasks.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.core import genomes
from pathways_jax.core.records import is_cache_hit
from pathways_jax.runs import compilations
from pathways_jax.spaces.program import interpreter, liveness
from pathways_jax.spaces.program import tasks as tasks_lib


@dataclasses.dataclass(frozen=True)
class ProgramEvaluatorSettings:
    """Attributes:
    chunk_size: programs per call of the compiled search evaluation.
    fingerprint_tasks, fingerprint_train, fingerprint_valid: the first search
      tasks and examples a behaviour fingerprint runs on (the paper: 10 + 10).
    """

    chunk_size: int = 64
    fingerprint_tasks: int = 1
    fingerprint_train: int = 10
    fingerprint_valid: int = 10


class TaskData:
    """The task sets of a search (what the export and the summary read)."""

    def __init__(self, settings: tasks_lib.TaskSettings):
        self.settings = settings
        self.sets = {which: tasks_lib.make_tasks(settings, which) for which in tasks_lib.SETS}

    def summary(self) -> dict:
        summary = {"kind": self.settings.kind, "feature_size": self.settings.feature_size}
        for which in tasks_lib.SETS:
            count, train, valid = self.settings.size(which)
            summary[which] = {"tasks": count, "train": train, "valid": valid}
        if self.settings.classification:
            summary["dataset"] = self.settings.dataset
        return summary


def _mean_fitness(machine, programs, task_set):
    return jnp.mean(interpreter.fitness(machine, programs, task_set), axis=1)


class ProgramEvaluator:
    """Scores programs on the search tasks; finishes on selection and final tasks."""

    # Slots a cache answered are not run (the behaviour cache need not put the
    # fallback program there).
    skips_answered_slots = True

    def __init__(self, space, task_settings: tasks_lib.TaskSettings, settings):
        if task_settings.feature_size != space.feature_size:
            raise ValueError(
                f"config.evaluator.tasks.feature_size={task_settings.feature_size} is invalid: "
                f"expected config.space.feature_size={space.feature_size}"
            )
        if task_settings.classification != space.classification:
            raise ValueError(
                f"config.evaluator.tasks.kind={task_settings.kind!r} does not match "
                f"config.space.classification={space.classification}"
            )
        self.space = space
        self.settings = settings
        self.machine = space.machine
        self.data = TaskData(task_settings)
        self.search_tasks = self.data.sets["search"]
        self.fingerprint_tasks = self.search_tasks.first(
            settings.fingerprint_tasks, settings.fingerprint_train, settings.fingerprint_valid
        )
        self._counter = compilations.TraceCounter(
            lambda programs, task_set: _mean_fitness(self.machine, programs, task_set)
        )
        self._fitness = jax.jit(self._counter)
        self._behaviour_counter = compilations.TraceCounter(
            lambda programs, task_set: interpreter.behaviour(self.machine, programs, task_set)
        )
        self._behaviour = jax.jit(self._behaviour_counter)

    @property
    def compilations(self) -> int:
        return self._counter.count + self._behaviour_counter.count

    def fitness(self, programs, task_set) -> np.ndarray:
        """float ``[n]``: mean fitness of ``programs [n]`` on a task set, in
        chunks of ``chunk_size`` (the last padded with its first program)."""
        # Chunks are cut on the host: an on-device gather would compile once
        # per count of programs.
        programs = jax.device_get(programs)
        count = genomes.population_size(programs)
        chunk = self.settings.chunk_size
        scores = []
        for start in range(0, count, chunk):
            index = np.arange(start, min(start + chunk, count))
            padded = np.concatenate([index, np.full(chunk - index.size, index[0])])
            part = jax.tree_util.tree_map(lambda leaf, i=padded: leaf[i], programs)
            scores.append(np.asarray(jax.device_get(self._fitness(part, task_set)))[: index.size])
        return np.concatenate(scores) if scores else np.zeros((0,), np.float32)

    def behaviour(self, programs) -> np.ndarray:
        """float32 ``[n, k]``: the behaviour fingerprint's signal of ``programs [n]``."""
        return np.asarray(jax.device_get(self._behaviour(programs, self.fingerprint_tasks)))

    def evaluate(self, plan, keys, num_real: int, ids) -> list[dict]:
        del keys, ids  # A program's fitness is a function of the program and the tasks.
        todo = [slot for slot in range(num_real) if plan.cached[slot] is None]
        rows = [
            {"fitness": float("-inf"), "reason": "answered by a cache"} for _ in range(num_real)
        ]
        if todo:
            host = jax.device_get(plan.trained)
            programs = jax.tree_util.tree_map(lambda leaf: leaf[np.asarray(todo)], host)
            for slot, value in zip(todo, self.fitness(programs, self.search_tasks), strict=True):
                rows[slot] = {"fitness": float(value)}
        return rows

    def finalize(self, finalists: list[dict], latest: dict, key) -> tuple[dict, dict, dict]:
        """The finalist best on the selection tasks (ties: the better search
        fitness), evaluated once on the final tasks."""
        del latest, key
        programs = genomes.stack_genomes([self.space.from_json(r["genome"]) for r in finalists])
        selection = self._whole_set(programs, self.data.sets["selection"])
        best = int(np.argmax(selection))
        chosen = finalists[best]
        chosen_program = genomes.index_population(programs, jnp.asarray([best]))
        final_fitness = self._whole_set(chosen_program, self.data.sets["final"])
        # Dead code removed (made no-ops in place) must leave the fitness equal.
        pruned = liveness.without_dead_code(self.space, genomes.index_population(programs, best))
        pruned_fitness = float(self.fitness(genomes.stack_genomes([pruned]), self.search_tasks)[0])
        final = {
            "dead_code_check": {
                "search_fitness": chosen["metrics"]["fitness"],
                "search_fitness_without_dead_code": pruned_fitness,
                "equal": pruned_fitness == chosen["metrics"]["fitness"],
            },
            "retrained_ids": [r["id"] for r in finalists],
            "retrained_validation_fitness": [float(v) for v in selection],
            "diverged": False,
            "validation": {"fitness": float(selection[best]), "set": "selection tasks"},
            "test": {"fitness": float(final_fitness[0]), "set": "final tasks"},
            "how": (
                f"The best {len(finalists)} programs by search fitness were compared on "
                f"{self.data.settings.num_selection} selection tasks; the best of them was "
                f"evaluated once on {self.data.settings.num_final} unseen final tasks."
            ),
        }
        # A program has no trained weights: its export learns from the tasks.
        return final, chosen, {}

    def carried(self) -> tuple:
        return ()

    def restore(self, carried) -> None:
        del carried

    def _whole_set(self, programs, task_set) -> np.ndarray:
        """Mean fitness on a task set in one call, outside the search's chunks
        (one compiled shape per set: the finalists, then the chosen one)."""
        return np.asarray(jax.device_get(self._fitness(programs, task_set)))

    def steps_of(self, record: dict) -> int:
        """Training examples the evaluation ran (none for a cache hit)."""
        if is_cache_hit(record):
            return 0
        count, train, _ = self.data.settings.size("search")
        return count * train

    def admission(self, notes: list[dict]) -> dict:
        del notes
        return {}

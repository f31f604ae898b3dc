"""Evolving PathNet pathways on a sequence of tasks, with transfer between them.

:func:`evolve_task` runs rounds (``training.evolve_round``) until a pathway's
fitness reaches the threshold or the round limit; :func:`run_tasks` learns the
config's tasks one after the other (task ``i + 1`` starts from task ``i``'s best
pathway frozen, as in the paper) and writes, into a workdir:

- ``config.json``;
- ``history.jsonl``: one line per tournament (task, round, the two contestants'
  slots, pathways and fitness, the winner);
- ``summary.json``: per task the rounds and wall seconds to the threshold,
  whether it was reached, the best pathway with its validation and test
  accuracy, and the frozen modules;
- ``task{i}/``: the best pathway of task ``i`` exported (Flax and PyTorch).

Same config and seed, same history and summary (wall seconds aside).
"""

from __future__ import annotations

import dataclasses
import os
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from pathways_jax import data
from pathways_jax.codegen.pathnet_source import export_pathnet_pathway
from pathways_jax.pathnet import config as config_lib
from pathways_jax.pathnet import training
from pathways_jax.pathnet.tasks import TaskData, binary_task, check_pair
from pathways_jax.runs import records
from pathways_jax.spaces.pathnet import PathNetSpace

HISTORY_FILE = "history.jsonl"
SUMMARY_FILE = "summary.json"


@dataclasses.dataclass
class TaskOutcome:
    """How one task went.

    Attributes:
      state: the ``PathNetState`` after the last round.
      rounds: rounds run.
      reached: whether a pathway's fitness reached the threshold.
      best_genome: int32 ``[L, N]``, the fittest pathway of the last round.
      best_fitness: its fitness.
      wall_seconds: time spent in rounds (``run_tasks`` compiles the round
        program before, so this excludes compilation).
      records: one dict per tournament (see ``tournament_records``).
    """

    state: training.PathNetState
    rounds: int
    reached: bool
    best_genome: np.ndarray
    best_fitness: float
    wall_seconds: float
    records: list[dict]


def tournament_records(space: PathNetSpace, task: int, round_index: int, metrics) -> list[dict]:
    """The history lines of one round: a dict per tournament."""
    lines = []
    for pair in range(len(metrics["winners"])):
        lines.append(
            {
                "task": task,
                "round": round_index,
                "slots": metrics["contestants"][pair].tolist(),
                "fitness": [float(f) for f in metrics["fitness"][pair]],
                "pathways": [space.describe(g) for g in metrics["genomes"][pair]],
                "winner": int(metrics["winners"][pair]),
            }
        )
    return lines


def evolve_task(
    space: PathNetSpace,
    settings: training.RoundSettings,
    state: training.PathNetState,
    task: TaskData,
    *,
    threshold: float,
    max_rounds: int,
    task_index: int = 0,
    keep_records: bool = True,
) -> TaskOutcome:
    """Rounds until some pathway's fitness reaches ``threshold`` (or ``max_rounds``)."""
    lines = []
    started = time.perf_counter()
    reached = False
    for round_index in range(max_rounds):
        state, metrics = training.evolve_round(space, settings, state, task)
        metrics = jax.device_get(metrics)
        if keep_records:
            lines += tournament_records(space, task_index, round_index, metrics)
        fitness = metrics["fitness"].reshape(-1)
        if fitness.max() >= threshold:
            reached = True
            break
    wall_seconds = time.perf_counter() - started
    best = int(np.argmax(fitness))
    return TaskOutcome(
        state=state,
        rounds=round_index + 1,
        reached=reached,
        best_genome=metrics["genomes"].reshape(-1, *space.genome_shape)[best],
        best_fitness=float(fitness[best]),
        wall_seconds=wall_seconds,
        records=lines,
    )


def load_tasks(config: ml_collections.ConfigDict) -> tuple[data.Dataset, list[TaskData]]:
    """The dataset and the config's binary tasks (pairs checked, noise applied)."""
    dataset = data.load_dataset(config.dataset, config.seed)
    tasks = []
    for index, pair in enumerate(config.tasks):
        check_pair(dataset, tuple(pair), f"config.tasks[{index}]")
        tasks.append(binary_task(dataset, tuple(pair), noise=config.noise, seed=config.seed))
    return dataset, tasks


def run_tasks(
    config: ml_collections.ConfigDict, workdir: str | None = None, *, command: str = ""
) -> dict:
    """Learns ``config.tasks`` in order with PathNet transfer; returns the summary.

    Args:
      config: a PathNet config (``pathways_jax.pathnet.config``).
      workdir: where to write (see the module docstring); None writes nothing.
      command: the command line, for the exported modules' docstrings.

    Raises:
      ConfigError, DataError: one-line errors naming the key or file.
    """
    config_lib.check_config(config)
    dataset, tasks = load_tasks(config)
    space = config_lib.build_space(config, dataset.input_shape)
    settings = config_lib.round_settings(config)
    if workdir:
        os.makedirs(workdir, exist_ok=True)
        records.write_json(os.path.join(workdir, "config.json"), config.to_dict())
        history_path = os.path.join(workdir, HISTORY_FILE)
        open(history_path, "w").close()
    key = jax.random.key(config.seed)
    key, init_key = jax.random.split(key)
    state = training.init_state(space, settings, init_key)
    # Compile the round before the clock starts (the result is discarded).
    jax.block_until_ready(training.evolve_round(space, settings, state, tasks[0]))
    summary = {"dataset": dataset.summary(), "tasks": []}
    previous_best = None
    for index, (pair, task) in enumerate(zip(config.tasks, tasks, strict=True)):
        if index > 0:
            key, transfer_key = jax.random.split(key)
            state = training.transfer_state(
                space, settings, state, jnp.asarray(previous_best), transfer_key
            )
        outcome = evolve_task(
            space,
            settings,
            state,
            task,
            threshold=config.stop.threshold,
            max_rounds=config.stop.max_rounds,
            task_index=index,
        )
        state = outcome.state
        accuracy = jax.device_get(
            training.evaluate_pathways(
                space, state.params, jnp.asarray(outcome.best_genome)[None], task
            )
        )
        entry = {
            "pair": list(pair),
            "rounds": outcome.rounds,
            "reached_threshold": outcome.reached,
            "wall_seconds": round(outcome.wall_seconds, 3),
            "best_pathway": space.describe(outcome.best_genome),
            "best_genome": outcome.best_genome.tolist(),
            "best_fitness": outcome.best_fitness,
            "val_accuracy": float(accuracy["val_accuracy"][0]),
            "test_accuracy": float(accuracy["test_accuracy"][0]),
            "frozen_modules": (~np.asarray(state.trainable)).astype(int).tolist(),
        }
        summary["tasks"].append(entry)
        if workdir:
            with records.JsonLinesWriter(history_path) as history:
                history.write(outcome.records)
            note = (
                f"Task {index}: classes {pair[0]} (label 0) vs {pair[1]} (label 1) of "
                f"{config.dataset.name}; test accuracy {entry['test_accuracy']:.4f}."
            )
            if command:
                note += f"\nProduced by: {command}"
            export_pathnet_pathway(
                os.path.join(workdir, f"task{index}"),
                space,
                outcome.best_genome,
                jax.device_get(state.params),
                test_inputs=np.asarray(task.x_test)[: int((task.test_weight > 0).sum())],
                test_labels=np.asarray(task.y_test)[: int((task.test_weight > 0).sum())],
                note=note,
            )
            records.write_json(os.path.join(workdir, SUMMARY_FILE), summary)
        previous_best = outcome.best_genome
    return summary

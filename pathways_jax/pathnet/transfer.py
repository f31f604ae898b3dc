"""A sequence of tasks with PathNet transfer: an outer loop around the search.

Task ``i`` of ``config.evaluator.tasks`` is one ordinary search (the shared
loop, its own workdir ``WORKDIR/task{i}`` with checkpoints, history,
TensorBoard, plots, report and exported best); task ``i + 1`` starts from
task ``i``'s final shared weights with its best pathway frozen and every
other module re-initialised (Fernando et al. 2017), a new readout and a new
population. A stopped sequence resumes where it stopped: finished tasks are
read back (their weights from their last checkpoint), the unfinished one
resumes from its own checkpoint. ``WORKDIR/summary.json`` lists the tasks.
"""

from __future__ import annotations

import os

import jax
import ml_collections
import numpy as np

from pathways_jax import distributed
from pathways_jax.core import experiment as experiment_lib
from pathways_jax.core import loop
from pathways_jax.pathnet import training
from pathways_jax.runs import records

SUMMARY_FILE = records.SUMMARY_FILE


def task_config(config: ml_collections.ConfigDict, index: int) -> ml_collections.ConfigDict:
    """The search config of task ``index`` of the sequence."""
    one = ml_collections.ConfigDict(config.to_dict())
    one.evaluator.task = index
    return one


def transfer_key(seed: int, index: int):
    """The key of the re-initialised weights that start task ``index``."""
    return jax.random.fold_in(jax.random.key(seed), 2000 + index)


def run_task_sequence(
    config: ml_collections.ConfigDict,
    workdir: str | None,
    *,
    overwrite: bool = False,
    stop_after_rounds: int | None = None,
    command: str | None = None,
) -> dict:
    """Learn ``config.evaluator.tasks`` in order with PathNet transfer.

    Returns:
      The sequence's summary: per task the pair, rounds, whether the target
      fitness was reached, the best pathway and its validation and test
      accuracy, and the frozen modules; plus the last task's ``best_description``
      and ``final`` (what the search command prints).
    """
    tasks = tuple(config.evaluator.tasks)
    if workdir is not None and distributed.is_primary():
        os.makedirs(workdir, exist_ok=True)
        records.write_json(os.path.join(workdir, records.CONFIG_FILE), config.to_dict())
    summary = {"tasks": []}
    previous = None
    for index, pair in enumerate(tasks):
        built = experiment_lib.build(task_config(config, index))
        if previous is not None:
            weights, best_genome = previous
            built.evaluator.start_from(
                training.transferred_weights(
                    built.space,
                    built.evaluator.settings,
                    weights,
                    best_genome,
                    transfer_key(config.seed, index),
                )
            )
        task_dir = None if workdir is None else os.path.join(workdir, f"task{index}")
        result = loop.run(
            built,
            task_dir,
            overwrite=overwrite,
            stop_after_rounds=stop_after_rounds,
            command=command,
        )
        best_genome = np.asarray(built.space.from_json(result.best["genome"]))
        previous = (built.evaluator.carried(), best_genome)
        task_summary = result.summary
        summary["tasks"].append(
            {
                "pair": list(pair),
                "rounds": task_summary["rounds"],
                "reached_threshold": task_summary.get("reached_target", False),
                "wall_seconds": task_summary["wall_seconds"],
                "best_pathway": task_summary["best_description"],
                "best_genome": best_genome.tolist(),
                "best_fitness": task_summary["search_validation"]["fitness"],
                "val_accuracy": task_summary["final"]["validation"]["accuracy"],
                "test_accuracy": task_summary["final"]["test"]["accuracy"],
                "frozen_modules": task_summary["final"]["frozen_modules"],
            }
        )
        summary["best_description"] = task_summary["best_description"]
        summary["final"] = task_summary["final"]
    if workdir is not None and distributed.is_primary():
        records.write_json(os.path.join(workdir, SUMMARY_FILE), summary)
    return summary

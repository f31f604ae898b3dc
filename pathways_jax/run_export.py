"""Export the K-th best pathway of a finished search.

Rank 1 is the run's best (the pathway ``summary.json`` reports, chosen after
retraining); ranks 2, 3, ... follow the search's validation fitness in
``history.jsonl``. The pathway is retrained exactly as the search retrains its
finalists (same steps, same key for its id), so rank 1 reproduces the
weights the search exported into ``best/``.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from pathways_jax import config as config_lib
from pathways_jax import data, genome, parallel, search
from pathways_jax.codegen import export
from pathways_jax.runs import records
from pathways_jax.training import trainer


class ExportError(ValueError):
    """The run cannot be exported as asked (the message says why)."""


def load_run_config(workdir: str) -> ml_collections.ConfigDict:
    """The config a run saved in ``workdir/config.json``."""
    path = os.path.join(workdir, records.CONFIG_FILE)
    if not os.path.exists(path):
        raise ExportError(f"{path} does not exist: --workdir must hold a search run")
    try:
        values = records.read_json(path)
    except (OSError, ValueError) as error:
        raise ExportError(f"{path} is not a readable JSON config: {error}") from None
    config = config_lib.default_config()
    config.update(_as_tuples(values))
    return config


def _as_tuples(value):
    """JSON lists back to the tuples a config holds."""
    if isinstance(value, dict):
        return {key: _as_tuples(item) for key, item in value.items()}
    if isinstance(value, list):
        return tuple(_as_tuples(item) for item in value)
    return value


def ranked_records(workdir: str) -> list[dict]:
    """History records of a finished run, best first (rank 1 = the summary's best)."""
    summary_path = os.path.join(workdir, records.SUMMARY_FILE)
    if not os.path.exists(summary_path):
        raise ExportError(f"{summary_path} does not exist: the run in {workdir} has not finished")
    summary = records.read_json(summary_path)
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    best = [r for r in history if r["id"] == summary["best_id"]]
    others = [r for r in history if r["id"] != summary["best_id"]]
    others.sort(key=lambda r: (-float(r["metrics"]["fitness"]), r["id"]))
    return best + [r for r in others if np.isfinite(float(r["metrics"]["fitness"]))]


def export_rank(
    workdir: str, rank: int, out_dir: str, formats=export.TARGETS, command: str | None = None
) -> list[str]:
    """Retrain the ``rank``-th best pathway of the run in ``workdir`` and export it.

    Returns:
      The paths written.

    Raises:
      ExportError: no such run or rank.
    """
    config = load_run_config(workdir)
    ranked = ranked_records(workdir)
    if not 1 <= rank <= len(ranked):
        raise ExportError(f"--rank={rank} is invalid: the run has {len(ranked)} ranked pathways")
    record = ranked[rank - 1]
    dataset = data.load_dataset(config.dataset, seed=config.seed)
    space = search.build_space(config, dataset)
    steps = config.final.steps or config.train.steps
    mesh = parallel.population_mesh(1)
    program = search.PopulationProgram(space, steps, mesh, config.parallel.backend, 1)
    population = genome.stack_genomes(
        [genome.genome_from_json(record["genome"], space.tables.max_depth)]
    )
    _, _, final_key = search.search_keys(config.seed)
    ids = np.asarray([record["id"]])
    trained = program.train(
        population,
        search.candidate_keys(final_key, ids),
        jnp.asarray(dataset.x_train),
        jnp.asarray(dataset.y_train),
    )
    validation = trainer.make_eval_set(dataset.x_val, dataset.y_val, config.train.eval_chunk)
    metrics = program.evaluate(population, trained, validation)
    final = {
        "steps": steps,
        "validation": {name: float(values[0]) for name, values in metrics.items()},
    }
    if rank == 1:  # Only the best was evaluated on the test split.
        summary = records.read_json(os.path.join(workdir, records.SUMMARY_FILE))
        final["test"] = summary["final"]["test"]
    params = jax.tree_util.tree_map(lambda leaf: leaf[0], trained)
    return export.export_best(
        out_dir, space, record, params, dataset, final, command=command, formats=formats
    )

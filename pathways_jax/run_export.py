"""Export the K-th best pathway of a finished search.

Rank 1 is the run's best (the pathway ``summary.json`` reports, chosen after
retraining); ranks 2, 3, ... follow the search's validation fitness in
``history.jsonl``. The pathway is retrained exactly as the search retrains its
finalists (same steps, same key for its id), so rank 1 reproduces the
weights the search exported into ``best/``.
"""

from __future__ import annotations

import os

import ml_collections
import numpy as np

from pathways_jax import config as config_lib
from pathways_jax.core import experiment
from pathways_jax.core.loop import search_keys
from pathways_jax.evaluators.fresh_weights import dataset_arrays, retrain_records
from pathways_jax.runs import records
from pathways_jax.spaces.pathway.space import PathwaySpace


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
    workdir: str, rank: int, out_dir: str, formats=None, command: str | None = None
) -> list[str]:
    """Retrain the ``rank``-th best pathway of the run in ``workdir`` and export it.

    The retraining is the search's own finish (``FreshWeights.retrain``: same
    steps, same key for its id, one candidate alone on one device), so rank 1
    gets the weights of ``best/`` whatever device layout either ran on.

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
    config.parallel.num_devices = 0  # The layout does not change the retrained weights.
    built = experiment.build(config)
    space, evaluator = built.space, built.evaluator
    if not isinstance(space, PathwaySpace):
        raise ExportError(
            f"the run in {workdir} searched the space {config.space.name!r}: only pathway runs "
            "retrain a rank for export (the run's own best is in best/)"
        )
    data = evaluator.data
    train_inputs, train_targets, validation, _ = dataset_arrays(data, config.train.eval_chunk)
    steps = config.final.steps or config.train.steps
    _, _, final_key = search_keys(config.seed)
    params, metrics = retrain_records(
        space, steps, [record], final_key, (train_inputs, train_targets, validation)
    )
    final = {"steps": steps, "validation": metrics[0]}
    if rank == 1:  # Only the best was evaluated on the test split.
        summary = records.read_json(os.path.join(workdir, records.SUMMARY_FILE))
        final["test"] = summary["final"]["test"]
    return space.export(
        out_dir, record, params[0], final=final, data=data, command=command, formats=formats
    )

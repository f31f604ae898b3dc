"""The workdir of a search: start a new run, resume the run it holds, or refuse.

A workdir holds one run. Starting the search command on it again resumes that
run when the requested config equals the saved ``config.json`` (keys that do
not change results, such as checkpoint and progress settings or the device
count, may differ); otherwise it is refused with the differing keys named.
``--overwrite`` removes the run's files and starts afresh.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from pathways_jax.runs import checkpoints, records

# Keys that may change between the sessions of one run: they do not change
# what the search computes (the device count and backend give the same history
# bit for bit).
RESUMABLE_KEY_PREFIXES = ("checkpoint.", "progress.", "parallel.num_devices", "parallel.backend")
TENSORBOARD_DIR = "tensorboard"
PLOTS_DIR = "plots"
REPORT_FILE = "report.md"
RUN_FILES = (records.HISTORY_FILE, records.METRICS_FILE, records.SUMMARY_FILE, REPORT_FILE)
RUN_DIRS = (records.BEST_DIR, checkpoints.CHECKPOINT_DIR, TENSORBOARD_DIR, PLOTS_DIR)


class WorkdirError(ValueError):
    """The workdir cannot be used as asked (the message says why)."""


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a.b.c": value}`` for every leaf of nested dicts."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}"))
    return flat


def config_differences(saved: dict, requested: dict) -> list[str]:
    """Dotted keys whose values differ between two config dicts (as JSON
    values), leaving out :data:`RESUMABLE_KEY_PREFIXES`."""
    saved_flat = flatten(records.json_restore(records.json_safe(saved)))
    requested_flat = flatten(records.from_json(records.to_json(requested)))
    keys = sorted(set(saved_flat) | set(requested_flat))
    return [
        key
        for key in keys
        if not key.startswith(RESUMABLE_KEY_PREFIXES)
        and saved_flat.get(key, "<missing>") != requested_flat.get(key, "<missing>")
    ]


def _remove_run(workdir: str) -> None:
    for name in (*RUN_FILES, records.CONFIG_FILE):
        path = os.path.join(workdir, name)
        if os.path.isfile(path):
            os.remove(path)
    for name in RUN_DIRS:
        shutil.rmtree(os.path.join(workdir, name), ignore_errors=True)


def prepare(workdir: str, config: dict, overwrite: bool) -> bool:
    """Make ``workdir`` ready for the run ``config`` describes.

    Args:
      workdir: the run's directory (created if missing).
      config: the requested config as a dict.
      overwrite: remove a run already there and start afresh.

    Returns:
      True when the workdir holds this run and it should be resumed.

    Raises:
      WorkdirError: the workdir cannot be created or written, or holds
        another run (a different config, or records without a config).
    """
    config_path = os.path.join(workdir, records.CONFIG_FILE)
    has_records = any(os.path.exists(os.path.join(workdir, n)) for n in RUN_FILES) or any(
        os.path.isdir(os.path.join(workdir, n)) for n in RUN_DIRS
    )
    resume = False
    # A config.json without records is a run that failed before its first
    # round (bad data, say): it is replaced, not resumed.
    if not overwrite and has_records and os.path.exists(config_path):
        try:
            saved = records.read_json(config_path)
        except (OSError, ValueError) as error:
            raise WorkdirError(
                f"workdir {workdir} holds a run whose config.json cannot be read ({error}); "
                "pass --overwrite to start afresh"
            ) from None
        differing = config_differences(saved, config)
        if differing:
            raise WorkdirError(
                f"workdir {workdir} holds a run with a different config "
                f"(differing keys: {', '.join(differing)}); run the same config to resume it, "
                "choose another --workdir, or pass --overwrite to start afresh"
            )
        resume = True
    elif not overwrite and has_records:
        # Records without their config.json.
        raise WorkdirError(
            f"workdir {workdir} already holds records of a run without its config.json; "
            "choose another --workdir or pass --overwrite to replace it"
        )
    try:
        os.makedirs(workdir, exist_ok=True)
        if overwrite:
            _remove_run(workdir)
        probe = os.path.join(workdir, ".write_probe")
        with open(probe, "w", encoding="utf-8") as file:
            file.write("")
        os.remove(probe)
    except OSError as error:
        raise WorkdirError(
            f"workdir {workdir} cannot be written: {error.strerror or error}"
        ) from None
    if not resume:
        records.write_json(config_path, config)
    return resume

"""Checkpoints of a search, saved with orbax.

A checkpoint is one orbax step (the number of rounds done) with two items:

- ``state``: the strategy state pytree (population, fitness, ages, PRNG key,
  counters) as host arrays; typed PRNG keys are stored as their key data.
- ``progress``: JSON with everything else the loop carries from round to round
  (candidates evaluated, best record, finalists, elapsed seconds, the data
  split seed) and the byte length and SHA-256 digest of ``history.jsonl`` and
  ``metrics.jsonl`` at that point. The records themselves stay in those files;
  on resume they are checked against the digests and cut back to the lengths.

Orbax writes a step into a temporary directory and renames it when complete,
so a save interrupted at any point is never the one restored; the last
``keep`` steps are kept. A step that cannot be restored, or whose records no
longer match, is skipped with a warning and the one before it is tried.
"""

from __future__ import annotations

import hashlib
import logging as python_logging
import os
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

from pathways_jax.runs import records

CHECKPOINT_DIR = "checkpoints"
STATE_ITEM = "state"
PROGRESS_ITEM = "progress"
TRACKED_FILES = (records.HISTORY_FILE, records.METRICS_FILE)


def _not_orbax_chatter(record) -> bool:
    """Keep orbax's warnings and errors, drop its per-save info lines."""
    return record.levelno >= python_logging.WARNING or "orbax" not in record.pathname


logging.get_absl_logger().addFilter(_not_orbax_chatter)


class CheckpointError(ValueError):
    """No saved checkpoint of a workdir can be used (the message says why)."""


def _is_key(leaf) -> bool:
    return hasattr(leaf, "dtype") and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)


def state_to_host(state) -> dict[str, np.ndarray]:
    """The leaves of a state pytree as ``{"0": array, "1": ...}`` host arrays
    (typed PRNG keys as their uint32 key data), the form a checkpoint stores."""
    leaves = jax.tree_util.tree_leaves(state)
    host = [np.asarray(jax.random.key_data(leaf) if _is_key(leaf) else leaf) for leaf in leaves]
    return {str(index): leaf for index, leaf in enumerate(host)}


def state_from_host(template, host: dict[str, np.ndarray]):
    """Inverse of :func:`state_to_host`: a pytree shaped like ``template``."""
    leaves, treedef = jax.tree_util.tree_flatten(template)
    if len(host) != len(leaves):
        raise CheckpointError(f"checkpoint holds {len(host)} state arrays, expected {len(leaves)}")
    restored = []
    for index, leaf in enumerate(leaves):
        value = np.asarray(host[str(index)])
        expected = jax.random.key_data(leaf).shape if _is_key(leaf) else np.shape(leaf)
        if value.shape != tuple(expected):
            raise CheckpointError(
                f"checkpoint state array {index} has shape {value.shape}, expected {expected}"
            )
        restored.append(
            jax.random.wrap_key_data(value, impl=jax.random.key_impl(leaf))
            if _is_key(leaf)
            else jax.numpy.asarray(value, dtype=leaf.dtype)
        )
    return jax.tree_util.tree_unflatten(treedef, restored)


def file_digest(path: str, num_bytes: int | None = None) -> tuple[int, str]:
    """``(length, sha256 hex)`` of the first ``num_bytes`` of ``path`` (all of
    it by default); ``(0, digest of nothing)`` for a missing file."""
    digest = hashlib.sha256()
    length = 0
    if os.path.exists(path):
        with open(path, "rb") as file:
            remaining = os.path.getsize(path) if num_bytes is None else num_bytes
            while remaining > 0:
                chunk = file.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                digest.update(chunk)
                length += len(chunk)
                remaining -= len(chunk)
    return length, digest.hexdigest()


def open_manager(workdir: str, keep: int) -> ocp.CheckpointManager:
    """The checkpoint manager of ``workdir`` (``DIR/checkpoints``), keeping the
    last ``keep`` steps; saves are synchronous. In a multi-process job only
    process 0 opens it (the state is the same on every process), so orbax is
    told not to wait for the others."""
    directory = os.path.join(os.path.abspath(workdir), CHECKPOINT_DIR)
    os.makedirs(directory, exist_ok=True)
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep,
        create=False,
        enable_async_checkpointing=False,
        multiprocessing_options=ocp.options.MultiprocessingOptions(
            primary_host=0, active_processes={0}
        ),
    )
    return ocp.CheckpointManager(directory, options=options)


def save(manager: ocp.CheckpointManager, step: int, state, progress: dict, workdir: str) -> None:
    """Save ``state`` and ``progress`` as ``step``, with the current length and
    digest of the tracked record files of ``workdir`` (flush them first)."""
    progress = dict(progress)
    progress["files"] = {}
    for name in TRACKED_FILES:
        length, digest = file_digest(os.path.join(workdir, name))
        progress["files"][name] = {"bytes": length, "sha256": digest}
    manager.save(
        step,
        args=ocp.args.Composite(
            **{
                STATE_ITEM: ocp.args.StandardSave(state_to_host(state)),
                PROGRESS_ITEM: ocp.args.JsonSave(records.json_safe(progress)),
            }
        ),
        force=True,
    )
    manager.wait_until_finished()


def _records_match(progress: dict, workdir: str) -> str | None:
    """Why the record files of ``workdir`` cannot be cut back to ``progress``
    (None when they can)."""
    for name in TRACKED_FILES:
        saved = progress["files"][name]
        path = os.path.join(workdir, name)
        size = os.path.getsize(path) if os.path.exists(path) else 0
        if size < saved["bytes"]:
            return f"{name} is shorter ({size} bytes) than when it was saved ({saved['bytes']})"
        if file_digest(path, saved["bytes"])[1] != saved["sha256"]:
            return f"{name} was changed after it was saved"
    return None


def restore_latest(manager: ocp.CheckpointManager, template, workdir: str):
    """The newest usable checkpoint as ``(step, state, progress)``, or None when
    there is none at all.

    A step that fails to load or whose records do not match is skipped with a
    warning. Raises :class:`CheckpointError` when steps exist but none is usable.
    """
    steps = sorted(manager.all_steps(), reverse=True)
    if not steps:
        return None
    abstract = state_to_host(template)
    problems = []
    for step in steps:
        try:
            restored = manager.restore(
                step,
                args=ocp.args.Composite(
                    **{
                        STATE_ITEM: ocp.args.StandardRestore(abstract),
                        PROGRESS_ITEM: ocp.args.JsonRestore(),
                    }
                ),
            )
            state = state_from_host(template, dict(restored[STATE_ITEM]))
            progress = records.json_restore(dict(restored[PROGRESS_ITEM]))
            problem = _records_match(progress, workdir)
        except Exception as error:  # noqa: BLE001 - any unreadable step is skipped.
            problem = f"it cannot be read ({type(error).__name__}: {str(error)[:200]})"
        if problem is None:
            if problems:
                logging.warning("Resuming from the older checkpoint %d", step)
            return step, state, progress
        logging.warning("Checkpoint %d is not usable: %s", step, problem)
        problems.append(f"step {step}: {problem}")
    raise CheckpointError(
        f"no checkpoint in {manager.directory} is usable ({'; '.join(problems)}); "
        "pass --overwrite to start afresh"
    )


def truncate_records(workdir: str, progress: dict | None) -> None:
    """Cut the tracked record files back to their saved lengths (to nothing
    without a checkpoint), dropping lines written after the checkpoint."""
    for name in TRACKED_FILES:
        path = os.path.join(workdir, name)
        if os.path.exists(path):
            length = progress["files"][name]["bytes"] if progress else 0
            with open(path, "r+b") as file:
                file.truncate(length)


def saved_steps(workdir: str) -> list[int]:
    """Steps of finished checkpoints in ``workdir`` (oldest first)."""
    directory = os.path.join(workdir, CHECKPOINT_DIR)
    if not os.path.isdir(directory):
        return []
    return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def describe_progress(progress: dict[str, Any]) -> str:
    """One line about where a checkpointed search stands."""
    return f"{progress['rounds']} round(s), {progress['evaluated']} candidate(s) evaluated"

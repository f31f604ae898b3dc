"""The files of one search in its workdir, or none: what the loop writes and
what a resumed search reads back.

:class:`RunFiles` opens the workdir (a new run, a resumed one, a finished one
or a refusal, see :mod:`pathways_jax.runs.workdir`), restores the last
checkpoint, writes ``metrics.jsonl``, ``history.jsonl`` and TensorBoard
scalars each round, checkpoints, and closes. In a multi-process job only
process 0 touches the files; what it finds is broadcast so every process runs
the same search. Without a workdir (``workdir=None``) nothing is written and
nothing is resumed: the results stay in memory.
"""

from __future__ import annotations

import os

from pathways_jax import distributed
from pathways_jax.runs import checkpoints, records, scalars
from pathways_jax.runs import workdir as run_workdir

WORKDIR_ERRORS = (run_workdir.WorkdirError, checkpoints.CheckpointError)


class RunFiles:
    """The workdir side of a search (a no-op without a workdir)."""

    def __init__(self, workdir: str | None, run_config: dict, keep: int, overwrite: bool):
        self.workdir = workdir
        self.writes = workdir is not None and distributed.is_primary()
        self.resume = False
        self.finished_summary = None
        if workdir is None:
            return

        def open_workdir() -> dict:
            resume = run_workdir.prepare(workdir, run_config, overwrite)
            summary_path = os.path.join(workdir, records.SUMMARY_FILE)
            finished = resume and os.path.exists(summary_path)
            return {
                "resume": resume,
                "summary": records.read_json(summary_path) if finished else None,
            }

        opened = distributed.primary_value(
            open_workdir, WORKDIR_ERRORS, records.to_json, records.from_json
        )
        self.resume, self.finished_summary = opened["resume"], opened["summary"]
        self.manager = checkpoints.open_manager(workdir, keep) if self.writes else None

    def path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    def restore(self, template):
        """``(state, progress, kept history)`` of the last checkpoint, or None;
        history lines past the checkpoint are dropped."""
        if self.workdir is None:
            return None
        restored_state = None

        def restore() -> dict | None:
            nonlocal restored_state
            restored = (
                checkpoints.restore_latest(self.manager, template, self.workdir)
                if self.resume
                else None
            )
            checkpoints.truncate_records(self.workdir, restored[2] if restored else None)
            if restored is None:
                return None
            _, restored_state, saved_progress = restored
            kept = records.read_json_lines(self.path(records.HISTORY_FILE))
            return {"progress": saved_progress, "history": kept}

        restored = distributed.primary_value(
            restore, WORKDIR_ERRORS, records.to_json, records.from_json
        )
        if restored is None:
            return None
        host_state = checkpoints.state_to_host(restored_state if self.writes else template)
        state = checkpoints.state_from_host(template, distributed.broadcast_arrays(host_state))
        return state, restored["progress"], restored["history"]

    def open_writers(self, evaluated: int) -> None:
        """The round writers; TensorBoard events past the checkpoint are purged."""
        enabled = self.writes
        at = (lambda name: self.path(name)) if self.workdir else (lambda name: os.devnull)
        self.metrics = records.JsonLinesWriter(at(records.METRICS_FILE), enabled=enabled)
        self.history = records.JsonLinesWriter(at(records.HISTORY_FILE), enabled=enabled)
        self.scalars = scalars.ScalarWriter(
            at(run_workdir.TENSORBOARD_DIR),
            enabled=enabled,
            purge_step=evaluated + 1 if self.resume else None,
        )

    def write_round(self, lines: list[dict], line: dict, evaluated: int) -> None:
        self.history.write(lines)
        self.metrics.write([line])
        self.scalars.write(evaluated, line)

    def save(self, rounds_done: int, state, progress: dict) -> None:
        if self.writes:
            checkpoints.save(self.manager, rounds_done, state, progress, self.workdir)

    def close(self) -> None:
        for writer in (self.metrics, self.history, self.scalars):
            writer.close()
        if self.workdir is not None and self.manager is not None:
            self.manager.close()

    def write_json(self, name: str, value) -> None:
        if self.writes:
            records.write_json(self.path(name), value)

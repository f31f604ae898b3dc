"""The ``latency`` objective as a round stage: each child's measured inference
latency becomes the metric ``latency_seconds`` (see :mod:`pathways_jax.latency`)."""

from __future__ import annotations

import functools
import os

from pathways_jax import distributed, latency


class MeasuredLatency:
    """Times each new architecture on this machine (process 0 measures, every
    process is told), remembers every measurement in the checkpoint and writes
    the table to ``DIR/latency.json`` at the end."""

    def __init__(self, meter: latency.LatencyMeter):
        self.meter = meter

    def after(self, plan, records: list[dict]) -> list[dict]:
        seconds = distributed.primary_value(
            functools.partial(self.meter.round_latencies, plan.children, len(records)),
            (ValueError,),
        )
        for record, value in zip(records, seconds, strict=False):
            record["latency_seconds"] = float(value)
        return records

    def progress(self) -> dict:
        return {"latency_table": self.meter.table}

    def resume(self, kept: list[dict], progress: dict) -> None:
        del kept
        self.meter.table.update(progress.get("latency_table", {}))

    def finish(self, workdir: str | None, summary: dict) -> None:
        if workdir is not None:
            self.meter.save(os.path.join(workdir, latency.TABLE_FILE))
        summary["latency_architectures_measured"] = self.meter.measured

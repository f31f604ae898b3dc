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


class LatencyLimit:
    """A child whose measured latency (``latency_seconds``, from
    :class:`MeasuredLatency`, which must come first) is over ``max_seconds``
    gets fitness ``-inf`` and ``over_latency_limit``: it never wins and never
    becomes a parent. Latency is measured after training, since it needs no
    training but its plain network's compilation is what costs."""

    def __init__(self, max_seconds: float):
        self.max_seconds = float(max_seconds)

    def after(self, plan, records: list[dict]) -> list[dict]:
        del plan
        for record in records:
            if record.get("latency_seconds", 0.0) > self.max_seconds:
                record["fitness"] = float("-inf")
                record["over_latency_limit"] = True
        return records

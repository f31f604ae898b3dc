"""Measured inference latency of pathways, for the ``latency`` objective of NSGA-II.

A pathway's latency is measured, not modelled: its plain network (only the
chosen blocks, :class:`~pathways_jax.codegen.plain_network.PlainNetwork`, in
inference mode) is compiled for this process's first device, called
``warmup`` times, then timed over ``repeats`` calls on a batch of
``batch_size`` examples; the median is its latency in seconds.

Training genes do not change inference, so measurements are kept per
architecture (the decoded blocks, as text): an architecture is compiled and
timed once per search. The table of measurements travels with the search's
checkpoint, so a resumed search tells the strategy the same latencies as the
uninterrupted one. Measured times vary from run to run, so two fresh searches
with the same seed can differ once latency is an objective; start a search
from a saved table (``strategy.latency_table``, e.g. a finished run's
``latency.json``) to repeat one bit for bit.
"""

from __future__ import annotations

import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.codegen.plain_network import PlainNetwork, decode_blocks
from pathways_jax.spaces.pathway import genome as genome_lib

TABLE_FILE = "latency.json"


def architecture_key(blocks: list[dict]) -> str:
    """The text that identifies an architecture's inference cost."""
    kept = ("op", "width", "kernel", "activation", "norm", "residual", "in_shape")
    return json.dumps([{k: block[k] for k in kept} for block in blocks], sort_keys=True)


class LatencyMeter:
    """Measures and remembers the inference latency of architectures.

    Attributes:
      table: ``{architecture_key: seconds}``, everything measured or loaded.
      measured: architectures timed by this meter (not loaded from a table).
    """

    def __init__(
        self,
        space,
        *,
        batch_size: int = 1,
        repeats: int = 30,
        warmup: int = 3,
        table: dict[str, float] | None = None,
    ):
        self.space = space
        self.batch_size = batch_size
        self.repeats = repeats
        self.warmup = warmup
        self.table = dict(table or {})
        self.measured = 0

    def _time(self, blocks: list[dict]) -> float:
        network = PlainNetwork(blocks=tuple(blocks), num_outputs=self.space.num_outputs)
        inputs = jnp.zeros((self.batch_size, *self.space.input_shape), jnp.float32)
        # Weights do not change the time: zeros of the right shapes, no init run.
        shapes = jax.eval_shape(network.init, jax.random.key(0), inputs)
        variables = jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
        forward = jax.jit(network.apply).lower(variables, inputs).compile()
        for _ in range(self.warmup):
            jax.block_until_ready(forward(variables, inputs))
        times = []
        for _ in range(self.repeats):
            start = time.perf_counter()
            jax.block_until_ready(forward(variables, inputs))
            times.append(time.perf_counter() - start)
        self.measured += 1
        return float(np.median(times))

    def latency(self, genome) -> float:
        """Seconds per inference call of one valid genome (measured or remembered)."""
        blocks = decode_blocks(self.space, genome)
        key = architecture_key(blocks)
        if key not in self.table:
            self.table[key] = self._time(blocks)
        return self.table[key]

    def round_latencies(self, children, num_real: int) -> list[float]:
        """Seconds of the first ``num_real`` children, then the first child's for
        each padding slot: ``round_size`` values (a list: it travels as JSON)."""
        host = jax.device_get(children)
        values = [
            self.latency(genome_lib.index_population(host, index)) for index in range(num_real)
        ]
        return values + [values[0]] * (genome_lib.population_size(host) - num_real)

    def save(self, path: str) -> None:
        """Writes the table as JSON (atomically)."""
        with open(path + ".tmp", "w", encoding="utf-8") as file:
            json.dump(self.table, file, indent=1, sort_keys=True)
            file.write("\n")
        os.replace(path + ".tmp", path)


def load_table(path: str) -> dict[str, float]:
    """A table written by :meth:`LatencyMeter.save`.

    Raises:
      ValueError: naming the file, when it is not such a table.
    """
    try:
        with open(path, encoding="utf-8") as file:
            table = json.load(file)
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: cannot be read as a latency table ({error})") from None
    if not isinstance(table, dict) or not all(
        isinstance(k, str) and isinstance(v, (int, float)) and v > 0 for k, v in table.items()
    ):
        raise ValueError(f"{path}: expected a JSON object of architecture -> seconds > 0")
    return {key: float(value) for key, value in table.items()}

"""Where a training step of the super-network spends its time, from a profile.

Trains one convolutional and one dense pathway alone in the super-network (one
device, the search's compiled training loop), records the run with
``jax.profiler.trace``, and sums the self time of every operation XLA ran,
grouped by the part of the network its named scope says it belongs to
(``operation``, ``norm``, ``activation``, ``optimizer``, ...) and by pass
(forward, backward). The operations are matched to their scopes through the
``op_name`` metadata of the compiled program's HLO.
"""

from __future__ import annotations

import collections
import glob
import os
import re
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.training import trainer

# The named scopes of ``pathway_network.apply`` and ``trainer.continue_training``,
# in the order the table lists them.
SCOPES = (
    "minibatch",
    "embed",
    "masks",
    "operation",
    "norm",
    "activation",
    "dropout",
    "residual",
    "head",
    "loss",
    "optimizer",
)
# Profile events that are not operations of the program.
RUNTIME_EVENTS = {
    "SlinkyThreadPool::Await": "waiting for the other thread",
    "ThunkExecutor::Execute": "launching operations",
}
_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = (\S+?)\{?[\d,]*\}? (\w[\w-]*)\(")
_OP_NAME = re.compile(r'op_name="([^"]*)"')
_SCOPE = re.compile(r"\b(" + "|".join(SCOPES) + r")\b")


def instruction_labels(hlo_text: str) -> dict[str, tuple[str, str, bool]]:
    """``{instruction: (scope, pass, is_product)}`` from a compiled program's HLO text.

    ``scope`` is the first named scope in the instruction's ``op_name`` (``''``
    when none), ``pass`` is ``'backward'`` (under ``transpose``), ``'forward'``
    (under ``jvp``) or ``''``, and ``is_product`` marks matrix products.
    """
    labels = {}
    for line in hlo_text.splitlines():
        match = _INSTRUCTION.match(line)
        if not match:
            continue
        name, _, opcode = match.groups()
        op_name = _OP_NAME.search(line)
        op_name = op_name.group(1) if op_name else ""
        scope = _SCOPE.search(op_name)
        direction = (
            "backward" if "transpose(" in op_name else "forward" if "jvp(" in op_name else ""
        )
        is_product = opcode == "dot" or op_name.endswith("dot_general")
        labels[name] = (scope.group(1) if scope else "", direction, is_product)
    return labels


def self_times(profile_path: str) -> collections.Counter:
    """Nanoseconds of self time per event name (an event's duration less that
    of the events nested in it), summed over XLA's worker threads."""
    profile = jax.profiler.ProfileData.from_file(profile_path)
    totals: collections.Counter = collections.Counter()
    for plane in profile.planes:
        for line in plane.lines:
            if "XLAEigen" not in line.name:
                continue
            events = sorted(
                (
                    [e.start_ns, e.start_ns + e.duration_ns, e.name, e.duration_ns]
                    for e in line.events
                ),
                key=lambda event: (event[0], -event[1]),
            )
            open_events: list[list] = []
            for event in events:
                while open_events and open_events[-1][1] <= event[0]:
                    open_events.pop()
                if open_events:
                    open_events[-1][3] -= event[3]
                open_events.append(event)
            for _, _, name, own in events:
                totals[name] += own
    return totals


def profile_training(space, genome, key, dataset, steps: int) -> dict:
    """Milliseconds per step of training ``genome``, by part and pass.

    Returns:
      ``{'description', 'wall_ms_per_step', 'profiled_ms_per_step',
      'rows': [{'part', 'forward', 'backward', 'other', 'products', 'total'}]}``,
      every figure in milliseconds per step of thread time (both threads).
    """
    settings = trainer.TrainSettings(steps=steps)
    x_train, y_train = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
    train = jax.jit(lambda g, k: trainer.train(space, settings, g, k, x_train, y_train)[1])
    # One compilation: the program that runs is the one whose HLO is labelled.
    compiled = train.lower(genome, key).compile()
    labels = instruction_labels(compiled.as_text())
    jax.block_until_ready(compiled(genome, key))
    start = time.perf_counter()
    jax.block_until_ready(compiled(genome, key))
    wall = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as directory:
        with jax.profiler.trace(directory):
            jax.block_until_ready(compiled(genome, key))
        path = glob.glob(os.path.join(directory, "**", "*.xplane.pb"), recursive=True)[0]
        times = self_times(path)
    per_step = lambda ns: ns / 1e6 / steps
    rows: dict[str, dict] = collections.defaultdict(
        lambda: {"forward": 0.0, "backward": 0.0, "other": 0.0, "products": 0.0}
    )
    for name, ns in times.items():
        if name in RUNTIME_EVENTS:
            part, direction, is_product = RUNTIME_EVENTS[name], "other", False
        elif name in labels:
            part, direction, is_product = labels[name]
            if not part:
                part = "loop state (copies, control flow)"
            direction = direction or "other"
        else:
            part, direction, is_product = "other runtime", "other", False
        rows[part][direction] += per_step(ns)
        if is_product:
            rows[part]["products"] += per_step(ns)
    order = list(SCOPES) + ["loop state (copies, control flow)"] + list(RUNTIME_EVENTS.values())
    listed = [
        {"part": part, **values, "total": values["forward"] + values["backward"] + values["other"]}
        for part, values in sorted(
            rows.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)
        )
    ]
    return {
        "description": space.describe(genome),
        "wall_ms_per_step": 1e3 * wall / steps,
        "profiled_ms_per_step": sum(row["total"] for row in listed),
        "rows": listed,
    }


def run(space, genomes, keys, dataset, steps: int) -> dict:
    """The profile of the first convolutional and the first dense pathway."""
    operations = np.asarray(genomes.operation)
    has_conv = np.any(operations == genome_lib.CONV, axis=1)
    result = {"steps": steps, "pathways": {}}
    for kind, candidates in (("conv", has_conv), ("dense", ~has_conv)):
        if not np.any(candidates):
            continue
        index = int(np.argmax(candidates))
        genome = genome_lib.index_population(genomes, index)
        result["pathways"][kind] = profile_training(space, genome, keys[index], dataset, steps)
    return result

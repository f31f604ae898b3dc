"""Which instructions of a program matter: a backward liveness analysis (host).

An instruction is live when a later live instruction, or the harness, reads
what it writes before anything overwrites it. The harness reads the
prediction ``s1`` after every ``Predict``, and writes ``v0`` (the features)
and ``s0`` (0 before ``Predict``, the label before ``Learn``) before every
``Predict`` and ``Learn``. The program runs ``Setup``, then ``Predict`` and
``Learn`` alternately, then ``Predict`` alone, so the analysis iterates the
three functions to a fixed point. A dead instruction can be removed (or made
a no-op) without changing any prediction: random set ops draw by slot
(:mod:`~pathways_jax.spaces.program.random_stream`), so removing one does not
change another's numbers.
"""

from __future__ import annotations

import numpy as np

from pathways_jax.spaces.program import ops as ops_lib
from pathways_jax.spaces.program.genome import FEATURES, FUNCTIONS, LABEL, PREDICTION

# Memory cells as bits of a Python int: bit ``KIND * 1024 + address``.
_KIND_BIT = {kind: 1024 * index for index, kind in enumerate(ops_lib.KINDS)}
_HARNESS_WRITES = (1 << (_KIND_BIT["s"] + LABEL)) | (1 << (_KIND_BIT["v"] + FEATURES))
_PREDICTION = 1 << (_KIND_BIT["s"] + PREDICTION)
# Per op: (output bit offset or None, element write, input bit offsets).
_OP_BITS = [
    (
        _KIND_BIT[op.output] if op.output else None,
        op.element,
        tuple(_KIND_BIT[kind] for kind in op.inputs),
    )
    for op in ops_lib.OPS
]


def _instructions(genome, name: str) -> list[tuple]:
    """``(slot, write bit, element, read mask)`` of each active instruction
    that writes (no-ops are dead by definition)."""
    function = genome.function(name)
    length = int(function.length)
    columns = [
        np.asarray(getattr(function, f))[:length].tolist() for f in ("op", "in1", "in2", "out")
    ]
    code = []
    for slot, (op, in1, in2, out) in enumerate(zip(*columns, strict=True)):
        output, element, inputs = _OP_BITS[op]
        if output is None:
            continue
        reads = 0
        for offset, address in zip(inputs, (in1, in2), strict=False):
            reads |= 1 << (offset + address)
        code.append((slot, 1 << (output + out), element, reads))
    return code


def _backward(instructions, live_out: int) -> tuple[int, list[int]]:
    """``(live at entry, live slots)`` of one function given what is live after it."""
    live = live_out
    slots = []
    for slot, write, element, reads in reversed(instructions):
        if not live & write:
            continue
        slots.append(slot)
        if not element:  # An element write keeps the rest of its output.
            live &= ~write
        live |= reads
    return live, slots[::-1]


_MEMO: dict[bytes, dict[str, list[int]]] = {}
_MEMO_SIZE = 65536


def _key(genome) -> bytes:
    parts = []
    for name in FUNCTIONS:
        function = genome.function(name)
        parts.append(np.asarray(function.length).tobytes())
        parts.extend(
            np.asarray(getattr(function, f)).tobytes() for f in ("op", "in1", "in2", "out")
        )
    return b"".join(parts)


def live_slots(space, genome) -> dict[str, list[int]]:
    """Per component function, the slots of its live instructions (memoised:
    the history's description and the genotype cache ask for the same genomes)."""
    del space  # The analysis needs only the genome; kept for a uniform signature.
    key = _key(genome)
    found = _MEMO.get(key)
    if found is None:
        if len(_MEMO) >= _MEMO_SIZE:
            _MEMO.clear()
        found = _MEMO[key] = _live_slots(genome)
    return {name: list(slots) for name, slots in found.items()}


def _live_slots(genome) -> dict[str, list[int]]:
    code = {name: _instructions(genome, name) for name in FUNCTIONS}
    entry = dict.fromkeys(FUNCTIONS, 0)
    slots = {name: [] for name in FUNCTIONS}
    while True:
        before_predict = entry["predict"] & ~_HARNESS_WRITES
        outs = {
            "setup": before_predict,
            "predict": _PREDICTION | (entry["learn"] & ~_HARNESS_WRITES) | before_predict,
            "learn": before_predict,
        }
        changed = False
        for name in FUNCTIONS:
            live, slots[name] = _backward(code[name], outs[name])
            if live != entry[name]:
                entry[name], changed = live, True
        if not changed:
            return slots


def without_dead_code(space, genome):
    """``genome`` with its dead instructions made no-ops in place (same slots,
    so the same random draws): the program whose results must be equal."""
    import jax.numpy as jnp

    live = live_slots(space, genome)
    functions = {}
    for name in FUNCTIONS:
        function = genome.function(name)
        dead = np.ones(function.op.shape[-1], bool)
        dead[live[name]] = False
        functions[name] = function.replace(
            op=jnp.where(jnp.asarray(dead), ops_lib.NO_OP, function.op)
        )
    return genome.replace(**functions)

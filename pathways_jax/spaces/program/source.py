"""Programs as text: the paper's listing, and NumPy and JAX function bodies.

Every instruction is its op's expression (:mod:`~pathways_jax.spaces.program.ops`)
with the addresses and constants filled in, so the listing a person reads, the
exported NumPy module and the exported JAX module are one text in three
spellings:

- ``listing``: ``s3 = s0 - s1`` (the paper's ``def Setup(): ...`` form);
- ``numpy``: ``s[3] = s[0] - s[1]`` on memory arrays updated in place;
- ``jax``: ``s = s.at[3].set(s[0] - s[1])`` on immutable arrays.

Only live instructions are written (:mod:`~pathways_jax.spaces.program.liveness`).
"""

from __future__ import annotations

import re

import numpy as np

from pathways_jax.spaces.program import liveness
from pathways_jax.spaces.program import ops as ops_lib
from pathways_jax.spaces.program.genome import FUNCTIONS, function_to_rows

KIND_NAMES = {"s": "scalars", "v": "vectors", "m": "matrices"}
TITLES = {"setup": "Setup", "predict": "Predict", "learn": "Learn"}
_TOKENS = re.compile(r"\b(a|b|c0|c1|uniform|gaussian)\b")


def _constant(value: float, readable: bool) -> str:
    if readable:
        return f"{value:.4g}"
    return repr(float(np.float32(value)))


def _variable(kind: str, address: int, style: str) -> str:
    return f"{kind}{address}" if style == "listing" else f"{kind}[{address}]"


def instruction_text(space, function_index: int, slot: int, row, style: str) -> str:
    """One instruction in ``style`` (``'listing'``, ``'numpy'`` or ``'jax'``)."""
    op = ops_lib.OPS[ops_lib.op_index(row[0])]
    in1, in2, out, c0, c1 = [*row[1:], 0.0, 0.0][:5]
    readable = style == "listing"
    fills = {
        "a": _variable(op.inputs[0], in1, style) if op.inputs else "",
        "b": _variable(op.inputs[1], in2, style) if len(op.inputs) > 1 else "",
        "c0": _constant(c0, readable),
        "c1": _constant(c1, readable),
        "uniform": "uniform" if readable else f"draw.uniform(step, {function_index}, {slot}",
        "gaussian": "gaussian" if readable else f"draw.gaussian(step, {function_index}, {slot}",
    }
    expression = op.expression
    if op.random and not readable:  # The draw names its place in the random stream.
        expression = expression.replace("(", ", ", 1)
    value = _TOKENS.sub(lambda match: fills[match.group(1)], expression)
    target = _variable(op.output, out, style)
    if op.element:
        size = space.feature_size if op.output == "v" else space.feature_size**2
        index = ops_lib.element_index(c1, size)
        if op.output == "m":
            where = f"{index // space.feature_size}, {index % space.feature_size}"
        else:
            where = str(index)
        if style == "listing":
            return f"{target}[{where}] = {value}"
        if style == "numpy":
            return f"{op.output}[{out}, {where}] = {value}"
        return f"{op.output} = {op.output}.at[{out}, {where}].set({value})"
    if style == "jax":
        return f"{op.output} = {op.output}.at[{out}].set({value})"
    return f"{target} = {value}"


def function_lines(space, genome, name: str, style: str, live=None) -> list[str]:
    """The live instructions of one component function in ``style``."""
    live = liveness.live_slots(space, genome) if live is None else live
    rows = function_to_rows(genome.function(name))
    index = FUNCTIONS.index(name)
    return [instruction_text(space, index, slot, rows[slot], style) for slot in live[name]]


def listing(space, genome) -> str:
    """The program the paper's way: ``def Setup(): ...``, live code only."""
    live = liveness.live_slots(space, genome)
    blocks = []
    for name in FUNCTIONS:
        lines = function_lines(space, genome, name, "listing", live) or ["pass"]
        blocks.append(f"def {TITLES[name]}():\n" + "\n".join(f"  {line}" for line in lines))
    return "\n".join(blocks) + "\n"

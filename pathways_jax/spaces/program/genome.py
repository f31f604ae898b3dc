"""The program genome: three component functions of fixed-shape instruction arrays.

A program (AutoML-Zero, Real et al. 2020) is ``Setup()``, ``Predict()`` and
``Learn()``. Each is a :class:`Function`: up to ``L`` instruction slots, of
which the first ``length`` run. An instruction is ``op`` (an index into
:data:`~pathways_jax.spaces.program.ops.OPS`), the input addresses ``in1``
and ``in2`` and the output address ``out`` (each an address into the memory
of the op's kind of that argument), and two float32 constants ``c0``, ``c1``.
Slots past ``length`` hold no-ops with zero arguments, so a genome is a
function of its active instructions only.

Memory: ``num_scalars`` scalars ``s``, ``num_vectors`` vectors ``v`` of
``feature_size`` and ``num_matrices`` matrices ``m``. Reserved addresses, as
in the paper: the features of the current example in ``v0``, its label in
``s0`` (written after ``Predict`` and before ``Learn``), the prediction in
``s1``.
"""

from __future__ import annotations

import flax.struct
import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.program import ops as ops_lib

FUNCTIONS = ("setup", "predict", "learn")
FIELDS = ("op", "in1", "in2", "out", "c0", "c1")
LABEL, PREDICTION, FEATURES = 0, 1, 0  # s0, s1, v0.


@flax.struct.dataclass
class Function:
    """One component function (a leading ``[n]`` axis for a population).

    Attributes:
      op, in1, in2, out: int32 ``[L]``.
      c0, c1: float32 ``[L]``.
      length: int32 ``[]``, active slots (the first ``length``).
    """

    op: jnp.ndarray
    in1: jnp.ndarray
    in2: jnp.ndarray
    out: jnp.ndarray
    c0: jnp.ndarray
    c1: jnp.ndarray
    length: jnp.ndarray

    @property
    def slots(self) -> int:
        return self.op.shape[-1]


@flax.struct.dataclass
class Program:
    """A genome: ``setup``, ``predict`` and ``learn`` :class:`Function` s."""

    setup: Function
    predict: Function
    learn: Function

    def function(self, name: str) -> Function:
        return getattr(self, name)


def empty_function(slots: int, length: int = 0) -> Function:
    """``slots`` no-ops, the first ``length`` of them active."""
    zeros = jnp.zeros((slots,), jnp.int32)
    return Function(
        op=zeros + ops_lib.NO_OP,
        in1=zeros,
        in2=zeros,
        out=zeros,
        c0=jnp.zeros((slots,), jnp.float32),
        c1=jnp.zeros((slots,), jnp.float32),
        length=jnp.asarray(length, jnp.int32),
    )


def constants_used(op: ops_lib.Op) -> int:
    """How many of ``c0``, ``c1`` an op reads (what its JSON row carries)."""
    if not op.constants:
        return 0
    return 1 if op.constants == ("value",) else 2


_CONSTANTS = [constants_used(op) for op in ops_lib.OPS]


def function_to_rows(function: Function) -> list[list]:
    """The active instructions as ``[op name, in1, in2, out, *constants]``
    rows, with only the constants the op reads (host)."""
    length = int(function.length)
    columns = [np.asarray(getattr(function, field))[:length].tolist() for field in FIELDS]
    rows = []
    for op_index, in1, in2, out, c0, c1 in zip(*columns, strict=True):
        op = ops_lib.OPS[op_index]
        rows.append([op.name, in1, in2, out, c0, c1][: 4 + _CONSTANTS[op_index]])
    return rows


def function_from_rows(rows, slots: int, where: str) -> Function:
    """The :class:`Function` of ``rows`` (see :func:`function_to_rows`; a
    row may hold both constants whether or not its op reads them),
    padded to ``slots``; ``ValueError`` names ``where`` and the bad row."""
    if not isinstance(rows, (list, tuple)):
        raise ValueError(f"genome JSON gene {where!r}: expected a list of instructions")
    if len(rows) > slots:
        raise ValueError(
            f"genome JSON gene {where!r}: {len(rows)} instructions, at most {slots} allowed"
        )
    columns = {field: [] for field in FIELDS}
    for index, row in enumerate(rows):
        if not isinstance(row, (list, tuple)) or not 4 <= len(row) <= 6:
            raise ValueError(
                f"genome JSON gene {where}[{index}]={row!r}: expected "
                "[op name, in1, in2, out] and up to two constants"
            )
        row = [*row, 0.0, 0.0][:6]
        try:
            columns["op"].append(ops_lib.op_index(str(row[0])))
        except ValueError as error:
            raise ValueError(f"genome JSON gene {where}[{index}]: {error}") from None
        for field, value in zip(FIELDS[1:4], row[1:4], strict=True):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(
                    f"genome JSON gene {where}[{index}] {field}={value!r}: expected an "
                    "address (an integer >= 0)"
                )
            columns[field].append(value)
        for field, value in zip(FIELDS[4:], row[4:], strict=True):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(
                    f"genome JSON gene {where}[{index}] {field}={value!r}: expected a number"
                )
            columns[field].append(float(value))
    pad = slots - len(rows)
    ints = lambda field, fill: np.asarray(columns[field] + [fill] * pad, np.int32)
    floats = lambda field: np.asarray(columns[field] + [0.0] * pad, np.float32)
    return Function(
        op=jnp.asarray(ints("op", ops_lib.NO_OP)),
        in1=jnp.asarray(ints("in1", 0)),
        in2=jnp.asarray(ints("in2", 0)),
        out=jnp.asarray(ints("out", 0)),
        c0=jnp.asarray(floats("c0")),
        c1=jnp.asarray(floats("c1")),
        length=jnp.asarray(len(rows), jnp.int32),
    )

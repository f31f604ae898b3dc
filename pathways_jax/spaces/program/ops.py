"""The operations of a program: AutoML-Zero's op set (Real et al. 2020, table S1).

A program's memory holds scalars ``s``, vectors ``v`` of size ``F`` and
matrices ``m`` of size ``F x F``. An instruction is one op applied to
addresses of the memory of its input types, written to an address of its
output type, with up to two constants (``c0``, ``c1``): a value, an element
index (as a fraction of the size), or the bounds or mean and spread of a
random draw.

Each :class:`Op` carries its semantics once, as an expression over names
``a``, ``b`` (the inputs), ``c0``, ``c1`` and ``F``, in a vocabulary that
exists both in NumPy and in ``jax.numpy`` (:func:`namespace`). The batched
interpreter evaluates the expression with ``jax.numpy``; the exported module
and the printed program are the same expression with addresses filled in,
so the code people read is the code that ran.
"""

from __future__ import annotations

import dataclasses
import difflib
import math

KINDS = ("s", "v", "m")  # Scalar, vector, matrix.


@dataclasses.dataclass(frozen=True)
class Op:
    """One operation.

    Attributes:
      name: AutoML-Zero's name without the ``_OP`` suffix, e.g. ``'SCALAR_DIFF'``.
      inputs: the kinds of the inputs ``a`` (and ``b``), e.g. ``('s', 's')``.
      output: the kind written (``''`` for the no-op).
      expression: the value written, e.g. ``'a - b'`` (see the module doc).
      constants: which constants the op reads: ``'value'`` (``c0``),
        ``'index'`` (``c1``: an element index as a fraction in [0, 1)),
        ``'range'`` (``c0 < c1``: uniform bounds), ``'normal'`` (``c0`` mean,
        ``c1 > 0`` standard deviation).
      element: the op writes one element of its output (at ``c1``), not all.
      random: the op draws random numbers.
    """

    name: str
    inputs: tuple[str, ...]
    output: str
    expression: str
    constants: tuple[str, ...] = ()
    element: bool = False
    random: bool = False


def _elementwise(prefix: str, kind: str) -> list[Op]:
    """Sum, difference, product, division, min and max of two ``kind``s."""
    return [
        Op(f"{prefix}_SUM", (kind, kind), kind, "a + b"),
        Op(f"{prefix}_DIFF", (kind, kind), kind, "a - b"),
        Op(f"{prefix}_PRODUCT", (kind, kind), kind, "a * b"),
        Op(f"{prefix}_DIVISION", (kind, kind), kind, "a / b"),
        Op(f"{prefix}_MIN", (kind, kind), kind, "minimum(a, b)"),
        Op(f"{prefix}_MAX", (kind, kind), kind, "maximum(a, b)"),
    ]


_SCALAR_FUNCTIONS = ("abs", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "exp", "log")

OPS: tuple[Op, ...] = (
    Op("NO", (), "", ""),
    *_elementwise("SCALAR", "s"),
    *(Op(f"SCALAR_{f.upper()}", ("s",), "s", f"{f}(a)") for f in _SCALAR_FUNCTIONS),
    Op("SCALAR_RECIPROCAL", ("s",), "s", "1.0 / a"),
    Op("SCALAR_HEAVISIDE", ("s",), "s", "heaviside(a)"),
    Op("VECTOR_HEAVISIDE", ("v",), "v", "heaviside(a)"),
    Op("MATRIX_HEAVISIDE", ("m",), "m", "heaviside(a)"),
    Op("SCALAR_VECTOR_PRODUCT", ("s", "v"), "v", "a * b"),
    Op("SCALAR_BROADCAST", ("s",), "v", "a * ones(F)"),
    Op("VECTOR_RECIPROCAL", ("v",), "v", "1.0 / a"),
    Op("VECTOR_NORM", ("v",), "s", "norm(a)"),
    Op("VECTOR_ABS", ("v",), "v", "abs(a)"),
    *_elementwise("VECTOR", "v"),
    Op("VECTOR_INNER_PRODUCT", ("v", "v"), "s", "dot(a, b)"),
    Op("VECTOR_OUTER_PRODUCT", ("v", "v"), "m", "outer(a, b)"),
    Op("SCALAR_MATRIX_PRODUCT", ("s", "m"), "m", "a * b"),
    Op("MATRIX_RECIPROCAL", ("m",), "m", "1.0 / a"),
    Op("MATRIX_VECTOR_PRODUCT", ("m", "v"), "v", "dot(a, b)"),
    Op("VECTOR_COLUMN_BROADCAST", ("v",), "m", "outer(a, ones(F))"),
    Op("VECTOR_ROW_BROADCAST", ("v",), "m", "outer(ones(F), a)"),
    Op("MATRIX_NORM", ("m",), "s", "norm(a)"),
    Op("MATRIX_COLUMN_NORM", ("m",), "v", "column_norm(a)"),
    Op("MATRIX_ROW_NORM", ("m",), "v", "row_norm(a)"),
    Op("MATRIX_TRANSPOSE", ("m",), "m", "transpose(a)"),
    Op("MATRIX_ABS", ("m",), "m", "abs(a)"),
    *_elementwise("MATRIX", "m"),
    Op("MATRIX_MATRIX_PRODUCT", ("m", "m"), "m", "dot(a, b)"),
    Op("VECTOR_MEAN", ("v",), "s", "mean(a)"),
    Op("MATRIX_MEAN", ("m",), "s", "mean(a)"),
    Op("MATRIX_ROW_MEAN", ("m",), "v", "row_mean(a)"),
    Op("MATRIX_ROW_ST_DEV", ("m",), "v", "row_std(a)"),
    Op("VECTOR_ST_DEV", ("v",), "s", "std(a)"),
    Op("MATRIX_ST_DEV", ("m",), "s", "std(a)"),
    Op("SCALAR_CONST_SET", (), "s", "c0", ("value",)),
    Op("VECTOR_CONST_SET", (), "v", "c0", ("value", "index"), element=True),
    Op("MATRIX_CONST_SET", (), "m", "c0", ("value", "index"), element=True),
    Op("SCALAR_UNIFORM_SET", (), "s", "uniform(c0, c1, ())", ("range",), random=True),
    Op("VECTOR_UNIFORM_SET", (), "v", "uniform(c0, c1, (F,))", ("range",), random=True),
    Op("MATRIX_UNIFORM_SET", (), "m", "uniform(c0, c1, (F, F))", ("range",), random=True),
    Op("SCALAR_GAUSSIAN_SET", (), "s", "gaussian(c0, c1, ())", ("normal",), random=True),
    Op("VECTOR_GAUSSIAN_SET", (), "v", "gaussian(c0, c1, (F,))", ("normal",), random=True),
    Op("MATRIX_GAUSSIAN_SET", (), "m", "gaussian(c0, c1, (F, F))", ("normal",), random=True),
)

BY_NAME = {op.name: index for index, op in enumerate(OPS)}
NO_OP = BY_NAME["NO"]


def op_index(name: str) -> int:
    """The index of the op called ``name`` (with or without ``_OP``)."""
    key = name[:-3] if name.endswith("_OP") else name
    if key not in BY_NAME:
        close = difflib.get_close_matches(key, BY_NAME, n=1)
        hint = f" (the closest: {close[0]!r})" if close else ""
        raise ValueError(
            f"unknown op {name!r}: expected an op name of the table OPS in "
            f"pathways_jax/spaces/program/ops.py, e.g. 'SCALAR_DIFF'{hint}"
        )
    return BY_NAME[key]


def element_index(fraction, size: int):
    """The element an ``index`` constant in [0, 1) names in a flat ``size``."""
    return min(max(int(math.floor(float(fraction) * size)), 0), size - 1)


def namespace(xp) -> dict:
    """The functions op expressions call, written with ``xp`` (``numpy`` or
    ``jax.numpy``); ``uniform`` and ``gaussian`` are added by the caller, who
    owns the random stream."""
    return {
        "abs": xp.abs,
        "sin": xp.sin,
        "cos": xp.cos,
        "tan": xp.tan,
        "arcsin": xp.arcsin,
        "arccos": xp.arccos,
        "arctan": xp.arctan,
        "exp": xp.exp,
        "log": xp.log,
        "minimum": xp.minimum,
        "maximum": xp.maximum,
        "heaviside": lambda a: (a > 0).astype(a.dtype) if hasattr(a, "astype") else float(a > 0),
        "ones": lambda shape: xp.ones(shape, xp.float32),
        "norm": lambda a: xp.sqrt(xp.sum(a * a)),
        "dot": xp.dot,
        "outer": xp.outer,
        "column_norm": lambda a: xp.sqrt(xp.sum(a * a, axis=0)),
        "row_norm": lambda a: xp.sqrt(xp.sum(a * a, axis=1)),
        "transpose": xp.transpose,
        "mean": xp.mean,
        "std": xp.std,
        "row_mean": lambda a: xp.mean(a, axis=1),
        "row_std": lambda a: xp.std(a, axis=1),
    }

"""Hand-written programs: baselines, starting points and test fixtures.

Each is a genome JSON (``[op, in1, in2, out, c0, c1]`` rows per function):

- ``linear_regression``: a linear model trained by stochastic gradient
  descent (``w += lr * (y - w.x) x``), what the linear search should find.
- ``neural_net``: AutoML-Zero's 2-layer network baseline (ReLU hidden layer
  of ``F`` units with bias, trained by backpropagation, learning rate 0.01,
  weights initialised ``N(0, 0.1)``); memory 5 scalars, 9 vectors, 2 matrices.
- ``damaged_neural_net``: the same without the two weight initialisations in
  ``Setup`` (all weights start at zero, so only the output bias learns): the
  nonlinear search's start, which must put them back.
"""

from __future__ import annotations

LINEAR_REGRESSION = {
    "setup": [["SCALAR_CONST_SET", 0, 0, 2, 0.1, 0.0]],
    "predict": [["VECTOR_INNER_PRODUCT", 0, 1, 1, 0.0, 0.0]],  # s1 = dot(v0, v1)
    "learn": [
        ["SCALAR_DIFF", 0, 1, 3, 0.0, 0.0],  # s3 = s0 - s1
        ["SCALAR_PRODUCT", 2, 3, 3, 0.0, 0.0],  # s3 = s2 * s3
        ["SCALAR_VECTOR_PRODUCT", 3, 0, 2, 0.0, 0.0],  # v2 = s3 * v0
        ["VECTOR_SUM", 1, 2, 1, 0.0, 0.0],  # v1 = v1 + v2
    ],
}

_NET_SETUP_WEIGHTS = [
    ["VECTOR_GAUSSIAN_SET", 0, 0, 2, 0.0, 0.1],  # v2 = gaussian(0, 0.1): readout weights
    ["MATRIX_GAUSSIAN_SET", 0, 0, 0, 0.0, 0.1],  # m0 = gaussian(0, 0.1): hidden weights
]
_NET_SETUP_RATE = [["SCALAR_CONST_SET", 0, 0, 3, 0.01, 0.0]]  # s3 = 0.01
_NET_PREDICT = [
    ["MATRIX_VECTOR_PRODUCT", 0, 0, 3, 0.0, 0.0],  # v3 = m0 v0
    ["VECTOR_SUM", 3, 1, 3, 0.0, 0.0],  # v3 = v3 + v1 (hidden bias)
    ["VECTOR_MAX", 3, 5, 4, 0.0, 0.0],  # v4 = max(v3, v5) with v5 = 0: ReLU
    ["VECTOR_INNER_PRODUCT", 4, 2, 1, 0.0, 0.0],  # s1 = dot(v4, v2)
    ["SCALAR_SUM", 1, 2, 1, 0.0, 0.0],  # s1 = s1 + s2 (readout bias)
]
_NET_LEARN = [
    ["SCALAR_DIFF", 0, 1, 4, 0.0, 0.0],  # s4 = s0 - s1
    ["SCALAR_PRODUCT", 3, 4, 4, 0.0, 0.0],  # s4 = s3 * s4
    ["SCALAR_SUM", 2, 4, 2, 0.0, 0.0],  # s2 = s2 + s4
    ["SCALAR_VECTOR_PRODUCT", 4, 4, 6, 0.0, 0.0],  # v6 = s4 * v4
    ["SCALAR_VECTOR_PRODUCT", 4, 2, 7, 0.0, 0.0],  # v7 = s4 * v2
    ["VECTOR_SUM", 2, 6, 2, 0.0, 0.0],  # v2 = v2 + v6
    ["VECTOR_HEAVISIDE", 3, 0, 8, 0.0, 0.0],  # v8 = heaviside(v3)
    ["VECTOR_PRODUCT", 7, 8, 7, 0.0, 0.0],  # v7 = v7 * v8
    ["VECTOR_SUM", 1, 7, 1, 0.0, 0.0],  # v1 = v1 + v7
    ["VECTOR_OUTER_PRODUCT", 7, 0, 1, 0.0, 0.0],  # m1 = outer(v7, v0)
    ["MATRIX_SUM", 0, 1, 0, 0.0, 0.0],  # m0 = m0 + m1
]

NEURAL_NET = {
    "setup": _NET_SETUP_WEIGHTS + _NET_SETUP_RATE,
    "predict": _NET_PREDICT,
    "learn": _NET_LEARN,
}
DAMAGED_NEURAL_NET = {"setup": _NET_SETUP_RATE, "predict": _NET_PREDICT, "learn": _NET_LEARN}

PROGRAMS = {
    "linear_regression": LINEAR_REGRESSION,
    "neural_net": NEURAL_NET,
    "damaged_neural_net": DAMAGED_NEURAL_NET,
}

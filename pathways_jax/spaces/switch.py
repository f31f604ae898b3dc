"""``lax.switch`` whose gradient recomputes the chosen branch.

Differentiating ``jax.lax.switch`` keeps, for the backward pass, the union of
every branch's intermediate values: each branch writes zeros of the shapes the
other branches would have kept. In the super-network a block chooses among
dense, convolution and pooling operations, so every step of every candidate
filled the convolution patches ``[B, *spatial, K * C]`` with zeros, whatever its
operation (a sixth of a dense pathway's step time in a profile). :func:`switch`
keeps only its operands instead and, in the backward pass, switches to the
chosen branch's own vector-Jacobian product, which recomputes what that branch
needs. Values and gradients are those of ``lax.switch``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp


def switch(index, branches: Sequence[Callable], *operands):
    """``branches[index](*operands)``, differentiable in ``operands`` and in
    any floating-point value the branches close over.

    Args:
      index: integer or bool scalar, clamped to ``[0, len(branches) - 1]`` by
        ``lax.switch``; never differentiated.
      branches: functions of ``operands`` with the same output structure.
      *operands: arrays or pytrees passed to the chosen branch.

    Returns:
      The chosen branch's output. Under ``vmap`` with a batched ``index``,
      every branch runs (as with ``lax.switch``).
    """
    index = jnp.asarray(index).astype(jnp.int32)  # a bool picks branch 0 or 1
    # Closed-over floating-point values (parameters) become explicit inputs, so
    # that the custom gradient reaches them.
    converted, constants, bounds = [], [], [0]
    for branch in branches:
        function, hoisted = jax.closure_convert(branch, *operands)
        converted.append(function)
        constants.extend(hoisted)
        bounds.append(len(constants))

    def explicit(position, function):
        start, stop = bounds[position], bounds[position + 1]
        return lambda operands, constants: function(*operands, *constants[start:stop])

    explicit_branches = [explicit(i, f) for i, f in enumerate(converted)]

    @jax.custom_vjp
    def run(index, operands, constants):
        return jax.lax.switch(index, explicit_branches, operands, constants)

    def forward(index, operands, constants):
        return run(index, operands, constants), (index, operands, constants)

    def backward(residuals, cotangent):
        index, operands, constants = residuals

        def pullback(branch):
            return lambda operands, constants, cotangent: jax.vjp(branch, operands, constants)[1](
                cotangent
            )

        pullbacks = [pullback(branch) for branch in explicit_branches]
        return (None, *jax.lax.switch(index, pullbacks, operands, constants, cotangent))

    run.defvjp(forward, backward)
    return run(index, tuple(operands), tuple(constants))

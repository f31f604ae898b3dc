"""The recomputing switch has the values and gradients of ``lax.switch``."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pathways_jax.spaces.switch import switch


def _branches(scale, shift):
    """Branches with different intermediate shapes; two close over parameters."""
    return [
        lambda w, x: jnp.tanh(w @ x) * scale,
        lambda w, x: jnp.sum(jnp.outer(x, x) @ w.T, axis=0) + shift,
        lambda w, x: x,
    ]


def _loss(select, index, w, x, scale, shift):
    return jnp.sum(jnp.square(select(index, _branches(scale, shift), w, x)))


def _reference(index, branches, *operands):
    return jax.lax.switch(index, branches, *operands)


def _operands():
    keys = jax.random.split(jax.random.key(0), 4)
    w = jax.random.normal(keys[0], (3, 3))
    x = jax.random.normal(keys[1], (3,))
    return w, x, jax.random.normal(keys[2], ()), jax.random.normal(keys[3], (3,))


@pytest.mark.parametrize("index", [0, 1, 2, 7])
def test_values_and_gradients_match_lax_switch(index):
    w, x, scale, shift = _operands()
    grad = lambda select: jax.jit(
        jax.value_and_grad(lambda *a: _loss(select, index, *a), argnums=(0, 1, 2, 3))
    )
    value, grads = grad(switch)(w, x, scale, shift)
    expected_value, expected_grads = grad(_reference)(w, x, scale, shift)
    np.testing.assert_allclose(value, expected_value, rtol=1e-6)
    for got, expected in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    # A parameter only another branch reads gets a zero gradient.
    if index != 1:
        np.testing.assert_array_equal(grads[3], np.zeros(3))


def test_batched_index_under_vmap():
    w, x, scale, shift = _operands()
    indices = jnp.array([0, 1, 2])
    ws = jnp.stack([w, 2 * w, 3 * w])

    def grads(select):
        per_candidate = jax.grad(lambda w, i: _loss(select, i, w, x, scale, shift))
        return jax.jit(jax.vmap(per_candidate))(ws, indices)

    np.testing.assert_allclose(grads(switch), grads(_reference), rtol=1e-5, atol=1e-7)


def test_backward_keeps_no_zeros_of_other_branches():
    """The gradient program of the recomputing switch holds fewer buffers of
    the first branch's intermediate shape than that of ``lax.switch``, which
    also passes them (as zeros when branch 1 runs) between the passes."""
    big = 257

    def branches(w):
        return [lambda x: jnp.sum(jnp.tanh(jnp.tile(x, big) * w)) * x, lambda x: 2.0 * x]

    def loss(select, w, x, index):
        return jnp.sum(select(index, branches(w), x))

    def hlo(select):
        grad = jax.jit(jax.grad(lambda w, x, i: loss(select, w, x, i)))
        return grad.lower(1.5, jnp.ones(3), 1).as_text()

    shape = f"tensor<{3 * big}xf32>"
    # lax.switch passes the tiled intermediate out of the first branch as a
    # residual; the recomputing switch keeps it inside the backward branch.
    assert hlo(_reference).count(shape) > hlo(switch).count(shape)


def test_bool_index_picks_branch_zero_or_one():
    branches = [lambda x: x - 1.0, lambda x: x + 1.0]
    assert switch(jnp.bool_(True), branches, 1.0) == 2.0
    assert switch(jnp.bool_(False), branches, 1.0) == 0.0

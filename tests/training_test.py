"""Optimizers, schedules and losses chosen by genes agree with their optax definitions."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pathways_jax.spaces.pathway.genome import (
    CLASSIFICATION_LOSSES,
    OPTIMIZERS,
    REGRESSION_LOSSES,
    SCHEDULES,
)
from pathways_jax.training import losses, optimizers

STEPS = 20


def _params_and_grads(seed):
    keys = jax.random.split(jax.random.key(seed), 4)
    params = {"w": jax.random.normal(keys[0], (3, 4)), "b": jax.random.normal(keys[1], (4,))}
    grads = [
        {
            "w": jax.random.normal(jax.random.fold_in(keys[2], i), (3, 4)),
            "b": jax.random.normal(jax.random.fold_in(keys[3], i), (4,)),
        }
        for i in range(5)
    ]
    return params, grads


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_gene_optimizer_matches_optax_chain(optimizer, schedule):
    params, grads = _params_and_grads(0)
    log10_lr, weight_decay = -2.0, 1e-2
    reference_chain = optimizers.optax_chain(
        optimizer,
        optimizers.learning_rate_schedule(schedule, 10.0**log10_lr, STEPS),
        weight_decay,
    )
    reference_params, reference_state = params, reference_chain.init(params)
    gene_params, gene_state = params, optimizers.init_optimizer(params)
    step = jax.jit(optimizers.apply_optimizer)
    for g in grads:
        updates, reference_state = reference_chain.update(g, reference_state, reference_params)
        reference_params = optax.apply_updates(reference_params, updates)
        learning_rate = optimizers.learning_rate_at(
            jnp.int32(SCHEDULES.index(schedule)), jnp.float32(log10_lr), gene_state.count, STEPS
        )
        gene_params, gene_state = step(
            jnp.int32(OPTIMIZERS.index(optimizer)),
            learning_rate,
            jnp.float32(weight_decay),
            g,
            gene_state,
            gene_params,
        )
    for name in params:
        np.testing.assert_allclose(gene_params[name], reference_params[name], rtol=1e-5, atol=1e-6)


def test_schedules_peak_and_decay():
    total = 100
    lr = lambda name, step: float(
        optimizers.learning_rate_at(
            jnp.int32(SCHEDULES.index(name)), jnp.float32(-2.0), step, total
        )
    )
    assert lr("constant", 0) == pytest.approx(1e-2) and lr("constant", 99) == pytest.approx(1e-2)
    assert lr("cosine", 0) == pytest.approx(1e-2) and lr("cosine", total) == pytest.approx(
        0.0, abs=1e-9
    )
    assert lr("warmup_cosine", 0) == pytest.approx(0.0, abs=1e-9)
    assert lr("warmup_cosine", optimizers.warmup_steps(total)) == pytest.approx(1e-2)


def test_losses_select_by_gene():
    logits = jnp.asarray([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
    labels = jnp.asarray([0, 2])
    for index in range(len(CLASSIFICATION_LOSSES)):
        selected = losses.per_example_loss("classification", jnp.int32(index), logits, labels)
        np.testing.assert_allclose(selected, losses.classification_losses(logits, labels)[index])
    # Multi-class hinge (Crammer-Singer): max(0, 1 + max_{j≠y} s_j - s_y).
    hinge = losses.classification_losses(logits, labels)[CLASSIFICATION_LOSSES.index("hinge")]
    np.testing.assert_allclose(hinge, [0.0, 0.9], atol=1e-6)
    outputs, targets = jnp.asarray([[0.5], [3.0]]), jnp.asarray([0.0, 0.0])
    mse, huber = (
        losses.per_example_loss("regression", jnp.int32(i), outputs, targets)
        for i in range(len(REGRESSION_LOSSES))
    )
    np.testing.assert_allclose(mse, [0.25, 9.0])
    np.testing.assert_allclose(huber, [0.125, 2.5])


def test_metrics_accuracy_and_r2():
    logits = jnp.asarray([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    sums = losses.summed_metrics(
        "classification", logits, jnp.asarray([0, 1, 1]), jnp.asarray([1.0, 1.0, 0.0])
    )
    assert float(losses.finalize_metrics("classification", sums)["accuracy"]) == 1.0
    targets = jnp.asarray([1.0, 2.0, 3.0])
    sums = losses.summed_metrics("regression", targets[:, None], targets, jnp.ones(3))
    assert float(losses.finalize_metrics("regression", sums)["r2"]) == pytest.approx(1.0)
    sums = losses.summed_metrics("regression", jnp.full((3, 1), 2.0), targets, jnp.ones(3))
    assert float(losses.finalize_metrics("regression", sums)["r2"]) == pytest.approx(0.0, abs=1e-6)

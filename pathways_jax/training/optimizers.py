"""Optimizers and learning-rate schedules chosen by training genes.

Inside the population program every candidate applies its own optimizer, so the
update is written once as a function of the genes: all five optimizers share
one first-moment and one second-moment buffer (no candidate uses more than two),
and the gene selects the update direction. Each branch computes exactly what
the optax chain returned by :func:`optax_chain` computes; a test checks this
step by step.
"""

from __future__ import annotations

import flax.struct
import jax
import jax.numpy as jnp
import optax

from pathways_jax.spaces.pathway.genome import OPTIMIZERS, SCHEDULES

MOMENTUM = 0.9
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8
RMSPROP_DECAY, RMSPROP_EPS = 0.9, 1e-8
WARMUP_FRACTION = 0.1


@flax.struct.dataclass
class OptimizerState:
    """Per-candidate optimizer state: step count and two moment buffers (pytrees like params)."""

    count: jnp.ndarray
    first_moment: dict
    second_moment: dict


def warmup_steps(total_steps: int) -> int:
    """Linear warm-up length of the ``warmup_cosine`` schedule."""
    return max(1, int(WARMUP_FRACTION * total_steps))


def learning_rate_schedule(name: str, peak: float, total_steps: int) -> optax.Schedule:
    """The optax schedule a schedule gene names, peaking at ``peak``."""
    if name == "constant":
        return optax.constant_schedule(peak)
    if name == "cosine":
        return optax.cosine_decay_schedule(peak, total_steps)
    if name == "warmup_cosine":
        return optax.warmup_cosine_decay_schedule(0.0, peak, warmup_steps(total_steps), total_steps)
    raise ValueError(f"unknown schedule {name!r}; expected one of {SCHEDULES}")


def learning_rate_at(schedule_gene, log10_learning_rate, step, total_steps: int):
    """Learning rate at ``step`` for traced schedule and learning-rate genes (scalar float32)."""
    peak = 10.0 ** log10_learning_rate.astype(jnp.float32)
    # Every schedule is linear in its peak, so unit schedules scaled by the peak
    # equal the optax schedules built with that peak.
    values = [learning_rate_schedule(name, 1.0, total_steps)(step) for name in SCHEDULES]
    return peak * jax.lax.select_n(schedule_gene, *[jnp.asarray(v, jnp.float32) for v in values])


def optax_chain(
    optimizer: str, learning_rate: optax.ScalarOrSchedule, weight_decay: float
) -> optax.GradientTransformation:
    """The optax chain an optimizer gene describes.

    Weight decay is an L2 term added to the gradient (coupled) for every
    optimizer except ``adamw``, which decays the weights after the Adam scaling
    (decoupled, as in Loshchilov & Hutter).
    """
    l2 = optax.add_decayed_weights(weight_decay)
    scale = optax.scale_by_learning_rate(learning_rate)
    if optimizer == "sgd":
        return optax.chain(l2, scale)
    if optimizer == "momentum":
        return optax.chain(l2, optax.trace(decay=MOMENTUM), scale)
    if optimizer == "adam":
        return optax.chain(l2, optax.scale_by_adam(ADAM_B1, ADAM_B2, ADAM_EPS), scale)
    if optimizer == "adamw":
        return optax.chain(
            optax.scale_by_adam(ADAM_B1, ADAM_B2, ADAM_EPS),
            optax.add_decayed_weights(weight_decay),
            scale,
        )
    if optimizer == "rmsprop":
        return optax.chain(l2, optax.scale_by_rms(RMSPROP_DECAY, RMSPROP_EPS), scale)
    raise ValueError(f"unknown optimizer {optimizer!r}; expected one of {OPTIMIZERS}")


def init_optimizer(params) -> OptimizerState:
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return OptimizerState(jnp.zeros((), jnp.int32), zeros, zeros)


def apply_optimizer(optimizer_gene, learning_rate, weight_decay, grads, state, params):
    """One step of the optimizer a traced gene selects.

    Args:
      optimizer_gene: int32 scalar index into ``OPTIMIZERS``.
      learning_rate: float32 scalar, the schedule's value at this step.
      weight_decay: float32 scalar.
      grads, params: pytrees of float32 arrays.
      state: :class:`OptimizerState`.

    Returns:
      ``(new_params, new_state)``.
    """
    count = state.count + 1
    first_bias = 1.0 - ADAM_B1 ** count.astype(jnp.float32)
    second_bias = 1.0 - ADAM_B2 ** count.astype(jnp.float32)

    def sgd(g, p, first, second):
        coupled = g + weight_decay * p
        return p - learning_rate * coupled, first, second

    def momentum(g, p, first, second):
        trace = g + weight_decay * p + MOMENTUM * first
        return p - learning_rate * trace, trace, second

    def adam_moments(g):
        def moments(first, second):
            first = (1.0 - ADAM_B1) * g + ADAM_B1 * first
            second = (1.0 - ADAM_B2) * jnp.square(g) + ADAM_B2 * second
            direction = (first / first_bias) / (jnp.sqrt(second / second_bias) + ADAM_EPS)
            return direction, first, second

        return moments

    def adam(g, p, first, second):
        direction, first, second = adam_moments(g + weight_decay * p)(first, second)
        return p - learning_rate * direction, first, second

    def adamw(g, p, first, second):
        direction, first, second = adam_moments(g)(first, second)
        return p - learning_rate * (direction + weight_decay * p), first, second

    def rmsprop(g, p, first, second):
        coupled = g + weight_decay * p
        second = (1.0 - RMSPROP_DECAY) * jnp.square(coupled) + RMSPROP_DECAY * second
        return p - learning_rate * coupled * jax.lax.rsqrt(second + RMSPROP_EPS), first, second

    def tree_update(leaf_update):
        def update(operands):
            triples = jax.tree_util.tree_map(leaf_update, *operands)
            is_triple = lambda node: isinstance(node, tuple)
            return tuple(
                jax.tree_util.tree_map(lambda t, i=i: t[i], triples, is_leaf=is_triple)
                for i in range(3)
            )

        return update

    branches = [tree_update(f) for f in (sgd, momentum, adam, adamw, rmsprop)]
    operands = (grads, params, state.first_moment, state.second_moment)
    new_params, first, second = jax.lax.switch(
        jnp.clip(optimizer_gene, 0, len(branches) - 1), branches, operands
    )
    return new_params, OptimizerState(count, first, second)

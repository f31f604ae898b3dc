"""Retraining finalists in one fixed layout, so that the search's finish and a
later export of any rank give the same weights on any device layout.

Every candidate is retrained alone, by one program compiled for one
candidate on this process's first local device: the numbers do not depend on
how many devices or processes the search ran on, nor on how many finalists
are retrained together (XLA:CPU splits an operation over threads by its
shapes, so a 2-device program may round differently from a 1-device one).
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from pathways_jax.training import trainer


@functools.lru_cache(maxsize=8)
def _programs(space, steps: int):
    settings = trainer.TrainSettings(steps=steps)
    train = jax.jit(lambda g, k, x, y: trainer.train(space, settings, g, k, x, y)[0])
    evaluate = jax.jit(lambda g, p, e: trainer.evaluate_params(space, g, p, e))
    return train, evaluate


def _local(tree):
    return jax.device_put(tree, jax.local_devices()[0])


def retrain(space, steps: int, genome, key, train_inputs, train_targets):
    """Super-network parameters of one genome trained ``steps`` steps (host pytree)."""
    train, _ = _programs(space, steps)
    return jax.device_get(train(*_local((genome, key, train_inputs, train_targets))))


def evaluate(space, steps: int, genome, params, eval_set) -> dict:
    """Host metrics of trained ``params`` on one eval set; non-finite fitness is -inf."""
    _, run = _programs(space, steps)
    metrics = jax.device_get(run(*_local((genome, params, eval_set))))
    return {
        name: float(np.where(np.isfinite(v), v, -np.inf)) if name == "fitness" else float(v)
        for name, v in metrics.items()
    }

"""Training pathways on shared module weights (PathNet's evaluation).

A round trains the ``R`` pathways of a round together for ``T =
steps_per_round`` minibatches of ``batch_size`` examples each, every pathway
on its own minibatches, all on the same shared weights; a pathway's fitness is
its training accuracy over its ``T`` minibatches (the paper's) or its
validation accuracy after the round. The tournament that compares them is the
strategy's (:mod:`pathways_jax.strategies.binary_tournament`), the weights are
carried by :mod:`pathways_jax.evaluators.shared_weights`.

How gradients are combined. At each step the loss is the sum over the ``R``
pathways of each pathway's mean minibatch loss, so a module's gradient is the
sum of the gradients of the pathways that used it. With
``gradient_combine='mean'`` (the default) it is then divided by the number of
pathways that used that module in this step (the readout's by ``R``): a module
moves as if trained by one pathway on the union of their minibatches, however
popular it is. ``'sum'`` keeps the sum: what ``R`` workers applying their own
SGD steps at the same moment would do (the paper trains pathways in parallel
workers, Hogwild style). Both are deterministic.

Only modules that some pathway used in a step, and that are not frozen, are
updated in that step (``jnp.where``, so the others stay bit-identical even
under momentum or Adam). The readout is never frozen.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import optax

from pathways_jax.pathnet.tasks import TaskData
from pathways_jax.spaces.pathnet import PathNetSpace

OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
GRADIENT_COMBINES = ("mean", "sum")
FITNESSES = ("train_accuracy", "val_accuracy")


@dataclasses.dataclass(frozen=True)
class RoundSettings:
    """Static settings of the shared training of a round (hashable: a jit static).

    Attributes:
      steps_per_round: ``T`` minibatches per pathway per round (50).
      batch_size: examples per minibatch (16).
      optimizer: ``'sgd'``, ``'momentum'``, ``'adam'`` or ``'rmsprop'`` (optax).
      learning_rate: its learning rate.
      gradient_combine: ``'mean'`` or ``'sum'`` (see the module docstring).
      fitness: ``'train_accuracy'`` or ``'val_accuracy'``.
    """

    steps_per_round: int = 50
    batch_size: int = 16
    optimizer: str = "sgd"
    learning_rate: float = 0.05
    gradient_combine: str = "mean"
    fitness: str = "train_accuracy"


def make_optimizer(settings: RoundSettings) -> optax.GradientTransformation:
    """The optax transformation of ``settings.optimizer``."""
    lr = settings.learning_rate
    return {
        "sgd": lambda: optax.sgd(lr),
        "momentum": lambda: optax.sgd(lr, momentum=0.9),
        "adam": lambda: optax.adam(lr),
        "rmsprop": lambda: optax.rmsprop(lr),
    }[settings.optimizer]()


def _module_mask(mask: jnp.ndarray, like: dict) -> dict:
    """Broadcasts one layer's ``[M]`` mask onto its ``{'kernel': [M, ...], 'bias': [M, U]}``."""
    return {
        name: mask.reshape(mask.shape + (1,) * (value.ndim - 1)) for name, value in like.items()
    }


def accuracy(space: PathNetSpace, params, genomes, x, y, weight) -> jnp.ndarray:
    """Weighted accuracy ``[R]`` of pathways ``[R, L, N]`` on ``x`` ``[n, ...]`` (weights sum to 1)."""

    def one(genome):
        logits = space.apply(params, space.active_modules(genome), x)
        return jnp.sum((jnp.argmax(logits, -1) == y) * weight)

    return jax.lax.map(one, genomes)


def train_pathways(
    space: PathNetSpace,
    settings: RoundSettings,
    params: dict,
    opt_state,
    genomes: jnp.ndarray,
    trainable: jnp.ndarray,
    data: TaskData,
    key,
):
    """Trains pathways ``[R, L, N]`` together on the shared ``params`` for ``T`` steps.

    Returns:
      ``(params, opt_state, metrics)`` with metrics ``train_accuracy`` and
      ``train_loss`` ``[R]`` (means over the ``T`` minibatches) and ``used``
      bool ``[L, M]`` (modules some pathway used).
    """
    optimizer = make_optimizer(settings)
    active = jax.vmap(space.active_modules)(genomes)  # [R, L, M]
    users = active.sum(0).astype(jnp.float32)  # [L, M]
    updatable = (users > 0) & trainable
    num_pathways = genomes.shape[0]

    def total_loss(params, x, y):
        logits = space.apply_many(params, active, x)  # [R, B, C]
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(-1)
        correct = (jnp.argmax(logits, -1) == y).sum(-1)
        return losses.sum(), (losses, correct)

    def step(carry, step_key):
        params, opt_state = carry
        index = jax.random.randint(step_key, (num_pathways, settings.batch_size), 0, data.num_train)
        grads, (losses, correct) = jax.grad(total_loss, has_aux=True)(
            params, data.x_train[index], data.y_train[index]
        )
        if settings.gradient_combine == "mean":
            grads = {
                "modules": [
                    jax.tree.map(
                        lambda g, d: g / d, layer, _module_mask(jnp.maximum(n, 1.0), layer)
                    )
                    for layer, n in zip(grads["modules"], users, strict=True)
                ],
                "readout": jax.tree.map(lambda g: g / num_pathways, grads["readout"]),
            }
        updates, opt_state = optimizer.update(grads, opt_state, params)
        stepped = optax.apply_updates(params, updates)
        keep_new = {
            "modules": [
                _module_mask(mask, layer)
                for mask, layer in zip(updatable, params["modules"], strict=True)
            ],
            "readout": jax.tree.map(lambda v: jnp.ones((), bool), params["readout"]),
        }
        params = jax.tree.map(jnp.where, keep_new, stepped, params)
        return (params, opt_state), (losses, correct)

    keys = jax.random.split(key, settings.steps_per_round)
    (params, opt_state), (losses, correct) = jax.lax.scan(step, (params, opt_state), keys)
    metrics = {
        "train_loss": losses.mean(0),
        "train_accuracy": correct.sum(0) / (settings.steps_per_round * settings.batch_size),
        "used": users > 0,
    }
    return params, opt_state, metrics


def train_round(space: PathNetSpace, settings: RoundSettings, weights: dict, genomes, data, key):
    """One round's shared training of pathways ``[R, L, N]`` from ``weights``
    (``params``, ``opt_state``, ``trainable``): ``(weights, metrics [R])`` with
    ``fitness``, ``train_accuracy`` and ``train_loss``. Jit it with ``space``
    and ``settings`` static."""
    params, opt_state, metrics = train_pathways(
        space,
        settings,
        weights["params"],
        weights["opt_state"],
        genomes,
        weights["trainable"],
        data,
        key,
    )
    if settings.fitness == "val_accuracy":
        fitness = accuracy(space, params, genomes, data.x_val, data.y_val, data.val_weight)
    else:
        fitness = metrics["train_accuracy"]
    weights = {**weights, "params": params, "opt_state": opt_state}
    return weights, {
        "fitness": fitness,
        "train_accuracy": metrics["train_accuracy"],
        "train_loss": metrics["train_loss"],
    }


@functools.partial(jax.jit, static_argnums=0)
def evaluate_pathways(space: PathNetSpace, params, genomes, data: TaskData):
    """Validation and test accuracy ``[R]`` of pathways ``[R, L, N]`` on ``data``."""
    return {
        "val_accuracy": accuracy(space, params, genomes, data.x_val, data.y_val, data.val_weight),
        "test_accuracy": accuracy(
            space, params, genomes, data.x_test, data.y_test, data.test_weight
        ),
    }


def initial_weights(space: PathNetSpace, settings: RoundSettings, key) -> dict:
    """Fresh shared weights: ``params``, ``opt_state`` and ``trainable`` (bool
    ``[L, M]``, nothing frozen)."""
    params = space.init_params(key)
    return {
        "params": params,
        "opt_state": make_optimizer(settings).init(params),
        "trainable": jnp.ones((space.num_layers, space.num_modules), bool),
    }


def transferred_weights(
    space: PathNetSpace,
    settings: RoundSettings,
    weights: dict,
    best_genome,
    key,
    *,
    freeze: bool = True,
    reinitialise: bool = True,
) -> dict:
    """The shared weights that start the next task.

    PathNet transfer (the defaults): the modules of ``best_genome`` join the
    frozen set, every module still trainable is re-initialised, and the new
    task gets a new readout and a new optimizer state. Fine-tuning
    (``freeze=False, reinitialise=False``) keeps every weight and only
    replaces the readout.

    Args:
      best_genome: int32 ``[L, N]``, the pathway that won the previous task.
      key: PRNG key of the new weights.
    """
    trainable = jnp.asarray(weights["trainable"])
    if freeze:
        trainable = trainable & ~space.active_modules(jnp.asarray(best_genome))
    fresh = space.init_params(key)
    modules = weights["params"]["modules"]
    if reinitialise:
        modules = [
            jax.tree.map(jnp.where, _module_mask(mask, old), new, old)
            for mask, old, new in zip(trainable, modules, fresh["modules"], strict=True)
        ]
    params = {"modules": modules, "readout": fresh["readout"]}
    return {
        "params": params,
        "opt_state": make_optimizer(settings).init(params),
        "trainable": trainable,
    }

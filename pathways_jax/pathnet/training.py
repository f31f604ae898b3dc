"""Training pathways on shared module weights, and the binary tournament.

One round (``evolve_round``, one compiled program) is:

1. draw ``K = tournaments_per_round`` disjoint pairs of population members;
2. train the ``R = 2K`` pathways together for ``T = steps_per_round``
   minibatches of ``batch_size`` examples each, every pathway on its own
   minibatches, all on the same shared weights;
3. fitness: each pathway's training accuracy over its ``T`` minibatches (the
   paper's), or its validation accuracy after the round;
4. in each pair the loser (lower fitness; the first of a pair wins ties) is
   overwritten by a mutated copy of the winner.

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

import flax.struct
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
    """Static settings of a round (hashable: a jit static argument).

    Attributes:
      population_size: genomes in the population (64 in the paper).
      tournaments_per_round: ``K`` pairs trained and compared per round (the
        paper runs one tournament at a time: ``K = 1``).
      steps_per_round: ``T`` minibatches per pathway per round (50).
      batch_size: examples per minibatch (16).
      optimizer: ``'sgd'``, ``'momentum'``, ``'adam'`` or ``'rmsprop'`` (optax).
      learning_rate: its learning rate.
      gradient_combine: ``'mean'`` or ``'sum'`` (see the module docstring).
      fitness: ``'train_accuracy'`` or ``'val_accuracy'``.
      evolve: False keeps the population fixed (no tournament), for the
        fine-tuning control that trains one fixed pathway.
    """

    population_size: int = 64
    tournaments_per_round: int = 1
    steps_per_round: int = 50
    batch_size: int = 16
    optimizer: str = "sgd"
    learning_rate: float = 0.05
    gradient_combine: str = "mean"
    fitness: str = "train_accuracy"
    evolve: bool = True

    @property
    def pathways_per_round(self) -> int:
        return 2 * self.tournaments_per_round


def make_optimizer(settings: RoundSettings) -> optax.GradientTransformation:
    """The optax transformation of ``settings.optimizer``."""
    lr = settings.learning_rate
    return {
        "sgd": lambda: optax.sgd(lr),
        "momentum": lambda: optax.sgd(lr, momentum=0.9),
        "adam": lambda: optax.adam(lr),
        "rmsprop": lambda: optax.rmsprop(lr),
    }[settings.optimizer]()


@flax.struct.dataclass
class PathNetState:
    """Everything a PathNet run carries from round to round (a pytree).

    Attributes:
      params: shared weights, ``PathNetSpace.init_params`` layout.
      opt_state: the optimizer state of ``params``.
      population: int32 ``[P, L, N]`` genomes.
      trainable: bool ``[L, M]``, False for frozen modules.
      key: PRNG key of the next round.
      round: int32 scalar, rounds done on the current task.
    """

    params: dict
    opt_state: optax.OptState
    population: jnp.ndarray
    trainable: jnp.ndarray
    key: jnp.ndarray
    round: jnp.ndarray


def init_state(space: PathNetSpace, settings: RoundSettings, key) -> PathNetState:
    """A fresh PathNet: new weights, a random population, nothing frozen."""
    params_key, population_key, key = jax.random.split(key, 3)
    params = space.init_params(params_key)
    population = jax.vmap(space.sample)(jax.random.split(population_key, settings.population_size))
    return PathNetState(
        params=params,
        opt_state=make_optimizer(settings).init(params),
        population=population,
        trainable=jnp.ones((space.num_layers, space.num_modules), bool),
        key=key,
        round=jnp.zeros((), jnp.int32),
    )


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


@functools.partial(jax.jit, static_argnums=(0, 1))
def evolve_round(space: PathNetSpace, settings: RoundSettings, state: PathNetState, data: TaskData):
    """One round: pairs drawn, trained together, losers overwritten (module docstring).

    Returns:
      ``(state, metrics)``; metrics hold ``contestants`` int32 ``[K, 2]``
      (population slots), ``fitness`` ``[K, 2]``, ``train_loss`` ``[K, 2]``,
      ``winners`` and ``losers`` ``[K]``, ``genomes`` ``[K, 2, L, N]`` (as
      trained) and ``used`` ``[L, M]``.
    """
    key, pair_key, train_key, mutate_key = jax.random.split(state.key, 4)
    num_pairs = settings.tournaments_per_round
    contestants = jax.random.permutation(pair_key, settings.population_size)[: 2 * num_pairs]
    genomes = state.population[contestants]
    params, opt_state, metrics = train_pathways(
        space, settings, state.params, state.opt_state, genomes, state.trainable, data, train_key
    )
    if settings.fitness == "val_accuracy":
        fitness = accuracy(space, params, genomes, data.x_val, data.y_val, data.val_weight)
    else:
        fitness = metrics["train_accuracy"]
    pairs = contestants.reshape(num_pairs, 2)
    pair_fitness = fitness.reshape(num_pairs, 2)
    first_wins = pair_fitness[:, 0] >= pair_fitness[:, 1]
    winners = jnp.where(first_wins, pairs[:, 0], pairs[:, 1])
    losers = jnp.where(first_wins, pairs[:, 1], pairs[:, 0])
    population = state.population
    if settings.evolve:
        children = jax.vmap(space.mutate)(
            jax.random.split(mutate_key, num_pairs), population[winners]
        )
        population = population.at[losers].set(children)
    state = state.replace(
        params=params,
        opt_state=opt_state,
        population=population,
        key=key,
        round=state.round + 1,
    )
    return state, {
        "contestants": pairs,
        "fitness": pair_fitness,
        "train_loss": metrics["train_loss"].reshape(num_pairs, 2),
        "winners": winners,
        "losers": losers,
        "genomes": genomes.reshape(num_pairs, 2, *genomes.shape[1:]),
        "used": metrics["used"],
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


def transfer_state(
    space: PathNetSpace,
    settings: RoundSettings,
    state: PathNetState,
    best_genome: jnp.ndarray,
    key,
    *,
    freeze: bool = True,
    reinitialise: bool = True,
    population: jnp.ndarray | None = None,
) -> PathNetState:
    """The state that starts the next task.

    PathNet transfer (the defaults): the modules of ``best_genome`` join the
    frozen set, every module still trainable is re-initialised, and the new
    task gets a new readout, a new optimizer state and a new random population.
    Fine-tuning (``freeze=False, reinitialise=False``) keeps every weight and
    only replaces the readout.

    Args:
      best_genome: int32 ``[L, N]``, the pathway that won the previous task.
      key: PRNG key of the new weights, population and rounds.
      population: optional ``[P, L, N]`` instead of a random one.
    """
    params_key, population_key, key = jax.random.split(key, 3)
    trainable = state.trainable
    if freeze:
        trainable = trainable & ~space.active_modules(best_genome)
    fresh = space.init_params(params_key)
    modules = state.params["modules"]
    if reinitialise:
        modules = [
            jax.tree.map(jnp.where, _module_mask(mask, old), new, old)
            for mask, old, new in zip(trainable, modules, fresh["modules"], strict=True)
        ]
    params = {"modules": modules, "readout": fresh["readout"]}
    if population is None:
        population = jax.vmap(space.sample)(
            jax.random.split(population_key, settings.population_size)
        )
    return PathNetState(
        params=params,
        opt_state=make_optimizer(settings).init(params),
        population=population,
        trainable=trainable,
        key=key,
        round=jnp.zeros((), jnp.int32),
    )

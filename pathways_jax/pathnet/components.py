"""PathNet on the shared search stack: its space, strategy and evaluator,
registered by name (``pathnet``, ``binary_tournament``, ``shared_weights``).

A PathNet config (``configs/pathnet_mnist1d.py``) is a search config whose
``space`` section holds the super-network's sizes, whose strategy is
``binary_tournament`` and whose ``evaluator`` section holds the shared
training's settings and the task sequence (``evaluator.tasks``). Every check
raises :class:`~pathways_jax.config.ConfigError` naming the key.
"""

from __future__ import annotations

import jax
import ml_collections

from pathways_jax.config import ConfigError, _require, default_config
from pathways_jax.core import registry
from pathways_jax.evaluators.shared_weights import SharedWeights
from pathways_jax.pathnet import training
from pathways_jax.pathnet.tasks import BinaryTask, binary_task, check_pair
from pathways_jax.spaces.pathnet import AGGREGATIONS, MODULE_KINDS, MUTATIONS, PathNetSpace
from pathways_jax.strategies.binary_tournament import BinaryTournament

SPACE_KEYS = {
    "num_layers": 3,  # L
    "num_modules": 10,  # M
    "max_active": 3,  # N
    "module_kind": "dense",  # 'dense' or 'conv'.
    "units": 20,  # Units of a dense module, channels of a conv module.
    "kernel_size": 5,  # Conv modules.
    "aggregation": "sum",  # 'sum' (paper) or 'mean' of a layer's active modules.
    "mutation": "paper",  # 'paper' (shift in [-2, 2]) or 'resample'.
}
EVALUATOR_KEYS = {
    "steps_per_round": 50,  # T minibatches per pathway per round.
    "batch_size": 16,
    "optimizer": "sgd",  # 'sgd', 'momentum', 'adam' or 'rmsprop'.
    "learning_rate": 0.05,
    "gradient_combine": "mean",  # 'mean' over a module's users, or 'sum'.
    "fitness": "train_accuracy",  # or 'val_accuracy'.
    # Binary tasks learnt one after the other: task i + 1 starts from task i's
    # best pathway frozen. Each task is two class ids (label 0, label 1).
    "tasks": ((2, 7), (4, 9)),
    "noise": 0.0,  # Salt-and-pepper probability per input value.
    "task": 0,  # The task of the sequence this search learns (set by the sequence).
}
MAX_ROUNDS = 1000  # Rounds (tournaments) per task at most.
OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
GRADIENT_COMBINES = ("mean", "sum")
FITNESSES = ("train_accuracy", "val_accuracy")


def pathnet_config() -> ml_collections.ConfigDict:
    """A PathNet search config with the paper's binary MNIST settings on MNIST-1D
    (``configs/pathnet_mnist1d.py`` documents it)."""
    config = default_config()
    config.dataset.name = "mnist1d"
    config.space = {"name": "pathnet", "module": "", **SPACE_KEYS}
    config.strategy.name = "binary_tournament"
    config.strategy.population_size = 64
    config.strategy.equivalence_cache = False  # Fitness depends on the shared weights.
    config.evaluator = {"name": "shared_weights", "module": "", **EVALUATOR_KEYS}
    config.parallel.round_size = 2  # One tournament per round, as the paper.
    config.parallel.num_devices = 1  # A round of two 20-unit pathways is too small to split.
    config.budget.evaluations = 2 * MAX_ROUNDS
    config.budget.target_fitness = 0.998
    config.final.top_k = 4  # Scored with the final weights on validation; the best is tested.
    config.checkpoint.every_rounds = 50
    return config


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_keys(section, name: str, expected: dict) -> None:
    unknown = sorted(set(section) - set(expected) - {"name", "module"})
    _require(not unknown, name, unknown, f"only keys {sorted(expected)}")


@registry.register_space("pathnet")
def pathnet_space(settings, context) -> PathNetSpace:
    """A PathNet super-network for the config's dataset, two outputs (binary tasks)."""
    _check_keys(settings, "space", SPACE_KEYS)
    values = {key: settings.get(key, default) for key, default in SPACE_KEYS.items()}
    for key in ("num_layers", "num_modules", "max_active", "units", "kernel_size"):
        _require(
            _is_int(values[key]) and values[key] >= 1,
            f"space.{key}",
            values[key],
            "an integer >= 1",
        )
    for key, choices in (
        ("module_kind", MODULE_KINDS),
        ("aggregation", AGGREGATIONS),
        ("mutation", MUTATIONS),
    ):
        _require(values[key] in choices, f"space.{key}", values[key], f"one of {choices}")
    input_shape = context.dataset.input_shape
    try:
        return PathNetSpace(input_shape=tuple(input_shape), num_outputs=2, **values)
    except ValueError as error:
        raise ConfigError(f"config.{error}") from None


@registry.register_strategy("binary_tournament")
def binary_tournament(settings, space, round_size) -> BinaryTournament:
    """PathNet's binary tournaments: ``round_size / 2`` pairs per round."""
    try:
        return BinaryTournament(
            space=space,
            population_size=settings.population_size,
            round_size=round_size,
            evolve=bool(settings.get("evolve", True)),
        )
    except ValueError as error:
        raise ConfigError(f"config.strategy: {error} (parallel.round_size)") from None


def round_settings(settings) -> training.RoundSettings:
    """The shared training's settings of a checked ``config.evaluator``."""
    return training.RoundSettings(
        steps_per_round=int(settings.steps_per_round),
        batch_size=int(settings.batch_size),
        optimizer=settings.optimizer,
        learning_rate=float(settings.learning_rate),
        gradient_combine=settings.gradient_combine,
        fitness=settings.fitness,
    )


def check_evaluator(config) -> None:
    """Raise ``ConfigError`` naming the first unusable key of a shared-weights
    ``config.evaluator``."""
    settings = config.evaluator
    _check_keys(settings, "evaluator", EVALUATOR_KEYS)
    for key in ("steps_per_round", "batch_size"):
        value = settings.get(key)
        _require(_is_int(value) and value >= 1, f"evaluator.{key}", value, "an integer >= 1")
    for key, choices in (
        ("optimizer", OPTIMIZERS),
        ("gradient_combine", GRADIENT_COMBINES),
        ("fitness", FITNESSES),
    ):
        _require(
            settings.get(key) in choices, f"evaluator.{key}", settings.get(key), f"one of {choices}"
        )
    rate = settings.get("learning_rate")
    _require(
        isinstance(rate, (int, float)) and rate > 0, "evaluator.learning_rate", rate, "a number > 0"
    )
    tasks = settings.get("tasks")
    _require(
        isinstance(tasks, (tuple, list))
        and len(tasks) >= 1
        and all(isinstance(t, (tuple, list)) and len(t) == 2 for t in tasks),
        "evaluator.tasks",
        tasks,
        "a sequence of class pairs, e.g. ((2, 7), (4, 9))",
    )
    noise = settings.get("noise")
    _require(
        isinstance(noise, (int, float)) and 0 <= noise < 1,
        "evaluator.noise",
        noise,
        "a probability in [0, 1)",
    )
    task = settings.get("task", 0)
    _require(
        _is_int(task) and 0 <= task < len(tasks),
        "evaluator.task",
        task,
        f"an index into evaluator.tasks (0 to {len(tasks) - 1})",
    )
    _require(
        not config.strategy.equivalence_cache,
        "strategy.equivalence_cache",
        config.strategy.equivalence_cache,
        "False for evaluator.name='shared_weights' (a pathway's fitness depends on the "
        "shared weights, which train every round)",
    )


def task_of(config, dataset, index: int) -> BinaryTask:
    """Task ``index`` of ``config.evaluator.tasks`` (pair checked, noise applied)."""
    pair = check_pair(
        dataset, tuple(config.evaluator.tasks[index]), f"config.evaluator.tasks[{index}]"
    )
    arrays = binary_task(dataset, pair, noise=config.evaluator.noise, seed=config.seed)
    return BinaryTask(arrays=arrays, pair=pair, dataset=dataset.name)


@registry.register_evaluator("shared_weights")
def shared_weights(config, context) -> SharedWeights:
    """Pathways trained on shared weights, task ``config.evaluator.task``."""
    check_evaluator(config)
    index = int(config.evaluator.get("task", 0))
    task = task_of(config, context.dataset, index)
    key = jax.random.fold_in(jax.random.key(config.seed), 1000 + index)
    return SharedWeights(context.space, task, round_settings(config.evaluator), key)

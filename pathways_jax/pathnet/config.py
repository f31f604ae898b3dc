"""The PathNet configuration: every key with its default (the paper's binary
MNIST settings on MNIST-1D), and its checks.

Config files ``configs/pathnet_*.py`` start from :func:`default_config`;
``--config.KEY=VALUE`` overrides any key. Every check raises
:class:`~pathways_jax.config.ConfigError` with a one-line message naming the key.
"""

from __future__ import annotations

import ml_collections

from pathways_jax import data
from pathways_jax.config import ConfigError, _require
from pathways_jax.pathnet.training import FITNESSES, GRADIENT_COMBINES, OPTIMIZERS, RoundSettings
from pathways_jax.spaces.pathnet import AGGREGATIONS, MODULE_KINDS, MUTATIONS, PathNetSpace


def default_config() -> ml_collections.ConfigDict:
    """All keys of a PathNet config with their defaults."""
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.dataset = data.default_dataset_config()
    config.dataset.name = "mnist1d"
    # Binary tasks, learnt one after the other: task i + 1 starts from task i's
    # best pathway frozen. Each task is two class ids (label 0, label 1).
    config.tasks = ((2, 7), (4, 9))
    config.noise = 0.0  # Salt-and-pepper probability per input value.

    config.space = ml_collections.ConfigDict()
    config.space.num_layers = 3  # L
    config.space.num_modules = 10  # M
    config.space.max_active = 3  # N
    config.space.module_kind = "dense"  # 'dense' or 'conv'.
    config.space.units = 20  # Units of a dense module, channels of a conv module.
    config.space.kernel_size = 5  # Conv modules.
    config.space.aggregation = "sum"  # 'sum' (paper) or 'mean' of a layer's active modules.
    config.space.mutation = "paper"  # 'paper' (shift in [-2, 2]) or 'resample'.

    config.evolution = ml_collections.ConfigDict()
    config.evolution.population_size = 64
    config.evolution.tournaments_per_round = 1  # Pairs trained together per round.
    config.evolution.fitness = "train_accuracy"  # or 'val_accuracy'.

    config.train = ml_collections.ConfigDict()
    config.train.steps_per_round = 50  # T minibatches per pathway per round.
    config.train.batch_size = 16
    config.train.optimizer = "sgd"
    config.train.learning_rate = 0.05
    config.train.gradient_combine = "mean"  # 'mean' over a module's users, or 'sum'.

    # A task ends when a pathway's fitness reaches the threshold, or after max_rounds.
    config.stop = ml_collections.ConfigDict()
    config.stop.threshold = 0.998
    config.stop.max_rounds = 1000
    return config


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_config(config: ml_collections.ConfigDict) -> None:
    """Raises ``ConfigError`` naming the first key that is missing or out of range."""
    expected = default_config()
    for group in ("space", "evolution", "train", "stop"):
        unknown = sorted(set(config.get(group, {})) - set(expected[group]))
        _require(not unknown, group, unknown, f"only keys {sorted(expected[group])}")
    for key in ("seed", "tasks", "noise"):
        _require(key in config, key, None, "a value (see pathways_jax/pathnet/config.py)")
    _require(_is_int(config.seed) and config.seed >= 0, "seed", config.seed, "an integer >= 0")
    tasks = config.tasks
    _require(
        isinstance(tasks, (tuple, list))
        and len(tasks) >= 1
        and all(isinstance(t, (tuple, list)) and len(t) == 2 for t in tasks),
        "tasks",
        tasks,
        "a sequence of class pairs, e.g. ((2, 7), (4, 9))",
    )
    _require(
        isinstance(config.noise, (int, float)) and 0 <= config.noise < 1,
        "noise",
        config.noise,
        "a probability in [0, 1)",
    )
    space, evolution, train, stop = config.space, config.evolution, config.train, config.stop
    for group, values in (
        ("space", ("num_layers", "num_modules", "max_active", "units", "kernel_size")),
        ("evolution", ("population_size", "tournaments_per_round")),
        ("train", ("steps_per_round", "batch_size")),
        ("stop", ("max_rounds",)),
    ):
        for key in values:
            value = config[group][key]
            _require(_is_int(value) and value >= 1, f"{group}.{key}", value, "an integer >= 1")
    _require(
        space.max_active <= space.num_modules,
        "space.max_active",
        space.max_active,
        f"at most space.num_modules={space.num_modules}",
    )
    _require(space.kernel_size % 2 == 1, "space.kernel_size", space.kernel_size, "an odd integer")
    for key, value, choices in (
        ("space.module_kind", space.module_kind, MODULE_KINDS),
        ("space.aggregation", space.aggregation, AGGREGATIONS),
        ("space.mutation", space.mutation, MUTATIONS),
        ("evolution.fitness", evolution.fitness, FITNESSES),
        ("train.optimizer", train.optimizer, OPTIMIZERS),
        ("train.gradient_combine", train.gradient_combine, GRADIENT_COMBINES),
    ):
        _require(value in choices, key, value, f"one of {choices}")
    _require(
        2 * evolution.tournaments_per_round <= evolution.population_size,
        "evolution.tournaments_per_round",
        evolution.tournaments_per_round,
        f"at most population_size / 2 = {evolution.population_size // 2}",
    )
    _require(
        isinstance(train.learning_rate, (int, float)) and train.learning_rate > 0,
        "train.learning_rate",
        train.learning_rate,
        "a number > 0",
    )
    _require(
        isinstance(stop.threshold, (int, float)) and 0 < stop.threshold <= 1,
        "stop.threshold",
        stop.threshold,
        "an accuracy in (0, 1]",
    )


def round_settings(config: ml_collections.ConfigDict, *, evolve: bool = True) -> RoundSettings:
    """The static round settings of a checked config."""
    return RoundSettings(
        population_size=config.evolution.population_size,
        tournaments_per_round=config.evolution.tournaments_per_round,
        steps_per_round=config.train.steps_per_round,
        batch_size=config.train.batch_size,
        optimizer=config.train.optimizer,
        learning_rate=float(config.train.learning_rate),
        gradient_combine=config.train.gradient_combine,
        fitness=config.evolution.fitness,
        evolve=evolve,
    )


def build_space(config: ml_collections.ConfigDict, input_shape, num_outputs: int = 2):
    """The ``PathNetSpace`` of a checked config for inputs of ``input_shape``."""
    try:
        return PathNetSpace(
            input_shape=tuple(input_shape), num_outputs=num_outputs, **config.space.to_dict()
        )
    except ValueError as error:
        raise ConfigError(f"config.{error}") from None

"""The search configuration: every key with its default, and its checks.

Config files in ``configs/`` start from :func:`default_config` and change what
their experiment needs; ``--config.KEY=VALUE`` overrides any key. Every check
raises :class:`ConfigError` with a one-line message naming the key.
"""

from __future__ import annotations

import os
import sys

import ml_collections

from pathways_jax import data, parallel
from pathways_jax.core import registry
from pathways_jax.spaces.pathway import shape_classes
from pathways_jax.spaces.pathway.genome import GeneTables
from pathways_jax.spaces.pathway.space import CROSSOVER_KINDS, DEFAULT_MUTATION_WEIGHTS
from pathways_jax.strategies import OBJECTIVES, STRATEGY_NAMES
from pathways_jax.strategies.nsga2 import is_objective


class ConfigError(ValueError):
    """A config value is missing or out of range (the message names the key)."""


def load_config_file(path: str) -> ml_collections.ConfigDict:
    """``get_config()`` of the config file at ``path`` (what ``--config=PATH``
    loads), for configs built on another config and for scripts and tests."""
    import importlib.util

    name = os.path.splitext(os.path.basename(path))[0] + "_config"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Dataclasses defined in the file look their module up.
    spec.loader.exec_module(module)
    return module.get_config()


def default_config() -> ml_collections.ConfigDict:
    """All keys of a search config with their defaults (an MNIST-1D search)."""
    tables = GeneTables()
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.dataset = data.default_dataset_config()

    # The search space by registry name (pathways_jax.core.registry); module:
    # a module to import first, which registers a space of your own.
    config.space = ml_collections.ConfigDict()
    config.space.name = "pathway"
    config.space.module = ""
    config.space.max_depth = tables.max_depth
    config.space.conv_widths = tables.conv_widths
    config.space.dense_widths = tables.dense_widths
    config.space.kernel_sizes = tables.kernel_sizes
    config.space.dropout_rates = tables.dropout_rates
    config.space.batch_sizes = tables.batch_sizes
    config.space.weight_decays = tables.weight_decays
    config.space.l1_penalties = tables.l1_penalties
    config.space.log10_learning_rate_min = tables.log10_learning_rate_range[0]
    config.space.log10_learning_rate_max = tables.log10_learning_rate_range[1]
    config.space.mutation_weights = DEFAULT_MUTATION_WEIGHTS
    # Attention blocks (sequence and image inputs): the head counts a
    # self-attention block may have; () keeps them out of the space. With
    # heads, the space also has transformer MLPs (hidden widths mlp_ratios
    # times their input channels), position and patch embeddings and a
    # sequence pool, and the squared-ReLU activation.
    config.space.attention_heads = tables.attention_heads
    config.space.mlp_ratios = tables.mlp_ratios
    config.space.patch_sizes = tables.patch_sizes
    config.space.causal_attention = tables.causal_attention
    # Feature selection (vector inputs): an input-mask gene per input column (a
    # table column's one-hot features are one column) says which ones a pathway reads.
    config.space.feature_selection = False
    # The validation metric that is the fitness: '' (accuracy or R²), or 'loss'
    # (classification) or 'mse' (regression), minimised (the fitness is its negative).
    config.space.fitness_metric = ""

    config.strategy = ml_collections.ConfigDict()
    config.strategy.name = "regularized"
    config.strategy.module = ""  # A module to import first (registers strategies).
    config.strategy.population_size = 16
    config.strategy.sample_size = 4
    # Tournament contestants drawn with replacement (AutoML-Zero) or without.
    config.strategy.sample_with_replacement = False
    config.strategy.crossover_probability = 0.0
    config.strategy.crossover_kind = "block"  # 'block', 'uniform' (per gene) or 'one_point'.
    # NSGA-II objectives: 'fitness' first, then 'params', 'flops' and/or
    # 'latency' (minimised). Latency is measured: each architecture's plain
    # network is compiled and timed on batches of latency_batch_size
    # (pathways_jax/latency.py); latency_table: a latency.json to start from.
    config.strategy.objectives = ("fitness", "params")
    config.strategy.latency_batch_size = 1
    config.strategy.latency_table = ""
    # Functional-equivalence cache: a child computing what an evaluated
    # pathway computes is not trained again; it inherits that fitness.
    config.strategy.equivalence_cache = True
    # Behavioural equivalence cache: a child that behaves like an evaluated
    # one on a few examples inherits its fitness (evaluators with a
    # behaviour hook: 'program').
    config.strategy.behaviour_cache = False

    # Multi-fidelity: every child trains hurdle_steps first; only the best
    # keep_fraction of a round then trains for train.steps (0: no hurdle).
    # Successive halving: rung_steps, increasing; keep_fraction of the
    # survivors of each rung goes on to the next (empty: none).
    # stopped_join_population: a child stopped at a hurdle joins the
    # population with its short-training fitness (True, as AutoML-Zero), or
    # only children trained for train.steps join (False).
    # What trains and scores a round: 'auto' (population-based training's
    # member_weights for strategy 'pbt', else the space's default:
    # fresh_weights for pathways), or a registered name.
    config.evaluator = ml_collections.ConfigDict()
    config.evaluator.name = "auto"
    config.evaluator.module = ""

    config.fidelity = ml_collections.ConfigDict()
    config.fidelity.hurdle_steps = 0
    config.fidelity.rung_steps = ()
    config.fidelity.keep_fraction = 0.25
    config.fidelity.stopped_join_population = False

    config.constraints = ml_collections.ConfigDict()
    config.constraints.max_params = 0  # 0: no limit. Larger pathways are never trained.
    config.constraints.max_flops = 0  # 0: no limit (forward FLOPs per example).
    # 0: no limit. Inference milliseconds per batch of strategy.latency_batch_size,
    # measured on this machine; slower pathways get fitness -inf.
    config.constraints.max_latency_ms = 0.0

    config.budget = ml_collections.ConfigDict()
    config.budget.evaluations = 64  # Candidates trained, the initial population included.
    # Stop after the round in which a candidate's fitness reaches this (inf: never).
    config.budget.target_fitness = float("inf")
    # Wall-clock seconds for the whole search, retraining and export included
    # (inf: none). No round starts that would not fit (estimated from the
    # measured rounds); evaluations stays the upper bound. The history then
    # depends on the machine's speed: evaluations is the reproducible budget.
    config.budget.seconds = float("inf")

    config.train = ml_collections.ConfigDict()
    config.train.steps = 500  # Optimisation steps per candidate during the search.
    config.train.eval_chunk = 500  # Validation examples evaluated at once.

    config.final = ml_collections.ConfigDict()
    config.final.steps = 2000  # Steps to retrain the best pathways before the test.
    config.final.top_k = 2  # Best candidates retrained; the best on validation is tested.

    config.parallel = ml_collections.ConfigDict()
    config.parallel.backend = "shard_map"  # 'shard_map' or 'pmap'.
    config.parallel.num_devices = 0  # 0: every local device.
    config.parallel.round_size = 8  # Candidates trained per round (the training slots).
    config.parallel.vmap_width = 1  # Candidates vmapped together inside a device.
    # Narrower programs for the pathways that fit them: 'none' (one program),
    # 'vector' (pathways without spatial blocks train on vectors) or 'all'
    # (also one program per narrower conv width). One compilation each.
    config.parallel.shape_classes = "vector"

    config.checkpoint = ml_collections.ConfigDict()
    config.checkpoint.every_rounds = 10  # Save the search state every N rounds (and at the end).
    config.checkpoint.keep = 3  # Checkpoints kept; older ones are deleted.

    config.progress = ml_collections.ConfigDict()
    config.progress.log_every_seconds = 10.0  # Log line interval when output is not a terminal.
    config.progress.bar = True  # A progress bar on an interactive terminal.
    config.progress.report = True  # Plots and report.md at the end of the search.
    # A history record for every candidate, or (False) only for those
    # evaluated: cache hits are then counted in metrics.jsonl only.
    config.progress.record_cache_hits = True
    return config


def _require(condition: bool, key: str, value, expected: str) -> None:
    if not condition:
        raise ConfigError(f"config.{key}={value!r} is invalid: expected {expected}")


def _positive_ints(values) -> bool:
    try:
        return len(values) > 0 and all(int(v) == v and v > 0 for v in values)
    except TypeError:
        return False


def check_config(config: ml_collections.ConfigDict) -> None:
    """Raise :class:`ConfigError` naming the first key whose value is unusable."""
    for section in (
        "dataset",
        "space",
        "strategy",
        "budget",
        "train",
        "final",
        "parallel",
        "checkpoint",
        "progress",
        "constraints",
        "fidelity",
    ):
        if section not in config:
            raise ConfigError(
                f"config.{section} is missing; start from pathways_jax.config.default_config()"
            )
    _require(
        isinstance(config.seed, int) and config.seed >= 0, "seed", config.seed, "an integer >= 0"
    )
    strategy = config.strategy
    if config.space.get("name", "pathway") == "pathway":
        _require(
            strategy.crossover_kind in CROSSOVER_KINDS,
            "strategy.crossover_kind",
            strategy.crossover_kind,
            f"one of {CROSSOVER_KINDS}",
        )
    names = registry.names("strategy") or STRATEGY_NAMES
    _require(strategy.name in names, "strategy.name", strategy.name, f"one of {names}")
    _require(
        isinstance(strategy.population_size, int) and strategy.population_size >= 2,
        "strategy.population_size",
        strategy.population_size,
        "an integer >= 2",
    )
    _require(
        isinstance(strategy.sample_size, int)
        and 1 <= strategy.sample_size <= strategy.population_size,
        "strategy.sample_size",
        strategy.sample_size,
        f"an integer in [1, strategy.population_size={strategy.population_size}]",
    )
    _require(
        0 <= strategy.crossover_probability <= 1,
        "strategy.crossover_probability",
        strategy.crossover_probability,
        "a probability in [0, 1]",
    )
    objectives = tuple(strategy.objectives)
    _require(
        len(objectives) >= 2
        and objectives[0] == "fitness"
        and len(set(objectives)) == len(objectives)
        and all(is_objective(name) for name in objectives),
        "strategy.objectives",
        objectives,
        f"'fitness' then one or more distinct of {OBJECTIVES[1:]} or 'min:METRIC'/'max:METRIC'",
    )
    _require(
        _positive_ints([strategy.latency_batch_size]),
        "strategy.latency_batch_size",
        strategy.latency_batch_size,
        "an integer >= 1",
    )
    _require(
        isinstance(strategy.latency_table, str)
        and (not strategy.latency_table or os.path.isfile(strategy.latency_table)),
        "strategy.latency_table",
        strategy.latency_table,
        "'' or the path of an existing latency.json",
    )
    target = config.budget.get("target_fitness", float("inf"))
    _require(
        isinstance(target, int | float) and not isinstance(target, bool),
        "budget.target_fitness",
        target,
        "a number (inf: spend the whole budget)",
    )
    seconds = config.budget.get("seconds", float("inf"))
    _require(
        isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0,
        "budget.seconds",
        seconds,
        "a number of seconds > 0 (inf: no time limit)",
    )
    _require(
        isinstance(config.budget.evaluations, int) and config.budget.evaluations >= 1,
        "budget.evaluations",
        config.budget.evaluations,
        "an integer >= 1",
    )
    latency_limit = config.constraints.get("max_latency_ms", 0.0)
    _require(
        isinstance(latency_limit, int | float)
        and not isinstance(latency_limit, bool)
        and latency_limit >= 0,
        "constraints.max_latency_ms",
        latency_limit,
        "a number of milliseconds >= 0 (0: no limit)",
    )
    _require(
        isinstance(config.final.top_k, int) and config.final.top_k >= 1,
        "final.top_k",
        config.final.top_k,
        "an integer >= 1",
    )
    par = config.parallel
    _require(
        par.backend in parallel.BACKENDS,
        "parallel.backend",
        par.backend,
        f"one of {parallel.BACKENDS}",
    )
    _require(
        isinstance(par.num_devices, int) and par.num_devices >= 0,
        "parallel.num_devices",
        par.num_devices,
        "an integer >= 0 (0: all devices)",
    )
    _require(
        isinstance(par.round_size, int) and par.round_size >= 1,
        "parallel.round_size",
        par.round_size,
        "an integer >= 1",
    )
    _require(
        isinstance(par.vmap_width, int) and par.vmap_width >= 1,
        "parallel.vmap_width",
        par.vmap_width,
        "an integer >= 1",
    )
    _require(
        par.shape_classes in shape_classes.CHOICES,
        "parallel.shape_classes",
        par.shape_classes,
        f"one of {shape_classes.CHOICES}",
    )
    if strategy.name == "pbt":
        check_population_based_training(config)
    _check_runs(config)


def check_population_based_training(config: ml_collections.ConfigDict) -> None:
    """PBT trains every member every round and carries weights across rounds:
    rounds are whole populations, and nothing may replace or skip a member."""
    size = config.strategy.population_size
    _require(
        config.parallel.round_size == size,
        "parallel.round_size",
        config.parallel.round_size,
        f"strategy.population_size={size} for strategy.name='pbt' (every member trains "
        "every round)",
    )
    _require(
        config.budget.evaluations % size == 0,
        "budget.evaluations",
        config.budget.evaluations,
        f"a multiple of strategy.population_size={size} for strategy.name='pbt'",
    )
    for name, value in (
        ("fidelity.hurdle_steps", config.fidelity.hurdle_steps),
        ("len(fidelity.rung_steps)", len(config.fidelity.rung_steps)),
        ("constraints.max_params", config.constraints.max_params),
        ("constraints.max_flops", config.constraints.max_flops),
        ("constraints.max_latency_ms", config.constraints.get("max_latency_ms", 0.0)),
    ):
        _require(value == 0, name, value, "0 for strategy.name='pbt'")
    _require(
        not config.strategy.equivalence_cache,
        "strategy.equivalence_cache",
        config.strategy.equivalence_cache,
        "False for strategy.name='pbt' (a member's fitness depends on the weights it "
        "inherited, not only on its genes)",
    )


def _check_runs(config: ml_collections.ConfigDict) -> None:
    checkpoint = config.checkpoint
    _require(
        isinstance(checkpoint.every_rounds, int) and checkpoint.every_rounds >= 1,
        "checkpoint.every_rounds",
        checkpoint.every_rounds,
        "an integer >= 1",
    )
    _require(
        isinstance(checkpoint.keep, int) and checkpoint.keep >= 1,
        "checkpoint.keep",
        checkpoint.keep,
        "an integer >= 1",
    )
    progress = config.progress
    _require(
        isinstance(progress.log_every_seconds, int | float) and progress.log_every_seconds >= 0,
        "progress.log_every_seconds",
        progress.log_every_seconds,
        "a number of seconds >= 0",
    )
    for key in ("bar", "report", "record_cache_hits"):
        _require(isinstance(progress[key], bool), f"progress.{key}", progress[key], "True or False")

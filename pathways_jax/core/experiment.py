"""From a config to an :class:`~pathways_jax.core.loop.Experiment`, once.

The builder imports the modules a config names (``config.space.module``,
``config.strategy.module``, ``config.evaluator.module``), looks the components
up by name in the registries, and gives each factory its own config section:
below this module nothing reads the config dict.
"""

from __future__ import annotations

import jax
import ml_collections
from absl import logging

from pathways_jax import config as config_lib
from pathways_jax import distributed, parallel
from pathways_jax.core import registry, stages
from pathways_jax.core.loop import Experiment, LoopSettings

# Evaluator of a strategy whose children continue their parents' training.
INHERITING_EVALUATOR = "member_weights"


def _section(config, name: str) -> ml_collections.ConfigDict:
    return config[name] if name in config else ml_collections.ConfigDict()


def _import_modules(config) -> None:
    for section in ("space", "strategy", "evaluator"):
        module = _section(config, section).get("module", "")
        if module:
            registry.import_module(module, f"{section}.module")


def loop_settings(config) -> LoopSettings:
    """The loop's own settings of a checked config."""
    return LoopSettings(
        seed=int(config.seed),
        evaluations=int(config.budget.evaluations),
        round_size=int(config.parallel.round_size),
        top_k=int(config.final.top_k),
        checkpoint_every=int(config.checkpoint.every_rounds),
        checkpoint_keep=int(config.checkpoint.keep),
        progress_bar=bool(config.progress.bar),
        log_every_seconds=float(config.progress.log_every_seconds),
        report=bool(config.progress.report),
        target_fitness=float(config.budget.get("target_fitness", float("inf"))),
        seconds=float(config.budget.get("seconds", float("inf"))),
        record_cache_hits=bool(config.progress.get("record_cache_hits", True)),
    )


def evaluator_name(config, space, strategy) -> str:
    """``config.evaluator.name``, or (``'auto'``) the one the strategy and
    space call for."""
    name = _section(config, "evaluator").get("name", "auto")
    if name != "auto":
        return name
    if getattr(strategy, "inherits_weights", False):
        return INHERITING_EVALUATOR
    return getattr(space, "default_evaluator", "fresh_weights")


def round_stages(config, space, strategy) -> tuple:
    """The round stages the config asks for, in order: constraint repair,
    equivalence cache, measured latency (for the objective or a limit), the
    latency limit."""
    from pathways_jax.core.latency_stage import LatencyLimit, MeasuredLatency

    built = []
    limits = {
        "num_params": config.constraints.max_params,
        "flops": config.constraints.max_flops,
    }
    if any(limits.values()):
        try:
            built.append(stages.ConstraintRepair(space, limits))
        except ValueError as error:
            raise config_lib.ConfigError(f"config.constraints: {error}") from None
    if config.strategy.equivalence_cache:
        built.append(stages.EquivalenceCache(space))
    max_latency_ms = float(config.constraints.get("max_latency_ms", 0.0))
    if "latency" in strategy.objective_names or max_latency_ms > 0:
        from pathways_jax import latency

        table = {}
        if config.strategy.latency_table:
            try:
                table = latency.load_table(config.strategy.latency_table)
            except ValueError as error:
                raise config_lib.ConfigError(f"config.strategy.latency_table: {error}") from None
        meter = latency.LatencyMeter(
            space, batch_size=config.strategy.latency_batch_size, table=table
        )
        built.append(MeasuredLatency(meter))
        if max_latency_ms > 0:
            built.append(LatencyLimit(max_latency_ms / 1000.0))
    return tuple(built)


def with_behaviour_cache(config, built: tuple, evaluator, name: str) -> tuple:
    """``built`` with the behavioural cache after the genotype cache, if the
    config asks for it (``strategy.behaviour_cache``)."""
    if not config.strategy.get("behaviour_cache", False):
        return built
    from pathways_jax.core.behaviour_cache import BehaviourCache

    if not hasattr(evaluator, "behaviour"):
        raise config_lib.ConfigError(
            f"config.strategy.behaviour_cache=True is invalid: expected False for "
            f"evaluator {name!r} (it has no behaviour hook to fingerprint candidates by)"
        )
    stages_list = list(built)
    position = next(
        (i + 1 for i, s in enumerate(stages_list) if isinstance(s, stages.EquivalenceCache)), 0
    )
    # An evaluator that trains every slot gets the fallback in answered ones.
    skips = getattr(evaluator, "skips_answered_slots", False)
    space = None if skips else getattr(evaluator, "space", None)
    stages_list.insert(position, BehaviourCache(evaluator.behaviour, space=space))
    return tuple(stages_list)


def build_space(config: ml_collections.ConfigDict, dataset=None):
    """The space ``config.space`` names (for scripts and benchmarks; ``dataset``:
    an already loaded dataset, else the config's is loaded if the space needs it)."""
    import pathways_jax.builtin  # noqa: F401 - registers the built-in components.

    _import_modules(config)
    context = registry.BuildContext(config.seed, config.dataset, None, 0, dataset=dataset)
    factory = registry.lookup("space", config.space.get("name", "pathway"), "space.name")
    return factory(config.space, context)


def build_strategy(config: ml_collections.ConfigDict, space):
    """The strategy ``config.strategy.name`` names, over ``space``."""
    import pathways_jax.builtin  # noqa: F401 - registers the built-in components.

    factory = registry.lookup("strategy", config.strategy.name, "strategy.name")
    return factory(config.strategy, space, int(config.parallel.round_size))


def build(config: ml_collections.ConfigDict, dataset=None) -> Experiment:
    """The experiment a config describes (every component built and checked);
    ``dataset``: an already loaded :class:`~pathways_jax.data.Dataset` to
    search on instead of ``config.dataset`` (what ``fit`` passes).

    Raises:
      ConfigError: a key's value is unusable (the message names the key).
      RegistryError: a name is not registered, or a module fails to import.
      DataError: the dataset cannot be loaded.
    """
    import pathways_jax.builtin  # noqa: F401 - registers the built-in components.

    _import_modules(config)
    config_lib.check_config(config)
    settings = loop_settings(config)
    num_devices = config.parallel.num_devices or jax.device_count()
    try:
        mesh = parallel.population_mesh(num_devices)
    except ValueError as error:
        raise config_lib.ConfigError(str(error)) from None
    distributed.open_collectives(mesh)
    context = registry.BuildContext(
        config.seed, config.dataset, mesh, settings.num_rounds, dataset=dataset
    )
    space_name = config.space.get("name", "pathway")
    space = registry.lookup("space", space_name, "space.name")(config.space, context)
    context.space = space
    strategy_factory = registry.lookup("strategy", config.strategy.name, "strategy.name")
    strategy = strategy_factory(config.strategy, space, settings.round_size)
    name = evaluator_name(config, space, strategy)
    evaluator = registry.lookup("evaluator", name, "evaluator.name")(config, context)
    logging.info(
        "Search: %s in %s, %d candidates in rounds of %d on %d device(s) of %d process(es) "
        "(%s), evaluated by %s",
        config.strategy.name,
        space_name,
        settings.evaluations,
        settings.round_size,
        num_devices,
        jax.process_count(),
        config.parallel.backend,
        name,
    )
    return Experiment(
        space=space,
        strategy=strategy,
        evaluator=evaluator,
        stages=with_behaviour_cache(config, round_stages(config, space, strategy), evaluator, name),
        settings=settings,
        run_config=config.to_dict(),
        divergence_hint=getattr(space, "divergence_hint", ""),
    )

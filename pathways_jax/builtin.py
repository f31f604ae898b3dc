"""The built-in components, registered by name (imported by the builder).

Spaces: ``pathway``, ``pathnet``, ``program``. Strategies: ``regularized``,
``tournament``, ``truncation``, ``random``, ``nsga2``, ``pbt``,
``binary_tournament``. Evaluators: ``fresh_weights``, ``member_weights``,
``shared_weights``, ``function``, ``program``. PathNet's three live in
:mod:`pathways_jax.pathnet.components`, the program space's two in
:mod:`pathways_jax.spaces.program.components`. Each factory reads its own config section
into the component's settings and checks them; see
:mod:`pathways_jax.core.registry` for the signatures.
"""

from __future__ import annotations

from pathways_jax import config as config_lib
from pathways_jax import fidelity, strategies
from pathways_jax.core import registry
from pathways_jax.data import table_encoding
from pathways_jax.evaluators import training_config
from pathways_jax.evaluators.fresh_weights import FreshWeights, FreshWeightsSettings
from pathways_jax.evaluators.function import FunctionEvaluator
from pathways_jax.evaluators.member_weights import MemberWeights, MemberWeightsSettings
from pathways_jax.pathnet import components  # noqa: F401 - registers PathNet's.
from pathways_jax.spaces.pathway import config as pathway_config
from pathways_jax.spaces.pathway.space import PathwaySpace
from pathways_jax.spaces.program import components as _program  # noqa: F401 - registers 'program'.
from pathways_jax.training.losses import FITNESS_METRICS


@registry.register_space("pathway")
def pathway_space(settings, context) -> PathwaySpace:
    """The pathway space of ``config.space`` for the config's dataset."""
    pathway_config.check_pathway_space(settings)
    dataset = context.dataset
    return PathwaySpace(
        tables=pathway_config.gene_tables(settings),
        input_kind=dataset.input_kind,
        input_shape=tuple(dataset.input_shape),
        task=dataset.task,
        num_outputs=dataset.num_outputs,
        mutation_weights=tuple(float(w) for w in settings.mutation_weights),
        input_groups=input_groups(dataset) if settings.get("feature_selection") else (),
        fitness_metric=fitness_metric(settings, dataset),
    )


def fitness_metric(settings, dataset) -> str:
    """``config.space.fitness_metric``, checked against the dataset's task."""
    name = settings.get("fitness_metric", "")
    allowed = tuple(FITNESS_METRICS[dataset.task])
    if name and name not in allowed:
        raise config_lib.ConfigError(
            f"config.space.fitness_metric={name!r} is invalid: expected '' or one of "
            f"{allowed} for {dataset.task}"
        )
    return name


def input_groups(dataset) -> tuple[int, ...]:
    """The input-mask group of each feature of a vector dataset: one per table
    column (its one-hot features together), else one per feature."""
    if dataset.input_kind != "vector":
        raise config_lib.ConfigError(
            f"config.space.feature_selection=True is invalid: expected False for "
            f"{dataset.input_kind} inputs (feature selection reads vector inputs)"
        )
    if dataset.encoding is None:
        return tuple(range(dataset.input_shape[0]))
    groups = [0] * dataset.input_shape[0]
    for group, features in enumerate(table_encoding.feature_groups(dataset.encoding).values()):
        for feature in features:
            groups[feature] = group
    return tuple(groups)


def _variation(settings) -> dict:
    return {
        "crossover_probability": float(settings.crossover_probability),
        "crossover_kind": settings.crossover_kind,
    }


def _strategy(build):
    """A factory that reports a strategy's ``ValueError`` as a config error."""

    def factory(settings, space, round_size):
        try:
            return build(settings, space, round_size)
        except ValueError as error:
            raise config_lib.ConfigError(f"config.strategy: {error}") from None

    factory.__name__ = build.__name__
    factory.__qualname__ = build.__qualname__
    return factory


@registry.register_strategy("regularized")
@_strategy
def regularized(settings, space, round_size):
    """Aging evolution (Real et al. 2019): the oldest member dies."""
    return strategies.RegularizedEvolution(
        space=space,
        population_size=settings.population_size,
        round_size=round_size,
        sample_size=settings.sample_size,
        aging=True,
        with_replacement=bool(settings.get("sample_with_replacement", False)),
        **_variation(settings),
    )


@registry.register_strategy("tournament")
@_strategy
def tournament(settings, space, round_size):
    """Non-aging tournament selection: the least fit member dies."""
    return strategies.RegularizedEvolution(
        space=space,
        population_size=settings.population_size,
        round_size=round_size,
        sample_size=settings.sample_size,
        aging=False,
        with_replacement=bool(settings.get("sample_with_replacement", False)),
        **_variation(settings),
    )


@registry.register_strategy("truncation")
@_strategy
def truncation(settings, space, round_size):
    """(mu + lambda): the fittest of parents and children survive."""
    return strategies.TruncationSelection(
        space=space,
        population_size=settings.population_size,
        round_size=round_size,
        **_variation(settings),
    )


@registry.register_strategy("random")
@_strategy
def random(settings, space, round_size):
    """Random search: every candidate sampled."""
    return strategies.RandomSearch(
        space=space, population_size=settings.population_size, round_size=round_size
    )


@registry.register_strategy("nsga2")
@_strategy
def nsga2(settings, space, round_size):
    """NSGA-II over ``strategy.objectives``."""
    return strategies.NSGA2(
        space=space,
        population_size=settings.population_size,
        round_size=round_size,
        objective_names=tuple(settings.objectives),
        **_variation(settings),
    )


@registry.register_strategy("pbt")
@_strategy
def pbt(settings, space, round_size):
    """Population-based training (Jaderberg et al. 2017)."""
    return strategies.PopulationBasedTraining(
        space=space, population_size=settings.population_size, round_size=round_size
    )


@registry.register_evaluator("fresh_weights")
def fresh_weights(config, context) -> FreshWeights:
    """Every child trained from fresh weights (behind hurdles if configured)."""
    training_config.check_training(config)
    settings = FreshWeightsSettings(
        steps=int(config.train.steps),
        final_steps=int(config.final.steps),
        eval_chunk=int(config.train.eval_chunk),
        round_size=int(config.parallel.round_size),
        rung_steps=fidelity.rung_steps(config.fidelity),
        keep_fraction=float(config.fidelity.keep_fraction),
        stopped_join_population=bool(config.fidelity.stopped_join_population),
        backend=config.parallel.backend,
        vmap_width=int(config.parallel.vmap_width),
        shape_classes=config.parallel.shape_classes,
    )
    return FreshWeights(context.space, context.dataset, settings, context.mesh)


@registry.register_evaluator("member_weights")
def member_weights(config, context) -> MemberWeights:
    """Members that continue their parents' training (population-based training)."""
    training_config.check_training(config)
    settings = MemberWeightsSettings(
        steps=int(config.train.steps),
        num_rounds=context.num_rounds,
        population_size=int(config.strategy.population_size),
        eval_chunk=int(config.train.eval_chunk),
        backend=config.parallel.backend,
        vmap_width=int(config.parallel.vmap_width),
    )
    return MemberWeights(context.space, context.dataset, settings, context.mesh)


@registry.register_evaluator("function")
def function(config, context) -> FunctionEvaluator:
    """A pure fitness function of the genome (the space's ``fitness`` hook)."""
    del config
    return FunctionEvaluator(context.space)

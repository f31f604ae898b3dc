"""Search settings that follow from the data and a preset.

A 150-row table and 4,000 sequences do not get the same search: the training
steps follow the training rows (about :data:`EPOCHS` passes, within the
preset's bounds), the widths follow the data size, and the preset sets the
depth, the population and how many candidates a search without a time budget
trains. Everything lands in an ordinary search config
(``pathways_jax.config.default_config()``), so a ``fit`` is a search like any
other, recorded the same way.
"""

from __future__ import annotations

import dataclasses
import math

import ml_collections

from pathways_jax.config import default_config

EPOCHS = 40
# With a time budget and no max_candidates, the count only bounds the search.
TIME_BOUND_CANDIDATES = 100_000


@dataclasses.dataclass(frozen=True)
class Preset:
    """How large a search a preset runs.

    Attributes:
      max_depth: most blocks of a pathway.
      population_size: the strategy's population.
      evaluations: candidates trained without a time budget or max_candidates.
      min_steps, max_steps: bounds of the training steps per candidate.
      final_factor: final retraining steps over search steps.
      top_k: finalists retrained.
    """

    max_depth: int
    population_size: int
    evaluations: int
    min_steps: int
    max_steps: int
    final_factor: float
    top_k: int


PRESETS = {
    "fast": Preset(2, 8, 24, 50, 300, 1.5, 1),
    "balanced": Preset(3, 16, 96, 100, 800, 2.0, 2),
    "best": Preset(4, 32, 320, 200, 2000, 2.0, 3),
}


def training_steps(preset: Preset, num_train: int, batch_size: int = 32) -> int:
    """About :data:`EPOCHS` passes over the training rows, within the preset's bounds."""
    steps = math.ceil(EPOCHS * num_train / batch_size)
    return int(min(max(steps, preset.min_steps), preset.max_steps))


def search_config(
    dataset,
    *,
    preset: str = "balanced",
    seed: int = 0,
    seconds: float = float("inf"),
    max_candidates: int | None = None,
    max_params: int | None = None,
    max_latency_ms: float | None = None,
    devices: int | None = None,
    verbose: bool = False,
    data_name: str = "fit",
    feature_selection: bool = False,
) -> ml_collections.ConfigDict:
    """The search config of a ``fit`` on ``dataset``.

    Raises:
      ValueError: an unknown preset or a bad limit (one line naming it).
    """
    if preset not in PRESETS:
        raise ValueError(f"preset={preset!r} is invalid: expected one of {tuple(PRESETS)}")
    settings = PRESETS[preset]
    num_train = len(dataset.y_train)
    config = default_config()
    config.seed = int(seed)
    config.dataset.name = data_name
    space = config.space
    space.max_depth = settings.max_depth
    space.feature_selection = bool(feature_selection)
    small = num_train < 1000
    space.dense_widths = (8, 16, 32, 64) if small else (16, 32, 64, 128, 256)
    space.conv_widths = (8, 16, 32) if small else (16, 32, 64)
    batches = tuple(b for b in (16, 32, 64, 128) if b <= max(num_train, 16))
    space.batch_sizes = batches
    strategy = config.strategy
    strategy.population_size = settings.population_size
    strategy.sample_size = max(2, settings.population_size // 4)
    strategy.crossover_probability = 0.2
    config.parallel.round_size = 8
    config.parallel.num_devices = int(devices or 0)
    if max_candidates is not None:
        if int(max_candidates) != max_candidates or max_candidates < 1:
            raise ValueError(
                f"max_candidates={max_candidates!r} is invalid: expected an integer >= 1"
            )
        config.budget.evaluations = int(max_candidates)
    elif math.isfinite(seconds):
        config.budget.evaluations = TIME_BOUND_CANDIDATES
    else:
        config.budget.evaluations = settings.evaluations
    config.budget.seconds = float(seconds)
    steps = training_steps(settings, num_train)
    config.train.steps = steps
    config.train.eval_chunk = int(min(500, max(len(dataset.y_val), 1)))
    config.final.steps = int(steps * settings.final_factor)
    config.final.top_k = settings.top_k
    for name, value, kind in (
        ("max_params", max_params, int),
        ("max_latency_ms", max_latency_ms, float),
    ):
        if value is None:
            continue
        if not value > 0:
            raise ValueError(
                f"{name}={value!r} is invalid: expected a positive number (None: no limit)"
            )
        config.constraints[name] = kind(value)
    config.checkpoint.every_rounds = 5
    config.progress.bar = bool(verbose)
    config.progress.log_every_seconds = 10.0 if verbose else float("inf")
    config.progress.report = True
    return config

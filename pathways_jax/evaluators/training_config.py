"""The checks of what trains the candidates: ``train``, ``final``, ``fidelity``
and ``constraints`` (called by the evaluator factories that train networks)."""

from __future__ import annotations

import ml_collections

from pathways_jax.config import _require


def check_training(config: ml_collections.ConfigDict) -> None:
    """Raise :class:`ConfigError` naming the first unusable key of what trains
    the candidates: ``train``, ``final``, ``fidelity``, ``constraints``."""
    _require(
        isinstance(config.train.steps, int) and config.train.steps >= 1,
        "train.steps",
        config.train.steps,
        "an integer >= 1",
    )
    _require(
        isinstance(config.train.eval_chunk, int) and config.train.eval_chunk >= 1,
        "train.eval_chunk",
        config.train.eval_chunk,
        "an integer >= 1",
    )
    _require(
        isinstance(config.final.steps, int) and config.final.steps >= 0,
        "final.steps",
        config.final.steps,
        "an integer >= 0 (0 skips retraining)",
    )
    fidelity = config.fidelity
    _require(
        isinstance(fidelity.hurdle_steps, int) and 0 <= fidelity.hurdle_steps < config.train.steps,
        "fidelity.hurdle_steps",
        fidelity.hurdle_steps,
        f"an integer in [0, train.steps={config.train.steps}) (0: no hurdle)",
    )
    rungs = tuple(fidelity.rung_steps)
    _require(
        all(isinstance(steps, int) for steps in rungs)
        and all(0 < a < b for a, b in zip(rungs, rungs[1:], strict=False))
        and (not rungs or (rungs[0] > 0 and rungs[-1] < config.train.steps)),
        "fidelity.rung_steps",
        rungs,
        f"increasing integers in (0, train.steps={config.train.steps}) (empty: none)",
    )
    _require(
        not (rungs and fidelity.hurdle_steps),
        "fidelity.rung_steps",
        rungs,
        f"empty when fidelity.hurdle_steps={fidelity.hurdle_steps} is set (one hurdle is "
        "rung_steps with one entry)",
    )
    _require(
        0 < fidelity.keep_fraction <= 1,
        "fidelity.keep_fraction",
        fidelity.keep_fraction,
        "a fraction in (0, 1]",
    )
    _require(
        isinstance(fidelity.stopped_join_population, bool),
        "fidelity.stopped_join_population",
        fidelity.stopped_join_population,
        "True or False",
    )
    for key in ("max_params", "max_flops"):
        value = config.constraints[key]
        _require(
            isinstance(value, int | float) and value >= 0,
            f"constraints.{key}",
            value,
            "a number >= 0 (0 means no limit)",
        )

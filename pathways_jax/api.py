"""One search, from config to workdir: build the experiment, run the loop.

``run_search(config, workdir)`` is the composition the search command calls:
:func:`pathways_jax.core.experiment.build` turns the config into a space, a
strategy, an evaluator and round stages (found by name in the registries),
and :func:`pathways_jax.core.loop.run` asks, trains, tells and records until
the budget is spent, then finalizes (the best retrained, tested once,
exported). :func:`search` runs the same loop on objects instead of a config.
"""

from __future__ import annotations

import ml_collections

from pathways_jax.core import experiment as experiment_lib
from pathways_jax.core import loop
from pathways_jax.core import stages as stages_lib
from pathways_jax.core.finish import write_report
from pathways_jax.core.loop import Experiment, LoopSettings, SearchResult
from pathways_jax.evaluators.metrics import divergence_reason
from pathways_jax.runs import workdir as run_workdir

WorkdirError = run_workdir.WorkdirError

__all__ = [
    "WorkdirError",
    "divergence_reason",
    "run_search",
    "search",
    "write_report",
]


def run_search(
    config: ml_collections.ConfigDict,
    workdir: str | None,
    overwrite: bool = False,
    stop_after_rounds: int | None = None,
    command: str | None = None,
) -> dict:
    """Run the search ``config`` describes and write its records into ``workdir``.

    A workdir that holds this run (same config) is resumed from its last
    checkpoint and ends with the same records as an uninterrupted run.

    Args:
      config: the search config (``pathways_jax.config.default_config()``
        and a config file's changes).
      workdir: the run's directory (None: nothing is written).
      overwrite: remove a run already in ``workdir`` and start afresh.
      stop_after_rounds: stop (as if pre-empted) once this many rounds are
        done in total, after saving a checkpoint; for tests of resuming.
      command: the command line that started the run, quoted in the exported
        code's docstring.

    Returns:
      The summary (also written to ``summary.json``).

    Raises:
      ConfigError, RegistryError, DataError, WorkdirError, CheckpointError:
        one line naming what is wrong.
      preemption.SearchInterrupted: SIGTERM/SIGINT or ``stop_after_rounds``
        stopped the search; a checkpoint of the last round was saved.
    """
    evaluator = config.get("evaluator", {})
    if evaluator.get("name") == "shared_weights" and "tasks" in evaluator:
        # A task sequence (PathNet transfer).
        from pathways_jax.pathnet.transfer import run_task_sequence

        return run_task_sequence(
            config,
            workdir,
            overwrite=overwrite,
            stop_after_rounds=stop_after_rounds,
            command=command,
        )
    built = experiment_lib.build(config)
    result = loop.run(
        built,
        workdir,
        overwrite=overwrite,
        stop_after_rounds=stop_after_rounds,
        command=command,
    )
    return result.summary


def search(
    *,
    space,
    strategy,
    evaluator,
    settings: LoopSettings | None = None,
    stages: tuple = (),
    workdir: str | None = None,
    equivalence_cache: bool = False,
    overwrite: bool = False,
    stop_after_rounds: int | None = None,
) -> SearchResult:
    """Run a search of objects built in Python (no config file).

    Args:
      space: a :class:`~pathways_jax.core.protocols.SearchSpace`.
      strategy: a strategy over ``space`` (e.g.
        ``pathways_jax.RegularizedEvolution(space=space, ...)``).
      evaluator: an :class:`~pathways_jax.core.protocols.Evaluator`.
      settings: the loop's settings (budget, round size, seed, ...);
        ``round_size`` must equal the strategy's.
      stages: extra round stages (``core.stages``), after the cache.
      workdir: a directory for the usual records, checkpoints and report, or
        None to keep everything in memory.
      equivalence_cache: put an :class:`~pathways_jax.core.stages.EquivalenceCache`
        first among the stages.
      overwrite, stop_after_rounds: as for :func:`run_search`.

    Returns:
      A :class:`~pathways_jax.core.loop.SearchResult`: summary, best record,
      final metrics, parameters and history.
    """
    settings = settings or LoopSettings(round_size=strategy.round_size)
    if settings.round_size != strategy.round_size:
        raise ValueError(
            f"settings.round_size={settings.round_size} but the strategy asks for "
            f"{strategy.round_size} children per round"
        )
    round_stages = (stages_lib.EquivalenceCache(space),) if equivalence_cache else ()
    built = Experiment(
        space=space,
        strategy=strategy,
        evaluator=evaluator,
        stages=round_stages + tuple(stages),
        settings=settings,
        run_config={
            "python_api": {
                "settings": dict(settings.__dict__),
                "strategy": repr(strategy),
                "evaluator": type(evaluator).__name__,
            }
        },
    )
    return loop.run(built, workdir, overwrite=overwrite, stop_after_rounds=stop_after_rounds)

"""The search loop: ask, stages, evaluate, tell, record; then finalize.

It speaks only the protocols of :mod:`pathways_jax.core.protocols`: nothing
here knows what a genome holds or how a candidate is trained. An
:class:`Experiment` is what the builder (:mod:`pathways_jax.core.experiment`)
makes from a config, or what a script assembles from objects
(:func:`pathways_jax.search`).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from pathways_jax import distributed
from pathways_jax.core import finish, objectives, stages
from pathways_jax.core.records import RoundLog, history_lines, is_cache_hit
from pathways_jax.core.run_files import RunFiles
from pathways_jax.core.time_budget import TimeBudget
from pathways_jax.runs import checkpoints, compilations, preemption
from pathways_jax.runs import progress as progress_lib


@dataclasses.dataclass(frozen=True)
class LoopSettings:
    """What the loop itself needs to know.

    Attributes:
      seed: one seed for the strategy, the training and the final retraining.
      evaluations: candidates evaluated in total (the budget).
      round_size: children asked for and evaluated per round.
      top_k: best candidates kept for ``finalize``.
      checkpoint_every: rounds between checkpoints (and after the last).
      checkpoint_keep: checkpoints kept.
      progress_bar: a progress bar on an interactive terminal.
      log_every_seconds: progress log interval otherwise (``inf``: no log lines).
      report: plots and ``report.md`` at the end.
      target_fitness: stop after the round in which a candidate's fitness
        reaches this (``inf``: spend the whole budget).
      seconds: a wall-clock budget for the whole search, finish included
        (``inf``: none): no round starts that would not fit
        (:mod:`pathways_jax.core.time_budget`); ``evaluations`` stays the
        upper bound.
      record_cache_hits: write a history record for every candidate (True),
        or only for evaluated ones (False: a search of millions of cheap
        candidates, most of them cache hits; metrics.jsonl still counts them).
    """

    seed: int = 0
    evaluations: int = 64
    round_size: int = 8
    top_k: int = 2
    checkpoint_every: int = 10
    checkpoint_keep: int = 3
    progress_bar: bool = True
    log_every_seconds: float = 10.0
    report: bool = True
    target_fitness: float = float("inf")
    seconds: float = float("inf")
    record_cache_hits: bool = True

    @property
    def num_rounds(self) -> int:
        return -(-self.evaluations // self.round_size)


@dataclasses.dataclass
class Experiment:
    """The parts of one search.

    Attributes:
      space, strategy, evaluator: the three protocols.
      stages: round stages in order (``core.stages``).
      settings: :class:`LoopSettings`.
      run_config: the JSON-able config a workdir records (resumes compare it).
      divergence_hint: how every candidate failed and what to try, after
        "every one of the N candidates" (the space's ``divergence_hint``).
      initial_state: a strategy state to start from instead of
        ``strategy.init`` (e.g. a population chosen by hand).
    """

    space: object
    strategy: object
    evaluator: object
    stages: tuple = ()
    settings: LoopSettings = LoopSettings()
    run_config: dict = dataclasses.field(default_factory=dict)
    divergence_hint: str = ""
    initial_state: object = None


@dataclasses.dataclass
class SearchResult:
    """What a search returns.

    Attributes:
      summary: the summary (also ``summary.json``).
      best: the chosen history record (its ``genome`` is ``space.to_json``).
      final: the final metrics (``validation``, ``test``).
      params: the chosen candidate's weights (host pytree) or None.
      history: every history record of this session (and the kept ones of a
        resumed run).
    """

    summary: dict
    best: dict | None
    final: dict | None
    params: object
    history: list[dict]


def search_keys(seed: int):
    """``(strategy_key, train_key, final_key)`` of a search with ``seed``."""
    return tuple(jax.random.split(jax.random.key(seed), 3))


def candidate_keys(base_key, ids: np.ndarray):
    """One key per candidate id: the same id gets the same key however the
    candidates are split into rounds or over devices."""
    return jax.vmap(lambda i: jax.random.fold_in(base_key, i))(jnp.asarray(ids, jnp.uint32))


def _finished(files: RunFiles, state, evaluator) -> SearchResult:
    """The result of a run that had finished: its summary and history, and
    the evaluator restored to its last checkpoint (what a next task starts from)."""
    summary = files.finished_summary
    restored = files.restore((state, evaluator.carried()))
    history = []
    if restored is not None:
        (_, carried), _, history = restored
        evaluator.restore(carried)
    best = next((r for r in history if r["id"] == summary["best_id"]), None)
    return SearchResult(summary, best, summary["final"], None, history)


def _call(items, method: str, *args):
    for item in items:
        if hasattr(item, method):
            getattr(item, method)(*args)


def run(
    experiment: Experiment,
    workdir: str | None,
    *,
    overwrite: bool = False,
    stop_after_rounds: int | None = None,
    command: str | None = None,
) -> SearchResult:
    """Run ``experiment``, writing its records into ``workdir`` (None: in memory).

    A workdir that holds this run (same config) resumes from its last
    checkpoint and ends with the same records as an uninterrupted run.

    Raises:
      preemption.SearchInterrupted: SIGTERM/SIGINT or ``stop_after_rounds``
        stopped the search after saving a checkpoint.
      RuntimeError: every candidate failed.
    """
    space, strategy, evaluator = experiment.space, experiment.strategy, experiment.evaluator
    settings, round_stages = experiment.settings, tuple(experiment.stages)
    files = RunFiles(workdir, experiment.run_config, settings.checkpoint_keep, overwrite)
    strategy_key, train_key, final_key = search_keys(settings.seed)
    state = experiment.initial_state
    state = strategy.init(strategy_key) if state is None else state
    if files.finished_summary is not None:
        logging.info("The run in %s is complete; its summary is in summary.json", workdir)
        return _finished(files, state, evaluator)
    compilations.backend_compilations()
    session_start = time.perf_counter()
    log = RoundLog(settings.top_k)
    progress = {"rounds": 0, "elapsed_seconds": 0.0, "data_seed": settings.seed}
    kept: list[dict] = []
    restored = files.restore((state, evaluator.carried()))
    if restored is not None:
        (state, carried), progress, kept = restored
        evaluator.restore(carried)
        log.resume(progress, kept, evaluator)
        for stage in round_stages:
            if hasattr(stage, "resume"):
                stage.resume(kept, progress)
        logging.info("Resuming from %s", checkpoints.describe_progress(progress))
    earlier_seconds = progress["elapsed_seconds"]
    elapsed = lambda: earlier_seconds + time.perf_counter() - session_start

    def save_checkpoint(rounds_done: int) -> None:
        progress.update(rounds=rounds_done, elapsed_seconds=elapsed(), **log.progress())
        for stage in round_stages:
            if hasattr(stage, "progress"):
                progress.update(stage.progress())
        files.save(rounds_done, (state, evaluator.carried()), progress)

    num_rounds, budget = settings.num_rounds, settings.evaluations
    files.open_writers(log.evaluated)
    reporter = progress_lib.Progress(
        num_rounds,
        budget,
        start_evaluated=log.evaluated,
        bar=settings.progress_bar and files.writes,
        log_every_seconds=settings.log_every_seconds,
    )
    history = list(kept)
    rounds_done = progress["rounds"]
    reached = lambda: log.best_fitness >= settings.target_fitness
    time_budget = TimeBudget(settings.seconds, evaluator, settings.top_k)
    out_of_time = bool(progress.get("stopped_by_time", False))
    try:
        with preemption.StopSignals() as stop:
            for round_index in range(progress["rounds"], num_rounds):
                if reached() or out_of_time:  # Resumed after the last round.
                    break
                round_start = time.perf_counter()
                compile_start = compilations.backend_compilations()[1]
                ask_key = jax.random.fold_in(strategy_key, round_index)
                num_real = min(settings.round_size, budget - log.evaluated)
                plan = stages.plan_round(strategy, ask_key, state, num_real, round_stages)
                ids = np.arange(log.evaluated, log.evaluated + settings.round_size)
                keys = candidate_keys(train_key, ids)
                metrics = evaluator.evaluate(plan, keys, num_real, ids)
                for stage in round_stages:
                    if hasattr(stage, "after"):
                        metrics = stage.after(plan, metrics)
                values = objectives.strategy_values(
                    strategy.objective_names, metrics, settings.round_size
                )
                state = strategy.tell(
                    state, plan.children, values, num_real, **evaluator.admission(plan.notes)
                )
                lines = history_lines(space, plan, metrics, ids, round_index)
                _call(round_stages, "record", plan, lines)
                log.add_round(lines, evaluator)
                log.keep_latest(np.asarray(state.birth))
                written = lines
                if not settings.record_cache_hits:
                    written = [line for line in lines if not is_cache_hit(line)]
                history.extend(written)
                line = log.round_line(round_index, strategy, state, plan, lines, round_stages)
                line["wall_seconds"] = round(elapsed(), 3)
                line["candidates_per_second"] = round(
                    num_real / max(time.perf_counter() - round_start, 1e-9), 4
                )
                line["compilations"] = evaluator.compilations
                line["xla_compilations"] = compilations.backend_compilations()[0]
                files.write_round(written, line, log.evaluated)
                reporter.update(round_index + 1, log.evaluated, log.best_fitness)
                rounds_done = round_index + 1
                time_budget.add_round(
                    time.perf_counter() - round_start,
                    compilations.backend_compilations()[1] - compile_start,
                )
                # Every process of a job stops after the same round.
                if time_budget.limited and rounds_done < num_rounds:
                    out_of_time = distributed.any_process(time_budget.exhausted(elapsed()))
                    progress["stopped_by_time"] = out_of_time
                stopping = distributed.any_process(stop.requested is not None)
                stopping = stopping or rounds_done == stop_after_rounds
                if (
                    rounds_done % settings.checkpoint_every == 0
                    or rounds_done == num_rounds
                    or stopping
                    or reached()
                    or out_of_time
                ):
                    save_checkpoint(rounds_done)
                if reached() or out_of_time:
                    break
                if stopping and rounds_done < num_rounds:
                    cause = preemption.signal_name(stop.requested)
                    where = f"in {workdir}: run the same command again to resume"
                    raise preemption.SearchInterrupted(
                        f"search stopped by {cause} after round {rounds_done}/{num_rounds} "
                        f"({log.evaluated}/{budget} candidates); a checkpoint is saved {where}",
                        stop.requested,
                    )
    finally:
        reporter.close()
        files.close()

    if not np.isfinite(log.best_fitness):
        failure = experiment.divergence_hint or "failed (each reason is in history.jsonl)"
        raise RuntimeError(f"every one of the {log.evaluated} candidates {failure}")
    final, chosen, params = evaluator.finalize(log.finalist_records(), log.latest, final_key)
    summary = finish.finish(
        experiment, files, log, final, chosen, params, rounds_done, elapsed(), command
    )
    if np.isfinite(settings.target_fitness):
        summary["reached_target"] = bool(reached())
    if time_budget.limited:
        summary["time_budget"] = time_budget.record(elapsed(), out_of_time)
    _call(round_stages, "finish", workdir if files.writes else None, summary)
    finish.write_summary(files, summary, settings.report)
    distributed.wait_for_all()
    return SearchResult(summary, chosen, final, params, history)

"""One evolutionary pathway search, from config to workdir.

``run_search(config, workdir)`` loads the data, builds the pathway space and
the population program (one compiled program per shape class), then loops:
the strategy asks for a round of children, the program trains and evaluates
them all (fitness on the validation split), the strategy is told their
fitness, and the round is written to ``metrics.jsonl`` and ``history.jsonl``.
At the end the best pathway is retrained and evaluated once on the test split.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from pathways_jax import config as config_lib
from pathways_jax import (
    data,
    distributed,
    evolution,
    fidelity,
    genome,
    latency,
    member_training,
    parallel,
    rounds,
)
from pathways_jax.codegen import export
from pathways_jax.population_program import PopulationProgram, candidate_keys, search_keys
from pathways_jax.runs import (
    checkpoints,
    compilations,
    pareto,
    preemption,
    records,
    report,
    scalars,
)
from pathways_jax.runs import progress as progress_lib
from pathways_jax.runs import workdir as run_workdir
from pathways_jax.spaces.pathway import PathwaySpace
from pathways_jax.training import trainer

WorkdirError = run_workdir.WorkdirError


def build_space(config: ml_collections.ConfigDict, dataset: data.Dataset) -> PathwaySpace:
    """The pathway space for ``dataset`` with the gene tables of ``config.space``."""
    return PathwaySpace(
        tables=config_lib.gene_tables(config),
        input_kind=dataset.input_kind,
        input_shape=tuple(dataset.input_shape),
        task=dataset.task,
        num_outputs=dataset.num_outputs,
        mutation_weights=tuple(float(w) for w in config.space.mutation_weights),
    )


def build_strategy(config: ml_collections.ConfigDict, space: PathwaySpace):
    """The strategy ``config.strategy.name`` names."""
    settings = config.strategy
    common = {
        "space": space,
        "population_size": settings.population_size,
        "round_size": config.parallel.round_size,
    }
    variation = {
        "crossover_probability": float(settings.crossover_probability),
        "crossover_kind": settings.crossover_kind,
    }
    if settings.name in ("regularized", "tournament"):
        return evolution.RegularizedEvolution(
            **common,
            **variation,
            sample_size=settings.sample_size,
            aging=settings.name == "regularized",
        )
    if settings.name == "truncation":
        return evolution.TruncationSelection(**common, **variation)
    if settings.name == "pbt":
        return evolution.PopulationBasedTraining(**common)
    if settings.name == "nsga2":
        return evolution.NSGA2(**common, **variation, objective_names=tuple(settings.objectives))
    return evolution.RandomSearch(**common)


def build_latency_meter(config, strategy, space) -> latency.LatencyMeter | None:
    """The meter of the ``latency`` objective (None when no objective is latency)."""
    if "latency" not in getattr(strategy, "objective_names", ()):
        return None
    table = {}
    if config.strategy.latency_table:
        try:
            table = latency.load_table(config.strategy.latency_table)
        except ValueError as error:
            raise config_lib.ConfigError(f"config.strategy.latency_table: {error}") from None
    return latency.LatencyMeter(space, batch_size=config.strategy.latency_batch_size, table=table)


def round_hypervolume(strategy, state) -> dict:
    """``{'hypervolume': float}`` of a multi-objective population, else ``{}``."""
    if len(strategy.objective_names) == 1:
        return {}
    volume = pareto.population_hypervolume(
        strategy.objective_names, np.asarray(state.objectives), np.asarray(state.birth)
    )
    return {"hypervolume": round(volume, 6)}


def strategy_values(strategy, metrics: dict) -> jnp.ndarray:
    """What ``strategy.tell`` is told: fitness ``[n]``, or oriented objectives
    ``[n, k]`` for a multi-objective strategy."""
    fitness = metrics["eval"][0]["fitness"]
    if len(strategy.objective_names) == 1:
        return jnp.asarray(fitness)
    columns = {"fitness": fitness, "num_params": metrics["num_params"], "flops": metrics["flops"]}
    if "latency_seconds" in metrics:
        columns["latency_seconds"] = metrics["latency_seconds"]
    return jnp.asarray(evolution.oriented_objectives(strategy.objective_names, columns))


def divergence_reason(train_loss: float, diverged: bool, fitness: float) -> str | None:
    """Why a candidate got fitness -inf (None when it did not)."""
    if not diverged and np.isfinite(fitness):
        return None
    if not np.isfinite(train_loss):
        return "training loss became NaN or infinite"
    if diverged:
        return "parameters became NaN or infinite during training"
    return "validation fitness is NaN or infinite"


def _metric_record(metrics: dict, index: int, task: str) -> dict:
    evaluated = metrics["eval"][0]
    record = {name: float(value[index]) for name, value in evaluated.items()}
    record["train_loss"] = float(metrics["train_loss"][index])
    record["diverged"] = bool(metrics["diverged"][index])
    record["num_params"] = int(metrics["num_params"][index])
    record["flops"] = float(metrics["flops"][index])
    if "latency_seconds" in metrics:
        record["latency_seconds"] = float(metrics["latency_seconds"][index])
    reason = divergence_reason(record["train_loss"], record["diverged"], record["fitness"])
    if reason is not None:
        record["reason"] = reason
    del task
    return record


def _round_records(space, plan, metrics, ids, num_real, round_index) -> list[dict]:
    """The ``history.jsonl`` records of the first ``num_real`` children of a round."""
    host_children = jax.device_get(plan.children)
    host_parents = np.asarray(plan.parents)
    lines = []
    for index in range(num_real):
        child = genome.index_population(host_children, index)
        lines.append(
            {
                "id": int(ids[index]),
                "round": round_index,
                "parents": [int(p) for p in host_parents[index] if p >= 0],
                "genome": genome.genome_to_json(child),
                "description": space.describe(child),
                "metrics": _metric_record(metrics, index, space.task),
                **plan.notes[index],
            }
        )
    return lines


def run_search(
    config: ml_collections.ConfigDict,
    workdir: str,
    overwrite: bool = False,
    stop_after_rounds: int | None = None,
    command: str | None = None,
) -> dict:
    """Run the search ``config`` describes and write its records into ``workdir``.

    A workdir that holds this run (same config) is resumed from its last
    checkpoint and ends with the same records as an uninterrupted run.

    Args:
      config: the search config.
      workdir: the run's directory.
      overwrite: remove a run already in ``workdir`` and start afresh.
      stop_after_rounds: stop (as if pre-empted) once this many rounds are
        done in total, after saving a checkpoint; for tests of resuming.
      command: the command line that started the run, quoted in the exported
        code's docstring.

    Returns:
      The summary (also written to ``summary.json``).

    Raises:
      preemption.SearchInterrupted: SIGTERM/SIGINT or ``stop_after_rounds``
        stopped the search; a checkpoint of the last round was saved.
    """
    config_lib.check_config(config)
    # In a multi-process job only process 0 touches the workdir; what it finds
    # there is broadcast, so that every process runs the same search.
    writes = distributed.is_primary()
    workdir_errors = (run_workdir.WorkdirError, checkpoints.CheckpointError)

    def open_workdir() -> dict:
        resume = run_workdir.prepare(workdir, config.to_dict(), overwrite)
        summary_path = os.path.join(workdir, records.SUMMARY_FILE)
        finished = resume and os.path.exists(summary_path)
        return {"resume": resume, "summary": records.read_json(summary_path) if finished else None}

    opened = distributed.primary_value(
        open_workdir, workdir_errors, records.to_json, records.from_json
    )
    if opened["summary"] is not None:
        logging.info(
            "The run in %s is complete; its summary is in %s", workdir, records.SUMMARY_FILE
        )
        return opened["summary"]
    resume = opened["resume"]
    compilations.backend_compilations()
    session_start = time.perf_counter()

    dataset = data.load_dataset(config.dataset, seed=config.seed)
    logging.info("Data: %s", dataset.summary())
    space = build_space(config, dataset)
    strategy = build_strategy(config, space)
    meter = build_latency_meter(config, strategy, space)
    num_devices = config.parallel.num_devices or jax.device_count()
    try:
        mesh = parallel.population_mesh(num_devices)
    except ValueError as error:
        raise config_lib.ConfigError(str(error)) from None
    distributed.open_collectives(mesh)
    budget = config.budget.evaluations
    num_rounds = -(-budget // config.parallel.round_size)
    # Population-based training carries weights across rounds; the others train afresh.
    inherits_weights = getattr(strategy, "inherits_weights", False)
    if inherits_weights:
        program = member_training.MemberTrainer(space, config, mesh, num_rounds)
    else:
        program = fidelity.RoundTrainer(space, config, mesh)
    logging.info(
        "Search: %s, population %d, sample %d, %d candidates in rounds of %d on %d device(s) "
        "of %d process(es) (%s)",
        config.strategy.name,
        config.strategy.population_size,
        config.strategy.sample_size,
        config.budget.evaluations,
        config.parallel.round_size,
        num_devices,
        jax.process_count(),
        config.parallel.backend,
    )

    train_inputs = jnp.asarray(dataset.x_train)
    train_targets = jnp.asarray(dataset.y_train)
    validation = trainer.make_eval_set(dataset.x_val, dataset.y_val, config.train.eval_chunk)
    strategy_key, train_key, final_key = search_keys(config.seed)
    state = strategy.init(strategy_key)

    # Everything besides the strategy state that a checkpoint must carry.
    progress = {
        "rounds": 0,
        "evaluated": 0,
        "best": {"fitness": -np.inf, "id": -1, "genes": None, "description": "", "metrics": None},
        "finalists": [],  # History records of the best candidates, for retraining.
        "elapsed_seconds": 0.0,
        "data_seed": config.seed,
    }
    manager = checkpoints.open_manager(workdir, config.checkpoint.keep) if writes else None
    restored_state = None

    def restore() -> dict | None:
        nonlocal restored_state
        template = (state, program.carried())
        restored = checkpoints.restore_latest(manager, template, workdir) if resume else None
        checkpoints.truncate_records(workdir, restored[2] if restored is not None else None)
        if restored is None:
            return None
        _, restored_state, saved_progress = restored
        kept = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
        return {"progress": saved_progress, "history": kept}

    restored = distributed.primary_value(
        restore, workdir_errors, records.to_json, records.from_json
    )
    kept = []
    if restored is not None:
        template = (state, program.carried())
        host_state = checkpoints.state_to_host(restored_state if writes else template)
        state, carried = checkpoints.state_from_host(
            template, distributed.broadcast_arrays(host_state)
        )
        program.restore(carried)
        progress, kept = restored["progress"], restored["history"]
        if meter is not None:  # The latencies the strategy was told before.
            meter.table.update(progress.get("latency_table", {}))
        logging.info("Resuming from %s", checkpoints.describe_progress(progress))

    evaluated = progress["evaluated"]
    best = progress["best"]
    finalists = [(r["metrics"]["fitness"], -r["id"], r) for r in progress["finalists"]]
    cache = rounds.EquivalenceCache(space) if config.strategy.equivalence_cache else None
    training_steps = 0
    # The newest history records by id (population-based training's final
    # members are the last round's).
    latest = {record["id"]: record for record in kept[-config.parallel.round_size :]}
    if evaluated:  # Resumed: the cache and step count follow from the kept history.
        training_steps = sum(program.steps_of(record) for record in kept)
        if cache is not None:
            cache.add_records(kept)
            cache.lookups = cache.hits = 0
            for record in kept:
                cache.lookups += 1
                cache.hits += "cache_hit_of" in record

    earlier_sessions_seconds = progress["elapsed_seconds"]  # Before this session.

    def elapsed_seconds() -> float:
        return earlier_sessions_seconds + time.perf_counter() - session_start

    def save_checkpoint(rounds_done: int) -> None:
        if writes:
            progress.update(
                rounds=rounds_done,
                evaluated=evaluated,
                best=best,
                finalists=[record for _, _, record in finalists],
                elapsed_seconds=elapsed_seconds(),
            )
            if meter is not None:
                progress["latency_table"] = meter.table
            checkpoints.save(manager, rounds_done, (state, program.carried()), progress, workdir)

    metrics_writer = records.JsonLinesWriter(
        os.path.join(workdir, records.METRICS_FILE), enabled=writes
    )
    history_writer = records.JsonLinesWriter(
        os.path.join(workdir, records.HISTORY_FILE), enabled=writes
    )
    scalar_writer = scalars.ScalarWriter(
        os.path.join(workdir, run_workdir.TENSORBOARD_DIR),
        enabled=writes,
        purge_step=evaluated + 1 if resume else None,  # Drops events past the checkpoint.
    )
    reporter = progress_lib.Progress(
        num_rounds,
        budget,
        start_evaluated=evaluated,
        bar=config.progress.bar and writes,
        log_every_seconds=config.progress.log_every_seconds,
    )
    try:
        with preemption.StopSignals() as stop:
            for round_index in range(progress["rounds"], num_rounds):
                round_start = time.perf_counter()
                ask_key = jax.random.fold_in(strategy_key, round_index)
                num_real = min(config.parallel.round_size, budget - evaluated)
                plan = rounds.plan_round(
                    strategy,
                    space,
                    ask_key,
                    state,
                    num_real,
                    max_params=config.constraints.max_params,
                    max_flops=config.constraints.max_flops,
                    cache=cache,
                )
                ids = np.arange(evaluated, evaluated + config.parallel.round_size)
                metrics = program(
                    plan,
                    candidate_keys(train_key, ids),
                    num_real,
                    train_inputs,
                    train_targets,
                    (validation,),
                    ids=ids,
                )
                metrics = rounds.inherit_cached_metrics(metrics, plan)
                if meter is not None:  # Measured on process 0, told to every process.
                    metrics["latency_seconds"] = np.asarray(
                        distributed.primary_value(
                            functools.partial(meter.round_latencies, plan.children, num_real),
                            (ValueError,),
                        )
                    )
                fitness = metrics["eval"][0]["fitness"]
                values = strategy_values(strategy, metrics)
                state = strategy.tell(
                    state,
                    plan.children,
                    values,
                    num_real,
                    **fidelity.admission(config.fidelity, plan.notes),
                )
                lines = _round_records(space, plan, metrics, ids, num_real, round_index)
                if cache is not None:
                    cache.add_round(plan, lines)
                training_steps += sum(program.steps_of(record) for record in lines)
                latest.update((record["id"], record) for record in lines)
                for record in lines:
                    finalists.append((record["metrics"]["fitness"], -record["id"], record))
                    if record["metrics"]["fitness"] > best["fitness"]:
                        best = {
                            "fitness": record["metrics"]["fitness"],
                            "id": record["id"],
                            "genes": record["genome"],
                            "description": record["description"],
                            "metrics": record["metrics"],
                        }
                history_writer.write(lines)
                finalists = sorted(finalists, key=lambda item: item[:2], reverse=True)
                finalists = finalists[: config.final.top_k]
                evaluated += num_real
                round_seconds = time.perf_counter() - round_start
                alive = np.asarray(state.fitness)[np.asarray(state.birth) >= 0]
                finite = alive[np.isfinite(alive)]
                line = {
                    "round": round_index,
                    "evaluations": evaluated,
                    "best_fitness": best["fitness"],
                    "round_best_fitness": float(np.max(fitness[:num_real])),
                    "median_fitness": float(np.median(finite)) if finite.size else float("-inf"),
                    "diverged": int(np.sum(metrics["diverged"][:num_real])),
                    "training_steps": training_steps,
                    "cache_hits": plan.num_cache_hits,
                    "cache_hit_rate": round(cache.hit_rate, 4) if cache is not None else 0.0,
                    "repaired": sum("repaired" in r for r in lines),
                    **round_hypervolume(strategy, state),
                    "wall_seconds": round(elapsed_seconds(), 3),
                    "candidates_per_second": round(num_real / max(round_seconds, 1e-9), 4),
                    "compilations": program.compilations,
                    "xla_compilations": compilations.backend_compilations()[0],
                }
                metrics_writer.write([line])
                scalar_writer.write(evaluated, line)
                reporter.update(round_index + 1, evaluated, best["fitness"])
                rounds_done = round_index + 1
                # Every process of a job stops after the same round.
                stopping = distributed.any_process(stop.requested is not None)
                stopping = stopping or rounds_done == stop_after_rounds
                if (
                    rounds_done % config.checkpoint.every_rounds == 0
                    or rounds_done == num_rounds
                    or stopping
                ):
                    save_checkpoint(rounds_done)
                if stopping and rounds_done < num_rounds:
                    cause = preemption.signal_name(stop.requested)
                    raise preemption.SearchInterrupted(
                        f"search stopped by {cause} after round {rounds_done}/{num_rounds} "
                        f"({evaluated}/{budget} candidates); a checkpoint is saved in "
                        f"{workdir}: run the same command again to resume",
                        stop.requested,
                    )
    finally:
        reporter.close()
        metrics_writer.close()
        history_writer.close()
        scalar_writer.close()
        if manager is not None:
            manager.close()

    if not np.isfinite(best["fitness"]):
        learning_rate = config.space.log10_learning_rate_max
        raise RuntimeError(
            f"every one of the {evaluated} candidates diverged (NaN or infinite training loss, "
            f"parameters or validation metric; each reason is in {records.HISTORY_FILE}); lower "
            f"space.log10_learning_rate_max (now {learning_rate}), check the data scaling "
            "(dataset.standardize), then start again with --overwrite"
        )
    if inherits_weights:
        # The product of population-based training is the weights it trained.
        members = [latest[int(member_id)] for member_id in program.births]
        final, chosen, chosen_params = program.final(members, dataset, config.train.eval_chunk)
    else:
        candidates = [record for _, _, record in finalists]
        final, chosen, chosen_params = retrain_best(
            config, space, mesh, candidates, final_key, dataset
        )
    best = {
        "fitness": chosen["metrics"]["fitness"],
        "id": chosen["id"],
        "genes": chosen["genome"],
        "description": chosen["description"],
        "metrics": chosen["metrics"],
    }
    if writes:
        records.write_json(
            os.path.join(workdir, records.BEST_GENOME_FILE),
            {
                "id": best["id"],
                "description": best["description"],
                "genome": best["genes"],
                "search_validation": best["metrics"],
                "final": final,
                "space": {
                    "tables": dataclasses.asdict(space.tables),
                    "input_kind": space.input_kind,
                    "input_shape": list(space.input_shape),
                    "task": space.task,
                    "num_outputs": space.num_outputs,
                },
            },
        )
        export.export_best(
            os.path.join(workdir, records.BEST_DIR),
            space,
            chosen,
            chosen_params,
            dataset,
            final,
            command=command,
        )
    search_compilations = program.compilations
    total_compilations, compile_seconds = compilations.backend_compilations()
    summary = {
        "best_id": best["id"],
        "best_description": best["description"],
        "search_validation": best["metrics"],
        "final": final,
        "evaluations": evaluated,
        "rounds": num_rounds,
        "wall_seconds": round(elapsed_seconds(), 3),
        "compilations": search_compilations,
        "xla_compilations": total_compilations,
        "xla_compile_seconds": round(compile_seconds, 3),
        "dataset": dataset.summary(),
    }
    if writes:
        if len(strategy.objective_names) > 1:
            front = pareto.write_pareto_front(workdir, strategy.objective_names)
            summary["pareto_front_size"] = len(front["front"])
            summary["hypervolume"] = front["hypervolume"]
        if meter is not None:
            meter.save(os.path.join(workdir, latency.TABLE_FILE))
            summary["latency_architectures_measured"] = meter.measured
        records.write_json(os.path.join(workdir, records.SUMMARY_FILE), summary)
        if config.progress.report:
            write_report(workdir)
    distributed.wait_for_all()
    return summary


def write_report(workdir: str) -> None:
    """Plots and ``report.md`` of a finished search; a failure to draw them is
    logged, not raised (the search itself is complete)."""
    try:
        logging.info("Report: %s", report.write_report(workdir))
    except (OSError, ValueError, RuntimeError) as error:
        logging.warning("The report could not be written: %s", error)


def retrain_best(config, space, mesh, candidates, final_key, dataset) -> tuple[dict, dict, dict]:
    """Retrain the best candidates (history records) for ``config.final.steps``,
    choose the one with the best validation fitness, and evaluate only that one,
    once, on the test split.

    Returns:
      ``(final, chosen, params)``: the final metrics, the chosen history record
      and its retrained super-network parameters (host arrays).
    """
    steps = config.final.steps or config.train.steps
    program = PopulationProgram(space, steps, mesh, config.parallel.backend, 1)
    validation = trainer.make_eval_set(dataset.x_val, dataset.y_val, config.train.eval_chunk)
    test = trainer.make_eval_set(dataset.x_test, dataset.y_test, config.train.eval_chunk)
    max_depth = space.tables.max_depth
    population = genome.stack_genomes(
        [genome.genome_from_json(record["genome"], max_depth) for record in candidates]
    )
    ids = np.asarray([record["id"] for record in candidates])
    trained = program.train(
        population,
        candidate_keys(final_key, ids),
        jnp.asarray(dataset.x_train),
        jnp.asarray(dataset.y_train),
    )
    validation_metrics = program.evaluate(population, trained, validation)
    chosen = int(np.argmax(validation_metrics["fitness"]))
    one = lambda tree: jax.tree_util.tree_map(lambda leaf: leaf[chosen : chosen + 1], tree)
    test_metrics = program.evaluate(one(population), one(trained), test)
    final = {
        "steps": steps,
        "retrained_ids": ids.tolist(),
        "retrained_validation_fitness": validation_metrics["fitness"].tolist(),
        "diverged": bool(not np.isfinite(validation_metrics["fitness"][chosen])),
        "validation": {name: float(values[chosen]) for name, values in validation_metrics.items()},
        "test": {name: float(values[0]) for name, values in test_metrics.items()},
    }
    return final, candidates[chosen], jax.tree_util.tree_map(lambda leaf: leaf[chosen], trained)

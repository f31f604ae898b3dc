"""One evolutionary pathway search, from config to workdir.

``run_search(config, workdir)`` loads the data, builds the pathway space and
one compiled population program, then loops: the strategy asks for a round of
children, the program trains and evaluates them all (fitness on the
validation split), the strategy is told their fitness, and the round is
written to ``metrics.jsonl`` and ``history.jsonl``. At the end the best
pathway is retrained and evaluated once on the test split.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from pathways_jax import config as config_lib
from pathways_jax import data, evolution, genome, parallel
from pathways_jax.runs import compilations, records
from pathways_jax.spaces import pathway_network
from pathways_jax.spaces.pathway import PathwaySpace
from pathways_jax.training import trainer


class WorkdirError(ValueError):
    """The workdir cannot be used as asked (the message says why)."""


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
    strategy = config.strategy
    return evolution.RegularizedEvolution(
        space=space,
        population_size=strategy.population_size,
        sample_size=strategy.sample_size,
        round_size=config.parallel.round_size,
        crossover_probability=float(strategy.crossover_probability),
        aging=strategy.name == "regularized",
    )


@dataclasses.dataclass
class PopulationProgram:
    """The compiled train-and-evaluate program of a search.

    Calling it with genomes ``[n]`` (any ``n``) pads them to whole rounds of
    ``devices * vmap_width`` candidates, runs one compiled program, and returns
    host metrics for the first ``n``.
    """

    space: PathwaySpace
    steps: int
    mesh: jax.sharding.Mesh
    backend: str
    vmap_width: int

    def __post_init__(self):
        settings = trainer.TrainSettings(steps=self.steps)
        space = self.space

        def per_candidate(candidate, key, train_inputs, train_targets, eval_sets):
            metrics = trainer.train_and_evaluate(
                space, settings, candidate, key, train_inputs, train_targets, eval_sets
            )
            metrics["num_params"] = pathway_network.count_parameters(space, candidate)
            return metrics

        self.trace_counter = compilations.TraceCounter(per_candidate)
        self._run = parallel.population_map(
            self.trace_counter, mesh=self.mesh, backend=self.backend, vmap_width=self.vmap_width
        )

    @property
    def compilations(self) -> int:
        return self.trace_counter.count

    def __call__(self, genomes, keys, train_inputs, train_targets, eval_sets):
        count = genome.population_size(genomes)
        size = parallel.padded_size(count, self.mesh.devices.size, self.vmap_width)
        padded = parallel.pad_population((genomes, keys), size)
        outputs = self._run(*padded, train_inputs, train_targets, eval_sets)
        outputs = jax.device_get(outputs)
        return jax.tree_util.tree_map(lambda leaf: np.asarray(leaf)[:count], outputs)


def candidate_keys(base_key, ids: np.ndarray):
    """One training key per candidate id: the same id gets the same key however
    the candidates are split into rounds or over devices."""
    return jax.vmap(lambda i: jax.random.fold_in(base_key, i))(jnp.asarray(ids, jnp.uint32))


def prepare_workdir(workdir: str, overwrite: bool) -> None:
    """Create ``workdir``; refuse one that holds a run unless ``overwrite``."""
    existing = [
        name
        for name in (records.HISTORY_FILE, records.METRICS_FILE, records.SUMMARY_FILE)
        if os.path.exists(os.path.join(workdir, name))
    ]
    if existing and not overwrite:
        raise WorkdirError(
            f"workdir {workdir} already holds a run ({', '.join(existing)}); "
            "choose another --workdir or pass --overwrite to replace it"
        )
    if existing:
        for name in (records.HISTORY_FILE, records.METRICS_FILE, records.SUMMARY_FILE):
            path = os.path.join(workdir, name)
            if os.path.exists(path):
                os.remove(path)
        shutil.rmtree(os.path.join(workdir, records.BEST_DIR), ignore_errors=True)
    try:
        os.makedirs(workdir, exist_ok=True)
    except OSError as error:
        raise WorkdirError(f"workdir {workdir} cannot be created: {error.strerror}") from None


def _metric_record(metrics: dict, index: int, task: str) -> dict:
    evaluated = metrics["eval"][0]
    record = {name: float(value[index]) for name, value in evaluated.items()}
    record["train_loss"] = float(metrics["train_loss"][index])
    record["diverged"] = bool(metrics["diverged"][index])
    record["num_params"] = int(metrics["num_params"][index])
    del task
    return record


def run_search(config: ml_collections.ConfigDict, workdir: str, overwrite: bool = False) -> dict:
    """Run the search ``config`` describes and write its records into ``workdir``.

    Returns:
      The summary (also written to ``summary.json``).
    """
    config_lib.check_config(config)
    prepare_workdir(workdir, overwrite)
    records.write_json(os.path.join(workdir, records.CONFIG_FILE), config.to_dict())
    compilations.backend_compilations()
    start = time.perf_counter()

    dataset = data.load_dataset(config.dataset, seed=config.seed)
    logging.info("Data: %s", dataset.summary())
    space = build_space(config, dataset)
    strategy = build_strategy(config, space)
    num_devices = config.parallel.num_devices or jax.device_count()
    try:
        mesh = parallel.population_mesh(num_devices)
    except ValueError as error:
        raise config_lib.ConfigError(str(error)) from None
    program = PopulationProgram(
        space, config.train.steps, mesh, config.parallel.backend, config.parallel.vmap_width
    )
    logging.info(
        "Search: %s, population %d, sample %d, %d candidates in rounds of %d on %d device(s) (%s)",
        config.strategy.name,
        config.strategy.population_size,
        config.strategy.sample_size,
        config.budget.evaluations,
        config.parallel.round_size,
        num_devices,
        config.parallel.backend,
    )

    train_inputs = jnp.asarray(dataset.x_train)
    train_targets = jnp.asarray(dataset.y_train)
    validation = trainer.make_eval_set(dataset.x_val, dataset.y_val, config.train.eval_chunk)
    root_key = jax.random.key(config.seed)
    strategy_key, train_key, final_key = jax.random.split(root_key, 3)
    state = strategy.init(strategy_key)

    metrics_writer = records.JsonLinesWriter(os.path.join(workdir, records.METRICS_FILE))
    history_writer = records.JsonLinesWriter(os.path.join(workdir, records.HISTORY_FILE))
    best = {"fitness": -np.inf, "id": -1, "genes": None, "description": "", "metrics": None}
    budget = config.budget.evaluations
    num_rounds = -(-budget // config.parallel.round_size)
    evaluated = 0
    try:
        for round_index in range(num_rounds):
            round_start = time.perf_counter()
            ask_key = jax.random.fold_in(strategy_key, round_index)
            children, parents = strategy.ask(ask_key, state)
            num_real = min(config.parallel.round_size, budget - evaluated)
            ids = np.arange(evaluated, evaluated + config.parallel.round_size)
            metrics = program(
                children,
                candidate_keys(train_key, ids),
                train_inputs,
                train_targets,
                (validation,),
            )
            fitness = metrics["eval"][0]["fitness"]
            state = strategy.tell(state, children, jnp.asarray(fitness), num_real)
            host_children = jax.device_get(children)
            host_parents = np.asarray(parents)
            lines = []
            for index in range(num_real):
                child = genome.index_population(host_children, index)
                record = {
                    "id": int(ids[index]),
                    "round": round_index,
                    "parents": [int(p) for p in host_parents[index] if p >= 0],
                    "genome": genome.genome_to_json(child),
                    "description": space.describe(child),
                    "metrics": _metric_record(metrics, index, space.task),
                }
                lines.append(record)
                if record["metrics"]["fitness"] > best["fitness"]:
                    best = {
                        "fitness": record["metrics"]["fitness"],
                        "id": record["id"],
                        "genes": record["genome"],
                        "description": record["description"],
                        "metrics": record["metrics"],
                    }
            history_writer.write(lines)
            evaluated += num_real
            elapsed = time.perf_counter() - start
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
                "wall_seconds": round(elapsed, 3),
                "candidates_per_second": round(num_real / max(round_seconds, 1e-9), 4),
                "compilations": program.compilations,
                "xla_compilations": compilations.backend_compilations()[0],
            }
            metrics_writer.write([line])
            logging.info(
                "round %d/%d  evaluated %d/%d  best %.4f  median %.4f  %.2f cand/s  compilations %d",
                round_index + 1,
                num_rounds,
                evaluated,
                budget,
                line["best_fitness"],
                line["median_fitness"],
                line["candidates_per_second"],
                program.compilations,
            )
    finally:
        metrics_writer.close()
        history_writer.close()

    if not np.isfinite(best["fitness"]):
        raise RuntimeError(
            "every candidate diverged (loss became NaN or infinite); lower "
            "space.log10_learning_rate_max or check the data scaling"
        )
    best_genome = genome.genome_from_json(best["genes"], space.tables.max_depth)
    records.write_json(
        os.path.join(workdir, records.BEST_GENOME_FILE),
        {
            "id": best["id"],
            "description": best["description"],
            "genome": best["genes"],
            "validation": best["metrics"],
            "space": {
                "tables": dataclasses.asdict(space.tables),
                "input_kind": space.input_kind,
                "input_shape": list(space.input_shape),
                "task": space.task,
                "num_outputs": space.num_outputs,
            },
        },
    )
    final = retrain_best(config, space, mesh, best_genome, best["id"], final_key, dataset)
    search_compilations = program.compilations
    total_compilations, compile_seconds = compilations.backend_compilations()
    summary = {
        "best_id": best["id"],
        "best_description": best["description"],
        "search_validation": best["metrics"],
        "final": final,
        "evaluations": evaluated,
        "rounds": num_rounds,
        "wall_seconds": round(time.perf_counter() - start, 3),
        "compilations": search_compilations,
        "xla_compilations": total_compilations,
        "xla_compile_seconds": round(compile_seconds, 3),
        "dataset": dataset.summary(),
    }
    records.write_json(os.path.join(workdir, records.SUMMARY_FILE), summary)
    return summary


def retrain_best(config, space, mesh, best_genome, best_id, final_key, dataset) -> dict:
    """Retrain the best pathway for ``config.final.steps`` and evaluate it on the
    validation split and, once, on the test split."""
    steps = config.final.steps or config.train.steps
    program = PopulationProgram(space, steps, mesh, config.parallel.backend, 1)
    validation = trainer.make_eval_set(dataset.x_val, dataset.y_val, config.train.eval_chunk)
    test = trainer.make_eval_set(dataset.x_test, dataset.y_test, config.train.eval_chunk)
    population = genome.stack_genomes([best_genome])
    metrics = program(
        population,
        candidate_keys(final_key, np.asarray([best_id])),
        jnp.asarray(dataset.x_train),
        jnp.asarray(dataset.y_train),
        (validation, test),
    )
    result = {"steps": steps, "diverged": bool(metrics["diverged"][0])}
    for name, evaluated in zip(("validation", "test"), metrics["eval"], strict=True):
        result[name] = {metric: float(values[0]) for metric, values in evaluated.items()}
    return result

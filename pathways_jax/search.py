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

    def _map(self, fn, mapped, *shared):
        count = genome.population_size(mapped[0])
        size = parallel.padded_size(count, self.mesh.devices.size, self.vmap_width)
        outputs = fn(*parallel.pad_population(mapped, size), *shared)
        outputs = jax.device_get(outputs)
        return jax.tree_util.tree_map(lambda leaf: np.asarray(leaf)[:count], outputs)

    def __call__(self, genomes, keys, train_inputs, train_targets, eval_sets):
        """Train and evaluate ``genomes [n]``: host metrics with leading axis ``n``."""
        return self._map(self._run, (genomes, keys), train_inputs, train_targets, eval_sets)

    def train(self, genomes, keys, train_inputs, train_targets):
        """Trained super-network parameters of ``genomes [n]`` (host pytree, leading ``n``)."""
        if not hasattr(self, "_train"):
            settings = trainer.TrainSettings(steps=self.steps)
            per_candidate = lambda g, k, x, y: trainer.train(self.space, settings, g, k, x, y)[0]
            self._train = parallel.population_map(
                per_candidate, mesh=self.mesh, backend=self.backend, vmap_width=self.vmap_width
            )
        return self._map(self._train, (genomes, keys), train_inputs, train_targets)

    def evaluate(self, genomes, params, eval_set):
        """Metrics of trained ``params`` of ``genomes [n]`` on one eval set."""
        if not hasattr(self, "_evaluate"):
            per_candidate = lambda g, p, e: trainer.evaluate_params(self.space, g, p, e)
            self._evaluate = parallel.population_map(
                per_candidate, mesh=self.mesh, backend=self.backend, vmap_width=self.vmap_width
            )
        metrics = self._map(self._evaluate, (genomes, params), eval_set)
        return {
            name: np.where(np.isfinite(v), v, -np.inf) if name == "fitness" else v
            for name, v in metrics.items()
        }


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
    finalists = []  # (fitness, id, record) of the best candidates, for retraining.
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
    candidates = [record for _, _, record in finalists]
    final, chosen = retrain_best(config, space, mesh, candidates, final_key, dataset)
    best = {
        "fitness": chosen["metrics"]["fitness"],
        "id": chosen["id"],
        "genes": chosen["genome"],
        "description": chosen["description"],
        "metrics": chosen["metrics"],
    }
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


def retrain_best(config, space, mesh, candidates, final_key, dataset) -> tuple[dict, dict]:
    """Retrain the best candidates (history records) for ``config.final.steps``,
    choose the one with the best validation fitness, and evaluate only that one,
    once, on the test split.

    Returns:
      ``(final, chosen)``: the final metrics and the chosen history record.
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
    return final, candidates[chosen]

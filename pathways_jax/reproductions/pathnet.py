"""The PathNet transfer experiment (Fernando et al. 2017, binary MNIST).

For each pair of tasks (A, B) and each repetition, task B is learnt to the
accuracy threshold in three ways:

- ``scratch``: a fresh PathNet evolves on B (the paper's "independent
  learning" control);
- ``transfer``: a PathNet evolves on A; its best pathway is frozen, every
  other module re-initialised, and a new population evolves on B;
- ``transfer_unfrozen``: as ``transfer``, from the same run on A and the same
  new population, but nothing is frozen or re-initialised (an ablation: what
  freezing costs or gains);
- ``fixed_scratch``: one fixed pathway (modules ``0..N-1`` of every layer,
  the size of a PathNet pathway; no evolution) is trained on B alone;
- ``finetune``: that fixed pathway is trained on A, then all its weights keep
  training on B with a new readout.

``fixed_scratch`` separates what fine-tuning gains from A from what a single
network trained every round gains over a population of pathways that share
the training.

Every setting trains the same number of pathways per round on the same
minibatch sizes, so rounds (and wall seconds) to the threshold compare. Each
task of each setting is one in-memory search of the shared loop (the
``binary_tournament`` strategy, the ``shared_weights`` evaluator, the config's
target fitness); the fixed-pathway settings use the strategy with
``evolve=False`` from a population of that one pathway.
Repetition ``r`` uses seed ``config.seed + r``; its results are appended to
``repetitions.jsonl`` in the workdir as soon as they exist, so a stopped run
resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from pathways_jax.config import ConfigError
from pathways_jax.core import experiment as experiment_lib
from pathways_jax.core import loop
from pathways_jax.evaluators.shared_weights import SharedWeights
from pathways_jax.pathnet import components, training
from pathways_jax.pathnet.tasks import BinaryTask, check_pair
from pathways_jax.reproductions.pathnet_report import (  # noqa: F401 - the report's API.
    SETTINGS,
    plot,
    ratio_interval,
    summarize,
    write_report,
)
from pathways_jax.runs import records as run_records
from pathways_jax.strategies.binary_tournament import BinaryTournament

REPETITIONS_FILE = "repetitions.jsonl"


def default_config() -> ml_collections.ConfigDict:
    """A PathNet config with a ``reproduction`` group: pairs and repetitions."""
    config = components.pathnet_config()
    config.reproduction = ml_collections.ConfigDict()
    config.reproduction.pairs = (((2, 7), (4, 9)), ((0, 6), (3, 5)), ((1, 8), (2, 3)))
    config.reproduction.repetitions = 10
    config.reproduction.bootstrap_samples = 10000
    return config


def check_reproduction(config: ml_collections.ConfigDict) -> None:
    """The search config's checks plus the reproduction keys (one-line ``ConfigError``)."""
    from pathways_jax import config as config_lib

    config_lib.check_config(config)
    components.check_evaluator(config)
    if "reproduction" not in config:
        raise ConfigError("config.reproduction is missing (expected pairs and repetitions)")
    reproduction = config.reproduction
    pairs = reproduction.get("pairs", ())
    valid = (
        isinstance(pairs, (tuple, list))
        and len(pairs) >= 1
        and all(isinstance(p, (tuple, list)) and len(p) == 2 for p in pairs)
    )
    if not valid:
        raise ConfigError(
            f"config.reproduction.pairs={pairs!r} (expected task pairs (A, B), "
            "e.g. (((2, 7), (4, 9)),))"
        )
    for key in ("repetitions", "bootstrap_samples"):
        value = reproduction.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"config.reproduction.{key}={value!r} (expected an integer >= 1)")


def fixed_pathway(space) -> jnp.ndarray:
    """int32 ``[L, N]``: modules ``0..N-1`` in every layer."""
    return jnp.tile(jnp.arange(space.max_active, dtype=jnp.int32), (space.num_layers, 1))


@dataclasses.dataclass
class TaskOutcome:
    """One task of one setting: rounds to the target, whether it was reached,
    wall seconds, the chosen pathway's test accuracy, and the final weights."""

    rounds: int
    reached: bool
    wall_seconds: float
    test_accuracy: float
    best_genome: np.ndarray
    weights: dict


class Experiment:
    """Runs repetitions of the settings on one dataset (one compiled program per
    program kind, shared by every pair, setting and repetition)."""

    def __init__(self, config: ml_collections.ConfigDict, dataset):
        self.config = config
        self.dataset = dataset
        self.space = experiment_lib.build_space(config, dataset)
        self.round_settings = components.round_settings(config.evaluator)
        size, round_size = config.strategy.population_size, config.parallel.round_size
        self.evolving = BinaryTournament(self.space, size, round_size)
        self.fixed = BinaryTournament(self.space, size, round_size, evolve=False)
        self._tasks: dict[tuple[int, int], BinaryTask] = {}

    def task(self, pair) -> BinaryTask:
        pair = tuple(int(c) for c in pair)
        if pair not in self._tasks:
            self._tasks[pair] = components.task_of(
                _with_tasks(self.config, (pair,)), self.dataset, 0
            )
        return self._tasks[pair]

    def weights(self, seed: int) -> dict:
        return training.initial_weights(self.space, self.round_settings, jax.random.key(seed))

    def evolve(self, strategy, weights: dict, pair, seed: int, population=None) -> TaskOutcome:
        """One task learnt by the shared loop (in memory) until the target fitness."""
        evaluator = SharedWeights(self.space, self.task(pair), self.round_settings, None, weights)
        config = self.config
        settings = loop.LoopSettings(
            seed=seed,
            evaluations=config.budget.evaluations,
            round_size=config.parallel.round_size,
            top_k=config.final.top_k,
            progress_bar=False,
            log_every_seconds=float("inf"),
            report=False,
            target_fitness=config.budget.target_fitness,
        )
        initial = None
        if population is not None:
            initial = strategy.init(jax.random.key(seed))
            initial = initial.replace(
                population=jnp.broadcast_to(population, initial.population.shape)
            )
        result = loop.run(
            loop.Experiment(
                self.space, strategy, evaluator, settings=settings, initial_state=initial
            ),
            None,
        )
        return TaskOutcome(
            rounds=result.summary["rounds"],
            reached=result.summary["reached_target"],
            wall_seconds=result.summary["wall_seconds"],
            test_accuracy=result.final["test"]["accuracy"],
            best_genome=np.asarray(self.space.from_json(result.best["genome"])),
            weights=evaluator.carried(),
        )

    def warm_up(self, pair) -> None:
        """Compiles the programs, so that wall seconds exclude compilation."""
        for strategy in (self.evolving, self.fixed):
            self.evolve(strategy, self.weights(0), pair, seed=0)

    def transferred(self, outcome: TaskOutcome, genome, seed: int, **options) -> dict:
        key = jax.random.key(seed)
        return training.transferred_weights(
            self.space, self.round_settings, outcome.weights, genome, key, **options
        )

    def repetition(self, pair_a, pair_b, seed: int) -> dict:
        """Rounds, wall seconds and accuracy on B for each setting, one seed."""
        base = 100 * seed  # Seeds of the searches and weights of this repetition.
        unfrozen = {"freeze": False, "reinitialise": False}
        fixed = fixed_pathway(self.space)
        results = {}
        results["scratch"] = (None, self.evolve(self.evolving, self.weights(base), pair_b, base))
        on_a = self.evolve(self.evolving, self.weights(base + 1), pair_a, base + 1)
        transfer = self.transferred(on_a, on_a.best_genome, base + 2)
        results["transfer"] = (on_a, self.evolve(self.evolving, transfer, pair_b, base + 3))
        transfer = self.transferred(on_a, on_a.best_genome, base + 2, **unfrozen)
        results["transfer_unfrozen"] = (
            on_a,
            self.evolve(self.evolving, transfer, pair_b, base + 3),
        )
        results["fixed_scratch"] = (
            None,
            self.evolve(self.fixed, self.weights(base + 4), pair_b, base + 4, fixed),
        )
        on_a = self.evolve(self.fixed, self.weights(base + 5), pair_a, base + 5, fixed)
        finetune = self.transferred(on_a, fixed, base + 6, **unfrozen)
        results["finetune"] = (on_a, self.evolve(self.fixed, finetune, pair_b, base + 7, fixed))

        record = {"pair_a": list(pair_a), "pair_b": list(pair_b), "seed": seed}
        for setting, (first, on_b) in results.items():
            record[setting] = {
                "rounds": on_b.rounds,
                "reached": on_b.reached,
                "wall_seconds": round(on_b.wall_seconds, 4),
                "test_accuracy": on_b.test_accuracy,
                "rounds_on_a": None if first is None else first.rounds,
                "reached_on_a": None if first is None else first.reached,
            }
        return record


def _with_tasks(config, tasks) -> ml_collections.ConfigDict:
    one = ml_collections.ConfigDict(config.to_dict())
    one.evaluator.tasks = tasks
    one.evaluator.task = 0
    return one


def read_repetitions(workdir: str) -> list[dict]:
    path = os.path.join(workdir, REPETITIONS_FILE)
    return run_records.read_json_lines(path) if os.path.exists(path) else []


def run_reproduction(config: ml_collections.ConfigDict, workdir: str, log=print) -> list[dict]:
    """Every (pair, repetition) not yet in ``workdir/repetitions.jsonl``; returns all records."""
    from pathways_jax import data

    check_reproduction(config)
    dataset = data.load_dataset(config.dataset, config.seed)
    for index, (pair_a, pair_b) in enumerate(config.reproduction.pairs):
        check_pair(dataset, tuple(pair_a), f"config.reproduction.pairs[{index}][0]")
        check_pair(dataset, tuple(pair_b), f"config.reproduction.pairs[{index}][1]")
    os.makedirs(workdir, exist_ok=True)
    run_records.write_json(os.path.join(workdir, "config.json"), config.to_dict())
    done = {
        (tuple(r["pair_a"]), tuple(r["pair_b"]), r["seed"])
        for r in read_repetitions(workdir)
        if all(setting in r for setting in SETTINGS)
    }
    experiment = Experiment(config, dataset)
    experiment.warm_up(config.reproduction.pairs[0][0])
    for pair_a, pair_b in config.reproduction.pairs:
        pair_a, pair_b = tuple(pair_a), tuple(pair_b)
        for repetition in range(config.reproduction.repetitions):
            seed = config.seed + repetition
            if (pair_a, pair_b, seed) in done:
                continue
            record = experiment.repetition(pair_a, pair_b, seed)
            with run_records.JsonLinesWriter(os.path.join(workdir, REPETITIONS_FILE)) as file:
                file.write([record])
            log(
                f"{pair_a} -> {pair_b} seed {seed}: rounds on B "
                + ", ".join(f"{s} {record[s]['rounds']}" for s in SETTINGS)
            )
    wanted = {
        (tuple(a), tuple(b), config.seed + r)
        for a, b in config.reproduction.pairs
        for r in range(config.reproduction.repetitions)
    }
    latest = {  # A repetition run again (with more settings) replaces its older line.
        (tuple(r["pair_a"]), tuple(r["pair_b"]), r["seed"]): r
        for r in read_repetitions(workdir)
        if all(setting in r for setting in SETTINGS)
    }
    return [record for key, record in latest.items() if key in wanted]

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
minibatch sizes, so rounds (and wall seconds) to the threshold compare.
Repetition ``r`` uses seed ``config.seed + r``; its results are appended to
``repetitions.jsonl`` in the workdir as soon as they exist, so a stopped run
resumes where it stopped.
"""

from __future__ import annotations

import json
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from pathways_jax.pathnet import config as config_lib
from pathways_jax.pathnet import training
from pathways_jax.pathnet.run import evolve_task
from pathways_jax.pathnet.tasks import TaskData, binary_task, check_pair
from pathways_jax.runs import records as run_records

SETTINGS = ("scratch", "transfer", "transfer_unfrozen", "fixed_scratch", "finetune")
REPETITIONS_FILE = "repetitions.jsonl"


def default_config() -> ml_collections.ConfigDict:
    """A PathNet config with a ``reproduction`` group: pairs and repetitions."""
    config = config_lib.default_config()
    config.reproduction = ml_collections.ConfigDict()
    config.reproduction.pairs = (((2, 7), (4, 9)), ((0, 6), (3, 5)), ((1, 8), (2, 3)))
    config.reproduction.repetitions = 10
    config.reproduction.bootstrap_samples = 10000
    return config


def check_reproduction(config: ml_collections.ConfigDict) -> None:
    """``check_config`` plus the reproduction keys (one-line ``ConfigError``)."""
    from pathways_jax.config import ConfigError

    config_lib.check_config(config)
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


class Experiment:
    """Runs repetitions of the three settings on one dataset (one compiled
    program per setting kind, shared by every pair and repetition)."""

    def __init__(self, config: ml_collections.ConfigDict, dataset):
        self.config = config
        self.dataset = dataset
        self.space = config_lib.build_space(config, dataset.input_shape)
        self.evolving = config_lib.round_settings(config)
        self.fixed = config_lib.round_settings(config, evolve=False)
        self._tasks: dict[tuple[int, int], TaskData] = {}

    def task(self, pair) -> TaskData:
        pair = tuple(int(c) for c in pair)
        if pair not in self._tasks:
            self._tasks[pair] = binary_task(
                self.dataset, pair, noise=self.config.noise, seed=self.config.seed
            )
        return self._tasks[pair]

    def warm_up(self, pair) -> None:
        """Compiles the round programs, so that wall seconds exclude compilation."""
        for settings in (self.evolving, self.fixed):
            state = training.init_state(self.space, settings, jax.random.key(0))
            jax.block_until_ready(
                training.evolve_round(self.space, settings, state, self.task(pair))
            )

    def _evolve(self, settings, state, pair):
        return evolve_task(
            self.space,
            settings,
            state,
            self.task(pair),
            threshold=self.config.stop.threshold,
            max_rounds=self.config.stop.max_rounds,
            keep_records=False,
        )

    def _fixed_state(self, key) -> training.PathNetState:
        state = training.init_state(self.space, self.fixed, key)
        population = jnp.broadcast_to(fixed_pathway(self.space), state.population.shape)
        return state.replace(population=population)

    def repetition(self, pair_a, pair_b, seed: int) -> dict:
        """Rounds, wall seconds and accuracy on B for each setting, one seed."""
        space = self.space
        keys = dict(
            zip(SETTINGS, jax.random.split(jax.random.key(seed), len(SETTINGS)), strict=True)
        )
        results = {}

        outcome_b = self._evolve(
            self.evolving, training.init_state(space, self.evolving, keys["scratch"]), pair_b
        )
        results["scratch"] = (None, outcome_b)

        first, second = jax.random.split(keys["transfer"])
        outcome_a = self._evolve(
            self.evolving, training.init_state(space, self.evolving, first), pair_a
        )
        state = training.transfer_state(
            space, self.evolving, outcome_a.state, jnp.asarray(outcome_a.best_genome), second
        )
        results["transfer"] = (outcome_a, self._evolve(self.evolving, state, pair_b))
        state = training.transfer_state(
            space,
            self.evolving,
            outcome_a.state,
            jnp.asarray(outcome_a.best_genome),
            second,
            freeze=False,
            reinitialise=False,
        )
        results["transfer_unfrozen"] = (outcome_a, self._evolve(self.evolving, state, pair_b))

        outcome_b = self._evolve(self.fixed, self._fixed_state(keys["fixed_scratch"]), pair_b)
        results["fixed_scratch"] = (None, outcome_b)

        first, second = jax.random.split(keys["finetune"])
        outcome_a = self._evolve(self.fixed, self._fixed_state(first), pair_a)
        state = training.transfer_state(
            space,
            self.fixed,
            outcome_a.state,
            fixed_pathway(space),
            second,
            freeze=False,
            reinitialise=False,
            population=outcome_a.state.population,
        )
        results["finetune"] = (outcome_a, self._evolve(self.fixed, state, pair_b))

        record = {"pair_a": list(pair_a), "pair_b": list(pair_b), "seed": seed}
        for setting, (on_a, on_b) in results.items():
            accuracy = training.evaluate_pathways(
                space,
                on_b.state.params,
                jnp.asarray(on_b.best_genome)[None],
                self.task(pair_b),
            )
            record[setting] = {
                "rounds": on_b.rounds,
                "reached": on_b.reached,
                "wall_seconds": round(on_b.wall_seconds, 4),
                "test_accuracy": float(accuracy["test_accuracy"][0]),
                "rounds_on_a": None if on_a is None else on_a.rounds,
                "reached_on_a": None if on_a is None else on_a.reached,
            }
        return record


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


def ratio_interval(
    numerator, denominator, samples: int, strata=None, seed: int = 0
) -> tuple[float, float, float]:
    """``mean(numerator) / mean(denominator)`` and its 95% percentile-bootstrap interval.

    Numerator and denominator are resampled independently, with replacement;
    with ``strata`` (a label per repetition, e.g. its task pair), within each
    stratum, so that a pooled interval does not count the spread between pairs.
    """
    rng = np.random.default_rng(seed)
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    strata = np.zeros(len(numerator), int) if strata is None else np.asarray(strata)

    def resampled_means(values):
        columns = [
            rng.choice(values[strata == label], (samples, int(np.sum(strata == label))))
            for label in np.unique(strata)
        ]
        return np.concatenate(columns, axis=1).mean(1)

    ratios = resampled_means(numerator) / resampled_means(denominator)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(numerator.mean() / denominator.mean()), float(low), float(high)


def summarize(records: list[dict], samples: int) -> dict:
    """Per pair (and all pairs pooled): per setting mean/std rounds, wall
    seconds, test accuracy, threshold reached; speed-ups with intervals."""
    groups: dict[str, list[dict]] = {}
    for record in records:
        name = f"{tuple(record['pair_a'])} -> {tuple(record['pair_b'])}"
        groups.setdefault(name, []).append(record)
    if len(groups) > 1:
        groups["all pairs"] = list(records)
    summary = {}
    for name, group in groups.items():
        entry = {"repetitions": len(group)}
        strata = [f"{r['pair_a']}{r['pair_b']}" for r in group]
        for setting in SETTINGS:
            rounds = np.asarray([r[setting]["rounds"] for r in group], float)
            entry[setting] = {
                "rounds_mean": float(rounds.mean()),
                "rounds_std": float(rounds.std()),
                "rounds": rounds.astype(int).tolist(),
                "wall_seconds_mean": float(np.mean([r[setting]["wall_seconds"] for r in group])),
                "test_accuracy_mean": float(np.mean([r[setting]["test_accuracy"] for r in group])),
                "reached": int(sum(r[setting]["reached"] for r in group)),
            }
        for label, top, bottom in (
            ("transfer_speedup", "scratch", "transfer"),
            ("finetune_speedup", "fixed_scratch", "finetune"),
            ("transfer_over_finetune", "finetune", "transfer"),
            ("transfer_over_fixed_scratch", "fixed_scratch", "transfer"),
            ("unfrozen_speedup", "scratch", "transfer_unfrozen"),
            ("freezing_gain", "transfer_unfrozen", "transfer"),
        ):
            for unit in ("rounds", "wall_seconds"):
                value, low, high = ratio_interval(
                    [r[top][unit] for r in group],
                    [r[bottom][unit] for r in group],
                    samples,
                    strata,
                )
                entry[f"{label}_{unit}"] = {"ratio": value, "low": low, "high": high}
        summary[name] = entry
    return summary


def plot(records: list[dict], path: str) -> None:
    """Rounds to the threshold on B, per pair and setting (points and means)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({f"{tuple(r['pair_a'])} -> {tuple(r['pair_b'])}" for r in records})
    figure, axes = plt.subplots(figsize=(8, 4))
    colors = {
        "scratch": "tab:gray",
        "transfer": "tab:blue",
        "transfer_unfrozen": "tab:cyan",
        "fixed_scratch": "tab:olive",
        "finetune": "tab:orange",
    }
    for column, name in enumerate(names):
        group = [r for r in records if f"{tuple(r['pair_a'])} -> {tuple(r['pair_b'])}" == name]
        for offset, setting in zip((-0.32, -0.16, 0.0, 0.16, 0.32), SETTINGS, strict=True):
            rounds = np.asarray([r[setting]["rounds"] for r in group], float)
            jitter = np.linspace(-0.04, 0.04, len(rounds))
            axes.scatter(
                column + offset + jitter,
                rounds,
                s=12,
                color=colors[setting],
                alpha=0.6,
                label=setting if column == 0 else None,
            )
            axes.hlines(rounds.mean(), column + offset - 0.06, column + offset + 0.06, color="k")
    axes.set_xticks(range(len(names)), [f"task pair {n}" for n in names], fontsize=8)
    axes.set_ylabel("rounds to the threshold on task B")
    axes.set_title("PathNet transfer: each point a repetition, bars the means")
    axes.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _interval_text(entry: dict, label: str, unit: str = "rounds") -> str:
    value = entry[f"{label}_{unit}"]
    return f"{value['ratio']:.2f} [{value['low']:.2f}, {value['high']:.2f}]"


def _verdict(entry: dict, label: str) -> str:
    value = entry[f"{label}_rounds"]
    if value["low"] > 1:
        return "faster (the interval is above 1)"
    if value["high"] < 1:
        return "slower (the interval is below 1)"
    return "no clear difference (the interval contains 1)"


def write_report(
    records: list[dict], config: ml_collections.ConfigDict, command: str, doc_dir: str, name: str
) -> str:
    """Writes ``doc_dir/name.md``, ``name.png`` and ``name.json``; returns the md path."""
    os.makedirs(doc_dir, exist_ok=True)
    summary = summarize(records, config.reproduction.bootstrap_samples)
    plot(records, os.path.join(doc_dir, f"{name}.png"))
    with open(os.path.join(doc_dir, f"{name}.json"), "w", encoding="utf-8") as file:
        json.dump({"summary": summary, "repetitions": records}, file, indent=1, sort_keys=True)
        file.write("\n")
    space, train, stop = config.space, config.train, config.stop
    noise = f", salt-and-pepper noise {config.noise}" if config.noise else ""
    lines = [
        f"# PathNet transfer on binary {config.dataset.name} tasks",
        "",
        "Fernando et al. (2017) report that binary MNIST task B is learnt about 1.18x "
        "faster (in generations to 0.998 training accuracy) after transfer from task A "
        "than by a fresh PathNet. This is the same experiment here. Regenerate with:",
        "",
        "```bash",
        command,
        "```",
        "",
        "Settings (the paper's unless noted): "
        f"L={space.num_layers} layers x M={space.num_modules} {space.module_kind} modules of "
        f"{space.units} units, at most N={space.max_active} active per layer, "
        f"{space.aggregation} of a layer's modules; population "
        f"{config.evolution.population_size}, {config.evolution.tournaments_per_round} binary "
        f"tournament(s) per round, each pathway trained for T={train.steps_per_round} "
        f"minibatches of {train.batch_size} ({train.optimizer}, learning rate "
        f"{train.learning_rate}, gradients of a module's users combined by "
        f"{train.gradient_combine}); fitness {config.evolution.fitness}; a task is learnt "
        f"when a pathway's fitness reaches {stop.threshold} (at most {stop.max_rounds} "
        f"rounds; a run that does not reach it counts {stop.max_rounds}){noise}. "
        f"{config.reproduction.repetitions} repetitions (seeds {config.seed}.."
        f"{config.seed + config.reproduction.repetitions - 1}) per pair and setting.",
        "",
        "Settings compared, all measured on task B:",
        "",
        "- **scratch**: a fresh PathNet evolves on B.",
        "- **transfer**: PathNet on A; A's best pathway frozen, the other modules "
        "re-initialised, a new readout and population evolve on B.",
        "- **transfer_unfrozen**: the same run on A and the same new population on B, "
        "but nothing frozen or re-initialised (an ablation of freezing).",
        "- **fixed_scratch**: one fixed pathway of the same size (modules 0..N-1 of each "
        "layer, no evolution) trained on B.",
        "- **finetune**: that fixed pathway trained on A, then all of it trained on B "
        "with a new readout.",
        "",
        f"![rounds to the threshold]({name}.png)",
        "",
        "| task pair A -> B | setting | reached | rounds (mean ± std) | wall s (mean) "
        "| test accuracy on B |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for group, entry in summary.items():
        for setting in SETTINGS:
            stats = entry[setting]
            lines.append(
                f"| {group} | {setting} | {stats['reached']}/{entry['repetitions']} | "
                f"{stats['rounds_mean']:.1f} ± {stats['rounds_std']:.1f} | "
                f"{stats['wall_seconds_mean']:.2f} | {stats['test_accuracy_mean']:.4f} |"
            )
    lines += [
        "",
        "Speed-ups: ratio of mean rounds, with a 95% bootstrap interval over "
        "repetitions (resampled within each pair for the pooled row); above 1 means "
        "the second setting is faster.",
        "",
        "| task pair A -> B | scratch / transfer | scratch / transfer_unfrozen | "
        "fixed_scratch / finetune | finetune / transfer | "
        "same in wall seconds: scratch / transfer |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for group, entry in summary.items():
        lines.append(
            f"| {group} | {_interval_text(entry, 'transfer_speedup')} | "
            f"{_interval_text(entry, 'unfrozen_speedup')} | "
            f"{_interval_text(entry, 'finetune_speedup')} | "
            f"{_interval_text(entry, 'transfer_over_finetune')} | "
            f"{_interval_text(entry, 'transfer_speedup', 'wall_seconds')} |"
        )
    pooled = summary.get("all pairs") or next(iter(summary.values()))
    lines += [
        "",
        "## What this shows",
        "",
        f"- PathNet transfer against a fresh PathNet (pooled): "
        f"{_interval_text(pooled, 'transfer_speedup')}, {_verdict(pooled, 'transfer_speedup')}; "
        "the paper reports about 1.18.",
        f"- The same transfer without freezing against a fresh PathNet (pooled): "
        f"{_interval_text(pooled, 'unfrozen_speedup')}, {_verdict(pooled, 'unfrozen_speedup')}; "
        f"rounds without freezing / rounds with freezing: "
        f"{_interval_text(pooled, 'freezing_gain')} (below 1: freezing slows task B down).",
        f"- Fine-tuning against the same fixed pathway from scratch (pooled): "
        f"{_interval_text(pooled, 'finetune_speedup')}, {_verdict(pooled, 'finetune_speedup')}.",
        f"- PathNet transfer against fine-tuning (pooled): "
        f"{_interval_text(pooled, 'transfer_over_finetune')}, "
        f"{_verdict(pooled, 'transfer_over_finetune')}.",
        f"- A single fixed pathway trained every round reaches the threshold "
        f"{pooled['scratch']['rounds_mean'] / pooled['fixed_scratch']['rounds_mean']:.1f}x "
        "sooner than a fresh PathNet (pooled means): a PathNet round trains only the "
        f"{2 * config.evolution.tournaments_per_round} pathways drawn for its tournament(s) "
        f"out of {config.evolution.population_size}, and a task counts as learnt when one "
        "of them reaches the threshold, so the modules' training is spread over many "
        "pathways before one is good enough.",
        "",
        "## How this differs from the paper",
        "",
        "- Data: class pairs of "
        f"{config.dataset.name} (generated or shipped offline), not of MNIST.",
        "- The pathways of a round train at the same time on the shared weights, each "
        "on its own minibatches, with a module's gradient averaged over the pathways "
        "that use it (`train.gradient_combine`); the paper trains them in parallel "
        "workers that apply their updates asynchronously.",
        "- A round is one step of the evolutionary loop: with one tournament per round, "
        "rounds count tournaments, what the paper counts as generations.",
        f"- Optimizer and learning rate ({train.optimizer}, {train.learning_rate}) were "
        "chosen here, not taken from the paper.",
        "",
    ]
    path = os.path.join(doc_dir, f"{name}.md")
    with open(path, "w", encoding="utf-8") as file:
        file.write("\n".join(lines))
    return path

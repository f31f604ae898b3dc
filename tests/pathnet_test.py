"""PathNet: the modular space, shared-weight training, tournaments, transfer, export."""

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
import time
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pathways_jax import api, data
from pathways_jax.codegen import pathnet_source, weights
from pathways_jax.config import ConfigError, load_config_file
from pathways_jax.core import experiment
from pathways_jax.pathnet import components, training
from pathways_jax.pathnet.tasks import binary_task
from pathways_jax.reproductions import pathnet as reproduction
from pathways_jax.runs import records
from pathways_jax.spaces.pathnet import PathNetSpace
from pathways_jax.strategies.binary_tournament import BinaryTournament

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAS_TORCH = importlib.util.find_spec("torch") is not None
DIGITS_CONFIG = os.path.join(ROOT, "configs", "pathnet_digits.py")
ENV = dict(os.environ, PYTHONPATH=ROOT)  # Commands import this checkout.

# One small PathNet whose compiled programs every test shares.
SETTINGS = training.RoundSettings(steps_per_round=4, batch_size=4)
TINY = {
    "space.num_layers": 2,
    "space.num_modules": 4,
    "space.max_active": 2,
    "space.units": 6,
    "strategy.population_size": 8,
    "parallel.round_size": 4,  # Two tournaments per round.
    "evaluator.steps_per_round": SETTINGS.steps_per_round,
    "evaluator.batch_size": SETTINGS.batch_size,
}


def tiny_config():
    config = reproduction.default_config()
    config.dataset.name = "digits"
    config.evaluator.tasks = ((3, 8), (5, 9))
    for dotted, value in TINY.items():
        section, key = dotted.split(".")
        config[section][key] = value
    config.budget.target_fitness = 0.9
    config.budget.evaluations = 6 * 4  # At most 6 rounds per task.
    config.checkpoint.every_rounds = 2
    config.reproduction.pairs = (((3, 8), (5, 9)),)
    config.reproduction.repetitions = 2
    config.reproduction.bootstrap_samples = 200
    return config


@pytest.fixture(scope="module")
def digits():
    config = data.default_dataset_config()
    config.name = "digits"
    return data.load_dataset(config, 0)


@pytest.fixture(scope="module")
def space(digits):
    return experiment.build_space(tiny_config(), digits)


@pytest.fixture(scope="module")
def tasks(digits):
    return binary_task(digits, (3, 8)), binary_task(digits, (5, 9))


def _module(params, layer, module):
    return [
        np.asarray(params["modules"][layer][name][module]).tobytes() for name in ("kernel", "bias")
    ]


def test_genome_ops_stay_in_the_space(space):
    keys = jax.random.split(jax.random.key(0), 200)
    population = jax.vmap(space.sample)(keys)
    assert population.shape == (200, 2, 2) and population.dtype == jnp.int32
    mutated = jax.vmap(space.mutate)(keys, population)
    children = jax.vmap(space.crossover)(keys, population, population[::-1])
    for genomes in (population, mutated, children):
        assert all(space.validate(g) == [] for g in np.asarray(genomes))
    assert space.validate(np.array([[0, 4], [1, 1]])) == [
        "layer 0 names modules [4] (expected indices in [0, 4))"
    ]
    assert "shape" in space.validate(np.zeros((3, 2), int))[0]
    active = space.active_modules(jnp.array([[1, 1], [0, 3]]))
    assert active.tolist() == [[False, True, False, False], [True, False, False, True]]
    assert space.describe(np.array([[1, 1], [0, 3]])) == "L0: m1 | L1: m0+m3 -> readout"


def test_paper_mutation_shifts_by_at_most_two_with_rate_one_over_nl():
    space = PathNetSpace((5,), num_layers=3, num_modules=10, max_active=3)
    genome = jnp.full((3, 3), 5, jnp.int32)
    mutated = np.asarray(
        jax.vmap(space.mutate, in_axes=(0, None))(jax.random.split(jax.random.key(1), 4000), genome)
    )
    shift = mutated - 5
    assert set(np.unique(shift)) <= {-2, -1, 1, 2, 0}
    # Each gene changes with probability 1/(N*L) * 4/5 (a zero shift is no change).
    rate = np.mean(shift != 0)
    assert abs(rate - (1 / 9) * 0.8) < 0.01
    wrapped = np.asarray(space.mutate(jax.random.key(3), jnp.full((3, 3), 9, jnp.int32)))
    assert wrapped.min() >= 0 and wrapped.max() <= 9


def test_resample_mutation_changes_exactly_one_gene():
    space = PathNetSpace((5,), num_layers=3, num_modules=10, max_active=3, mutation="resample")
    genome = space.sample(jax.random.key(0))
    for seed in range(20):
        child = space.mutate(jax.random.key(seed), genome)
        assert int(jnp.sum(child != genome)) == 1


def test_shared_modules_change_only_where_a_pathway_used_them(space, tasks):
    # Pathway 0 uses modules 0, 1 | 2, 3 and pathway 1 uses 0 | 1, 3; Adam, so
    # that a module with momentum from an earlier step would move if not masked.
    settings = dataclasses.replace(SETTINGS, optimizer="adam")
    params = space.init_params(jax.random.key(0))
    opt_state = training.make_optimizer(settings).init(params)
    trainable = jnp.ones((2, 4), bool)
    first = jnp.array([[0, 1], [2, 3], [0, 0], [1, 3]], jnp.int32).reshape(2, 2, 2)
    params_1, opt_state, metrics = training.train_pathways(
        space, settings, params, opt_state, first, trainable, tasks[0], jax.random.key(1)
    )
    assert metrics["used"].tolist() == [[True, True, False, False], [False, True, True, True]]
    for layer, module in ((0, 2), (0, 3), (1, 0)):
        assert _module(params_1, layer, module) == _module(params, layer, module)
    for layer, module in ((0, 0), (0, 1), (1, 3)):
        assert _module(params_1, layer, module) != _module(params, layer, module)
    # Second step: modules 0 of both layers only. Everything else keeps its
    # bits although Adam holds momentum for it.
    second = jnp.zeros((2, 2, 2), jnp.int32)
    params_2, _, _ = training.train_pathways(
        space, settings, params_1, opt_state, second, trainable, tasks[0], jax.random.key(2)
    )
    for layer in range(2):
        assert _module(params_2, layer, 0) != _module(params_1, layer, 0)
        for module in range(1, 4):
            assert _module(params_2, layer, module) == _module(params_1, layer, module)


def test_gradients_of_a_module_are_averaged_over_its_users(space, tasks):
    """With 'mean', two identical pathways on the same minibatches move a module
    exactly as one pathway does (SGD); with 'sum', twice as far."""
    params = space.init_params(jax.random.key(0))
    genome = jnp.array([[0, 1], [2, 2]], jnp.int32)
    trainable = jnp.ones((2, 4), bool)
    moved = {}
    for combine in ("mean", "sum"):
        settings = dataclasses.replace(SETTINGS, steps_per_round=1, gradient_combine=combine)
        opt_state = training.make_optimizer(settings).init(params)
        # Minibatches are drawn per pathway; give both pathways the same rows.
        task = tasks[0].replace(num_train=jnp.asarray(1, jnp.int32))
        for pathways in (genome[None], jnp.stack([genome, genome])):
            new, _, _ = training.train_pathways(
                space, settings, params, opt_state, pathways, trainable, task, jax.random.key(1)
            )
            delta = new["modules"][1]["kernel"][2] - params["modules"][1]["kernel"][2]
            moved[combine, len(pathways)] = np.asarray(delta)
    np.testing.assert_allclose(moved["mean", 2], moved["mean", 1], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(moved["sum", 2], 2 * moved["sum", 1], rtol=1e-5, atol=1e-7)


def test_the_tournament_overwrites_the_loser_with_a_mutated_winner(digits):
    space = PathNetSpace(digits.input_shape, 2, 2, 4, 2, units=6, mutation="resample")
    strategy = BinaryTournament(space, population_size=8, round_size=4)
    state = strategy.init(jax.random.key(0))
    before = np.asarray(state.population)
    slots = np.asarray(strategy.slots(state))
    children, parents = strategy.ask(jax.random.key(1), state)
    assert len(set(slots)) == 4 and np.array_equal(np.asarray(children), before[slots])
    assert np.asarray(parents)[:, 0].tolist() == [-1] * 4  # Never evaluated yet.
    fitness = jnp.asarray([0.5, 0.7, 0.9, 0.9])
    state = strategy.tell(state, children, fitness, 4)
    after = np.asarray(state.population)
    for pair, (won, lost) in enumerate(((slots[1], slots[0]), (slots[2], slots[3]))):
        assert np.array_equal(after[won], before[won])
        # The loser now holds the winner's genome with one gene resampled.
        assert np.sum(after[lost] != before[won]) == 1
        # Its birth is the winner's record (the record its genome continues).
        assert int(state.birth[lost]) == int(state.birth[won]) and int(state.birth[won]) >= 0
        del pair
    untouched = np.setdiff1d(np.arange(8), slots)
    assert np.array_equal(after[untouched], before[untouched])
    assert int(state.num_rounds) == 1
    # The next round draws other pairs; the ties went to the first of a pair.
    assert not np.array_equal(np.asarray(strategy.slots(state)), slots)


def test_frozen_modules_are_bit_identical_after_task_b(digits):
    config = tiny_config()
    config.budget.target_fitness = 2.0  # Never reached: every round of the budget runs.
    runs = reproduction.Experiment(config, digits)
    outcome_a = runs.evolve(runs.evolving, runs.weights(0), (3, 8), seed=0)
    assert outcome_a.rounds == 6 and not outcome_a.reached
    weights_b = runs.transferred(outcome_a, outcome_a.best_genome, seed=5)
    frozen = np.asarray(runs.space.active_modules(jnp.asarray(outcome_a.best_genome)))
    assert np.array_equal(~np.asarray(weights_b["trainable"]), frozen)
    # Frozen modules keep task A's weights; every other module is re-initialised.
    for layer in range(2):
        for module in range(4):
            same = _module(weights_b["params"], layer, module) == _module(
                outcome_a.weights["params"], layer, module
            )
            assert same == bool(frozen[layer, module])
    outcome_b = runs.evolve(runs.evolving, weights_b, (5, 9), seed=1)
    trained_others = False
    for layer in range(2):
        for module in np.flatnonzero(frozen[layer]):
            assert _module(outcome_b.weights["params"], layer, module) == _module(
                outcome_a.weights["params"], layer, module
            )
        for module in np.flatnonzero(~frozen[layer]):
            changed = _module(outcome_b.weights["params"], layer, module) != _module(
                weights_b["params"], layer, module
            )
            trained_others |= changed
    assert trained_others  # Task B did train the modules that are not frozen.


def _load_source(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


@pytest.mark.parametrize(
    "kind, input_shape, aggregation",
    [("dense", (8, 8, 1), "sum"), ("conv", (12, 2), "mean"), ("conv", (5, 6, 1), "sum")],
)
def test_exported_pathway_matches_the_supernetwork(kind, input_shape, aggregation):
    space = PathNetSpace(
        input_shape, 3, 2, 4, 3, kind, units=5, kernel_size=3, aggregation=aggregation
    )
    params = space.init_params(jax.random.key(0))
    params = jax.tree.map(  # Non-zero biases, so that a misplaced bias shows.
        lambda p: p + 0.1 * jax.random.normal(jax.random.key(1), p.shape), params
    )
    genome = jnp.array([[0, 0, 3], [1, 2, 3]], jnp.int32)
    x = jax.random.normal(jax.random.key(2), (7, *input_shape))
    expected = np.asarray(space.apply(params, space.active_modules(genome), x))
    variables = {"params": space.pathway_params(params, genome)}
    assert sorted(variables["params"]) == [
        "layer0_module0",
        "layer0_module3",
        "layer1_module1",
        "layer1_module2",
        "layer1_module3",
        "readout",
    ]
    flax_module = _load_source(space.to_source(genome, params, "flax"), "pathnet_flax")
    actual = np.asarray(flax_module.predict(variables["params"], x))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    if HAS_TORCH:
        import torch

        torch_module = _load_source(space.to_source(genome, params, "torch"), "pathnet_torch")
        model = torch_module.Pathway()
        state = weights.torch_state_dict(variables)
        model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
        np.testing.assert_allclose(
            torch_module.predict(model.eval(), np.asarray(x)), expected, rtol=1e-4, atol=1e-4
        )


def test_invalid_genome_and_target_are_refused(space):
    with pytest.raises(ValueError, match="layer 1 names modules"):
        pathnet_source.pathway_source(space, np.array([[0, 1], [9, 1]]), "flax")
    with pytest.raises(ValueError, match="target must be one of"):
        pathnet_source.pathway_source(space, np.array([[0, 1], [2, 1]]), "jax")


def test_task_sequence_is_reproducible_and_exports_runnable_code(tmp_path):
    config = tiny_config()
    first = api.run_search(config, str(tmp_path / "a"))
    second = api.run_search(config, str(tmp_path / "b"))
    for summary in (first, second):
        for task in summary["tasks"]:
            task.pop("wall_seconds")
    assert first == second
    for index in (0, 1):
        name = f"task{index}/history.jsonl"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        for written in ("report.md", "plots/fitness_per_round.png", "best/model.py"):
            assert (tmp_path / "a" / f"task{index}" / written).exists(), written
    frozen = np.asarray(first["tasks"][1]["frozen_modules"], bool)
    best_a = np.asarray(first["tasks"][0]["best_genome"])
    assert frozen.sum() >= 1 and all(
        frozen[layer, m] for layer, row in enumerate(best_a) for m in row
    )
    result = subprocess.run(
        [sys.executable, "predict.py", "--data=test_split.npz"],
        cwd=tmp_path / "a" / "task1" / "best",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split("accuracy: ")[1].split()[0])
    assert accuracy == pytest.approx(first["tasks"][1]["test_accuracy"], abs=1e-4)


def _search_command(workdir, *overrides):
    tiny = [f"--config.{key}={value}" for key, value in TINY.items()]
    return [
        sys.executable,
        os.path.join(ROOT, "experiments", "search.py"),
        f"--config={DIGITS_CONFIG}",
        f"--workdir={workdir}",
        *tiny,
        *overrides,
    ]


def test_pathnet_through_the_search_command_resumes_after_sigkill(tmp_path):
    """Two tasks of 60 rounds of 4 pathways (the target is out of reach); killed with
    SIGKILL during task 1, the same command resumes to the histories of an
    uninterrupted run."""
    overrides = [
        "--config.budget.evaluations=240",
        "--config.budget.target_fitness=2.0",
        "--config.checkpoint.every_rounds=10",
        "--config.progress.report=False",
    ]
    reference = tmp_path / "reference"
    done = subprocess.run(
        _search_command(reference, *overrides), capture_output=True, text=True, timeout=600, env=ENV
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Task 1 (5, 9): did not reach the target fitness in 60 rounds" in done.stdout
    workdir = tmp_path / "killed"
    process = subprocess.Popen(
        _search_command(workdir, *overrides),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    metrics = workdir / "task1" / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 15):
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.kill()
    process.wait()
    resumed = subprocess.run(
        _search_command(workdir, *overrides), capture_output=True, text=True, timeout=600, env=ENV
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for name in ("task0/history.jsonl", "task1/history.jsonl", "task1/best/genome.json"):
        assert (workdir / name).read_bytes() == (reference / name).read_bytes(), name
    lines = records.read_json_lines(str(workdir / "task1" / "history.jsonl"))
    assert [line["id"] for line in lines] == list(range(240))


def test_reproduction_writes_its_report_and_resumes(tmp_path):
    config = tiny_config()
    records = reproduction.run_reproduction(config, str(tmp_path), log=lambda _: None)
    assert len(records) == 2
    for record in records:
        assert set(reproduction.SETTINGS) <= set(record)
        assert record["scratch"]["rounds_on_a"] is None
        assert record["transfer"]["rounds_on_a"] >= 1
    path = reproduction.write_report(records, config, "python x.py", str(tmp_path / "doc"), "p")
    with open(path, encoding="utf-8") as file:
        text = file.read()
    assert "scratch / transfer" in text and "![rounds to the threshold](p.png)" in text
    assert os.path.getsize(tmp_path / "doc" / "p.png") > 1000
    # Run again: nothing is recomputed.
    lines_before = (tmp_path / reproduction.REPETITIONS_FILE).read_text()
    again = reproduction.run_reproduction(config, str(tmp_path), log=lambda _: None)
    assert (tmp_path / reproduction.REPETITIONS_FILE).read_text() == lines_before
    assert again == records


def test_ratio_interval_brackets_the_ratio():
    value, low, high = reproduction.ratio_interval(
        np.array([10.0, 12, 11, 13]), np.array([5.0, 6, 5, 6]), 1000
    )
    assert value == pytest.approx(46 / 22)
    assert low < value < high


BAD_CONFIGS = {
    "module_kind": ("--config.space.module_kind=lstm", "config.space.module_kind='lstm'"),
    "max_active": ("--config.space.max_active=11", "config.space.max_active=11"),
    "tasks": ("--config.evaluator.tasks=((2, 12), (4, 9))", "config.evaluator.tasks[0]=(2, 12)"),
    "steps": ("--config.evaluator.steps_per_round=0", "config.evaluator.steps_per_round=0"),
    "round": ("--config.parallel.round_size=3", "round_size must be an even number"),
    "cache": ("--config.strategy.equivalence_cache=True", "config.strategy.equivalence_cache"),
}


@pytest.fixture(scope="module")
def bad_config_results(tmp_path_factory):
    """Every bad PathNet command line, run as ``experiments/search.py`` runs it,
    in one process (``tests/cli_cases.py``): ``{case: {"returncode", "stderr"}}``."""
    root = tmp_path_factory.mktemp("bad_pathnet_configs")
    config = os.path.join(ROOT, "configs", "pathnet_mnist1d.py")
    cases = {
        case: [f"--config={config}", f"--workdir={root / case}", override]
        for case, (override, _) in BAD_CONFIGS.items()
    }
    (root / "cases.json").write_text(json.dumps(cases))
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "tests", "cli_cases.py"),
            str(root / "cases.json"),
            str(root / "results.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((root / "results.json").read_text())


# One worker runs every case (and the fixture once): --dist loadfile in scripts/test.sh.
@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_pathnet_config_is_one_line(case, bad_config_results):
    named = BAD_CONFIGS[case][1]
    result = bad_config_results[case]
    assert result["returncode"] == 2
    assert "Traceback" not in result["stderr"], result["stderr"]
    errors = [line for line in result["stderr"].splitlines() if ": error: " in line]
    assert len(errors) == 1 and named in errors[0], result["stderr"]


@pytest.mark.parametrize(
    "name",
    [
        "pathnet_mnist1d",
        "pathnet_mnist1d_conv",
        "pathnet_digits",
        "reproduce_pathnet",
        "reproduce_pathnet_digits",
        "reproduce_pathnet_conv",
    ],
)
def test_pathnet_configs_pass_their_checks(name):
    config = load_config_file(os.path.join(ROOT, "configs", f"{name}.py"))
    if name.startswith("reproduce"):
        reproduction.check_reproduction(config)
    else:
        components.check_evaluator(config)
    space = experiment.build_space(config, types.SimpleNamespace(input_shape=(40, 1)))
    assert isinstance(space, PathNetSpace) and space.num_outputs == 2
    assert config.strategy.name == "binary_tournament" and config.parallel.round_size % 2 == 0
    assert not config.strategy.equivalence_cache
    assert config.budget.target_fitness == 0.998


def test_conv_modules_on_vector_inputs_name_the_config_key():
    config = tiny_config()
    config.space.module_kind = "conv"
    with pytest.raises(ConfigError, match=r"^config\.space\.module_kind='conv'"):
        experiment.build_space(config, types.SimpleNamespace(input_shape=(64,)))

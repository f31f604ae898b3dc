"""The search loop is open: a space written in one file outside the package
(``examples/bitstring.py``) runs with every strategy through the search
command and the Python API, resumes after SIGKILL to the same history, and
gets the usual records, plots and report. It is also the stand-in space of
the loop tests that need no network."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

import pathways_jax
from pathways_jax import core
from pathways_jax.core import experiment, registry
from pathways_jax.runs import preemption, records

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(REPO, "examples", "bitstring.py")
STRATEGIES = ("random", "regularized", "tournament", "truncation", "nsga2")
ENV = dict(os.environ, PYTHONPATH=REPO)  # The command imports this checkout.


def _load_example():
    spec = importlib.util.spec_from_file_location("bitstring_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Dataclasses look their module up.
    spec.loader.exec_module(module)
    return module


bitstring = _load_example()


@pytest.fixture(scope="module")
def example_copy(tmp_path_factory):
    """The example file copied into a directory outside the repository."""
    directory = tmp_path_factory.mktemp("user_project")
    path = directory / "my_bits.py"
    shutil.copy(EXAMPLE, path)
    return str(path)


def _command(config, workdir, *overrides):
    return [
        sys.executable,
        os.path.join(REPO, "experiments", "search.py"),
        f"--config={config}",
        f"--workdir={workdir}",
        *overrides,
    ]


def _cli(config, workdir, *overrides):
    return subprocess.run(
        _command(config, workdir, *overrides),
        capture_output=True,
        text=True,
        cwd=os.path.dirname(config.split(":")[0]),
        timeout=600,
        env=ENV,
    )


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_space_of_ones_own_runs_with_every_strategy_through_the_command(
    example_copy, tmp_path, strategy
):
    workdir = tmp_path / "run"
    done = _cli(f"{example_copy}:{strategy}", workdir, "--config.budget.evaluations=64")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    summary = json.loads((workdir / "summary.json").read_text())
    history = records.read_json_lines(str(workdir / "history.jsonl"))
    assert [record["id"] for record in history] == list(range(64))
    assert summary["search_validation"]["fitness"] == max(r["metrics"]["fitness"] for r in history)
    assert summary["final"]["test"]["fitness"] == summary["search_validation"]["fitness"]
    assert (workdir / "report.md").exists() and (
        workdir / "plots" / "fitness_per_round.png"
    ).exists()
    assert "bitstring" in (workdir / "report.md").read_text()
    if strategy == "nsga2":
        front = json.loads((workdir / "pareto_front.json").read_text())
        assert front["objectives"] == ["fitness", "min:ones"]
        assert len(front["front"]) >= 1
    if strategy != "random":  # Evolution beats the first random round.
        first_round = [r["metrics"]["fitness"] for r in history if r["round"] == 0]
        assert summary["search_validation"]["fitness"] > max(first_round)


def test_a_space_of_ones_own_resumes_after_sigkill_to_the_same_history(example_copy, tmp_path):
    overrides = ["--config.budget.evaluations=640", "--config.checkpoint.every_rounds=5"]
    reference = tmp_path / "reference"
    done = _cli(example_copy, reference, *overrides)
    assert done.returncode == 0, done.stderr[-3000:]
    workdir = tmp_path / "killed"
    process = subprocess.Popen(
        _command(example_copy, workdir, *overrides),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=os.path.dirname(example_copy),
        env=ENV,
    )
    metrics = workdir / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 7):
        assert process.poll() is None, process.stderr.read().decode()[-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.kill()
    process.wait()
    assert not (workdir / "summary.json").exists()
    resumed = _cli(example_copy, workdir, *overrides)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming from" in resumed.stderr
    for name in ("history.jsonl", "best/genome.json"):
        assert (workdir / name).read_bytes() == (reference / name).read_bytes(), name


def test_the_python_api_runs_objects_in_memory_and_reproduces_by_seed():
    space = bitstring.BitStringSpace(length=24, target_seed=1)
    strategy = pathways_jax.RegularizedEvolution(
        space=space, population_size=12, sample_size=3, round_size=6
    )
    settings = pathways_jax.LoopSettings(seed=4, evaluations=120, round_size=6, top_k=1)

    def run():
        return pathways_jax.search(
            space=space,
            strategy=strategy,
            evaluator=pathways_jax.FunctionEvaluator(space),
            settings=settings,
            equivalence_cache=True,
        )

    result = run()
    assert len(result.history) == 120 and result.params is None
    assert result.best["metrics"]["fitness"] == max(r["metrics"]["fitness"] for r in result.history)
    assert result.best["metrics"]["fitness"] > 0.8
    genome = space.from_json(result.best["genome"])
    assert space.validate(genome) == []
    assert space.describe(genome).endswith(
        f"({round(24 * result.best['metrics']['fitness'])}/24 match)"
    )
    again = run()
    assert [r["genome"] for r in again.history] == [r["genome"] for r in result.history]
    assert any("cache_hit_of" in r for r in result.history)  # Revisited strings are not rescored.


def test_the_python_api_resumes_from_its_workdir(tmp_path):
    space = bitstring.BitStringSpace(length=16)
    strategy = pathways_jax.TruncationSelection(space=space, population_size=8, round_size=4)
    settings = pathways_jax.LoopSettings(
        seed=2, evaluations=40, round_size=4, checkpoint_every=1, report=False
    )
    kwargs = {
        "space": space,
        "strategy": strategy,
        "evaluator": pathways_jax.FunctionEvaluator(space),
        "settings": settings,
    }
    whole = pathways_jax.search(**kwargs, workdir=str(tmp_path / "whole"))
    with pytest.raises(preemption.SearchInterrupted):
        pathways_jax.search(**kwargs, workdir=str(tmp_path / "stopped"), stop_after_rounds=4)
    resumed = pathways_jax.search(**kwargs, workdir=str(tmp_path / "stopped"))
    assert resumed.summary["best_id"] == whole.summary["best_id"]
    assert (tmp_path / "stopped" / "history.jsonl").read_bytes() == (
        tmp_path / "whole" / "history.jsonl"
    ).read_bytes()


def test_strategies_speak_only_the_protocol():
    space = bitstring.BitStringSpace(length=8)
    assert isinstance(space, core.SearchSpace)
    for name in STRATEGIES:
        strategy = experiment.build_strategy(bitstring.get_config(name), space)
        assert isinstance(strategy, core.Strategy)
        state = strategy.init(jax.random.key(0))
        children, parents = strategy.ask(jax.random.key(1), state)
        assert np.asarray(children.bits).shape == (8, 8) and np.asarray(parents).shape == (8, 2)


def test_unknown_names_and_broken_modules_are_one_line_errors(example_copy, tmp_path):
    with pytest.raises(
        registry.RegistryError, match=r"config.space.name='nope' is not a registered"
    ):
        registry.lookup("space", "nope", "space.name")
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('my module is broken')\n")
    done = _cli(example_copy, tmp_path / "run", f"--config.space.module={broken}")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "config.space.module=" in done.stderr and "my module is broken" in done.stderr


def test_the_public_api_resolves_and_each_name_has_a_docstring():
    for name in pathways_jax.__all__:
        assert getattr(pathways_jax, name).__doc__, name


def test_the_engine_names_no_particular_space():
    """The loop and what it writes speak only the protocols."""
    package = os.path.dirname(pathways_jax.__file__)
    engine = [
        os.path.join(package, "core", name) for name in os.listdir(os.path.join(package, "core"))
    ]
    engine += [
        os.path.join(package, "runs", name)
        for name in ("checkpoints.py", "records.py", "scalars.py", "progress.py", "plots.py")
    ]
    engine += [os.path.join(package, "runs", "report.py")]
    for path in engine:
        if path.endswith(".py"):
            with open(path, encoding="utf-8") as file:
                text = file.read()
            for name in ("PathwaySpace", "PathwayGenome", "PathNetSpace"):
                assert name not in text, f"{path} names {name}"

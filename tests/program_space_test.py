"""The program space: genome, mutations, interpreter, liveness, caches, export, search."""

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pathways_jax import api
from pathways_jax.core import behaviour_cache, genomes
from pathways_jax.runs import records
from pathways_jax.spaces.program import components, export, interpreter, liveness, programs, source
from pathways_jax.spaces.program import tasks as tasks_lib
from tests.search_test import _load_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_CONFIG = os.path.join(REPO, "tests", "configs", "tiny_program.py")
LINEAR_TASKS = tasks_lib.TaskSettings(num_search=3, num_train=60, num_valid=20)


def _space(**changes):
    settings = components.program_config().space
    for key, value in changes.items():
        settings[key] = value
    return components.program_space(settings, None)


@pytest.fixture(scope="module")
def space():
    return _space()


@pytest.fixture(scope="module")
def net_space():
    return _space(
        num_scalars=5,
        num_vectors=9,
        num_matrices=2,
        setup_ops=("VECTOR_GAUSSIAN_SET", "MATRIX_GAUSSIAN_SET"),
        predict_ops=(),
        learn_ops=(),
        initial="program",
        initial_program="neural_net",
        max_sizes=(4, 5, 11),
        mutation_types=("alter_param", "insert_instruction", "remove_instruction"),
    )


@pytest.fixture(scope="module")
def linear_tasks():
    return tasks_lib.make_tasks(LINEAR_TASKS, "search")


def _fitness(space, genome_list, task_set):
    population = genomes.stack_genomes(genome_list)
    return np.asarray(
        jax.jit(lambda p, t: interpreter.fitness(space.machine, p, t))(population, task_set)
    )


def test_hand_written_linear_regression_learns_and_reads_like_the_paper(space, linear_tasks):
    genome = space.from_json(programs.LINEAR_REGRESSION)
    assert space.validate(genome) == []
    assert source.listing(space, genome) == (
        "def Setup():\n  s2 = 0.1\ndef Predict():\n  s1 = dot(v0, v1)\n"
        "def Learn():\n  s3 = s0 - s1\n  s3 = s2 * s3\n  v2 = s3 * v0\n  v1 = v1 + v2\n"
    )
    empty = space.fallback(None)
    fitness = _fitness(space, [genome, empty], linear_tasks)
    assert fitness.shape == (2, 3)
    assert np.all(fitness[0] > 0.99)  # Near zero error after 60 examples.
    assert np.all(fitness[1] < 0.8)  # Predicting 0 for labels of spread ~2.


def test_dead_code_is_found_and_removing_it_changes_nothing(space, linear_tasks):
    genes = json.loads(json.dumps(programs.LINEAR_REGRESSION))
    genes["learn"].insert(0, ["SCALAR_PRODUCT", 2, 2, 3, 0.0])  # Overwritten before read.
    genes["setup"].append(["VECTOR_SUM", 1, 1, 2])  # v2 is overwritten in Learn first.
    padded = space.from_json(genes)
    live = liveness.live_slots(space, padded)
    assert live == {"setup": [0], "predict": [0], "learn": [1, 2, 3, 4]}
    assert space.fingerprint(padded) == space.fingerprint(
        space.from_json(programs.LINEAR_REGRESSION)
    )
    pruned = liveness.without_dead_code(space, padded)
    with_dead, without = _fitness(space, [padded, pruned], linear_tasks)
    np.testing.assert_array_equal(with_dead, without)
    assert source.listing(space, padded) == source.listing(
        space, space.from_json(programs.LINEAR_REGRESSION)
    )


def test_json_round_trip_and_bad_genes(space):
    genome = space.from_json(programs.LINEAR_REGRESSION)
    again = space.from_json(json.loads(json.dumps(space.to_json(genome))))
    assert jax.tree_util.tree_all(
        jax.tree_util.tree_map(lambda a, b: bool(jnp.all(a == b)), genome, again)
    )
    with pytest.raises(ValueError, match="unknown op 'SCALAR_NOPE'"):
        space.from_json({"setup": [["SCALAR_NOPE", 0, 0, 1]], "predict": [], "learn": []})
    with pytest.raises(ValueError, match="reads v7; the memory has 3 vectors"):
        space.from_json({"setup": [], "predict": [["VECTOR_INNER_PRODUCT", 7, 0, 1]], "learn": []})
    with pytest.raises(ValueError, match="MATRIX_MEAN, not an allowed op of learn"):
        space.from_json({"setup": [], "predict": [], "learn": [["MATRIX_MEAN", 0, 0, 1]]})
    with pytest.raises(ValueError, match="missing the gene 'learn'"):
        space.from_json({"setup": [], "predict": []})


@pytest.mark.parametrize("types", ["paper_demo", "insert_remove_trade"])
def test_mutations_keep_programs_valid(types):
    mutation_types = (
        ("alter_param", "randomize_instruction", "randomize_function")
        if types == "paper_demo"
        else ("insert_instruction", "remove_instruction", "trade_instruction", "alter_param")
    )
    space = _space(mutation_types=mutation_types, min_sizes=(1, 1, 1), init_sizes=(3, 1, 2))
    population = jax.vmap(space.sample)(jax.random.split(jax.random.key(0), 32))
    mutate = jax.jit(jax.vmap(space.mutate))
    changed = 0
    for generation in range(12):
        children = mutate(jax.random.split(jax.random.key(generation + 1), 32), population)
        host = jax.device_get(children)
        for index in range(32):
            child = genomes.index_population(host, index)
            assert space.validate(child) == []
            for slot_count, name in zip(
                space.max_sizes, ("setup", "predict", "learn"), strict=True
            ):
                function = child.function(name)
                length = int(function.length)
                assert space.min_sizes[0] <= length <= slot_count or name != "setup"
                assert np.all(np.asarray(function.op)[length:] == 0)  # Past the length: no-ops.
            changed += space.to_json(child) != space.to_json(
                genomes.index_population(jax.device_get(population), index)
            )
        population = children
    assert changed > 0.7 * 12 * 32  # Mutation probability 0.9 (a few mutations change nothing).


def test_behaviour_hash_matches_programs_that_compute_the_same(space, linear_tasks):
    commuted = json.loads(json.dumps(programs.LINEAR_REGRESSION))
    commuted["learn"][3] = ["VECTOR_SUM", 2, 1, 1]  # v1 = v2 + v1
    other = json.loads(json.dumps(programs.LINEAR_REGRESSION))
    other["setup"][0][4] = 0.05  # Another learning rate.
    genome_list = [space.from_json(g) for g in (programs.LINEAR_REGRESSION, commuted, other)]
    assert len({space.fingerprint(g) for g in genome_list}) == 3  # Genes differ.
    signal = np.asarray(
        jax.jit(lambda p, t: interpreter.behaviour(space.machine, p, t))(
            genomes.stack_genomes(genome_list), linear_tasks.first(1, 10, 10)
        )
    )
    assert signal.shape == (3, 20)
    hashes = [behaviour_cache.behaviour_hash(row) for row in signal]
    assert hashes[0] == hashes[1] != hashes[2]
    assert behaviour_cache.behaviour_hash(
        np.array([np.nan, 1.0])
    ) != behaviour_cache.behaviour_hash(np.array([np.inf, 1.0]))


def test_exported_modules_reproduce_the_interpreter_with_random_ops(net_space, tmp_path):
    """The 2-layer network draws its weights (Gaussian set ops): the exported
    NumPy and JAX modules, run in a fresh interpreter, give the fitness the
    batched interpreter gives on the same tasks."""
    settings = tasks_lib.TaskSettings(
        kind="nonlinear", num_final=3, final_num_train=400, final_num_valid=20
    )
    final_tasks = tasks_lib.make_tasks(settings, "final")
    genome = net_space.from_json(programs.NEURAL_NET)
    expected = float(np.mean(_fitness(net_space, [genome], final_tasks)))
    damaged = float(
        np.mean(
            _fitness(net_space, [net_space.from_json(programs.DAMAGED_NEURAL_NET)], final_tasks)
        )
    )
    assert expected > damaged  # Backpropagation through drawn weights helps.
    out = str(tmp_path / "best")
    record = {"genome": programs.NEURAL_NET, "metrics": {"fitness": expected}}
    final = {"validation": {"fitness": expected}, "test": {"fitness": expected}}

    class Data:
        sets = {"final": final_tasks}

    written = export.write(net_space, out, record, final=final, tasks=Data(), command=None)
    assert {
        "program.py",
        "program_jax.py",
        "program_ops.py",
        "random_stream.py",
        "final_tasks.npz",
    } <= set(written)
    result = subprocess.run(
        [sys.executable, "program.py"], cwd=out, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    script = "import program_jax; print(program_jax.evaluate('final_tasks.npz'))"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    jax_run = subprocess.run(
        [sys.executable, "-c", script], cwd=out, capture_output=True, text=True, env=env, check=True
    )
    assert abs(float(jax_run.stdout.strip().splitlines()[-1]) - expected) <= 1e-4
    with open(os.path.join(out, "program.py"), encoding="utf-8") as file:
        code = file.read().split('"""', 2)[2]
    assert "pathways_jax" not in code  # Standalone: NumPy and its two copied modules.


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("program_run"))
    summary = api.run_search(_load_config(TINY_CONFIG), workdir)
    return workdir, summary


def test_a_program_search_records_caches_and_exports(tiny_run):
    workdir, summary = tiny_run
    assert summary["evaluations"] == 96
    assert summary["compilations"] <= 4  # Search chunk, fingerprint, selection, final.
    assert summary["final"]["dead_code_check"]["equal"]
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    assert all("cache_hit_of" not in r and "behaviour_hit_of" not in r for r in history)
    metrics = records.read_json_lines(os.path.join(workdir, records.METRICS_FILE))
    assert metrics[-1]["behaviour_hit_rate"] > 0  # Random programs often compute the same.
    assert len(history) + sum(m["cache_hits"] for m in metrics) == 96
    result = subprocess.run(
        [sys.executable, "program.py"],
        cwd=os.path.join(workdir, "best"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_killed_program_search_resumes_to_the_same_records(tiny_run, tmp_path):
    """SIGKILL of the search command after its third round, then the same
    search again: the records equal an uninterrupted run's."""
    from tests.checkpoint_test import _start_cli, _wait_for_rounds

    workdir = str(tmp_path / "killed")
    process = _start_cli(workdir, TINY_CONFIG)
    _wait_for_rounds(process, workdir, 3)
    process.kill()
    process.wait()
    api.run_search(_load_config(TINY_CONFIG), workdir)
    for name in (records.HISTORY_FILE, records.BEST_GENOME_FILE):
        with open(os.path.join(workdir, name)) as a, open(os.path.join(tiny_run[0], name)) as b:
            assert a.read() == b.read()
    metrics = records.read_json_lines(os.path.join(workdir, records.METRICS_FILE))
    reference = records.read_json_lines(os.path.join(tiny_run[0], records.METRICS_FILE))
    drop = ("wall_seconds", "candidates_per_second", "xla_compilations", "compilations")
    assert [{k: v for k, v in m.items() if k not in drop} for m in metrics] == [
        {k: v for k, v in m.items() if k not in drop} for m in reference
    ]

"""Bad input to the search command: one clear line naming what is wrong, a
non-zero exit, no traceback and no damage to an existing workdir.

Each case of :data:`BAD_INPUTS` is a row of ``docs/errors.md``, and the
message the command prints must equal the row's message word for word (the
test's temporary directory written as ``TMP``).
"""

import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from pathways_jax.config import load_config_file

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "tests", "configs", "tiny_vector.py")
PROGRAM_CONFIG = os.path.join(REPO, "tests", "configs", "tiny_program.py")
ERRORS_DOC = os.path.join(REPO, "docs", "errors.md")
# A table row: | bad input | `message` | `tests/file.py::test_name[case]` |
ROW = re.compile(r"^\|(?P<input>[^|]+)\|\s*`(?P<message>.+)`\s*\|\s*`(?P<test>tests/[^`]+)`\s*\|$")


def _search_args(workdir, *overrides, config=CONFIG):
    # A case naming its own config file replaces the default one (its
    # overrides are then defined by that file).
    named = [o for o in overrides if o.startswith("--config=")]
    config = named[-1].split("=", 1)[1] if named else config
    overrides = [o for o in overrides if not o.startswith("--config=")]
    return [
        sys.executable,
        os.path.join(REPO, "experiments", "search.py"),
        f"--config={config}",
        f"--workdir={workdir}",
        *overrides,
    ]


def _run(tmp_path, *overrides, workdir=None):
    command = _search_args(workdir or tmp_path / "run", *overrides)
    # One device, whatever this process has, so that messages do not vary.
    env = dict(os.environ, PYTHONPATH=REPO, JAX_NUM_CPU_DEVICES="1")
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _labelled(num_rows=30):
    rng = np.random.default_rng(0)
    return rng.normal(size=(num_rows, 3)).astype(np.float32), np.arange(num_rows) % 3


def _npz(**arrays):
    def setup(tmp_path):
        np.savez(tmp_path / "data.npz", **arrays)
        return [f"--config.dataset.name=npz:{tmp_path / 'data.npz'}"]

    return setup


def _csv(text):
    def setup(tmp_path):
        (tmp_path / "data.csv").write_text(text)
        return [f"--config.dataset.name=csv:{tmp_path / 'data.csv'}"]

    return setup


def _overrides(*overrides):
    return lambda tmp_path: list(overrides)


def _truncated_npz(tmp_path):
    x, y = _labelled()
    np.savez(tmp_path / "full.npz", x=x, y=y)
    contents = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "data.npz").write_bytes(contents[: len(contents) // 2])
    return [f"--config.dataset.name=npz:{tmp_path / 'data.npz'}"]


def _missing_config_file(tmp_path):
    return [f"--config={tmp_path / 'nope.py'}"]


def _unwritable_workdir(tmp_path):
    (tmp_path / "a_file").write_text("")
    return [f"--workdir={tmp_path / 'a_file' / 'run'}"]


def _bad_latency_table(tmp_path):
    (tmp_path / "latency.json").write_text('{"conv": -1}')
    return [
        "--config.strategy.name=nsga2",
        "--config.strategy.objectives=('fitness', 'latency')",
        f"--config.strategy.latency_table={tmp_path / 'latency.json'}",
    ]


def _saved_run(tmp_path, with_config=True):
    """The workdir holds records of a run with seed 7 and 5 training steps."""
    saved = load_config_file(CONFIG)
    saved.seed = 7
    saved.train.steps = 5
    workdir = tmp_path / "run"
    if with_config:
        (workdir / "config.json").write_text(json.dumps(saved.to_dict()))
    (workdir / "history.jsonl").write_text('{"id": 0}\n')
    return []


X, Y = _labelled()
NAN_X = np.where(np.arange(X.size).reshape(X.shape) < 2, np.nan, X)
# Case -> setup(tmp_path) writing its input files and returning the command's
# extra flags (a later --config or --workdir replaces the default one).
BAD_INPUTS = {
    "unknown_config_key": _overrides("--config.strategy.no_such_key=3"),
    "missing_config_file": _missing_config_file,
    "wrong_type": _overrides("--config.strategy.population_size=many"),
    "negative_population": _overrides("--config.strategy.population_size=-4"),
    "sample_larger_than_population": _overrides("--config.strategy.sample_size=50"),
    "zero_budget": _overrides("--config.budget.evaluations=0"),
    "zero_time_budget": _overrides("--config.budget.seconds=0"),
    "learning_rate_range_reversed": _overrides(
        "--config.space.log10_learning_rate_min=-1", "--config.space.log10_learning_rate_max=-3"
    ),
    "even_kernel_size": _overrides("--config.space.kernel_sizes=(2,4)"),
    "attention_heads_dividing_no_width": _overrides("--config.space.attention_heads=(3,)"),
    "unknown_backend": _overrides("--config.parallel.backend=threads"),
    "too_many_devices": _overrides("--config.parallel.num_devices=64"),
    "missing_latency_table": _overrides("--config.strategy.latency_table=no_such_table.json"),
    "latency_table_not_a_table": _bad_latency_table,
    "negative_training_steps": _overrides("--config.train.steps=-1"),
    "unknown_space_name": _overrides("--config.space.name=bitstrng"),
    "space_module_missing": _overrides("--config.space.module=no_such_dir/my_space.py"),
    "pbt_round_not_the_population": _overrides("--config.strategy.name=pbt"),
    "pbt_with_equivalence_cache": _overrides(
        "--config.strategy.name=pbt",
        "--config.parallel.round_size=6",
        "--config.budget.evaluations=24",
    ),
    "coordinator_without_process_flags": _overrides("--coordinator_address=localhost:12345"),
    "coordinator_without_port": _overrides(
        "--coordinator_address=localhost", "--num_processes=2", "--process_id=0"
    ),
    "process_id_out_of_range": _overrides(
        "--coordinator_address=localhost:12345", "--num_processes=2", "--process_id=2"
    ),
    "behaviour_cache_without_hook": _overrides(
        "--config.strategy.name=pbt",
        "--config.parallel.round_size=6",
        "--config.budget.evaluations=24",
        "--config.strategy.equivalence_cache=False",
        "--config.strategy.behaviour_cache=True",
    ),
    "unknown_program_op": _overrides(
        f"--config={PROGRAM_CONFIG}", "--config.space.learn_ops=('VECTOR_SUM','MATRIX_FLIP')"
    ),
    "program_start_not_named": _overrides(
        f"--config={PROGRAM_CONFIG}", "--config.space.initial=program"
    ),
    "fingerprint_longer_than_a_task": _overrides(
        f"--config={PROGRAM_CONFIG}", "--config.evaluator.fingerprint_train=500"
    ),
    "task_features_not_the_memory": _overrides(
        f"--config={PROGRAM_CONFIG}", "--config.evaluator.tasks.feature_size=8"
    ),
    "unknown_dataset": _overrides("--config.dataset.name=imagenet"),
    "missing_npz": lambda tmp_path: [f"--config.dataset.name=npz:{tmp_path / 'absent.npz'}"],
    "not_an_npz": lambda tmp_path: (
        (tmp_path / "data.npz").write_bytes(b"not a zip file"),
        [f"--config.dataset.name=npz:{tmp_path / 'data.npz'}"],
    )[1],
    "truncated_npz": _truncated_npz,
    "non_numeric_npz": _npz(x=np.full((30, 3), "a"), y=Y),
    "missing_csv": lambda tmp_path: [f"--config.dataset.name=csv:{tmp_path / 'absent.csv'}"],
    "truncated_csv": _csv("a,b,label\n1,2,0\n3,4,1\n5,"),
    "csv_row_without_label": _csv("a,b,label\n1,red,0\n3,blue,\n"),
    "nan_features": _npz(x=NAN_X, y=Y),
    "infinite_features": _csv("a,b,label\n1,2,0\n3,inf,1\n5,6,2\n"),
    "nan_labels": _npz(x=X, y=np.full((30,), np.nan, np.float32)),
    "labels_out_of_range": _npz(x=X, y=Y - 1),
    "single_class": _npz(x=X, y=np.zeros(30, int)),
    "empty_split": _overrides("--config.dataset.validation_fraction=0.001"),
    "unwritable_workdir": _unwritable_workdir,
    "workdir_of_another_config": _saved_run,
    "workdir_with_records_but_no_config": lambda tmp_path: _saved_run(tmp_path, False),
}


def documented_rows() -> list[dict]:
    """The rows of the table in ``docs/errors.md``."""
    with open(ERRORS_DOC, encoding="utf-8") as file:
        rows = [ROW.match(line.strip()) for line in file]
    return [row.groupdict() for row in rows if row]


def _snapshot(directory):
    return {
        os.path.relpath(os.path.join(root, name), directory): open(
            os.path.join(root, name), "rb"
        ).read()
        for root, _, names in os.walk(directory)
        for name in names
    }


@pytest.fixture(scope="module")
def bad_input_runs(tmp_path_factory):
    """Every case of :data:`BAD_INPUTS` run by the real command, all in one
    process (``tests/cli_cases.py``): ``{case: (result, tmp_path, workdir, before)}``."""
    prepared, arguments = {}, {}
    for case in sorted(BAD_INPUTS):
        tmp_path = tmp_path_factory.mktemp(case)
        workdir = tmp_path / "run"
        workdir.mkdir()
        (workdir / "notes.txt").write_text("a file of the user's")
        extra = BAD_INPUTS[case](tmp_path)
        arguments[case] = _search_args(workdir, *extra)[2:]
        prepared[case] = (tmp_path, workdir, _snapshot(workdir))
    root = tmp_path_factory.mktemp("cases")
    (root / "cases.json").write_text(json.dumps(arguments))
    env = dict(os.environ, PYTHONPATH=REPO, JAX_NUM_CPU_DEVICES="1")
    driver = os.path.join(REPO, "tests", "cli_cases.py")
    done = subprocess.run(
        [sys.executable, driver, str(root / "cases.json"), str(root / "results.json")],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((root / "results.json").read_text())
    return {case: (results[case], *prepared[case]) for case in prepared}


# One worker runs every case (and the fixture once): --dist loadfile in scripts/test.sh.
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input(case, bad_input_runs):
    documented = {row["test"]: row["message"] for row in documented_rows()}
    test_id = f"tests/cli_test.py::test_bad_input[{case}]"
    result, tmp_path, workdir, before = bad_input_runs[case]
    stderr = result["stderr"]

    assert result["returncode"] != 0
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1, stderr
    message = errors[0].replace(str(tmp_path), "TMP")
    assert message == documented.get(test_id), (
        f"docs/errors.md: | ... | `{message}` | `{test_id}` |"
    )
    after = _snapshot(workdir)
    assert {name: after[name] for name in before} == before
    assert set(after) - set(before) <= {"config.json"}  # A fresh run's config only.


def test_one_bad_input_through_the_real_command(tmp_path):
    """The in-process runs above equal the command's own: one case end to end."""
    workdir = tmp_path / "run"
    result = _run(tmp_path, "--config.budget.evaluations=0", workdir=workdir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    documented = {row["test"]: row["message"] for row in documented_rows()}
    assert (
        result.stderr.strip().splitlines()[-1]
        == documented["tests/cli_test.py::test_bad_input[zero_budget]"]
    )


def test_errors_doc_matches_the_tests():
    """Every row of docs/errors.md names a test that exists, and every case of
    :func:`test_bad_input` has exactly one row."""
    rows = documented_rows()
    assert len(rows) > len(BAD_INPUTS)
    tests = [row["test"] for row in rows]
    assert len(set(tests)) == len(tests)
    cases = {f"tests/cli_test.py::test_bad_input[{case}]" for case in BAD_INPUTS}
    assert cases <= set(tests)
    for test in set(tests) - cases:
        path, _, name = test.partition("::")
        name, _, parameter = name.partition("[")
        module = importlib.import_module(path[: -len(".py")].replace("/", "."))
        assert callable(getattr(module, name, None)), test
        if parameter:
            marks = [
                mark for mark in module.__dict__[name].pytestmark if mark.name == "parametrize"
            ]
            assert parameter.rstrip("]") in marks[0].args[1], test

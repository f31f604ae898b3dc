"""Bad input to the search command: one clear line naming what is wrong, a
non-zero exit, no traceback."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "tests", "configs", "tiny_vector.py")


def _run(tmp_path, *overrides, workdir=None):
    command = [
        sys.executable,
        os.path.join(REPO, "experiments", "search.py"),
        f"--config={CONFIG}",
        f"--workdir={workdir or tmp_path / 'run'}",
        *overrides,
    ]
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) >= 1, result.stderr
    message = errors[-1]
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize(
    "override, fragments",
    [
        ("--config.strategy.sample_size=50", ["strategy.sample_size", "50"]),
        ("--config.parallel.backend=threads", ["parallel.backend", "threads"]),
        ("--config.budget.evaluations=0", ["budget.evaluations"]),
        ("--config.dataset.name=imagenet", ["imagenet", "mnist1d"]),
        ("--config.space.kernel_sizes=(2,4)", ["space.kernel_sizes"]),
        ("--config.parallel.num_devices=64", ["parallel.num_devices=64"]),
    ],
)
def test_bad_config_values(tmp_path, override, fragments):
    _assert_one_line_error(_run(tmp_path, override), *fragments)


def test_missing_and_malformed_data_files(tmp_path):
    missing = tmp_path / "missing.npz"
    _assert_one_line_error(_run(tmp_path, f"--config.dataset.name=npz:{missing}"), str(missing))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    _assert_one_line_error(_run(tmp_path, f"--config.dataset.name=npz:{garbage}"), str(garbage))
    bad_labels = tmp_path / "labels.npz"
    np.savez(bad_labels, x=np.zeros((20, 3), np.float32), y=np.full((20,), np.nan, np.float32))
    _assert_one_line_error(_run(tmp_path, f"--config.dataset.name=npz:{bad_labels}"), "'y'")
    csv = tmp_path / "data.csv"
    csv.write_text("a,b,label\n1,2,0\n3,x,1\n")
    _assert_one_line_error(_run(tmp_path, f"--config.dataset.name=csv:{csv}"), str(csv))


def test_unknown_config_key_and_missing_config_file(tmp_path):
    result = _run(tmp_path, "--config.strategy.no_such_key=3")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "no_such_key" in result.stderr
    command = [
        sys.executable,
        os.path.join(REPO, "experiments", "search.py"),
        "--config=nope.py",
        f"--workdir={tmp_path}",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=REPO)
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "nope.py" in result.stderr


def test_existing_run_with_another_config_is_refused(tmp_path):
    """A workdir is resumed only by the config it was started with: another one
    is refused naming the differing keys, and records without a config too;
    nothing in the workdir changes."""
    spec = importlib.util.spec_from_file_location("tiny_config", CONFIG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    saved = module.get_config()
    saved.seed = 7
    saved.train.steps = 5
    workdir = tmp_path / "run"
    workdir.mkdir()
    (workdir / "config.json").write_text(json.dumps(saved.to_dict()))
    (workdir / "history.jsonl").write_text('{"id": 0}\n')
    result = _run(tmp_path, workdir=workdir)
    _assert_one_line_error(result, str(workdir), "seed, train.steps", "--overwrite")
    assert (workdir / "history.jsonl").read_text() == '{"id": 0}\n'

    (workdir / "config.json").unlink()
    _assert_one_line_error(_run(tmp_path, workdir=workdir), str(workdir), "--overwrite")
    assert (workdir / "history.jsonl").read_text() == '{"id": 0}\n'

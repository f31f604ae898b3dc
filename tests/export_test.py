"""A finished search exports its best pathway into WORKDIR/best/: the code runs
without pathways_jax, and predict.py reproduces the reported test metrics;
experiments/export.py exports any rank."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from pathways_jax import api, run_export
from pathways_jax.config import load_config_file

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTOR_CONFIG = os.path.join(REPO, "tests", "configs", "tiny_vector.py")
HAS_TORCH = importlib.util.find_spec("torch") is not None


_load_config = load_config_file


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("run"))
    summary = api.run_search(
        _load_config(VECTOR_CONFIG), workdir, command="python experiments/search.py --tiny"
    )
    return workdir, summary


def _run_without_pathways_jax(script, *args):
    """Run ``script`` in a fresh interpreter in which pathways_jax cannot be imported."""
    runner = (
        "import runpy, sys; sys.modules['pathways_jax'] = None; "
        f"sys.argv = {[script, *args]!r}; runpy.run_path({script!r}, run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", runner],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.path.dirname(script),
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
    )


def test_search_exports_the_best_pathway(finished_run):
    workdir, summary = finished_run
    best = os.path.join(workdir, "best")
    expected = {"model.py", "params.msgpack", "predict.py", "preprocessing.json", "pathway.txt"}
    expected |= {"test_split.npz", "genome.json"}
    if HAS_TORCH:
        expected |= {"model_torch.py", "weights.pt"}
    assert expected <= set(os.listdir(best))
    with open(os.path.join(best, "model.py"), encoding="utf-8") as file:
        source = file.read()
    assert summary["best_description"] in source
    assert "python experiments/search.py --tiny" in source
    assert f"accuracy={summary['final']['test']['accuracy']:.4f}" in source
    with open(os.path.join(best, "pathway.txt"), encoding="utf-8") as file:
        assert file.readline().strip() == summary["best_description"]


@pytest.mark.parametrize(
    "framework",
    ["flax", pytest.param("torch", marks=pytest.mark.skipif(not HAS_TORCH, reason="no torch"))],
)
def test_predict_script_reproduces_the_test_accuracy(finished_run, framework):
    workdir, summary = finished_run
    best = os.path.join(workdir, "best")
    result = _run_without_pathways_jax(
        os.path.join(best, "predict.py"), "--data=test_split.npz", f"--framework={framework}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"accuracy: ([0-9.]+) \((\d+)/(\d+)\)", result.stdout)
    assert match, result.stdout
    correct, count = int(match.group(2)), int(match.group(3))
    assert correct / count == pytest.approx(summary["final"]["test"]["accuracy"], abs=1e-6)


def test_predict_script_reports_a_bad_data_file(finished_run, tmp_path):
    workdir, _ = finished_run
    result = _run_without_pathways_jax(
        os.path.join(workdir, "best", "predict.py"), f"--data={tmp_path / 'missing.npz'}"
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "missing.npz" in result.stderr


def _export(*args):
    command = [sys.executable, os.path.join(REPO, "experiments", "export.py"), *args]
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


def test_export_command_reproduces_the_best_and_exports_other_ranks(finished_run, tmp_path):
    workdir, _ = finished_run
    first = _export(f"--workdir={workdir}", "--rank=1", f"--out={tmp_path / 'first'}")
    assert first.returncode == 0, first.stderr[-3000:]
    exported = (tmp_path / "first" / "params.msgpack").read_bytes()
    with open(os.path.join(workdir, "best", "params.msgpack"), "rb") as searched:
        assert exported == searched.read()
    second = _export(
        f"--workdir={workdir}", "--rank=2", "--format=flax", f"--out={tmp_path / 'second'}"
    )
    assert second.returncode == 0, second.stderr[-3000:]
    assert (tmp_path / "second" / "model.py").exists()


def test_rank_export_on_one_device_gives_the_weights_of_a_two_device_search(tmp_path):
    """The search retrains its finalists in the same one-candidate program on
    any layout, so a later export on another device count reproduces ``best/``."""
    workdir = tmp_path / "run"
    search = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO, "experiments", "search.py"),
            f"--config={VECTOR_CONFIG}",
            f"--workdir={workdir}",
            "--config.budget.evaluations=8",
            "--config.progress.report=False",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, PYTHONPATH=REPO, JAX_NUM_CPU_DEVICES="2"),
    )
    assert search.returncode == 0, search.stderr[-3000:]
    command = [sys.executable, os.path.join(REPO, "experiments", "export.py")]
    exported = subprocess.run(
        [
            *command,
            f"--workdir={workdir}",
            "--rank=1",
            "--format=flax",
            f"--out={tmp_path / 'one'}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, PYTHONPATH=REPO, JAX_NUM_CPU_DEVICES="1"),
    )
    assert exported.returncode == 0, exported.stderr[-3000:]
    searched = (workdir / "best" / "params.msgpack").read_bytes()
    assert (tmp_path / "one" / "params.msgpack").read_bytes() == searched


def test_export_command_errors(finished_run, tmp_path):
    workdir, _ = finished_run
    result = _export(f"--workdir={workdir}", f"--out={tmp_path}", "--format=onnx")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "onnx" in result.stderr
    # A rank the run does not have: the command prints the ExportError's line
    # (as it does for a directory without a run, below).
    for rank in (999, 0):
        with pytest.raises(run_export.ExportError, match=f"--rank={rank}"):
            run_export.export_rank(str(workdir), rank, str(tmp_path / "out"))


def test_export_command_refuses_a_directory_without_a_run(tmp_path):
    result = _export(f"--workdir={tmp_path}", f"--out={tmp_path / 'out'}")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "config.json" in result.stderr

"""Checkpoints and resuming: a search stopped, killed or pre-empted at any
point and started again ends with the same records as an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from pathways_jax import api
from pathways_jax.runs import checkpoints, preemption, records
from pathways_jax.runs import workdir as run_workdir
from tests.search_test import VECTOR_CONFIG, _load_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Measurements of the process, not of the search: they differ between sessions.
SESSION_FIELDS = ("wall_seconds", "candidates_per_second", "xla_compilations")


def _config(**changes):
    config = _load_config(VECTOR_CONFIG)
    config.checkpoint.every_rounds = 2
    config.progress.report = False
    for key, value in changes.items():
        section, name = key.split("__")
        config[section][name] = value
    return config


def _read(workdir, name):
    with open(os.path.join(workdir, name), encoding="utf-8") as file:
        return file.read()


def _metrics_without_session_fields(workdir):
    lines = records.read_json_lines(os.path.join(workdir, records.METRICS_FILE))
    return [{k: v for k, v in line.items() if k not in SESSION_FIELDS} for line in lines]


def _assert_same_run(workdir, reference):
    assert _read(workdir, records.HISTORY_FILE) == _read(reference, records.HISTORY_FILE)
    assert _metrics_without_session_fields(workdir) == _metrics_without_session_fields(reference)
    assert _read(workdir, records.BEST_GENOME_FILE) == _read(reference, records.BEST_GENOME_FILE)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted tiny search (5 rounds of 4 candidates)."""
    workdir = str(tmp_path_factory.mktemp("reference"))
    summary = api.run_search(_config(), workdir)
    return workdir, summary


def _stop_after(workdir, rounds, config=None, overwrite=False):
    with pytest.raises(preemption.SearchInterrupted, match="run the same command again"):
        api.run_search(config or _config(), workdir, overwrite=overwrite, stop_after_rounds=rounds)


def test_stopped_run_resumes_to_the_same_records(reference, tmp_path):
    reference_dir, reference_summary = reference
    workdir = str(tmp_path)
    _stop_after(workdir, 3)
    assert checkpoints.saved_steps(workdir) == [2, 3]
    assert len(records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))) == 12
    summary = api.run_search(_config(), workdir)
    _assert_same_run(workdir, reference_dir)
    assert summary["final"] == reference_summary["final"]
    assert summary["best_id"] == reference_summary["best_id"]
    # A complete run is not run again: the command returns its summary.
    again = api.run_search(_config(), workdir)
    assert again["final"] == summary["final"]
    assert _read(workdir, records.HISTORY_FILE) == _read(reference_dir, records.HISTORY_FILE)


def test_lines_after_the_checkpoint_are_dropped_and_a_corrupt_one_is_skipped(
    reference, tmp_path, caplog
):
    workdir = str(tmp_path)
    _stop_after(workdir, 3)
    # Round 3 was written to the records and its checkpoint then damaged (as
    # if the process died while saving): resuming falls back to round 2 and
    # drops round 3's lines before writing them again.
    state_dir = os.path.join(workdir, checkpoints.CHECKPOINT_DIR, "3", checkpoints.STATE_ITEM)
    for root, _, files in os.walk(state_dir):
        for name in files:
            with open(os.path.join(root, name), "wb") as file:
                file.write(b"\0garbage")
    with caplog.at_level("WARNING"):
        api.run_search(_config(), workdir)
    assert "Checkpoint 3 is not usable: it cannot be read" in caplog.text
    assert "Resuming from the older checkpoint 2" in caplog.text
    _assert_same_run(workdir, reference[0])
    # TensorBoard drops the events written after the checkpoint (round 3 of
    # the first session): every round appears once.
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(os.path.join(workdir, "tensorboard"))
    events.Reload()
    assert [event.step for event in events.Scalars("fitness/best")] == [4, 8, 12, 16, 20]


def test_no_usable_checkpoint_is_a_clear_error(tmp_path):
    workdir = str(tmp_path)
    _stop_after(workdir, 2)
    with open(os.path.join(workdir, records.HISTORY_FILE), "w", encoding="utf-8") as file:
        file.write("")  # The records the checkpoint refers to are gone.
    with pytest.raises(
        checkpoints.CheckpointError, match="no checkpoint .* is usable.*--overwrite"
    ):
        api.run_search(_config(), workdir)
    # --overwrite starts afresh.
    _stop_after(workdir, 1, overwrite=True)
    assert checkpoints.saved_steps(workdir) == [1]
    search_records = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    assert [r["id"] for r in search_records] == [0, 1, 2, 3]


def test_a_different_config_is_refused_naming_the_keys(reference, tmp_path):
    reference_dir, _ = reference
    before = _read(reference_dir, records.HISTORY_FILE)
    config = _config(train__steps=31, strategy__sample_size=2)
    with pytest.raises(api.WorkdirError) as error:
        api.run_search(config, reference_dir)
    message = str(error.value)
    assert "strategy.sample_size, train.steps" in message and "--overwrite" in message
    assert "\n" not in message
    assert _read(reference_dir, records.HISTORY_FILE) == before
    # Settings that do not change results may differ.
    changed = _config(checkpoint__keep=1, parallel__backend="pmap")
    assert run_workdir.config_differences(_config().to_dict(), changed.to_dict()) == []


def test_state_round_trips_through_host_arrays():
    import jax

    state = {"key": jax.random.key(3), "values": jax.numpy.arange(4.0)}
    host = checkpoints.state_to_host(state)
    assert all(not jax.dtypes.issubdtype(v.dtype, jax.dtypes.prng_key) for v in host.values())
    back = checkpoints.state_from_host(state, host)
    assert jax.random.key_data(back["key"]).tolist() == jax.random.key_data(state["key"]).tolist()
    assert back["values"].tolist() == [0.0, 1.0, 2.0, 3.0]


def _start_cli(workdir, config_path, *overrides):
    command = [
        sys.executable,
        os.path.join(REPO, "experiments", "search.py"),
        f"--config={config_path}",
        f"--workdir={workdir}",
        *overrides,
    ]
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_rounds(process, workdir, rounds, timeout=300):
    path = os.path.join(workdir, records.METRICS_FILE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode()[-3000:])
        if os.path.exists(path):
            with open(path, encoding="utf-8") as file:
                if len(file.readlines()) >= rounds:
                    return
        time.sleep(0.02)
    raise AssertionError("the search did not reach the round in time")


def _history_lines(workdir, count):
    path = os.path.join(workdir, records.HISTORY_FILE)
    return lambda: os.path.exists(path) and len(records.read_json_lines(path)) >= count


def _saving(workdir):
    """True once orbax has started writing a checkpoint (its step directory,
    temporary or final, appears)."""
    path = os.path.join(workdir, checkpoints.CHECKPOINT_DIR)
    return lambda: os.path.isdir(path) and bool(os.listdir(path))


def _kill_when(process, condition, timeout=300):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode()[-3000:])
        if time.monotonic() > deadline:
            raise AssertionError("the search did not reach the point in time")
        time.sleep(0.005)
    process.kill()
    process.wait()


@pytest.mark.parametrize(
    "point",
    [
        # Round 2 is training; there is no checkpoint yet (the first is after round 2).
        "mid_round_before_any_checkpoint",
        # The checkpoint of round 2 is being written (or has just been).
        "mid_save",
    ],
)
def test_sigkill_at_several_points_resumes_to_an_uninterrupted_run(reference, tmp_path, point):
    """The search command killed with SIGKILL at ``point``, then started again
    (here, in this process): history, metrics and best genome equal those of
    the uninterrupted reference run; no candidate lost, none duplicated."""
    workdir = str(tmp_path / "killed")
    overrides = ["--config.checkpoint.every_rounds=2", "--config.progress.report=False"]
    process = _start_cli(workdir, VECTOR_CONFIG, *overrides)
    condition = _history_lines(workdir, 4) if point.startswith("mid_round") else _saving(workdir)
    _kill_when(process, condition)
    api.run_search(_config(), workdir)
    _assert_same_run(workdir, reference[0])
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    assert [r["id"] for r in history] == list(range(20))
    # TensorBoard drops what the killed process wrote past its checkpoint.
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(os.path.join(workdir, "tensorboard"))
    events.Reload()
    assert [event.step for event in events.Scalars("fitness/best")] == [4, 8, 12, 16, 20]


def test_killed_and_preempted_processes_resume_to_the_same_records(tmp_path):
    """SIGKILL at an arbitrary point, then SIGTERM of the resumed process, then
    a resume here: the history equals one of an uninterrupted run."""
    workdir = str(tmp_path / "killed")
    # A long budget so that the processes are still running when signalled.
    overrides = ["--config.budget.evaluations=400", "--config.checkpoint.every_rounds=2"]
    process = _start_cli(workdir, VECTOR_CONFIG, *overrides)
    _wait_for_rounds(process, workdir, 3)
    process.kill()
    process.wait()

    process = _start_cli(workdir, VECTOR_CONFIG, *overrides)
    _wait_for_rounds(process, workdir, 5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    stderr = stderr.decode()
    assert process.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert "Traceback" not in stderr
    assert "stopped by SIGTERM" in stderr and "run the same command again" in stderr
    stopped_at = checkpoints.saved_steps(workdir)[-1]
    lines = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    assert len(lines) == 4 * stopped_at

    config = _config(budget__evaluations=400)
    _stop_after(workdir, stopped_at + 2, config)
    reference_dir = str(tmp_path / "reference")
    _stop_after(reference_dir, stopped_at + 2, config)
    assert _read(workdir, records.HISTORY_FILE) == _read(reference_dir, records.HISTORY_FILE)
    assert _metrics_without_session_fields(workdir) == _metrics_without_session_fields(
        reference_dir
    )
    history = records.read_json_lines(os.path.join(workdir, records.HISTORY_FILE))
    assert [r["id"] for r in history] == list(range(4 * (stopped_at + 2)))
    saved = json.loads(_read(workdir, records.CONFIG_FILE))
    assert saved["budget"]["evaluations"] == 400


def test_a_config_without_records_is_replaced(tmp_path):
    """A run that failed before its first round (bad data, say) left only its
    config.json: the corrected command starts afresh instead of being refused."""
    workdir = str(tmp_path)
    failed = _config()
    failed.seed = 3
    records.write_json(os.path.join(workdir, records.CONFIG_FILE), failed.to_dict())
    assert run_workdir.prepare(workdir, _config().to_dict(), overwrite=False) is False
    saved = records.read_json(os.path.join(workdir, records.CONFIG_FILE))
    assert run_workdir.config_differences(saved, _config().to_dict()) == []

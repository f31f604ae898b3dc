"""Multi-process searches: several local processes form one jax.distributed job."""

import os
import signal
import subprocess
import sys
import time

import pytest

from pathways_jax import distributed
from pathways_jax.runs import records

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(REPO, "tests", "configs", "tiny_sequence.py")
LAUNCH = os.path.join(REPO, "scripts", "launch_local.sh")
HEARTBEAT_SECONDS = 10
# Enough rounds (of 3 candidates) that a process can be killed mid-run.
OVERRIDES = (
    "--config.budget.evaluations=30",
    "--config.checkpoint.every_rounds=1",
    "--config.progress.report=False",
)


def _read(workdir, name):
    with open(os.path.join(workdir, name), encoding="utf-8") as file:
        return file.read()


class _Launch:
    """``scripts/launch_local.sh`` running in the background, its output in files
    (pipes could fill up while the test polls)."""

    def __init__(self, command, env, log_prefix):
        self.out_path, self.err_path = f"{log_prefix}.out", f"{log_prefix}.err"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)

    def poll(self):
        return self.process.poll()

    def communicate(self, timeout):
        """``(stdout, stderr)`` once the launch has ended."""
        self.process.wait(timeout=timeout)
        with open(self.out_path) as out, open(self.err_path) as err:
            return out.read(), err.read()

    @property
    def returncode(self):
        return self.process.returncode


def _launch(workdir, num_processes=2, devices_per_process=2):
    env = dict(
        os.environ,
        PYTHON=sys.executable,
        PYTHONPATH=REPO,
        PATHWAYS_JAX_DEVICES_PER_PROCESS=str(devices_per_process),
    )
    command = [
        LAUNCH,
        str(num_processes),
        f"--config={CONFIG}",
        f"--workdir={workdir}",
        f"--heartbeat_timeout_seconds={HEARTBEAT_SECONDS}",
        *OVERRIDES,
    ]
    logs = f"{workdir}.launch{len(os.listdir(os.path.dirname(workdir)))}"
    return _Launch(command, env, logs)


@pytest.fixture(scope="module")
def one_process_history(tmp_path_factory):
    """History of the search on 1 process with 4 devices."""
    workdir = str(tmp_path_factory.mktemp("one_process"))
    env = dict(os.environ, JAX_NUM_CPU_DEVICES="4", PYTHONPATH=REPO)
    command = [
        sys.executable,
        os.path.join(REPO, "experiments", "search.py"),
        f"--config={CONFIG}",
        f"--workdir={workdir}",
        *OVERRIDES,
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return _read(workdir, records.HISTORY_FILE)


def test_two_processes_of_two_devices_equal_one_process_of_four(one_process_history, tmp_path):
    launch = _launch(str(tmp_path))
    stdout, stderr = launch.communicate(timeout=900)
    assert launch.returncode == 0, stderr[-3000:]
    assert _read(str(tmp_path), records.HISTORY_FILE) == one_process_history
    # Only process 0 speaks and writes.
    assert "Best pathway:" in stdout and "[process 1] Best pathway" not in stdout
    assert os.path.exists(os.path.join(tmp_path, "best", "model.py"))


def _pid_of_process(workdir: str, process_id: int) -> int | None:
    """The pid of the search process ``process_id`` running on ``workdir``."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                arguments = file.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if (
            f"--workdir={workdir}" in arguments
            and f"--process_id={process_id}" in arguments
            and any(argument.endswith("search.py") for argument in arguments)
        ):
            return int(entry)
    return None


def _rounds_done(workdir: str) -> int:
    path = os.path.join(workdir, records.METRICS_FILE)
    if not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as file:
        return sum(1 for line in file if line.endswith("\n"))


def test_killed_process_stops_the_job_and_a_relaunch_resumes(one_process_history, tmp_path):
    workdir = str(tmp_path)
    launch = _launch(workdir)
    # Kill process 1 once two rounds are recorded (and checkpointed).
    while _rounds_done(workdir) < 2:
        assert launch.poll() is None, launch.communicate(timeout=1)[1][-3000:]
        time.sleep(0.05)
    os.kill(_pid_of_process(workdir, 1), signal.SIGKILL)
    # Process 0 is stopped by JAX's heartbeat check, not left hanging.
    _, stderr = launch.communicate(timeout=HEARTBEAT_SECONDS + 120)
    assert launch.returncode != 0
    summary = stderr.strip().splitlines()[-1]
    assert summary.startswith("launch_local.sh: error:"), summary
    assert "process 1 was killed by signal 9" in summary
    assert "resume from the last checkpoint" in summary
    rounds_before = _rounds_done(workdir)
    assert 2 <= rounds_before < 10

    relaunch = _launch(workdir)
    _, stderr = relaunch.communicate(timeout=900)
    assert relaunch.returncode == 0, stderr[-3000:]
    assert "Resuming from" in stderr
    assert _read(workdir, records.HISTORY_FILE) == one_process_history


@pytest.mark.parametrize(
    "flags, message",
    [
        (("localhost:1234", None, None), "--coordinator_address given without"),
        (("localhost", 2, 0), "--coordinator_address must be HOST:PORT"),
        (("localhost:1234", 2, 2), "--process_id must be in [0, 1]"),
        (("localhost:1234", 0, 0), "--num_processes must be at least 1"),
    ],
)
def test_bad_flags_are_named(flags, message):
    with pytest.raises(distributed.DistributedError, match=message.replace("[", r"\[")):
        distributed.check_flags(*flags)


def test_cluster_detection_counts_tasks():
    assert distributed.detected_cluster({}) is None
    assert distributed.detected_cluster({"SLURM_STEP_NUM_TASKS": "1"}) is None
    assert distributed.detected_cluster({"SLURM_STEP_NUM_TASKS": "8"}) == "SLURM"
    assert distributed.detected_cluster({"OMPI_COMM_WORLD_SIZE": "4"}) == "Open MPI"
    assert distributed.detected_cluster({"TPU_WORKER_HOSTNAMES": "a,b"}) == "Cloud TPU"


def test_single_process_helpers_pass_values_through():
    assert distributed.primary_value(lambda: {"a": 1}, (ValueError,)) == {"a": 1}
    assert distributed.any_process(True) and not distributed.any_process(False)
    with pytest.raises(ValueError, match="named"):
        distributed.primary_value(lambda: (_ for _ in ()).throw(ValueError("named")), ())

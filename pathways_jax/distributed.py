"""One search over several processes with ``jax.distributed``.

A multi-process search is JAX's multi-controller model: every process runs the
same program on the same config and seed. The population is split over the
global mesh of all processes' devices; the population program gathers every
candidate's metrics onto every process, so all processes hold the same
strategy state round after round without exchanging it. Only the primary
process (index 0) reads and writes the workdir; what it reads there (the
decision to resume, the restored checkpoint, the kept history) is broadcast
to the others with :func:`primary_value`.

On the CPU, collectives use gloo. :func:`initialize` must run before JAX
creates its backends (before the first array or ``jax.devices()``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

MODES = ("auto", "on", "off")
# Environment variables that say this process is one task of a multi-process
# job started by a launcher JAX detects itself (SLURM's srun, Open MPI's mpirun,
# a multi-host Cloud TPU VM).
CLUSTER_TASK_COUNTS = {
    "SLURM": "SLURM_STEP_NUM_TASKS",
    "Open MPI": "OMPI_COMM_WORLD_SIZE",
}
TPU_HOSTS_VARIABLE = "TPU_WORKER_HOSTNAMES"


class DistributedError(ValueError):
    """The multi-process settings are wrong (the message names the flag)."""


def detected_cluster(environ: dict[str, str] | None = None) -> str | None:
    """Name of the multi-process launcher this process runs under, or None.

    Only launches of more than one task count: a single ``srun`` task or a
    one-host TPU VM is an ordinary single-process search.
    """
    environ = os.environ if environ is None else environ
    for name, variable in CLUSTER_TASK_COUNTS.items():
        if environ.get(variable, "1").strip().isdigit() and int(environ.get(variable, "1")) > 1:
            return name
    if "," in environ.get(TPU_HOSTS_VARIABLE, ""):
        return "Cloud TPU"
    return None


def check_flags(
    coordinator_address: str | None,
    num_processes: int | None,
    process_id: int | None,
    mode: str = "auto",
) -> bool:
    """Whether the flags ask for a multi-process job; raises
    :class:`DistributedError` naming the flag that is wrong."""
    if mode not in MODES:
        raise DistributedError(f"--distributed must be one of {MODES}, got {mode!r}")
    given = {
        "--coordinator_address": coordinator_address,
        "--num_processes": num_processes,
        "--process_id": process_id,
    }
    named = [flag for flag, value in given.items() if value is not None]
    if named and len(named) < len(given):
        missing = [flag for flag in given if flag not in named]
        raise DistributedError(
            f"{', '.join(named)} given without {', '.join(missing)}: a multi-process job "
            "needs all three (or none of them, where SLURM, Open MPI or Cloud TPU set them)"
        )
    if named:
        if mode == "off":
            raise DistributedError(f"--distributed=off contradicts {', '.join(named)}")
        host, _, port = coordinator_address.rpartition(":")
        if not host or not port.isdigit():
            raise DistributedError(
                f"--coordinator_address must be HOST:PORT (e.g. localhost:12345), "
                f"got {coordinator_address!r}"
            )
        if num_processes < 1:
            raise DistributedError(f"--num_processes must be at least 1, got {num_processes}")
        if not 0 <= process_id < num_processes:
            raise DistributedError(
                f"--process_id must be in [0, {num_processes - 1}] for "
                f"--num_processes={num_processes}, got {process_id}"
            )
        return True
    return mode == "on" or (mode == "auto" and detected_cluster() is not None)


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    mode: str = "auto",
    heartbeat_timeout_seconds: int = 100,
) -> bool:
    """Join a multi-process JAX job when the flags or the cluster ask for one.

    With ``coordinator_address``, ``num_processes`` and ``process_id`` the job
    is formed explicitly (``scripts/launch_local.sh`` passes them); with none
    of them, ``jax.distributed.initialize()`` detects SLURM, Open MPI or Cloud
    TPU itself. A process that stops sending heartbeats for
    ``heartbeat_timeout_seconds`` is declared dead and every other process of
    the job is stopped (no hang).

    Returns:
      True when this process is now one of a multi-process job.
    """
    if not check_flags(coordinator_address, num_processes, process_id, mode):
        return False
    if heartbeat_timeout_seconds < 1:
        raise DistributedError(
            f"--heartbeat_timeout_seconds must be at least 1, got {heartbeat_timeout_seconds}"
        )
    # CPU devices of different processes talk through gloo (the default has no
    # cross-process collectives); accelerators use their own.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(
            coordinator_address=coordinator_address,
            num_processes=num_processes,
            process_id=process_id,
            heartbeat_timeout_seconds=heartbeat_timeout_seconds,
            # A process that fails alone waits this long for the others at exit.
            shutdown_timeout_seconds=max(60, heartbeat_timeout_seconds),
        )
    except (RuntimeError, ValueError) as error:
        detail = " ".join(str(error).split())[:300]
        raise DistributedError(f"jax.distributed.initialize failed: {detail}") from None
    return True


def is_primary() -> bool:
    """Whether this process reads and writes the workdir (process 0)."""
    return jax.process_index() == 0


def _broadcast_bytes(payload: bytes) -> bytes:
    """``payload`` of the primary process, on every process."""
    from jax.experimental import multihost_utils

    length = multihost_utils.broadcast_one_to_all(np.asarray(len(payload), np.int64))
    buffer = np.zeros(int(length), np.uint8)
    if is_primary():
        buffer[:] = np.frombuffer(payload, np.uint8)
    return np.asarray(multihost_utils.broadcast_one_to_all(buffer)).tobytes()


def primary_value(
    compute: Callable[[], Any],
    errors: tuple[type[Exception], ...],
    encode: Callable[[Any], str] = json.dumps,
    decode: Callable[[str], Any] = json.loads,
):
    """``compute()`` run on the primary process only, its value on every process.

    An exception raised by ``compute`` on the primary is raised on every
    process, so that all of them stop together instead of waiting for each
    other: with the same type and message when it is one of ``errors``, else
    as a ``RuntimeError`` naming it.

    Args:
      compute: what only the primary may do (read the workdir, say).
      errors: the exception types passed on to the other processes as they are.
      encode, decode: how the value travels (JSON by default).
    """
    if jax.process_count() == 1:
        return compute()
    message, failure = {}, None
    if is_primary():
        try:
            message = {"value": encode(compute())}
        except Exception as error:  # noqa: BLE001 - passed on, then raised again.
            message = {"error": type(error).__name__, "message": str(error)}
            failure = error
    message = json.loads(_broadcast_bytes(json.dumps(message).encode()).decode())
    if failure is not None:
        raise failure
    if "error" in message:
        by_name = {kind.__name__: kind for kind in errors}
        if message["error"] in by_name:
            raise by_name[message["error"]](message["message"])
        raise RuntimeError(f"process 0 failed with {message['error']}: {message['message']}")
    return decode(message["value"])


def broadcast_arrays(tree):
    """The primary's pytree of host arrays on every process (same structure
    and shapes on all of them)."""
    if jax.process_count() == 1:
        return tree
    from jax.experimental import multihost_utils

    return jax.tree_util.tree_map(np.asarray, multihost_utils.broadcast_one_to_all(tree))


def open_collectives(mesh) -> None:
    """Create the communicator of ``mesh``'s devices now, with a tiny gather.

    Processes reach a program's first collective at different times when one
    compiles the program while another loads it from the persistent cache;
    gloo allows only 30 s for all of them to join a new communicator, but once
    it exists a collective waits as long as it takes.
    """
    if jax.process_count() == 1:
        return
    from jax.sharding import PartitionSpec

    axis = mesh.axis_names[0]
    gather = jax.shard_map(
        lambda x: jax.lax.all_gather(x, axis, tiled=True),
        mesh=mesh,
        in_specs=PartitionSpec(axis),
        out_specs=PartitionSpec(),
        check_vma=False,
    )
    np.asarray(jax.jit(gather)(np.zeros(mesh.devices.size, np.int32)))


def wait_for_all() -> None:
    """Return once every process has come here (the end of a search, while
    process 0 writes its last files), so that they all exit together."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices("pathways_jax")


def any_process(flag: bool) -> bool:
    """Whether ``flag`` is true on any process (a stop request, say)."""
    if jax.process_count() == 1:
        return bool(flag)
    from jax.experimental import multihost_utils

    flags = multihost_utils.process_allgather(np.asarray([flag], np.int32))
    return bool(np.any(flags))

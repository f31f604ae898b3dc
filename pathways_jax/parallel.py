"""Splitting a population over devices.

A population program maps a per-candidate function over a leading population
axis of size ``N``: candidates are split over a one-axis device mesh (axis
``'pop'``) and, inside a device, processed in chunks of ``vmap_width``
candidates (``vmap`` within a chunk, ``lax.map`` over chunks). With
``vmap_width=1`` (the default of a search) candidates run one after another
inside the program, so each runs only the branches its genes choose; wider
chunks batch candidates but run every branch of every block. Each candidate
is always computed by the same vmapped chunk program and with its own key, so
results do not depend on how candidates are split over devices, up to float
rounding: XLA:CPU splits operations over its threads according to the devices
and cores it compiles for, which can change the last bits (measured in
``docs/benchmarks.md``). ``N`` must be a multiple of ``num_devices *
vmap_width``; use :func:`padded_size` and pad.

In a multi-process job (see :mod:`pathways_jax.distributed`) the mesh spans
every process's devices and the outputs are gathered, so each process holds
the metrics of the whole population.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec

BACKENDS = ("shard_map", "pmap")
POPULATION_AXIS = "pop"


def population_mesh(num_devices: int | None = None) -> Mesh:
    """A one-axis mesh named ``'pop'`` over the first ``num_devices`` devices (all
    by default; in a multi-process job, all devices of all processes)."""
    devices = jax.devices()
    if jax.process_count() > 1 and num_devices not in (None, len(devices)):
        raise ValueError(
            f"parallel.num_devices={num_devices} but a job of {jax.process_count()} processes "
            f"uses all of its {len(devices)} devices; set parallel.num_devices=0"
        )
    if num_devices is not None:
        if not 1 <= num_devices <= len(devices):
            raise ValueError(
                f"parallel.num_devices={num_devices} but {len(devices)} device(s) are available"
            )
        devices = devices[:num_devices]
    return Mesh(np.asarray(devices), (POPULATION_AXIS,))


def padded_size(count: int, num_devices: int, vmap_width: int) -> int:
    """Smallest multiple of ``num_devices * vmap_width`` that is at least ``count``."""
    unit = num_devices * vmap_width
    return -(-count // unit) * unit


def pad_population(tree, size: int):
    """Pad every leaf's leading axis to ``size`` by repeating the first member."""

    def pad(leaf):
        leaf = jnp.asarray(leaf)
        extra = size - leaf.shape[0]
        if extra <= 0:
            return leaf
        return jnp.concatenate([leaf, jnp.repeat(leaf[:1], extra, axis=0)])

    return jax.tree_util.tree_map(pad, tree)


def _chunked(per_candidate: Callable, vmap_width: int, num_mapped: int) -> Callable:
    """Apply ``per_candidate`` to ``[n_local, ...]`` inputs in vmapped chunks."""

    def local(*args):
        mapped, shared = args[:num_mapped], args[num_mapped:]
        if vmap_width == 1:
            # No vmap at all: under vmap, lax.cond and lax.switch on per-candidate
            # genes become selects that run every branch; unbatched, only the
            # branch a candidate's genes choose runs.
            return jax.lax.map(lambda m: per_candidate(*m, *shared), mapped)
        local_size = jax.tree_util.tree_leaves(mapped)[0].shape[0]
        chunks = local_size // vmap_width
        reshape = lambda leaf: leaf.reshape(chunks, vmap_width, *leaf.shape[1:])
        chunked = jax.tree_util.tree_map(reshape, mapped)
        vmapped = jax.vmap(lambda *m: per_candidate(*m, *shared))
        outputs = jax.lax.map(lambda m: vmapped(*m), chunked)
        flatten = lambda leaf: leaf.reshape(local_size, *leaf.shape[2:])
        return jax.tree_util.tree_map(flatten, outputs)

    return local


def population_map(
    per_candidate: Callable,
    *,
    mesh: Mesh,
    backend: str = "shard_map",
    vmap_width: int = 4,
    num_mapped: int = 2,
) -> Callable:
    """Map ``per_candidate`` over the leading axis of its first ``num_mapped`` arguments.

    Args:
      per_candidate: ``f(*mapped_one_candidate, *shared) -> pytree``.
      mesh: one-axis device mesh (see :func:`population_mesh`).
      backend: ``'shard_map'`` (``jax.shard_map`` over the mesh) or ``'pmap'``.
      vmap_width: candidates computed together by ``vmap`` inside a device.
      num_mapped: how many leading arguments carry the population axis.

    Returns:
      A jitted function of the same arguments whose mapped arguments have a
      leading axis ``N`` (a multiple of ``devices * vmap_width``) and whose
      outputs have leading axis ``N``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"parallel.backend must be one of {BACKENDS}, got {backend!r}")
    multi_process = jax.process_count() > 1
    if multi_process and backend != "shard_map":
        raise ValueError(
            f"parallel.backend={backend!r} runs within one process; a job of "
            f"{jax.process_count()} processes needs parallel.backend='shard_map'"
        )
    local = _chunked(per_candidate, vmap_width, num_mapped)
    if multi_process:
        # Every process needs every candidate's outputs (to tell the strategy):
        # gather them over the mesh, the result is replicated.
        sharded = local
        gather = lambda leaf: jax.lax.all_gather(leaf, POPULATION_AXIS, tiled=True)
        local = lambda *args: jax.tree_util.tree_map(gather, sharded(*args))
    out_spec = PartitionSpec() if multi_process else PartitionSpec(POPULATION_AXIS)
    num_devices = mesh.devices.size
    if backend == "shard_map":

        @jax.jit
        def run(*args):
            specs = tuple(
                PartitionSpec(POPULATION_AXIS) if i < num_mapped else PartitionSpec()
                for i in range(len(args))
            )
            mapped_fn = jax.shard_map(
                local,
                mesh=mesh,
                in_specs=specs,
                out_specs=out_spec,
                check_vma=False,
            )
            return mapped_fn(*args)

        return run

    # jax.pmap: shared arguments are broadcast (in_axes None), mapped ones split.
    in_axes_cache: dict[int, Callable] = {}
    devices = list(mesh.devices.flat)

    def run_pmap(*args):
        num_shared = len(args) - num_mapped
        if num_shared not in in_axes_cache:
            in_axes = (0,) * num_mapped + (None,) * num_shared
            in_axes_cache[num_shared] = jax.pmap(
                local, in_axes=in_axes, devices=devices, axis_name=POPULATION_AXIS
            )
        split = lambda leaf: jnp.reshape(leaf, (num_devices, -1, *jnp.shape(leaf)[1:]))
        mapped = jax.tree_util.tree_map(split, args[:num_mapped])
        outputs = in_axes_cache[num_shared](*mapped, *args[num_mapped:])
        return jax.tree_util.tree_map(lambda leaf: leaf.reshape(-1, *leaf.shape[2:]), outputs)

    return run_pmap

"""What every benchmark shares: the MNIST-1D space and data, the fixed list of
pathways, the machine description, timing and result files.

Benchmarks run on purpose, not in the test suite; they never cache compiled
programs on disk, so every compilation they report is paid in the run.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.space import PathwaySpace

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(REPO_ROOT, "benchmarks", "results")
PATHWAY_SEED = 0

# Training genes every benchmark pathway shares, so that only the architecture
# differs: Adam, learning rate 10**-2.5, constant schedule, no weight decay or
# L1, batch 64, cross-entropy, no dropout.
SHARED_TRAINING = {
    "optimizer": genome_lib.OPTIMIZERS.index("adam"),
    "log10_learning_rate": -2.5,
    "schedule": genome_lib.SCHEDULES.index("constant"),
    "weight_decay": 0,
    "l1_penalty": 0,
    "loss": genome_lib.CLASSIFICATION_LOSSES.index("xent"),
}
BATCH_SIZE = 64


# Set by ``run.py --quick``: the smoke run (whose figures mean nothing) may reuse
# compiled programs through JAX's persistent cache; full runs never do.
KEEP_CACHE_VARIABLE = "PATHWAYS_JAX_BENCHMARK_KEEP_CACHE"


def disable_disk_cache() -> None:
    """Compile every program in this process (no persistent compilation cache),
    except in the quick smoke run."""
    if os.environ.get(KEEP_CACHE_VARIABLE) != "1":
        jax.config.update("jax_enable_compilation_cache", False)


def mnist1d_config(overrides: dict | None = None):
    """The default MNIST-1D search config (``configs/mnist1d.py``) with
    ``overrides`` ``{'section.key': value}`` applied."""
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    from configs import mnist1d

    config = mnist1d.get_config()
    for dotted, value in (overrides or {}).items():
        section, key = dotted.split(".")
        config[section][key] = value
    return config


def mnist1d_problem(overrides: dict | None = None, seed: int = 0):
    """``(space, dataset)`` of the default MNIST-1D search (with ``overrides``)."""
    from pathways_jax import data
    from pathways_jax.core.experiment import build_space

    config = mnist1d_config(overrides)
    dataset = data.load_dataset(config.dataset, seed=seed)
    return build_space(config, dataset), dataset


def _is_conv(space: PathwaySpace, genome) -> bool:
    return bool(np.any(np.asarray(genome.operation) == genome_lib.CONV))


def pathway_kinds(genomes) -> list[str]:
    """``'conv'`` or ``'dense'`` (no convolution) for each pathway of a population."""
    has_conv = np.any(np.asarray(genomes.operation) == genome_lib.CONV, axis=-1)
    return ["conv" if conv else "dense" for conv in has_conv]


def benchmark_pathways(space: PathwaySpace, count: int, seed: int = PATHWAY_SEED):
    """``count`` pathways drawn from ``space`` with ``seed``, half with a
    convolution and half without, sharing :data:`SHARED_TRAINING`, batch
    :data:`BATCH_SIZE` and no dropout.

    Returns:
      A population ``[count]`` (genome pytree with a leading axis).
    """
    draw = jax.jit(jax.vmap(space.sample))
    key = jax.random.key(seed)
    conv, plain = [], []
    attempt = 0
    while len(conv) < count - count // 2 or len(plain) < count // 2:
        sampled = jax.device_get(draw(jax.random.split(jax.random.fold_in(key, attempt), 64)))
        attempt += 1
        for index in range(64):
            one = genome_lib.index_population(sampled, index)
            if not np.any(np.asarray(one.operation) != genome_lib.IDENTITY):
                continue  # Depth 0 (the linear model) is not a network to benchmark.
            bucket = conv if _is_conv(space, one) else plain
            if len(bucket) < (count - count // 2 if bucket is conv else count // 2):
                bucket.append(one)
    chosen = [g for pair in zip(conv, plain, strict=False) for g in pair]
    chosen += conv[len(plain) :] + plain[len(conv) :]
    population = genome_lib.stack_genomes([jax.tree_util.tree_map(jnp.asarray, g) for g in chosen])
    batch_gene = space.tables.batch_sizes.index(BATCH_SIZE)
    fixed = dict(SHARED_TRAINING, batch_size=batch_gene)
    replaced = {
        name: jnp.full((count,), value, jnp.float32 if name == "log10_learning_rate" else jnp.int32)
        for name, value in fixed.items()
    }
    replaced["dropout"] = jnp.zeros_like(population.dropout)
    return population.replace(**replaced)


def machine() -> dict:
    """The machine the benchmarks ran on."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if "model name" in line]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jax_devices": [str(d) for d in jax.devices()],
        "torch": torch.__version__,
        "numpy": np.__version__,
        # Other work on the cores slows every timing (one-minute load average).
        "load_average_at_start": os.getloadavg()[0],
    }


def timed(fn, *args, **kwargs):
    """``(result, seconds)`` of ``fn(*args, **kwargs)`` (results fetched to the host)."""
    start = time.perf_counter()
    result = jax.block_until_ready(fn(*args, **kwargs))
    return result, time.perf_counter() - start


def write_result(name: str, result: dict, directory: str = RESULTS_DIR) -> str:
    """Write ``result`` to ``directory/name.json`` and return the path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{name}.json")
    with open(path, "w") as handle:
        json.dump(result, handle, indent=2, sort_keys=True, default=_jsonable)
        handle.write("\n")
    return path


def replace_doc_block(doc_path: str, block: str, command: str, body: str) -> None:
    """Put ``command`` and ``body`` between the page's ``<!-- BLOCK: begin -->``
    and ``<!-- BLOCK: end -->`` markers (the rest of the page is kept)."""
    begin, end = f"<!-- {block}: begin -->", f"<!-- {block}: end -->"
    with open(doc_path, encoding="utf-8") as handle:
        page = handle.read()
    start, stop = page.index(begin), page.index(end) + len(end)
    with open(doc_path, "w", encoding="utf-8") as handle:
        handle.write(f"{page[:start]}{begin}\n`{command}`\n\n{body}\n{end}{page[stop:]}")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def run_worker(module: str, args: dict, num_devices: int, timeout: float = 1800) -> dict:
    """Run ``python -m benchmarks.MODULE`` with ``num_devices`` fake CPU devices
    (set before JAX starts) and return the JSON it prints on its last line."""
    env = dict(os.environ, JAX_NUM_CPU_DEVICES=str(num_devices))
    if env.get(KEEP_CACHE_VARIABLE) != "1":
        env.pop("JAX_COMPILATION_CACHE_DIR", None)
    env["PYTHONPATH"] = REPO_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    completed = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", json.dumps(args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"benchmarks.{module} failed ({completed.returncode}):\n{completed.stderr[-3000:]}"
        )
    return json.loads(completed.stdout.strip().splitlines()[-1])

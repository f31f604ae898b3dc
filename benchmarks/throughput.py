"""Benchmark 1: candidates per second on the same 64 pathways, three ways.

(a) pathways_jax: the population program (``PopulationProgram``) trains and
    evaluates every pathway, split over all local devices; one compiled
    program per shape class, with the search's default classes ('vector'), and
    also measured with every class ('all') and with one program ('none').
(b) plain JAX: what a user writes without the framework — the pathway's own
    Flax module (``PlainNetwork``), an optax optimizer, and one ``jax.jit``
    train step per distinct architecture, stepped from a Python loop.
(c) PyTorch eager: the module, optimizer and ``train_step`` that
    ``codegen.to_source(space, genome, 'torch')`` emits, threads = cores.

All three start from the same initial weights (the super-network's, converted
with ``plain_params_from_supernet`` and ``torch_state_dict``) and see the same
minibatches (the indices the population program draws), so they do the same
work; their test accuracies are reported side by side.
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from benchmarks import common
from pathways_jax import codegen, parallel
from pathways_jax.population_program import PopulationProgram, candidate_keys
from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway import network as pathway_network
from pathways_jax.training import optimizers, trainer

TRAIN_SEED = 1


def training_keys(count: int):
    """One training key per pathway ``[count]`` (as a search derives them)."""
    return candidate_keys(jax.random.key(TRAIN_SEED), np.arange(count))


def minibatch_indices(keys, steps: int, num_examples: int, batch: int) -> np.ndarray:
    """The minibatch rows the population program draws: int32 ``[count, steps, batch]``."""

    def one(key):
        _, loop_key = jax.random.split(key)

        def rows(step):
            batch_key, _ = jax.random.split(jax.random.fold_in(loop_key, step))
            return jax.random.randint(batch_key, (batch,), 0, num_examples)

        return jax.vmap(rows)(jnp.arange(steps))

    return np.asarray(jax.jit(jax.vmap(one))(keys))


def initial_variables(space, genomes, keys) -> list[dict]:
    """PlainNetwork variables ``{'params': ...}`` of each pathway's initial weights."""
    init = jax.jit(
        jax.vmap(lambda g, k: pathway_network.init_params(space, g, jax.random.split(k)[0]))
    )
    params = jax.device_get(init(genomes, keys))
    variables = []
    for index in range(genome_lib.population_size(genomes)):
        one = genome_lib.index_population(genomes, index)
        one_params = jax.tree_util.tree_map(lambda leaf, i=index: leaf[i], params)
        variables.append(codegen.plain_params_from_supernet(space, one, one_params))
    return variables


def run_framework(
    space, genomes, keys, dataset, steps: int, mesh, shape_classes: str = "vector"
) -> dict:
    """(a): the population program, cold (compile included)."""
    program = PopulationProgram(space, steps, mesh, "shard_map", 1, shape_classes)
    test = trainer.make_eval_set(dataset.x_test, dataset.y_test, 1000)
    x_train, y_train = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
    start = time.perf_counter()
    metrics = program(genomes, keys, x_train, y_train, (test,))
    cold = time.perf_counter() - start
    count = genome_lib.population_size(genomes)
    return {
        "seconds": cold,
        "candidates_per_second": count / cold,
        "compilations": program.compilations,
        "shape_classes": shape_classes,
        "class_counts": program.class_counts(genomes),
        "accuracy": np.asarray(metrics["eval"][0]["accuracy"]).tolist(),
        "devices": int(mesh.devices.size),
        "program": program,
    }


def run_framework_warm(program, genomes, keys, dataset) -> dict:
    """A second call of the compiled program on the same pathways (no compilation)."""
    test = trainer.make_eval_set(dataset.x_test, dataset.y_test, 1000)
    x_train, y_train = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)
    start = time.perf_counter()
    program(genomes, keys, x_train, y_train, (test,))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "candidates_per_second": genome_lib.population_size(genomes) / seconds,
        "compilations": program.compilations,
    }


def run_plain_jax(space, genomes, variables, indices, dataset, steps: int) -> dict:
    """(b): one jitted train step per distinct architecture, a Python loop over steps."""
    learning_rate = 10.0 ** common.SHARED_TRAINING["log10_learning_rate"]
    x_train, y_train = dataset.x_train, dataset.y_train
    x_test, y_test = jnp.asarray(dataset.x_test), jnp.asarray(dataset.y_test)
    programs: dict[tuple, tuple] = {}
    accuracy, compile_step, step_seconds = [], [], []
    start = time.perf_counter()
    for index, variables_one in enumerate(variables):
        one = genome_lib.index_population(genomes, index)
        blocks = tuple(codegen.decode_blocks(space, one))
        architecture = tuple(tuple(sorted((k, str(v)) for k, v in b.items())) for b in blocks)
        if architecture not in programs:
            model = codegen.PlainNetwork(blocks=blocks, num_outputs=space.num_outputs)
            tx = optimizers.optax_chain("adam", learning_rate, 0.0)

            def loss_fn(params, x, y, model=model):
                logits = model.apply({"params": params}, x)
                return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

            @jax.jit
            def train_step(params, opt_state, x, y, tx=tx, loss_fn=loss_fn):
                loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
                updates, opt_state = tx.update(grads, opt_state, params)
                return optax.apply_updates(params, updates), opt_state, loss

            @jax.jit
            def test_accuracy(params, model=model):
                logits = model.apply({"params": params}, x_test)
                return jnp.mean(jnp.argmax(logits, -1) == y_test)

            programs[architecture] = (tx, train_step, test_accuracy)
        tx, train_step, test_accuracy = programs[architecture]
        params = jax.tree_util.tree_map(jnp.asarray, variables_one["params"])
        opt_state = tx.init(params)
        first = time.perf_counter()
        for step in range(steps):
            rows = indices[index, step]
            params, opt_state, loss = train_step(params, opt_state, x_train[rows], y_train[rows])
            if step == 0:
                jax.block_until_ready(loss)
                second = time.perf_counter()
        jax.block_until_ready(params)
        done = time.perf_counter()
        accuracy.append(float(test_accuracy(params)))
        compile_step.append(second - first)
        step_seconds.append((done - second) / max(steps - 1, 1))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "candidates_per_second": len(variables) / seconds,
        "distinct_architectures": len(programs),
        "accuracy": accuracy,
        "first_step_seconds": compile_step,
        "step_seconds": step_seconds,
    }


def torch_modules(space, genomes, steps: int) -> list[dict]:
    """The emitted PyTorch module namespaces of every pathway."""
    namespaces = []
    for index in range(genome_lib.population_size(genomes)):
        one = genome_lib.index_population(genomes, index)
        source = codegen.to_source(space, one, "torch", steps=steps)
        namespace: dict = {"__name__": f"pathway_{index}"}
        exec(compile(source, f"<pathway {index}>", "exec"), namespace)  # noqa: S102
        namespaces.append(namespace)
    return namespaces


def run_torch(namespaces, variables, indices, dataset, steps: int) -> dict:
    """(c): the emitted ``train_step`` in an eager loop, threads = cores."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    x_train = torch.from_numpy(np.ascontiguousarray(dataset.x_train, np.float32))
    y_train = torch.from_numpy(np.asarray(dataset.y_train, np.int64))
    states = [
        {k: torch.from_numpy(v.copy()) for k, v in codegen.torch_state_dict(v).items()}
        for v in variables
    ]
    rows_all = torch.from_numpy(np.asarray(indices, np.int64))
    accuracy, step_seconds = [], []
    start = time.perf_counter()
    for index, namespace in enumerate(namespaces):
        model = namespace["Pathway"]()
        model.load_state_dict(states[index])
        optimizer, schedule = namespace["make_optimizer"](model)
        first = time.perf_counter()
        for step in range(steps):
            rows = rows_all[index, step]
            namespace["train_step"](model, optimizer, schedule, x_train[rows], y_train[rows])
        step_seconds.append((time.perf_counter() - first) / steps)
        logits = namespace["predict"](model, dataset.x_test)
        accuracy.append(float(np.mean(np.argmax(logits, -1) == dataset.y_test)))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "candidates_per_second": len(namespaces) / seconds,
        "threads": torch.get_num_threads(),
        "accuracy": accuracy,
        "step_seconds": step_seconds,
    }


def run(
    count: int,
    steps: int,
    warm: bool = True,
    overrides: dict | None = None,
    variants: tuple[str, ...] = ("all", "none"),
) -> dict:
    """All three on ``count`` pathways × ``steps`` steps; figures and ratios.

    Returns the figures plus, under ``"problem"``, what the later benchmarks
    reuse (space, dataset, genomes, keys); drop it before writing JSON.
    """
    space, dataset = common.mnist1d_problem(overrides)
    genomes = common.benchmark_pathways(space, count)
    kinds = common.pathway_kinds(genomes)
    keys = training_keys(count)
    indices = minibatch_indices(keys, steps, dataset.x_train.shape[0], common.BATCH_SIZE)
    variables = initial_variables(space, genomes, keys)
    namespaces = torch_modules(space, genomes, steps)
    flops = np.asarray(
        jax.jit(jax.vmap(lambda g: pathway_network.count_flops(space, g)))(genomes), np.float64
    )
    mesh = parallel.population_mesh()

    framework = run_framework(space, genomes, keys, dataset, steps, mesh)
    program = framework.pop("program")
    plain = run_plain_jax(space, genomes, variables, indices, dataset, steps)
    torch_result = run_torch(namespaces, variables, indices, dataset, steps)
    framework_warm = run_framework_warm(program, genomes, keys, dataset) if warm else None
    # The other choices of parallel.shape_classes, cold then warm.
    variant_results = {}
    for choice in variants:
        variant = run_framework(space, genomes, keys, dataset, steps, mesh, choice)
        variant_program = variant.pop("program")
        if warm:
            variant["warm"] = run_framework_warm(variant_program, genomes, keys, dataset)
        variant_results[choice] = variant

    def mean_accuracy(result, kind=None):
        values = [a for a, k in zip(result["accuracy"], kinds, strict=True) if kind in (None, k)]
        return float(np.mean(values))

    accuracies = {
        name: {
            "mean": mean_accuracy(result),
            "conv": mean_accuracy(result, "conv"),
            "dense": mean_accuracy(result, "dense"),
        }
        for name, result in (("a", framework), ("b", plain), ("c", torch_result))
    }
    diffs = {
        pair: float(np.mean(np.abs(np.subtract(first["accuracy"], second["accuracy"]))))
        for pair, first, second in (
            ("a-b", framework, plain),
            ("a-c", framework, torch_result),
            ("b-c", plain, torch_result),
        )
    }
    train_flops = 3.0 * flops * common.BATCH_SIZE * steps  # forward + backward ≈ 3× forward
    return {
        "pathways": count,
        "conv_pathways": kinds.count("conv"),
        "steps": steps,
        "batch_size": common.BATCH_SIZE,
        "kinds": kinds,
        "descriptions": [
            space_describe(space, genome_lib.index_population(genomes, i)) for i in range(count)
        ],
        "forward_flops_per_example": flops.tolist(),
        "training_flops": float(np.sum(train_flops)),
        "a_framework": framework,
        "a_framework_warm": framework_warm,
        "a_shape_class_variants": variant_results,
        "b_plain_jax": plain,
        "c_torch": torch_result,
        "ratio_a_over_b": framework["candidates_per_second"] / plain["candidates_per_second"],
        "ratio_a_over_c": framework["candidates_per_second"]
        / torch_result["candidates_per_second"],
        "test_accuracy": accuracies,
        "mean_abs_accuracy_difference": diffs,
        "problem": {"space": space, "dataset": dataset, "genomes": genomes, "keys": keys},
    }


def space_describe(space, genome) -> str:
    return space.describe(genome)

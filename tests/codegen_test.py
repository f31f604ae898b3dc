"""Exported source: the emitted Flax and PyTorch modules compute what the
super-network computes, train as the framework trains, are deterministic,
clean and standalone, and refuse corrupted genomes."""

import ast
import functools
import importlib.util
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from plain_network_test import (
    BATCHES_PER_SPACE,
    HAND_MADE,
    SAMPLE_BATCH,
    SPACES,
    _key,
    _perturbed_params,
    _supernet,
    make_genome,
)

from pathways_jax import codegen
from pathways_jax.codegen import weights
from pathways_jax.spaces.pathway import network as pathway_network
from pathways_jax.spaces.pathway.genome import OPTIMIZERS, SCHEDULES, PathwayGenome
from pathways_jax.training import trainer

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 6
HAS_TORCH = importlib.util.find_spec("torch") is not None
FLAX_TOLERANCE = 1e-5
TORCH_TOLERANCE = 1e-4


def _random_genomes():
    """(space name, genome, seed) for every random and hand-made case."""
    cases = []
    for name in sorted(SPACES):
        space = SPACES[name]
        for batch in range(BATCHES_PER_SPACE[name]):
            keys = jax.random.split(_key(100 * batch + len(name) + 7), SAMPLE_BATCH)
            population = jax.device_get(jax.vmap(space.sample)(keys))
            for index in range(SAMPLE_BATCH):
                genome = jax.tree_util.tree_map(lambda leaf, i=index: leaf[i], population)
                cases.append((name, genome, len(cases)))
    for case in sorted(HAND_MADE):
        name, blocks = HAND_MADE[case]
        cases.append((name, make_genome(SPACES[name], blocks), len(cases)))
    return cases


def _write_case(directory, space, genome, params, inputs):
    os.makedirs(directory)
    variables = codegen.plain_params_from_supernet(space, genome, params)
    for target, module in (("flax", "model.py"), ("torch", "model_torch.py")):
        with open(os.path.join(directory, module), "w", encoding="utf-8") as file:
            file.write(codegen.to_source(space, genome, target, steps=100))
    with open(os.path.join(directory, "params.msgpack"), "wb") as file:
        file.write(weights.flax_params_bytes(variables))
    if HAS_TORCH:
        weights.write_torch_state_dict(
            os.path.join(directory, "weights.pt"), weights.torch_state_dict(variables)
        )
    np.save(os.path.join(directory, "inputs.npy"), inputs)


@pytest.fixture(scope="module")
def exported_cases(tmp_path_factory):
    """Every case exported to disk, run in a fresh interpreter; the super-network's
    outputs alongside."""
    root = tmp_path_factory.mktemp("exported")
    cases_dir = root / "cases"
    expected, labels = {}, {}
    for name, genome, seed in _random_genomes():
        space = SPACES[name]
        params = _perturbed_params(space, genome, seed)
        inputs = np.random.default_rng(seed + 1).normal(size=(BATCH, *space.input_shape))
        inputs = inputs.astype(np.float32)
        case = f"case{seed:03d}"
        _, supernet_apply = _supernet(space)
        expected[case] = np.asarray(supernet_apply(genome, params, inputs))
        labels[case] = (name, genome)
        _write_case(str(cases_dir / case), space, genome, params, inputs)
    script = os.path.join(HERE, "codegen_check_script.py")
    result = subprocess.run(
        [sys.executable, script, str(cases_dir)], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with np.load(root / "outputs.npz") as outputs:
        actual = {key: outputs[key] for key in outputs.files}
    return expected, actual, labels


def _assert_close(expected, actual, conditioning, tolerance, what):
    scale = tolerance * np.maximum(1.0, conditioning / 30.0)[:, None]
    magnitude = np.maximum(1.0, np.abs(expected).max(axis=1, keepdims=True))
    excess = np.abs(actual - expected) - scale * (magnitude + np.abs(expected))
    assert (excess <= 0).all(), (
        f"{what}: max |export - supernet| = {np.abs(actual - expected).max():.3g}"
    )


def test_exports_cover_the_space(exported_cases):
    expected, _, labels = exported_cases
    assert len(expected) >= 200
    descriptions = [SPACES[name].describe(genome) for name, genome in labels.values()]
    for fragment in ("conv1d", "conv2d", "max_pool", "avg_pool", "dense(", "+res", "+ln"):
        assert any(fragment in d for d in descriptions), fragment
    assert any(d.startswith("dense(") and "→" not in d.split(" | ")[0] for d in descriptions)
    assert any(d.startswith("inputs(") for d in descriptions)  # Feature selection.


def test_flax_export_matches_the_supernetwork(exported_cases):
    expected, actual, labels = exported_cases
    for case, target in expected.items():
        name, genome = labels[case]
        _assert_close(
            target,
            actual[f"{case}/flax"],
            actual[f"{case}/conditioning"],
            FLAX_TOLERANCE,
            f"flax {SPACES[name].describe(genome)}",
        )


@pytest.mark.skipif(not HAS_TORCH, reason="the PyTorch export needs torch")
def test_torch_export_matches_the_supernetwork(exported_cases):
    expected, actual, labels = exported_cases
    for case, target in expected.items():
        name, genome = labels[case]
        _assert_close(
            target,
            actual[f"{case}/torch"],
            actual[f"{case}/conditioning"],
            TORCH_TOLERANCE,
            f"torch {SPACES[name].describe(genome)}",
        )


# ------------------------------------------------------------------ training


def _import_source(path, source, name):
    with open(path, "w", encoding="utf-8") as file:
        file.write(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TRAIN_STEPS = 20


@functools.cache
def _framework_train(space):
    settings = trainer.TrainSettings(steps=TRAIN_STEPS)
    return jax.jit(functools.partial(trainer.train, space, settings))


TRAINING_BLOCKS = {
    "sequence40": [
        {"op": "conv", "width": 8, "kernel": 3, "norm": True},
        {"op": "max_pool"},
        {"op": "dense", "width": 16, "activation": "tanh"},
    ],
    # Patches, positions, pre-norm attention and MLP with residuals, a mean pool.
    "attention_sequence12": [
        {"op": "patch_embedding", "width": 6, "option": 0, "activation": "identity"},
        {"op": "position_embedding"},
        {"op": "self_attention", "width": 6, "option": 1, "norm": True, "residual": True},
        {"op": "transformer_mlp", "option": 1, "activation": "squared_relu", "residual": True},
    ],
}
# Every optimizer for the convolutional pathway; two for the attention pathway.
TRAINING_OPTIMIZERS = {"sequence40": OPTIMIZERS, "attention_sequence12": ("momentum", "adam")}


def _training_genomes(name):
    """Genomes without dropout covering the optimizers and schedules, with and
    without weight decay and L1."""
    space = SPACES[name]
    base = make_genome(space, TRAINING_BLOCKS[name])
    genomes = []
    for optimizer in TRAINING_OPTIMIZERS[name]:
        index = OPTIMIZERS.index(optimizer)
        genomes.append(
            base.replace(
                optimizer=np.int32(index),
                schedule=np.int32(index % len(SCHEDULES)),
                weight_decay=np.int32(index % 3),
                l1_penalty=np.int32(2 if optimizer == "adam" else 0),
                batch_size=np.int32(index % 2),
                loss=np.int32(index % 3),
                log10_learning_rate=np.float32(-2.5),
            )
        )
    return genomes


@pytest.mark.parametrize("name", sorted(TRAINING_BLOCKS))
def test_flax_train_step_reproduces_the_framework_trajectory(tmp_path, name):
    space = SPACES[name]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, *space.input_shape)).astype(np.float32)
    y = rng.integers(0, space.num_outputs, size=64).astype(np.int32)
    batch_max = max(space.tables.batch_sizes)
    for number, genome in enumerate(_training_genomes(name)):
        key = jax.random.key(number)
        final_params, step_losses = jax.device_get(_framework_train(space)(genome, key, x, y))
        init_key, loop_key = jax.random.split(key)
        params = pathway_network.init_params(space, genome, init_key)
        variables = codegen.plain_params_from_supernet(space, genome, params)["params"]
        source = codegen.to_source(space, genome, "flax", steps=TRAIN_STEPS)
        module = _import_source(str(tmp_path / f"train{number}.py"), source, f"train{number}")
        opt_state = module.make_optimizer().init(variables)
        batch = module.BATCH_SIZE
        losses = []
        for step in range(TRAIN_STEPS):
            batch_key, _ = jax.random.split(jax.random.fold_in(loop_key, step))
            indices = np.asarray(jax.random.randint(batch_key, (batch_max,), 0, len(x)))[:batch]
            variables, opt_state, loss = module.train_step(
                variables, opt_state, x[indices], y[indices]
            )
            losses.append(float(loss))
        description = space.describe(genome)
        if "l1=" not in description:  # The framework's step losses leave the L1 term out.
            np.testing.assert_allclose(losses, step_losses, rtol=1e-4, err_msg=description)
        expected = codegen.plain_params_from_supernet(space, genome, final_params)["params"]
        for layer, leaves in expected.items():
            for leaf, value in leaves.items():
                np.testing.assert_allclose(
                    variables[layer][leaf],
                    value,
                    rtol=1e-3,
                    atol=1e-5,
                    err_msg=f"{layer}.{leaf} {description}",
                )


# --------------------------------------------------------------- source text


@pytest.fixture(scope="module")
def sample_sources(tmp_path_factory):
    """Sources of a few genomes per space, written to disk."""
    root = tmp_path_factory.mktemp("sources")
    sources = {}
    for name in sorted(SPACES):
        space = SPACES[name]
        population = jax.device_get(jax.vmap(space.sample)(jax.random.split(_key(3), 4)))
        for index in range(4):
            genome = jax.tree_util.tree_map(lambda leaf, i=index: leaf[i], population)
            for target in codegen.TARGETS:
                source = codegen.to_source(
                    space,
                    genome,
                    target,
                    steps=300,
                    provenance={"validation": {"accuracy": 0.5}, "command": "python x.py"},
                )
                path = root / f"{name}_{index}_{target}.py"
                path.write_text(source, encoding="utf-8")
                sources[str(path)] = (space, genome, target, source)
    return root, sources


def test_sources_are_deterministic_and_standalone(sample_sources):
    _, sources = sample_sources
    allowed = {
        "flax": {"flax", "jax", "optax", "numpy"},
        "torch": {"torch", "numpy", "math"},
    }
    for space, genome, target, source in sources.values():
        assert (
            codegen.to_source(
                space,
                genome,
                target,
                steps=300,
                provenance={"validation": {"accuracy": 0.5}, "command": "python x.py"},
            )
            == source
        )
        tree = ast.parse(source)
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split(".")[0])
        assert imported <= allowed[target], imported
        assert "mask" not in source and "pathways_jax" not in source
        assert space.describe(genome) in ast.get_docstring(tree)
        assert "accuracy=0.5000" in source and "python x.py" in source


def test_sources_pass_ruff(sample_sources):
    root, _ = sample_sources
    ruff = [sys.executable, "-m", "ruff"]
    check = subprocess.run(
        [*ruff, "check", "--isolated", str(root)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = subprocess.run(
        [*ruff, "format", "--isolated", "--check", "--diff", str(root)],
        capture_output=True,
        text=True,
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_torch_state_dict_layouts():
    variables = {
        "params": {
            "block0_conv": {"kernel": np.arange(2 * 3 * 4).reshape(2, 3, 4), "bias": np.zeros(4)},
            "block1_norm": {"scale": np.ones(4), "bias": np.zeros(4)},
            "head": {"kernel": np.arange(12).reshape(4, 3), "bias": np.zeros(3)},
        }
    }
    state = codegen.torch_state_dict(variables)
    conv = variables["params"]["block0_conv"]["kernel"]
    assert state["block0_conv.weight"].shape == (4, 3, 2)
    assert state["block0_conv.weight"][1, 2, 0] == conv[0, 2, 1]
    assert state["head.weight"].shape == (3, 4)
    assert state["head.weight"][2, 1] == variables["params"]["head"]["kernel"][1, 2]
    assert sorted(state) == [
        "block0_conv.bias",
        "block0_conv.weight",
        "block1_norm.bias",
        "block1_norm.weight",
        "head.bias",
        "head.weight",
    ]


def test_block_diagram_names_every_block():
    space = SPACES["sequence40"]
    genome = make_genome(
        space,
        [
            {"op": "conv", "width": 8, "kernel": 5, "activation": "gelu"},
            {"op": "conv", "width": 8, "kernel": 3, "residual": True, "norm": True},
            {"op": "avg_pool"},
        ],
    )
    diagram = codegen.block_diagram(codegen.decode_recipe(space, genome, 100))
    lines = diagram.splitlines()
    assert lines[0].startswith("input") and lines[0].endswith("[40, 1]")
    assert any("conv1d k5 → 8 channels, gelu" in line and "[40, 8]" in line for line in lines)
    assert any("residual" in line for line in lines)
    assert any("avg pool1d" in line and "[20, 8]" in line for line in lines)
    assert lines[-1].startswith("head") and lines[-1].endswith("[3]")


# ---------------------------------------------------------------- bad genomes


def _valid_genome():
    space = SPACES["sequence40"]
    return space, make_genome(space, [{"op": "conv", "width": 8}, {"op": "dense", "width": 16}])


@pytest.mark.parametrize(
    "change, gene",
    [
        ({"operation": np.asarray([9, 1, 0, 0], np.int32)}, "operation"),
        ({"width": np.asarray([0, -1, 0, 0], np.int32)}, "width"),
        ({"optimizer": np.int32(7)}, "optimizer"),
        ({"loss": np.int32(3)}, "loss"),
        ({"log10_learning_rate": np.float32(np.nan)}, "log10_learning_rate"),
        ({"log10_learning_rate": np.float32(3.0)}, "log10_learning_rate"),
        ({"activation": np.zeros(3, np.int32)}, "activation"),
        ({"batch_size": np.zeros(2, np.int32)}, "batch_size"),
    ],
)
def test_corrupted_genomes_never_produce_code(change, gene):
    space, genome = _valid_genome()
    corrupted = genome.replace(**change)
    for target in codegen.TARGETS:
        with pytest.raises(ValueError, match=f"gene {gene}"):
            codegen.to_source(space, corrupted, target)


def test_invalid_structure_and_target_are_refused():
    space, genome = _valid_genome()
    dense_then_conv = genome.replace(operation=np.asarray([1, 2, 0, 0], np.int32))
    with pytest.raises(ValueError, match="applied to a vector"):
        codegen.to_source(space, dense_then_conv)
    with pytest.raises(ValueError, match="target"):
        codegen.to_source(space, genome, "tensorflow")
    assert isinstance(genome, PathwayGenome)

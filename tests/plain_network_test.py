"""The specialised network computes what the super-network computes for the same genome."""

import dataclasses
import functools

import flax.linen as nn
import jax
import numpy as np
import pytest

from pathways_jax.codegen import (
    build_plain_network,
    decode_blocks,
    plain_params_from_supernet,
)
from pathways_jax.spaces.pathway import network as pathway_network
from pathways_jax.spaces.pathway.genome import (
    ACTIVATIONS,
    BLOCK_GENES,
    NUM_BASIC_ACTIVATIONS,
    OPERATIONS,
    GeneTables,
    PathwayGenome,
)
from pathways_jax.spaces.pathway.space import PathwaySpace

TABLES = GeneTables(max_depth=4, conv_widths=(4, 8), dense_widths=(8, 16), kernel_sizes=(1, 3, 5))
SMALL_KERNEL_TABLES = GeneTables(
    max_depth=4, conv_widths=(4, 8), dense_widths=(8, 16), kernel_sizes=(3,)
)
# Attention blocks: heads that do not divide every width, a patch wider than short maps.
ATTENTION_TABLES = GeneTables(
    max_depth=4,
    conv_widths=(4, 6),
    dense_widths=(8, 16),
    kernel_sizes=(3,),
    attention_heads=(1, 2, 4),
    mlp_ratios=(1, 2),
    patch_sizes=(2, 3),
)
# A dense width equal to the input features makes the first dense block's residual act.
VECTOR_TABLES = GeneTables(max_depth=4, dense_widths=(5, 16))

SPACES = {
    "sequence40": PathwaySpace(TABLES, "sequence", (40, 1), "classification", 3),
    "sequence13": PathwaySpace(SMALL_KERNEL_TABLES, "sequence", (13, 3), "classification", 4),
    "image8": PathwaySpace(SMALL_KERNEL_TABLES, "image", (8, 8, 1), "classification", 3),
    "image76": PathwaySpace(TABLES, "image", (7, 6, 2), "classification", 5),
    "vector5": PathwaySpace(VECTOR_TABLES, "vector", (5,), "regression", 1),
    "attention_sequence12": PathwaySpace(
        ATTENTION_TABLES, "sequence", (12, 3), "classification", 3
    ),
    "attention_image66": PathwaySpace(ATTENTION_TABLES, "image", (6, 6, 2), "classification", 4),
    "causal_sequence10": PathwaySpace(
        dataclasses.replace(ATTENTION_TABLES, causal_attention=True),
        "sequence",
        (10, 2),
        "regression",
        1,
    ),
    # Feature selection: an input mask over 4 groups of the 5 features.
    "vector5_masked": PathwaySpace(
        VECTOR_TABLES, "vector", (5,), "regression", 1, input_groups=(0, 1, 1, 2, 3)
    ),
}
# Random genomes are drawn in batches of one size, so that every space reuses the
# compiled sampling operations.
SAMPLE_BATCH = 24
BATCHES_PER_SPACE = {
    "sequence40": 1,
    "sequence13": 1,
    "image8": 1,
    "image76": 1,
    "vector5": 1,
    "vector5_masked": 1,
    "attention_sequence12": 1,
    "attention_image66": 1,
    "causal_sequence10": 1,
}
BATCH = 6
TOLERANCE = 1e-5


@functools.cache
def _supernet(space: PathwaySpace):
    """Jitted super-network init and inference for one space (the genome is traced)."""
    init = jax.jit(functools.partial(pathway_network.init_params, space))
    apply = jax.jit(functools.partial(pathway_network.apply, space))
    return init, apply


@functools.cache
def _count(space: PathwaySpace):
    return jax.jit(functools.partial(pathway_network.count_parameters, space))


def _key(seed: int):
    """A PRNG key of the generator whose operations compile fastest on CPU."""
    return jax.random.key(seed, impl="unsafe_rbg")


def _perturbed_params(space: PathwaySpace, genome: PathwayGenome, seed: int) -> dict:
    """Super-network parameters with random biases and norm parameters (zero biases
    and unit scales would hide slicing mistakes)."""
    init, _ = _supernet(space)
    params = jax.device_get(init(genome, _key(seed)))
    rng = np.random.default_rng(seed)
    blocks = params["blocks"]
    biases = ("dense_bias", "conv_bias", "norm_bias", "attention_bias", "mlp_in_bias")
    for name in (*biases, "mlp_out_bias", "patch_bias", "position"):
        if name in blocks:
            blocks[name] = rng.normal(0.0, 0.5, blocks[name].shape).astype(np.float32)
    blocks["norm_scale"] = (1.0 + rng.normal(0.0, 0.5, blocks["norm_scale"].shape)).astype(
        np.float32
    )
    params["head"]["bias"] = rng.normal(0.0, 0.5, params["head"]["bias"].shape).astype(np.float32)
    return params


def _plain_forward(networks, variables, inputs):
    """Outputs of each plain network and the inputs of its layer norms; traced as
    one program, which compiles much faster than running many small networks
    operation by operation."""
    results = []
    for network, network_variables, network_inputs in zip(networks, variables, inputs, strict=True):
        norm_inputs = []

        def record(next_fun, args, kwargs, context, norm_inputs=norm_inputs):
            if isinstance(context.module, nn.LayerNorm):
                norm_inputs.append(args[0])
            return next_fun(*args, **kwargs)

        with nn.intercept_methods(record):
            outputs = network.apply(network_variables, network_inputs)
        results.append((outputs, norm_inputs))
    return results


def _conditioning(norm_inputs, batch: int) -> np.ndarray:
    """Per example, the product over the layer norms of ``mean(x**2) / (var(x) + eps)``
    (at least 1 each).

    Both networks compute the variance as ``mean(x**2) - mean(x)**2`` in float32,
    which loses digits in proportion to this ratio (e.g. a layer norm over two
    nearly equal channels), so rounding differences between the two programs
    grow by it; the comparison's tolerance is scaled accordingly.
    """
    conditioning = np.ones(batch)
    for x in norm_inputs:
        x = np.asarray(x, np.float64)
        ratio = np.mean(x**2, axis=-1) / (np.var(x, axis=-1) + 1e-6)
        conditioning *= np.maximum(1.0, ratio.reshape(batch, -1).max(axis=1))
    return conditioning


def _check_equivalence(space: PathwaySpace, genomes: list[PathwayGenome], seeds: list[int]):
    """Asserts that the plain network of every genome, with parameters converted from
    the super-network's, computes what the super-network computes."""
    _, supernet_apply = _supernet(space)
    networks, variables, inputs, expected = [], [], [], []
    for genome, seed in zip(genomes, seeds, strict=True):
        genome = jax.device_get(genome)
        params = _perturbed_params(space, genome, seed)
        x = np.random.default_rng(seed + 1).normal(size=(BATCH, *space.input_shape))
        x = x.astype(np.float32)
        expected.append(np.asarray(supernet_apply(genome, params, x)))
        blocks = decode_blocks(space, genome)
        network = build_plain_network(space, genome)
        converted = plain_params_from_supernet(space, genome, params, blocks)
        wanted = jax.eval_shape(network.init, jax.random.key(0), x)
        assert jax.tree_util.tree_map(np.shape, converted) == jax.tree_util.tree_map(
            lambda leaf: leaf.shape, wanted
        ), space.describe(genome)
        # The counted parameters are the plain network's.
        size = sum(np.size(leaf) for leaf in jax.tree_util.tree_leaves(converted))
        assert int(_count(space)(genome)) == size, space.describe(genome)
        networks.append(network)
        variables.append(converted)
        inputs.append(x)

    results = jax.jit(functools.partial(_plain_forward, tuple(networks)))(variables, inputs)
    for genome, (actual, norm_inputs), target in zip(genomes, results, expected, strict=True):
        actual = np.asarray(actual)
        assert actual.shape == target.shape == (BATCH, space.num_outputs)
        conditioning = _conditioning(norm_inputs, BATCH)
        scale = TOLERANCE * np.maximum(1.0, conditioning / 30.0)[:, None]
        magnitude = np.maximum(1.0, np.abs(target).max(axis=1, keepdims=True))
        excess = np.abs(actual - target) - scale * (magnitude + np.abs(target))
        assert (excess <= 0).all(), (
            f"{space.describe(genome)}: max |plain - supernet| = "
            f"{np.abs(actual - target).max():.3g}, layer-norm conditioning "
            f"{conditioning.max():.3g}"
        )


@pytest.mark.parametrize("name", sorted(SPACES))
def test_random_genomes_match_supernet(name):
    space = SPACES[name]
    for batch in range(BATCHES_PER_SPACE[name]):
        keys = jax.random.split(_key(100 * batch + len(name)), SAMPLE_BATCH)
        population = jax.device_get(jax.vmap(space.sample)(keys))
        genomes = [
            jax.tree_util.tree_map(lambda leaf, i=index: leaf[i], population)
            for index in range(SAMPLE_BATCH)
        ]
        seeds = [SAMPLE_BATCH * batch + index for index in range(SAMPLE_BATCH)]
        _check_equivalence(space, genomes, seeds)


# ------------------------------------------------------------------ hand-made genomes


def make_genome(space: PathwaySpace, blocks: list[dict]) -> PathwayGenome:
    """A genome from readable blocks, e.g. ``{'op': 'conv', 'width': 8, 'kernel': 3,
    'activation': 'gelu', 'norm': True, 'residual': True, 'dropout': 1}`` (``dropout``
    indexes ``dropout_rates``); other slots are empty."""
    tables = space.tables
    genes = {name: np.zeros(tables.max_depth, np.int32) for name in BLOCK_GENES}
    for slot, block in enumerate(blocks):
        op = block.get("op", "identity")
        genes["operation"][slot] = OPERATIONS.index(op)
        if "width" in block:
            widths = tables.dense_widths if op == "dense" else tables.conv_widths
            genes["width"][slot] = widths.index(block["width"])
        genes["kernel_size"][slot] = block.get(
            "option", tables.kernel_sizes.index(block.get("kernel", 3))
        )
        genes["activation"][slot] = ACTIVATIONS.index(block.get("activation", "relu"))
        genes["normalization"][slot] = int(block.get("norm", False))
        genes["residual"][slot] = int(block.get("residual", False))
        genes["dropout"][slot] = block.get("dropout", 0)
    scalars = {name: np.int32(0) for name in ("optimizer", "schedule", "weight_decay")}
    scalars.update({name: np.int32(0) for name in ("l1_penalty", "batch_size", "loss")})
    # With feature selection, every other input group is read (the first always).
    mask = (np.arange(space.num_input_groups) % 2 == 0).astype(np.int32)
    genome = PathwayGenome(
        **genes,
        **scalars,
        log10_learning_rate=np.float32(tables.log10_learning_rate_range[0]),
        input_mask=mask if space.input_groups else None,
    )
    assert not space.validate(genome), space.validate(genome)
    return genome


def _conv(width, kernel=3, **genes):
    return {"op": "conv", "width": width, "kernel": kernel, **genes}


def _dense(width, **genes):
    return {"op": "dense", "width": width, **genes}


def _pool(kind="max", **genes):
    return {"op": f"{kind}_pool", **genes}


IDENTITY_BLOCK = {"op": "identity"}


def _attention(width, heads_option, **genes):
    """Self-attention; ``heads_option`` indexes ``attention_heads``."""
    return {"op": "self_attention", "width": width, "option": heads_option, **genes}


def _mlp(ratio_option, **genes):
    return {"op": "transformer_mlp", "option": ratio_option, **genes}


def _patch(width, patch_option, **genes):
    return {"op": "patch_embedding", "width": width, "option": patch_option, **genes}


def _sequence_pool(readout_option, **genes):
    """``readout_option`` 0: mean, 1: first position."""
    return {"op": "sequence_pool", "option": readout_option, **genes}


POSITION = {"op": "position_embedding"}

HAND_MADE = {
    "sequence13_odd_pooling_then_conv": (
        "sequence13",
        [_pool("avg"), _pool("max", norm=True), _conv(4, activation="tanh", norm=True)],
    ),
    "sequence13_pooling_then_conv_changing_channels": (
        "sequence13",
        [_pool("max"), _pool("avg"), _conv(8, activation="sigmoid", residual=True)],
    ),
    "sequence40_pool_to_5_then_conv": (
        "sequence40",
        [_pool("max"), _pool("avg"), _pool("max"), _conv(8, kernel=5, norm=True)],
    ),
    "sequence40_residual_convs": (
        "sequence40",
        [
            _conv(8, kernel=5, residual=True),  # 1 → 8 channels: the residual cannot act
            _conv(8, kernel=1, activation="swish", norm=True, residual=True),
            _pool("avg", residual=True),
            _conv(8, kernel=3, activation="gelu", residual=True, dropout=2),
        ],
    ),
    "sequence40_identity_between_blocks": (
        "sequence40",
        [_conv(4, kernel=5), IDENTITY_BLOCK, _pool("max"), _dense(16, norm=True)],
    ),
    "image76_pool_conv_pool": (
        "image76",
        [
            _conv(4, kernel=5, activation="swish"),
            _pool("max"),
            _conv(4, kernel=5, activation="gelu", norm=True, residual=True),
            _pool("avg", norm=True),
        ],
    ),
    "image76_norm_on_pooled_input_then_dense": (
        "image76",
        [
            _pool("avg", norm=True),
            _conv(8, norm=True),
            _dense(8, norm=True),
            _dense(8, residual=True),
        ],
    ),
    "image8_conv_dense_residuals": (
        "image8",
        [_conv(8, norm=True), _conv(8, residual=True, norm=True), _dense(16, norm=True)],
    ),
    "vector5_first_dense_residual": (
        "vector5",
        [
            _dense(5, residual=True, norm=True, activation="tanh"),
            _dense(16, norm=True),
            _dense(16, residual=True, norm=True, activation="identity"),
            _dense(5, activation="sigmoid"),
        ],
    ),
    "vector5_identity_between_dense": (
        "vector5",
        [_dense(16), IDENTITY_BLOCK, _dense(16, residual=True, norm=True)],
    ),
}
HAND_MADE.update(
    {
        "attention_sequence12_transformer": (
            "attention_sequence12",
            [
                _patch(6, 0, activation="identity"),  # 12 → 6 positions of 6 channels
                POSITION,
                _attention(6, 1, norm=True, residual=True, dropout=1),
                _mlp(1, activation="squared_relu", norm=True, residual=True),
            ],
        ),
        "attention_sequence12_pool_first_then_dense": (
            "attention_sequence12",
            [
                _attention(4, 2, norm=True),  # 3 → 4 channels: the residual cannot act
                _sequence_pool(1, activation="tanh", norm=True),
                _dense(16, activation="gelu"),
            ],
        ),
        "attention_image66_patches_attention_mean_pool": (
            "attention_image66",
            [
                _patch(4, 1, norm=True),  # 6x6 → 2x2 positions
                _attention(4, 0, residual=True),
                _mlp(0, activation="gelu", residual=True),
                _sequence_pool(0, activation="identity"),
            ],
        ),
        "attention_image66_conv_pool_attention": (
            "attention_image66",
            [
                _conv(6, kernel=3, activation="relu"),
                _pool("max"),  # 3x3 positions
                _attention(6, 1, norm=True, residual=True),
                _dense(8),
            ],
        ),
        "causal_sequence10_attention": (
            "causal_sequence10",
            [POSITION, _attention(4, 2, norm=True), _mlp(0, norm=True, residual=True)],
        ),
    }
)
for _name in SPACES:
    HAND_MADE[f"{_name}_depth0"] = (_name, [])
for _activation in ACTIVATIONS[:NUM_BASIC_ACTIVATIONS]:
    HAND_MADE[f"image76_{_activation}"] = (
        "image76",
        [
            _conv(8, kernel=3, activation=_activation, norm=True),
            _pool("max", activation=_activation),
            _dense(16, activation=_activation, norm=True),
            _dense(16, activation=_activation, residual=True),
        ],
    )
    HAND_MADE[f"vector5_{_activation}"] = (
        "vector5",
        [_dense(16, activation=_activation, norm=True), _dense(16, activation=_activation)],
    )


@pytest.mark.parametrize("case", sorted(HAND_MADE))
def test_hand_made_genomes_match_supernet(case):
    name, blocks = HAND_MADE[case]
    space = SPACES[name]
    _check_equivalence(space, [make_genome(space, blocks)], [sorted(HAND_MADE).index(case)])


# --------------------------------------------------------------------- decoding


def test_decode_blocks_lists_active_blocks_only():
    space = SPACES["sequence40"]
    genome = make_genome(
        space,
        [
            _conv(8, kernel=5, residual=True, dropout=1),
            IDENTITY_BLOCK,
            _pool("avg", activation="identity"),
            _dense(16, activation="gelu", norm=True),
        ],
    )
    blocks = decode_blocks(space, genome)
    assert [(b["index"], b["slot"], b["op"]) for b in blocks] == [
        (0, 0, "conv"),
        (1, 2, "avg_pool"),
        (2, 3, "dense"),
    ]
    conv, pool, dense = blocks
    assert conv["width"] == 8 and conv["kernel"] == 5
    assert conv["residual"] is False  # 1 → 8 channels
    assert conv["dropout"] == space.tables.dropout_rates[1]
    assert (conv["in_shape"], conv["out_shape"]) == ((40, 1), (40, 8))
    assert pool["width"] is None and pool["kernel"] is None and pool["activation"] == "identity"
    assert pool["out_shape"] == (20, 8)
    assert dense["first_dense"] and dense["norm"] == "layer_norm"
    assert (dense["in_shape"], dense["out_shape"]) == ((20, 8), (16,))


def test_layer_names_and_invalid_genomes():
    space = SPACES["image8"]
    genome = make_genome(space, [_conv(4, norm=True), _pool("max"), _dense(8)])
    network = build_plain_network(space, genome)
    variables = jax.eval_shape(network.init, jax.random.key(0), np.zeros((1, 8, 8, 1)))
    assert sorted(variables["params"]) == ["block0_conv", "block0_norm", "block2_dense", "head"]
    assert variables["params"]["block0_conv"]["kernel"].shape == (3, 3, 1, 4)
    assert variables["params"]["block2_dense"]["kernel"].shape == (4 * 4 * 4, 8)

    invalid = genome.replace(
        operation=np.asarray([OPERATIONS.index("dense"), OPERATIONS.index("conv"), 0, 0], np.int32)
    )
    with pytest.raises(ValueError, match="applied to a vector"):
        decode_blocks(space, invalid)


def test_dropout_acts_only_in_training():
    space = SPACES["vector5"]
    genome = make_genome(space, [_dense(16, dropout=3), _dense(16, dropout=3)])
    network = build_plain_network(space, genome)
    inputs = np.ones((4, 5), np.float32)
    variables = network.init(jax.random.key(0), inputs)
    inference = network.apply(variables, inputs)
    np.testing.assert_array_equal(inference, network.apply(variables, inputs))
    trained = network.apply(variables, inputs, train=True, rngs={"dropout": jax.random.key(1)})
    assert trained.shape == inference.shape
    assert not np.allclose(trained, inference)

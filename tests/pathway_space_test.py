"""The pathway space: sampling, variation operators, validation, description."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.genome import CONV, DENSE, IDENTITY, MAX_POOL

NUM = 128


@pytest.fixture(scope="module", params=["sequence", "vector", "image"])
def space_and_population(request, sequence_space, vector_space, image_space):
    space = {"sequence": sequence_space, "vector": vector_space, "image": image_space}[
        request.param
    ]
    population = jax.jit(jax.vmap(space.sample))(jax.random.split(jax.random.key(0), NUM))
    return space, population


def _valid(space, population):
    return np.asarray(jax.jit(jax.vmap(space.is_valid))(population))


def test_samples_are_valid_and_diverse(space_and_population):
    space, population = space_and_population
    assert _valid(space, population).all()
    depths = np.sum(np.asarray(population.operation) != IDENTITY, axis=1)
    assert depths.min() == 0 and depths.max() == space.tables.max_depth
    descriptions = {space.describe(genome_lib.index_population(population, i)) for i in range(NUM)}
    assert len(descriptions) > NUM // 2
    if space.input_kind == "vector":
        assert not np.isin(np.asarray(population.operation), [CONV, MAX_POOL]).any()
    else:
        assert (np.asarray(population.operation) == CONV).any()


def test_mutation_and_crossover_never_produce_invalid_genomes(space_and_population):
    space, population = space_and_population
    mutate = jax.jit(jax.vmap(space.mutate))
    crossover = jax.jit(jax.vmap(space.crossover))
    changed = 0
    for generation in range(6):
        keys = jax.random.split(jax.random.key(100 + generation), NUM)
        children = mutate(keys, population)
        assert _valid(space, children).all(), "mutation produced an invalid genome"
        differs = jax.tree_util.tree_map(
            lambda a, b: np.any(a != b, axis=tuple(range(1, a.ndim))), children, population
        )
        changed += np.any(np.stack(jax.tree_util.tree_leaves(differs)), axis=0).sum()
        mates = jax.tree_util.tree_map(lambda leaf: jnp.roll(leaf, 1, axis=0), children)
        population = crossover(keys, children, mates)
        assert _valid(space, population).all(), "crossover produced an invalid genome"
    assert changed > 0.9 * 6 * NUM, "most mutations should change the genome"


def test_mutation_covers_structural_changes(sequence_space):
    population = jax.vmap(sequence_space.sample)(jax.random.split(jax.random.key(1), NUM))
    children = jax.jit(jax.vmap(sequence_space.mutate))(
        jax.random.split(jax.random.key(2), NUM), population
    )
    before = np.sum(np.asarray(population.operation) != IDENTITY, axis=1)
    after = np.sum(np.asarray(children.operation) != IDENTITY, axis=1)
    assert (after > before).any(), "no insertion"
    assert (after < before).any(), "no removal"
    lr_changed = np.asarray(children.log10_learning_rate) != np.asarray(
        population.log10_learning_rate
    )
    assert lr_changed.any()


def test_operators_are_deterministic_by_key(sequence_space):
    key = jax.random.key(7)
    a = sequence_space.mutate(key, sequence_space.sample(key))
    b = sequence_space.mutate(key, sequence_space.sample(key))
    assert genome_lib.genome_to_json(a) == genome_lib.genome_to_json(b)


def _handmade(space, operations, **genes):
    depth = space.tables.max_depth
    operations = list(operations) + [IDENTITY] * (depth - len(operations))
    block = {name: jnp.zeros((depth,), jnp.int32) for name in genome_lib.BLOCK_GENES}
    block["operation"] = jnp.asarray(operations, jnp.int32)
    training = {name: jnp.int32(0) for name in genome_lib.TRAINING_GENES}
    training["log10_learning_rate"] = jnp.float32(-2.5)
    values = {**block, **training}
    for name, value in genes.items():
        values[name] = jnp.asarray(value, values[name].dtype)
    return genome_lib.PathwayGenome(**values)


def test_validate_names_each_broken_rule(sequence_space, vector_space):
    ok = _handmade(sequence_space, [CONV, MAX_POOL, DENSE])
    assert sequence_space.validate(ok) == []
    conv_after_dense = _handmade(sequence_space, [DENSE, CONV])
    (reason,) = sequence_space.validate(conv_after_dense)
    assert "block(s) 1" in reason and "dense" in reason
    too_many_pools = _handmade(sequence_space, [MAX_POOL] * 4)  # 12 → 6 → 3 → 1 → 0
    (reason,) = sequence_space.validate(too_many_pools)
    assert "pooling" in reason and "block(s) 3" in reason
    (reason,) = vector_space.validate(_handmade(vector_space, [CONV]))
    assert "vector" in reason
    bad_range = _handmade(sequence_space, [DENSE], optimizer=9, log10_learning_rate=3.0)
    reasons = sequence_space.validate(bad_range)
    assert any("optimizer" in r for r in reasons)
    assert any("log10_learning_rate" in r for r in reasons)
    assert not bool(sequence_space.is_valid(bad_range))


def test_describe_reads_like_the_pathway(sequence_space, vector_space):
    genome = _handmade(
        sequence_space,
        [CONV, CONV, DENSE],
        width=[1, 1, 0, 0],
        kernel_size=[1, 0, 0, 0],
        activation=[1, 0, 0, 0],
        residual=[0, 1, 0, 0],
        optimizer=2,
        schedule=1,
        weight_decay=2,
        batch_size=1,
    )
    text = sequence_space.describe(genome)
    assert text == (
        "conv1d(k5,8)+gelu → conv1d(k3,8)+relu+res → dense(8)+relu → dense(3)"
        " | adam lr=3.2e-03 cosine wd=1e-04 batch=16 loss=xent"
    )
    linear = vector_space.describe(_handmade(vector_space, [], loss=1))
    assert linear.startswith("dense(1) | sgd") and linear.endswith("loss=huber")


def test_residual_is_inactive_when_shapes_differ(sequence_space):
    genome = _handmade(sequence_space, [CONV, MAX_POOL], width=[1, 0, 0, 0], residual=[1, 1, 0, 0])
    # conv 1 → 8 channels changes the shape; pooling halves the length.
    assert "+res" not in sequence_space.describe(genome)


def test_genome_json_round_trip(sequence_space):
    genome = sequence_space.sample(jax.random.key(3))
    genes = genome_lib.genome_to_json(genome)
    restored = genome_lib.genome_from_json(genes, sequence_space.tables.max_depth)
    assert genome_lib.genome_to_json(restored) == genes
    with pytest.raises(ValueError, match="operation"):
        genome_lib.genome_from_json({k: v for k, v in genes.items() if k != "operation"})
    with pytest.raises(ValueError, match="max_depth=5"):
        genome_lib.genome_from_json(genes, 5)


def test_block_shapes_track_pooling_and_flattening(image_space):
    genome = _handmade(image_space, [CONV, MAX_POOL, MAX_POOL, DENSE], width=[1, 0, 0, 1])
    shapes = jax.device_get(image_space.block_shapes(genome))
    assert shapes["lengths"].tolist() == [[6, 6], [6, 6], [3, 3], [1, 1], [1, 1]]
    assert shapes["channels"].tolist()[:3] == [1, 8, 8]
    assert shapes["is_vector"].tolist() == [False, False, False, False, True]
    assert int(shapes["units"][-1]) == 16

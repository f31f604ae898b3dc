"""Feature selection as genes: in a space with input groups every genome has
an input mask that sampling, mutation and crossover keep valid (at least one
group), that JSON and the fingerprint carry, and that the super-network and
the plain network honour; a space without groups has no mask at all, so its
genomes, JSON and histories are as before."""

import jax
import numpy as np
import pytest

from pathways_jax.codegen import build_plain_network, plain_params_from_supernet
from pathways_jax.spaces.pathway import network
from pathways_jax.spaces.pathway.genome import GeneTables, genome_from_json, genome_to_json
from pathways_jax.spaces.pathway.space import PathwaySpace

TABLES = GeneTables(max_depth=2, dense_widths=(8, 16))
GROUPS = (0, 1, 1, 2, 3, 3)  # 6 features in 4 columns (one-hot pairs).
SPACE = PathwaySpace(TABLES, "vector", (6,), "classification", 3, input_groups=GROUPS)
PLAIN = PathwaySpace(TABLES, "vector", (6,), "classification", 3)


def test_variation_keeps_at_least_one_input_and_explores_the_mask():
    population = jax.vmap(SPACE.sample)(jax.random.split(jax.random.key(0), 64))
    masks = np.asarray(population.input_mask)
    assert masks.shape == (64, 4) and (masks.sum(axis=1) >= 1).all()
    assert 0 < masks.mean() < 1  # Some columns on, some off.
    genome = jax.tree_util.tree_map(lambda leaf: leaf[0], population)
    children = jax.vmap(SPACE.mutate, in_axes=(0, None))(
        jax.random.split(jax.random.key(1), 64), genome
    )
    changed = (np.asarray(children.input_mask) != np.asarray(genome.input_mask)).any(axis=1)
    assert 0 < changed.mean() < 1 and (np.asarray(children.input_mask).sum(axis=1) >= 1).all()
    other = jax.tree_util.tree_map(lambda leaf: leaf[1], population)
    child = SPACE.crossover(jax.random.key(2), genome, other, "uniform")
    assert SPACE.is_valid(child)
    assert all(
        b in (x, y)
        for b, x, y in zip(child.input_mask, genome.input_mask, other.input_mask, strict=True)
    )
    none = genome.replace(input_mask=np.zeros(4, np.int32))
    assert SPACE.validate(none) == ["the input mask chooses no input column"]


def test_json_fingerprint_and_description_carry_the_mask():
    genome = SPACE.sample(jax.random.key(3))
    genes = genome_to_json(genome)
    again = genome_from_json(genes, TABLES.max_depth)
    assert SPACE.fingerprint(again) == SPACE.fingerprint(genome)
    flipped = genome.replace(input_mask=1 - genome.input_mask)
    if int(np.sum(flipped.input_mask)):
        assert SPACE.fingerprint(flipped) != SPACE.fingerprint(genome)
    assert SPACE.describe(genome).startswith(f"inputs({int(np.sum(genome.input_mask))}/4) → ")
    plain = PLAIN.sample(jax.random.key(3))
    assert plain.input_mask is None and "input_mask" not in genome_to_json(plain)
    assert not PLAIN.describe(plain).startswith("inputs(")


def test_unchosen_columns_change_nothing_in_either_network():
    genome = SPACE.sample(jax.random.key(4)).replace(input_mask=np.asarray([1, 0, 1, 0], np.int32))
    params = network.init_params(SPACE, genome, jax.random.key(5))
    x = np.random.default_rng(0).normal(size=(8, 6)).astype(np.float32)
    noisy = x.copy()
    noisy[:, [1, 2, 4, 5]] = 100.0  # Columns 1 and 3 (features 1, 2, 4, 5) are not read.
    supernet = network.apply(SPACE, genome, params, x)
    np.testing.assert_array_equal(supernet, network.apply(SPACE, genome, params, noisy))
    plain = build_plain_network(SPACE, genome)
    variables = plain_params_from_supernet(SPACE, genome, params)
    np.testing.assert_allclose(plain.apply(variables, noisy), supernet, atol=1e-5)


def test_the_fitness_may_be_a_minimised_validation_metric():
    """``fitness_metric='loss'``: the fitness is minus the validation loss."""
    from pathways_jax.training import trainer

    space = PathwaySpace(TABLES, "vector", (6,), "classification", 3, fitness_metric="loss")
    genome = space.sample(jax.random.key(6))
    params = network.init_params(space, genome, jax.random.key(7))
    rng = np.random.default_rng(1)
    eval_set = trainer.make_eval_set(
        rng.normal(size=(20, 6)).astype(np.float32), rng.integers(0, 3, 20), 10
    )
    metrics = jax.device_get(trainer.evaluate_params(space, genome, params, eval_set))
    assert metrics["fitness"] == -metrics["loss"] and metrics["accuracy"] != metrics["fitness"]
    with pytest.raises(ValueError, match="fitness_metric='mse' is invalid"):
        PathwaySpace(TABLES, "vector", (6,), "classification", 3, fitness_metric="mse")

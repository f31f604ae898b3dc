"""Attention blocks in the pathway space: the ListOps task, sampling and
validity, and a search whose pathways mix attention with the other blocks."""

import dataclasses
import json
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from conftest import SMALL_TABLES

from pathways_jax import api
from pathways_jax.config import ConfigError, load_config_file
from pathways_jax.data import DataError, listops, load_dataset
from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway.genome import (
    DENSE,
    OPERATIONS,
    PATCH_EMBEDDING,
    SELF_ATTENTION,
    SEQUENCE_POOL,
)
from pathways_jax.spaces.pathway.space import PathwaySpace

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLES = dataclasses.replace(SMALL_TABLES, attention_heads=(1, 3))


def test_listops_labels_are_the_values_of_the_expressions():
    x, y, expressions = listops.generate(300, 20, 3, seed=4)
    assert x.shape == (300, 20, listops.NUM_TOKENS) and y.shape == (300,)
    assert set(np.unique(x)) <= {0.0, 1.0}
    for row, label, expression in zip(x, y, expressions, strict=True):
        tokens = expression.split()
        assert len(tokens) <= 20 and listops.evaluate(tokens) == label
        # One token per position, then zeros.
        np.testing.assert_array_equal(row.sum(axis=1), np.arange(20) < len(tokens))
        assert [listops.TOKENS[i] for i in row[: len(tokens)].argmax(axis=1)] == tokens
    assert listops.evaluate(["[SM", "7", "[MED", "1", "9", "4", "]", "8", "]"]) == (7 + 4 + 8) % 10
    assert listops.evaluate(["[MED", "2", "5", "]"]) == 3  # The median, rounded down.
    again = listops.generate(300, 20, 3, seed=4)
    np.testing.assert_array_equal(again[0], x)
    assert not np.array_equal(listops.generate(300, 20, 3, seed=5)[1], y)
    # Every value is a class, none dominates.
    assert np.bincount(y, minlength=10).max() < 0.25 * len(y)


def test_listops_is_a_builtin_dataset():
    config = ml_collections.ConfigDict({"name": "listops", "num_examples": 200})
    data = load_dataset(config, 0)
    assert data.input_kind == "sequence" and data.num_classes == 10
    assert data.x_train.shape[1:] == (48, listops.NUM_TOKENS)
    np.testing.assert_array_equal(load_dataset(config, 0).x_test, data.x_test)
    with pytest.raises(DataError, match="listops: sequence_length=2"):
        load_dataset(ml_collections.ConfigDict({"name": "listops", "sequence_length": 2}), 0)


def test_attention_genomes_are_valid_and_vectors_get_none():
    space = PathwaySpace(TABLES, "sequence", (12, 2), "classification", 3)
    population = jax.vmap(space.sample)(jax.random.split(jax.random.key(0), 64))
    operations = np.asarray(population.operation)
    assert np.all(jax.vmap(space.is_valid)(population))
    for op in ("self_attention", "transformer_mlp", "position_embedding", "patch_embedding"):
        assert np.any(operations == OPERATIONS.index(op)), op
    assert np.any(operations == SEQUENCE_POOL)
    # Heads of 3 divide no width of (4, 8): no attention block has them.
    heads = np.asarray(genome_lib.choice(TABLES.attention_heads, population.kernel_size))
    assert not np.any((operations == SELF_ATTENTION) & (heads == 3))
    mutated = jax.vmap(space.mutate)(jax.random.split(jax.random.key(1), 64), population)
    assert np.all(jax.vmap(space.is_valid)(mutated))

    vector = PathwaySpace(TABLES, "vector", (5,), "classification", 3)
    operations = np.asarray(
        jax.vmap(vector.sample)(jax.random.split(jax.random.key(2), 32)).operation
    )
    assert set(np.unique(operations)) <= {0, DENSE}


def test_invalid_attention_genomes_name_their_rule():
    space = PathwaySpace(TABLES, "sequence", (3, 2), "classification", 3)
    genome = space.linear_model(jax.random.key(0))
    blocks = lambda *ops: jnp.asarray(list(ops) + [0] * (4 - len(ops)), jnp.int32)
    attention = genome.replace(operation=blocks(SELF_ATTENTION), kernel_size=blocks(1))
    assert space.validate(attention) == [
        "attention width is not a multiple of its heads in block(s) 0"
    ]
    patch = genome.replace(operation=blocks(PATCH_EMBEDDING, PATCH_EMBEDDING))
    assert space.validate(patch) == ["patch is larger than the map it embeds in block(s) 1"]
    after_vector = genome.replace(operation=blocks(DENSE, SELF_ATTENTION))
    assert "applied to a vector in block(s) 1" in space.validate(after_vector)[0]
    described = space.describe(genome.replace(operation=blocks(SELF_ATTENTION, SEQUENCE_POOL)))
    assert described.startswith("attention(h1,4) → mean_pool+")


def test_the_space_checks_its_attention_keys():
    config = load_config_file(os.path.join(REPO, "configs", "listops.py"))
    config.space.patch_sizes = ()
    with pytest.raises(ConfigError, match=r"config.space.patch_sizes=\(\) is invalid"):
        api.run_search(config, None)


def test_a_search_mixes_attention_with_the_other_blocks(tmp_path):
    # (Same config and seed, same history: tests/search_test.py and the golden files.)
    config = load_config_file(os.path.join(REPO, "tests", "configs", "tiny_attention.py"))
    api.run_search(config, str(tmp_path / "first"))
    first = (tmp_path / "first" / "history.jsonl").read_text()
    records = [json.loads(line) for line in first.splitlines()]
    operations = {op for record in records for op in record["genome"]["operation"]}
    names = {OPERATIONS[op] for op in operations}
    # Attention-space blocks and the others train side by side in the same programs.
    assert {"self_attention", "patch_embedding", "sequence_pool", "conv"} <= names, names
    # The programs are compiled once: the later rounds compile nothing.
    metrics = [json.loads(line) for line in (tmp_path / "first" / "metrics.jsonl").open()]
    assert len({line["compilations"] for line in metrics}) == 1
    best = tmp_path / "first" / "best"
    assert (best / "model.py").exists() and (best / "predict.py").exists()

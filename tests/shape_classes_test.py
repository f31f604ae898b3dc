"""Shape classes: which genomes fit which narrower super-network, and that a
genome trains to the same numbers (dropout masks included) in its class as in
the full space."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import SMALL_TABLES

from pathways_jax import parallel
from pathways_jax.population_program import PopulationProgram, candidate_keys, spread_slots
from pathways_jax.spaces.pathway import genome as genome_lib
from pathways_jax.spaces.pathway import shape_classes
from pathways_jax.spaces.pathway.genome import AVG_POOL, CONV, DENSE, IDENTITY, MAX_POOL
from pathways_jax.spaces.pathway.space import PathwaySpace
from pathways_jax.training import trainer

STEPS = 6


def _genome(space, operations, widths=None, residual=None, dropout=None):
    """A valid genome with the given block ``operations`` (relu, layer norm)."""
    depth = space.tables.max_depth
    genome = space.linear_model(jax.random.key(0))
    pad = lambda values: jnp.asarray(list(values) + [0] * (depth - len(values)), jnp.int32)
    genome = genome.replace(
        operation=pad(operations),
        width=pad(widths or [0] * len(operations)),
        residual=pad(residual or [0] * len(operations)),
        activation=jnp.full((depth,), genome_lib.ACTIVATIONS.index("relu"), jnp.int32),
        normalization=jnp.ones((depth,), jnp.int32),
        dropout=pad(dropout or [0] * len(operations)),
    )
    assert space.validate(genome) == [], space.validate(genome)
    return genome


def test_classes_of_each_kind_of_space(sequence_space, vector_space, image_space):
    # Conv widths (4, 8); a sequence of 12 positions needs 2 channels for 16 units.
    names = lambda classes: [c.name for c in classes]
    assert names(shape_classes.shape_classes(sequence_space)) == ["vector", "channels<=4", "full"]
    assert names(shape_classes.shape_classes(sequence_space, "vector")) == ["vector", "full"]
    assert names(shape_classes.shape_classes(sequence_space, "none")) == ["full"]
    assert names(shape_classes.shape_classes(vector_space)) == ["full"]
    vector, narrow, full = shape_classes.shape_classes(image_space)
    assert vector.space.buffer_shape == (36,)
    assert narrow.space.buffer_shape == (6, 6, 4)
    assert full.space.buffer_shape == (6, 6, 8)
    with pytest.raises(ValueError, match="parallel.shape_classes"):
        shape_classes.shape_classes(sequence_space, "some")
    with pytest.raises(ValueError, match="below the 2 channels"):
        PathwaySpace(SMALL_TABLES, "sequence", (12, 1), "classification", 3, channel_bound=1)


def test_each_genome_goes_to_the_narrowest_class_that_holds_it():
    space = PathwaySpace(SMALL_TABLES, "sequence", (8, 1), "classification", 3)
    genomes = [
        _genome(space, [DENSE, DENSE], widths=[1, 0]),  # dense only: vector
        _genome(space, []),  # the read-out alone: vector
        _genome(space, [MAX_POOL, DENSE]),  # pooling keeps 1 channel: channels<=4
        _genome(space, [CONV, AVG_POOL], widths=[0]),  # 4 channels: channels<=4
        _genome(space, [CONV, CONV], widths=[0, 1]),  # 8 channels: full
        # A residual around a first dense block as wide as the input (8) acts
        # only on a vector input, so this genome must not train as one.
        _genome(space, [DENSE], widths=[0], residual=[1]),
    ]
    classes = shape_classes.shape_classes(space)
    assignment = shape_classes.assign(space, classes, genome_lib.stack_genomes(genomes))
    assert [classes[i].name for i in assignment] == [
        "vector",
        "vector",
        "channels<=4",
        "channels<=4",
        "full",
        "channels<=4",
    ]


def test_slots_spread_each_class_over_the_devices():
    np.testing.assert_array_equal(spread_slots(3, 8, 2), [0, 4, 1])
    np.testing.assert_array_equal(spread_slots(4, 4, 1), [0, 1, 2, 3])


@pytest.mark.parametrize("kind", ["sequence", "image"])
def test_a_genome_trains_to_the_same_numbers_in_its_class(kind, sequence_space, image_space):
    space = {"sequence": sequence_space, "image": image_space}[kind]
    genomes = [
        _genome(space, [DENSE, DENSE], widths=[0, 0], residual=[0, 1], dropout=[2, 1]),
        _genome(space, [CONV, MAX_POOL, DENSE], widths=[0, 0, 1], dropout=[1, 0, 3]),
        _genome(space, [AVG_POOL, CONV, IDENTITY, DENSE], widths=[0, 0, 0, 1], residual=[0, 1]),
    ]
    inputs = jax.random.normal(jax.random.key(1), (32, *space.input_shape))
    targets = jax.random.randint(jax.random.key(2), (32,), 0, space.num_outputs)
    eval_set = trainer.make_eval_set(np.asarray(inputs), np.asarray(targets), 16)
    settings = trainer.TrainSettings(steps=STEPS)
    classes = shape_classes.shape_classes(space)

    programs = {}

    def metrics(genome, class_space):
        """Metrics of ``genome`` trained in ``class_space`` (one compile per class)."""
        if class_space not in programs:
            x = shape_classes.class_inputs(space, class_space, inputs)
            class_eval_inputs = shape_classes.class_inputs(space, class_space, eval_set.inputs)
            evals = (eval_set.replace(inputs=class_eval_inputs),)
            programs[class_space] = jax.jit(
                lambda g, x=x, evals=evals, class_space=class_space: trainer.train_and_evaluate(
                    space,
                    settings,
                    g,
                    jax.random.key(3),
                    x,
                    targets,
                    evals,
                    program_space=class_space,
                )
            )
        return jax.device_get(programs[class_space](genome))

    for genome, expected in zip(genomes, ["vector", "channels<=4", "channels<=4"], strict=True):
        index = int(shape_classes.assign(space, classes, genome_lib.stack_genomes([genome]))[0])
        assert classes[index].name == expected
        narrow, full = metrics(genome, classes[index].space), metrics(genome, space)
        np.testing.assert_allclose(narrow["train_loss"], full["train_loss"], rtol=1e-5)
        for name, value in full["eval"][0].items():
            np.testing.assert_allclose(narrow["eval"][0][name], value, rtol=1e-5, atol=1e-6)


def test_population_program_with_classes_matches_one_program(sequence_space):
    space = sequence_space
    # Three sampled genomes and one of each class, with dropout.
    sampled = jax.vmap(space.sample)(jax.random.split(jax.random.key(4), 3))
    population = genome_lib.stack_genomes(
        [genome_lib.index_population(sampled, i) for i in range(3)]
        + [
            _genome(space, [DENSE, DENSE], widths=[1, 0], dropout=[1, 2]),
            _genome(space, [CONV, MAX_POOL], widths=[0], dropout=[3]),
            _genome(space, [CONV, CONV, DENSE], widths=[1, 0, 0]),
        ]
    )
    keys = candidate_keys(jax.random.key(5), np.arange(6))
    inputs = jax.random.normal(jax.random.key(6), (32, *space.input_shape))
    targets = jax.random.randint(jax.random.key(7), (32,), 0, space.num_outputs)
    eval_set = trainer.make_eval_set(np.asarray(inputs), np.asarray(targets), 16)
    mesh = parallel.population_mesh()
    results = {}
    for which in ("all", "none"):
        program = PopulationProgram(space, STEPS, mesh, "shard_map", 1, which)
        results[which] = program(population, keys, inputs, targets, (eval_set,))
        used = sum(count > 0 for count in program.class_counts(population).values())
        assert program.compilations == used
        if which == "all":
            assert used == 3  # The comparison spans every program.
    assert results["all"].keys() == results["none"].keys()
    np.testing.assert_array_equal(results["all"]["num_params"], results["none"]["num_params"])
    np.testing.assert_allclose(
        results["all"]["train_loss"], results["none"]["train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(
        results["all"]["eval"][0]["fitness"], results["none"]["eval"][0]["fitness"], rtol=1e-5
    )


def test_attention_genomes_compute_the_same_function_in_their_class():
    import dataclasses

    from pathways_jax.spaces.pathway import network
    from pathways_jax.spaces.pathway.genome import (
        PATCH_EMBEDDING,
        POSITION_EMBEDDING,
        SELF_ATTENTION,
        SEQUENCE_POOL,
        TRANSFORMER_MLP,
    )

    tables = dataclasses.replace(SMALL_TABLES, attention_heads=(1, 2))
    space = PathwaySpace(tables, "sequence", (12, 1), "classification", 3)
    genomes = [
        # Attention over 4 channels, an MLP, a mean pool: channels<=4.
        _genome(
            space, [SELF_ATTENTION, TRANSFORMER_MLP, SEQUENCE_POOL, DENSE], widths=[0, 0, 0, 1]
        ),
        # Patches of 8 channels: full.
        _genome(space, [PATCH_EMBEDDING, POSITION_EMBEDDING, SELF_ATTENTION], widths=[1, 0, 1]),
        # Attention blocks are spatial: never the vector class.
        _genome(space, [POSITION_EMBEDDING, DENSE]),
    ]
    classes = shape_classes.shape_classes(space)
    assignment = shape_classes.assign(space, classes, genome_lib.stack_genomes(genomes))
    assert [classes[i].name for i in assignment] == ["channels<=4", "full", "channels<=4"]
    inputs = jax.random.normal(jax.random.key(1), (5, *space.input_shape))
    for genome, index in zip(genomes, assignment, strict=True):
        class_space = classes[index].space
        params = network.init_params(space, genome, jax.random.key(2))
        narrow = shape_classes.narrow_params(space, class_space, genome, params)
        expected = network.apply(space, genome, params, inputs)
        actual = network.apply(class_space, genome, narrow, inputs)
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)

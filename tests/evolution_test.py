"""Regularized evolution: ask/tell semantics, aging, determinism (on the
stand-in bit-string space: the strategy speaks only the space protocol)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pathways_jax.strategies import RegularizedEvolution


@pytest.fixture(scope="module")
def strategy(bit_space):
    return RegularizedEvolution(bit_space, population_size=6, sample_size=6, round_size=4)


def _run(strategy, rounds, fitness_fn, seed=0):
    state = strategy.init(jax.random.key(seed))
    asked = []
    for round_index in range(rounds):
        children, parents = strategy.ask(jax.random.key(100 + round_index), state)
        fitness = fitness_fn(round_index)
        state = strategy.tell(state, children, fitness, strategy.round_size)
        asked.append((children, np.asarray(parents)))
    return state, asked


def test_random_until_full_then_tournament_children(strategy):
    fitness = lambda r: jnp.arange(4, dtype=jnp.float32) + 10 * r
    state, asked = _run(strategy, 3, fitness)
    # Rounds 0 and 1 fill the population (8 random candidates for 6 slots).
    assert (asked[0][1] == -1).all() and (asked[1][1] == -1).all()
    # With sample_size == population_size every tournament picks the fittest.
    parents = asked[2][1][:, 0]
    assert (parents == 7).all(), parents
    assert int(state.num_evaluated) == 12 and int(state.num_rounds) == 3


def test_oldest_die_regardless_of_fitness(strategy):
    # Old candidates are the fittest; aging still removes them.
    fitness = lambda r: jnp.full((4,), 100.0 - r, jnp.float32)
    state, _ = _run(strategy, 4, fitness)
    assert sorted(np.asarray(state.birth).tolist()) == list(range(10, 16))


def test_non_aging_keeps_the_fittest(bit_space):
    strategy = RegularizedEvolution(bit_space, 6, 3, 4, aging=False)
    fitness = lambda r: jnp.asarray([100.0 - r, 0.0, 1.0, 2.0], jnp.float32)
    state, _ = _run(strategy, 4, fitness)
    births = sorted(np.asarray(state.birth).tolist())
    assert {0, 4, 8, 12} <= set(births)


def test_partial_round_tells_only_real_children(strategy):
    state = strategy.init(jax.random.key(0))
    children, _ = strategy.ask(jax.random.key(1), state)
    state = strategy.tell(state, children, jnp.ones(4), 3)
    assert int(state.num_evaluated) == 3
    assert sorted(np.asarray(state.birth).tolist()) == [-1, -1, -1, 0, 1, 2]


def test_unadmitted_children_count_but_never_join(strategy):
    # Children stopped at a hurdle keep their ids but stay out of the population,
    # however fit they are.
    state = strategy.init(jax.random.key(0))
    children, _ = strategy.ask(jax.random.key(1), state)
    admitted = jnp.asarray([True, False, True, False])
    state = strategy.tell(state, children, jnp.asarray([0.1, 9.0, 0.2, 9.0]), 4, admitted)
    assert int(state.num_evaluated) == 4
    assert sorted(np.asarray(state.birth).tolist()) == [-1, -1, -1, -1, 0, 2]
    state = strategy.tell(state, children, jnp.ones(4), 4, jnp.asarray([False, True, True, True]))
    assert sorted(np.asarray(state.birth).tolist()) == [-1, 0, 2, 5, 6, 7]


def test_same_key_same_state(strategy):
    fitness = lambda r: jnp.sin(jnp.arange(4, dtype=jnp.float32) * (r + 1))
    a, _ = _run(strategy, 4, fitness, seed=3)
    b, _ = _run(strategy, 4, fitness, seed=3)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_children_are_valid(strategy, bit_space):
    fitness = lambda r: jnp.arange(4, dtype=jnp.float32)
    _, asked = _run(strategy, 4, fitness)
    for children, _ in asked:
        assert np.asarray(jax.vmap(bit_space.is_valid)(children)).all()


def test_settings_are_checked(bit_space):
    with pytest.raises(ValueError, match="sample_size"):
        RegularizedEvolution(bit_space, population_size=4, sample_size=5, round_size=2)
    with pytest.raises(ValueError, match="population_size"):
        RegularizedEvolution(bit_space, population_size=1, sample_size=1, round_size=2)


def test_ask_inside_another_jit_breeds_the_same_children(strategy):
    # A top-level call compiles with the strategy's compiler options; inside
    # another transformation (as the size repair calls it) it is a nested jit.
    fitness = lambda r: jnp.arange(4, dtype=jnp.float32) + 10 * r
    state, _ = _run(strategy, 2, fitness)
    key = jax.random.key(7)
    top_level = strategy.ask(key, state)
    nested = jax.jit(lambda k, s: strategy.ask(k, s))(key, state)
    for a, b in zip(
        jax.tree_util.tree_leaves(top_level), jax.tree_util.tree_leaves(nested), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))

"""Population-based training: exploit and explore, weights carried across
rounds (and across a resume), and an end-to-end search."""

import os
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pathways_jax import api, parallel, strategies
from pathways_jax import config as config_lib
from pathways_jax.core import stages
from pathways_jax.evaluators.member_weights import MemberWeights, MemberWeightsSettings
from pathways_jax.population_program import candidate_keys
from pathways_jax.runs import preemption, records
from pathways_jax.spaces.pathway.genome import BLOCK_GENES

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTOR_CONFIG = os.path.join(REPO, "tests", "configs", "tiny_vector.py")


def _config():
    config = config_lib.load_config_file(VECTOR_CONFIG)
    config.strategy.name = "pbt"
    config.strategy.population_size = 4
    config.strategy.equivalence_cache = False
    config.parallel.round_size = 4
    config.budget.evaluations = 16
    config.train.steps = 10
    config.checkpoint.every_rounds = 1
    config.progress.report = False
    return config


def test_bottom_members_copy_a_top_member_and_perturb_its_training_genes(vector_space):
    strategy = strategies.PopulationBasedTraining(vector_space, population_size=5, round_size=5)
    state = strategy.init(jax.random.key(0))
    first, no_parents = strategy.ask(jax.random.key(1), state)
    assert (np.asarray(no_parents) == -1).all()  # The first round starts from scratch.
    state = strategy.tell(state, first, jnp.asarray([0.5, 0.9, 0.1, 0.7, 0.3]), 5)
    children, parents = strategy.ask(jax.random.key(2), state)
    children, parents, members = jax.device_get((children, parents[:, 0], state.population))
    # One member (20% of 5) exploits: the worst (slot 2, id 2) copies the best (id 1).
    assert parents.tolist() == [0, 1, 1, 3, 4]
    for name in BLOCK_GENES:  # The architecture is copied as it is.
        assert np.array_equal(getattr(children, name)[2], getattr(members, name)[1])
    step = children.log10_learning_rate[2] - members.log10_learning_rate[1]
    low, high = vector_space.tables.log10_learning_rate_range
    assert (
        np.isclose(step, np.log10(0.8), atol=1e-5)
        or np.isclose(step, np.log10(1.2), atol=1e-5)
        or children.log10_learning_rate[2] in (low, high)
    )
    for slot in (0, 1, 3, 4):  # The others continue unchanged.
        for leaf_child, leaf_member in zip(
            jax.tree_util.tree_leaves(children), jax.tree_util.tree_leaves(members), strict=True
        ):
            assert np.array_equal(leaf_child[slot], leaf_member[slot])
    state = strategy.tell(state, jax.tree_util.tree_map(jnp.asarray, children), jnp.ones(5), 5)
    assert np.asarray(state.birth).tolist() == [5, 6, 7, 8, 9]


def test_pbt_settings_are_checked(vector_space):
    with pytest.raises(ValueError, match="round_size"):
        strategies.PopulationBasedTraining(vector_space, population_size=4, round_size=2)
    config = _config()
    config.strategy.equivalence_cache = True
    with pytest.raises(config_lib.ConfigError, match="strategy.equivalence_cache"):
        config_lib.check_config(config)
    config = _config()
    config.budget.evaluations = 10
    with pytest.raises(config_lib.ConfigError, match="a multiple of strategy.population_size=4"):
        config_lib.check_config(config)


def test_members_start_from_the_weights_of_their_parents(vector_space):
    config = _config()
    mesh = parallel.population_mesh(1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.normal(size=(64,)).astype(np.float32)
    data = types.SimpleNamespace(x_train=x, y_train=y, x_val=x, y_val=y, x_test=x, y_test=y)
    settings = MemberWeightsSettings(
        steps=config.train.steps, num_rounds=2, population_size=4, eval_chunk=32
    )
    members = MemberWeights(vector_space, data, settings, mesh)
    strategy = strategies.PopulationBasedTraining(vector_space, population_size=4, round_size=4)
    state = strategy.init(jax.random.key(0))
    plan = stages.plan_round(strategy, jax.random.key(1), state, 4)
    members.evaluate(plan, candidate_keys(jax.random.key(2), np.arange(4)), 4, np.arange(4))
    trained = jax.device_get(members.params)
    # Two children of the same genes and key: from the same parent's weights
    # they end equal; from two different parents' weights they do not.
    same = plan.trained
    same = jax.tree_util.tree_map(lambda leaf: jnp.stack([leaf[0]] * 4), same)
    keys = candidate_keys(jax.random.key(3), np.zeros(4, int))

    def run(parent_ids):
        runner = MemberWeights(vector_space, data, settings, mesh)
        runner.restore({"params": trained, "state": members.state, "births": np.arange(4)})
        parents = np.stack([parent_ids, -np.ones(4, int)], axis=1)
        step = stages.RoundPlan(same, parents, same, [{}] * 4, [None] * 4, [None] * 4)
        runner.evaluate(step, keys, 4, np.arange(4, 8))
        return jax.device_get(runner.params)

    from_one = run(np.asarray([1, 1, 1, 1]))
    from_each = run(np.asarray([0, 1, 2, 3]))
    for leaf in jax.tree_util.tree_leaves(from_one):
        assert all(np.array_equal(leaf[0], leaf[i]) for i in range(1, 4))
    differs = [
        not np.array_equal(leaf[0], leaf[2]) for leaf in jax.tree_util.tree_leaves(from_each)
    ]
    assert any(differs)


def test_pbt_search_resumes_with_the_members_weights(tmp_path):
    config = _config()
    uninterrupted = api.run_search(config, str(tmp_path / "whole"))
    with pytest.raises(preemption.SearchInterrupted):
        api.run_search(config, str(tmp_path / "stopped"), stop_after_rounds=2)
    resumed = api.run_search(config, str(tmp_path / "stopped"))

    def history(name):
        with open(tmp_path / name / records.HISTORY_FILE) as file:
            return file.read()

    assert history("stopped") == history("whole")
    assert resumed["final"] == uninterrupted["final"]
    lines = records.read_json_lines(str(tmp_path / "whole" / records.HISTORY_FILE))
    assert [line["round"] for line in lines] == [r for r in range(4) for _ in range(4)]
    assert all(line["parents"] == [] for line in lines[:4])
    assert all(len(line["parents"]) == 1 for line in lines[4:])
    # The best member's weights are the product: trained over all 4 intervals
    # and evaluated once on the test split.
    assert uninterrupted["final"]["steps"] == 4 * config.train.steps
    assert uninterrupted["compilations"] == 1
    assert os.path.exists(tmp_path / "whole" / "best" / "model.py")

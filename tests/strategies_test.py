"""The other strategies (truncation, random, NSGA-II), crossover kinds,
constraints and the functional-equivalence cache: their defining behaviour,
and end-to-end searches."""

import importlib.util
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from plain_network_test import SPACES, make_genome

from pathways_jax import api, strategies
from pathways_jax import config as config_lib
from pathways_jax.core import experiment, stages
from pathways_jax.reproductions import regularized_evolution as reproduction
from pathways_jax.spaces.pathway import network as pathway_network
from pathways_jax.strategies import nsga2

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTOR_CONFIG = os.path.join(REPO, "tests", "configs", "tiny_vector.py")


def _fill(strategy, fitness_rounds, seed=0):
    """Run ask/tell with the given per-round values; returns state and asks."""
    state = strategy.init(jax.random.key(seed))
    asked = []
    for round_index, values in enumerate(fitness_rounds):
        children, parents = strategy.ask(jax.random.key(100 + round_index), state)
        state = strategy.tell(state, children, jnp.asarray(values), strategy.round_size)
        asked.append((children, np.asarray(parents)))
    return state, asked


# -------------------------------------------------------------- truncation


def test_truncation_keeps_the_fittest_of_parents_and_children(bit_space):
    strategy = strategies.TruncationSelection(bit_space, population_size=4, round_size=4)
    values = [[1.0, 5.0, 3.0, 2.0], [4.0, 0.5, 6.0, 0.0], [0.1, 0.2, 0.3, 7.0]]
    state, asked = _fill(strategy, values)
    assert sorted(np.asarray(state.fitness).tolist()) == [4.0, 5.0, 6.0, 7.0]
    assert sorted(np.asarray(state.birth).tolist()) == [1, 4, 6, 11]
    # Breeding starts once the population is full; parents are members.
    assert (asked[0][1] == -1).all()
    assert set(asked[1][1][:, 0]) <= {0, 1, 2, 3}
    assert set(asked[2][1][:, 0]) <= {1, 2, 4, 6}


def test_random_search_never_breeds_and_reports_the_best(bit_space):
    strategy = strategies.RandomSearch(bit_space, population_size=3, round_size=4)
    state, asked = _fill(strategy, [[1.0, 2.0, 3.0, 4.0], [9.0, 0.0, 0.0, 0.0]])
    assert all((parents == -1).all() for _, parents in asked)
    assert sorted(np.asarray(state.fitness).tolist()) == [3.0, 4.0, 9.0]
    first, second = (jax.device_get(children) for children, _ in asked)
    assert not np.array_equal(first.bits, second.bits)


# ------------------------------------------------------------------ NSGA-II


def test_non_dominated_sort_on_a_hand_made_front():
    objectives = jnp.asarray(
        [
            [0.9, -3.0],  # front 0
            [0.8, -2.0],  # front 0
            [0.7, -2.5],  # dominated by 1 → front 1
            [0.95, -4.0],  # front 0
            [0.6, -3.5],  # dominated by 0, 1, 2 → front 2
            [0.5, -1.0],  # front 0 (smallest)
            [0.99, -1.0],  # invalid: ignored
        ]
    )
    valid = jnp.asarray([True] * 6 + [False])
    ranks = np.asarray(nsga2.non_dominated_ranks(objectives, valid))
    assert ranks.tolist() == [0, 0, 1, 0, 2, 0, 7]


def test_crowding_distance_is_infinite_at_the_ends_and_normalised():
    objectives = jnp.asarray([[0.0, 4.0], [1.0, 2.0], [2.0, 1.0], [4.0, 0.0]])
    ranks = jnp.zeros(4, jnp.int32)
    crowding = np.asarray(nsga2.crowding_distances(objectives, ranks))
    assert np.isinf(crowding[0]) and np.isinf(crowding[3])
    # Point 1: neighbours 0 and 2 → (2-0)/4 + (4-1)/4; point 2: (4-1)/4 + (2-0)/4.
    np.testing.assert_allclose(crowding[1:3], [1.25, 1.25])


def test_hypervolume_of_a_two_dimensional_front():
    points = np.asarray([[3.0, 1.0], [1.0, 3.0], [2.0, 2.0], [1.0, 1.0]])
    # Union of [0,3]x[0,1], [0,1]x[0,3], [0,2]x[0,2] = 3 + 3 + 4 - 2 - 2 - 1 + 1.
    assert nsga2.hypervolume(points, np.zeros(2)) == pytest.approx(6.0)
    assert nsga2.hypervolume(points[:1], np.zeros(2)) == pytest.approx(3.0)


def test_nsga2_tell_keeps_the_first_fronts(bit_space):
    strategy = strategies.NSGA2(bit_space, population_size=3, round_size=3)
    first = [[0.5, -2.0], [0.6, -3.0], [0.4, -1.0]]
    second = [[0.9, -1.5], [0.1, -5.0], [0.45, -2.5]]
    state, _ = _fill(strategy, [first, second])
    # Front 0 is {3, 2}; front 1 is {0, 1} (both ends, equally crowded); 4 and 5 last.
    kept = set(np.asarray(state.birth).tolist())
    assert kept == {2, 3, 1} or kept == {2, 3, 0}
    assert 4 not in kept  # Dominated by everything.
    np.testing.assert_allclose(
        np.asarray(state.fitness), np.asarray(state.objectives)[:, 0], rtol=0
    )


def test_nsga2_settings_are_checked(bit_space):
    with pytest.raises(ValueError, match="fitness"):
        strategies.NSGA2(bit_space, 4, 2, objective_names=("params", "fitness"))
    with pytest.raises(ValueError, match="energy"):
        strategies.NSGA2(bit_space, 4, 2, objective_names=("fitness", "energy"))


# ---------------------------------------------------------------- crossover


def test_crossover_kinds_mix_as_documented():
    space = SPACES["vector5"]
    first = make_genome(space, [{"op": "dense", "width": 16}] * 4)
    second = make_genome(
        space, [{"op": "dense", "width": 5, "activation": "tanh", "norm": True}] * 4
    )
    seen_cuts = set()
    for seed in range(12):
        child = jax.device_get(space.crossover(jax.random.key(seed), first, second, "one_point"))
        from_second = child.width == second.width
        cut = int(np.argmax(from_second)) if from_second.any() else 4
        assert (from_second == (np.arange(4) >= cut)).all()
        assert (child.normalization == np.where(from_second, 1, 0)).all()  # Whole blocks.
        seen_cuts.add(cut)
    assert len(seen_cuts) > 1
    mixed_within_a_block = False
    for seed in range(12):
        child = jax.device_get(space.crossover(jax.random.key(seed), first, second, "uniform"))
        assert not space.validate(child)
        mixed_within_a_block |= bool(
            np.any((child.width == second.width) != (child.normalization == 1))
        )
    assert mixed_within_a_block
    with pytest.raises(ValueError, match="crossover kind"):
        space.crossover(jax.random.key(0), first, second, "two_point")


# ------------------------------------------------- constraints and the cache


def test_constraints_repair_children_over_the_limit(vector_space):
    strategy = strategies.RandomSearch(vector_space, population_size=4, round_size=8)
    state = strategy.init(jax.random.key(0))
    limit = 60
    repair = stages.ConstraintRepair(vector_space, {"num_params": limit})
    plan = stages.plan_round(strategy, jax.random.key(3), state, 8, (repair,))
    params = jax.vmap(lambda g: pathway_network.count_parameters(vector_space, g))(plan.trained)
    assert (np.asarray(params) <= limit).all()
    unconstrained, _ = strategy.ask(jax.random.key(3), state)
    before = jax.vmap(lambda g: pathway_network.count_parameters(vector_space, g))(unconstrained)
    over = np.flatnonzero(np.asarray(before) > limit)
    assert len(over) > 0
    for slot in range(8):
        note = plan.notes[slot].get("repaired", "")
        assert (slot in over) == bool(note)
        if note:
            assert "constraints.max_params=60" in note


def test_equivalent_genomes_share_a_fingerprint_and_hit_the_cache():
    space = SPACES["vector5"]
    genome = make_genome(space, [{"op": "dense", "width": 16}, {"op": "identity"}])
    # Genes of the identity block and an inactive residual gene do not matter.
    twin = genome.replace(
        activation=jnp.asarray(genome.activation).at[1].set(3),
        width=jnp.asarray(genome.width).at[1].set(1),
        residual=jnp.asarray(genome.residual).at[0].set(1),  # 5 → 16 units: cannot act.
    )
    other = genome.replace(activation=jnp.asarray(genome.activation).at[0].set(2))
    assert space.fingerprint(genome) == space.fingerprint(twin)
    assert space.fingerprint(genome) != space.fingerprint(other)
    cache = stages.EquivalenceCache(space)
    from pathways_jax.spaces.pathway import genome as genome_lib

    cache.add_records(
        [{"id": 7, "genome": genome_lib.genome_to_json(genome), "metrics": {"fitness": 0.5}}]
    )
    assert cache.lookup(twin) == (space.fingerprint(genome), (7, {"fitness": 0.5}, {}))
    assert cache.lookup(other)[1] is None
    assert cache.hit_rate == 0.5


# ---------------------------------------------------------------- searches


def _config():
    config = config_lib.load_config_file(VECTOR_CONFIG)
    config.progress.report = False
    return config


def test_nsga2_search_writes_its_pareto_front(tmp_path):
    config = _config()
    config.strategy.name = "nsga2"
    config.strategy.objectives = ("fitness", "params", "flops")
    summary = api.run_search(config, str(tmp_path))
    front = json.loads((tmp_path / "pareto_front.json").read_text())
    assert front["objectives"] == ["fitness", "params", "flops"]
    assert summary["pareto_front_size"] == len(front["front"]) >= 1
    assert (tmp_path / "plots" / "pareto_front.png").stat().st_size > 1000
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    measured = lambda m: [m["fitness"], -m["num_params"], -m["flops"]]
    points = np.asarray([measured(r["metrics"]) for r in history])
    for member in front["front"]:  # Nothing evaluated dominates a front member.
        mine = np.asarray([member["fitness"], -member["params"], -member["flops"]])
        assert not np.any(np.all(points >= mine, axis=1) & np.any(points > mine, axis=1))
    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    volumes = [m["hypervolume"] for m in metrics]
    assert volumes == sorted(volumes) and volumes[-1] > 0


def test_constrained_truncation_search_never_trains_over_the_limit(tmp_path):
    config = _config()
    config.strategy.name = "truncation"
    config.constraints.max_params = 100
    api.run_search(config, str(tmp_path))
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert all(r["metrics"]["num_params"] <= 100 for r in history)
    assert any("repaired" in r for r in history)
    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    hits = sum(m["cache_hits"] for m in metrics)
    assert hits == sum("cache_hit_of" in r for r in history)
    assert metrics[-1]["training_steps"] == (len(history) - hits) * config.train.steps
    for record in history:
        if "cache_hit_of" in record:
            source = next(r for r in history if r["id"] == record["cache_hit_of"])
            assert record["metrics"]["fitness"] == source["metrics"]["fitness"]


def test_reproduction_summary_and_report(tmp_path):
    curves = {
        "regularized": [np.asarray([0.1, 0.5, 0.7]), np.asarray([0.2, 0.6, 0.9])],
        "tournament": [np.asarray([0.1, 0.4, 0.6]), np.asarray([0.3, 0.3, 0.8])],
        "random": [np.asarray([0.2, 0.2, 0.5]), np.asarray([0.1, 0.4, 0.4])],
    }
    summary = reproduction.summarize(curves)
    np.testing.assert_allclose(summary["regularized"]["mean"], [0.15, 0.55, 0.8])
    np.testing.assert_allclose(summary["random"]["final"], [0.5, 0.4])
    config = _config()
    path = reproduction.write_report(curves, config, "python repro.py", str(tmp_path), "re")
    with open(path, encoding="utf-8") as file:
        text = file.read()
    assert "python repro.py" in text and "| regularized | 2 | 0.8000 ± 0.1000" in text
    assert "Evolution beats random search: **holds**" in text
    assert "at least as good as non-aging: **holds**" in text
    assert (tmp_path / "re.png").stat().st_size > 1000
    run = reproduction.run_config(_with_reproduction(config), "random", 3)
    assert run.strategy.name == "random" and run.seed == 3 and "reproduction" not in run


def test_nsga2_latency_objective_is_measured_once_per_architecture(tmp_path):
    from pathways_jax import latency
    from pathways_jax.codegen.plain_network import decode_blocks
    from pathways_jax.runs.preemption import SearchInterrupted
    from pathways_jax.spaces.pathway.genome import genome_from_json

    config = _config()
    config.strategy.name = "nsga2"
    config.strategy.objectives = ("fitness", "latency")
    with pytest.raises(SearchInterrupted):
        api.run_search(config, str(tmp_path / "run"), stop_after_rounds=2)
    summary = api.run_search(config, str(tmp_path / "run"))  # Resumed.
    table = json.loads((tmp_path / "run" / latency.TABLE_FILE).read_text())
    history = [
        json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()
    ]
    space = experiment.build_space(config)
    seen = {}
    for record in history:
        blocks = decode_blocks(space, genome_from_json(record["genome"]))
        key = latency.architecture_key(blocks)
        seconds = record["metrics"]["latency_seconds"]
        assert 0 < seconds < 1 and table[key] == seconds
        # The same architecture has one latency, before and after resuming.
        assert seen.setdefault(key, seconds) == seconds
    assert len(seen) < len(history)  # Repeated architectures were not timed again.
    front = json.loads((tmp_path / "run" / "pareto_front.json").read_text())
    assert front["objectives"] == ["fitness", "latency"]
    assert all(member["latency"] > 0 for member in front["front"])
    assert summary["pareto_front_size"] == len(front["front"])

    # From the saved table nothing is timed, and the search repeats bit for bit.
    config.strategy.latency_table = str(tmp_path / "run" / latency.TABLE_FILE)
    again = api.run_search(config, str(tmp_path / "again"))
    assert again["latency_architectures_measured"] == 0
    assert (tmp_path / "again" / "history.jsonl").read_bytes() == (
        tmp_path / "run" / "history.jsonl"
    ).read_bytes()


def _with_reproduction(config):
    import ml_collections

    config.reproduction = ml_collections.ConfigDict({"strategies": ("random",), "seeds": (0,)})
    return config


def test_pareto_and_reproduction_configs_load():
    for name in ("mnist1d_pareto", "mnist1d_latency", "reproduce_regularized_evolution"):
        path = os.path.join(REPO, "configs", f"{name}.py")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        config = module.get_config()
        if name in ("mnist1d_pareto", "mnist1d_latency"):
            config_lib.check_config(config)
            assert config.strategy.name == "nsga2"
        else:
            config_lib.check_config(reproduction.run_config(config, "regularized", 0))


def test_hurdle_trains_only_the_best_fraction_fully(tmp_path):
    config = _config()
    config.strategy.equivalence_cache = False
    # A population of 2 fills with the fully trained children of rounds 0 and 1.
    config.strategy.population_size = 2
    config.strategy.sample_size = 2
    plain = api.run_search(config, str(tmp_path / "plain"))
    config.fidelity.hurdle_steps = 6
    config.fidelity.keep_fraction = 0.25  # 1 of every 4 children.
    hurdled = api.run_search(config, str(tmp_path / "hurdle"))
    read = lambda name: [
        json.loads(line) for line in (tmp_path / name / "history.jsonl").read_text().splitlines()
    ]
    history, reference = read("hurdle"), read("plain")
    for round_index in range(5):
        members = [r for r in history if r["round"] == round_index]
        assert sum("fidelity" not in r for r in members) == 1
        assert sum(r.get("fidelity") == "hurdle" for r in members) == 3
    # Round 0 is random with the same keys in both runs: the child that passes
    # the hurdle gets exactly the metrics it gets without one.
    passed = next(r for r in history if r["round"] == 0 and "fidelity" not in r)
    assert passed["metrics"] == reference[passed["id"]]["metrics"]
    metrics = [
        json.loads(line)
        for line in (tmp_path / "hurdle" / "metrics.jsonl").read_text().splitlines()
    ]
    assert metrics[-1]["training_steps"] == 20 * 6 + 5 * 30
    assert {m["compilations"] for m in metrics} == {2}
    assert hurdled["evaluations"] == plain["evaluations"] == 20
    # Children stopped at the hurdle never join the population, so no parent
    # is one (a round's 2 youngest are often both stopped children).
    fully_trained = {r["id"] for r in history if "fidelity" not in r}
    bred = [r for r in history if r["parents"]]
    assert len(bred) == 12  # Rounds 2-4.
    assert all(set(r["parents"]) <= fully_trained for r in bred)

    # As AutoML-Zero: stopped children join with their short-training fitness,
    # so the population fills in round 0 and stopped children become parents.
    config.fidelity.stopped_join_population = True
    api.run_search(config, str(tmp_path / "joined"))
    joined = read("joined")
    assert [r.get("fidelity") for r in joined[:4]] == [r.get("fidelity") for r in history[:4]]
    stopped = {r["id"] for r in joined if "fidelity" in r}
    assert len([r for r in joined if r["parents"]]) == 16  # Rounds 1-4.
    assert any(set(r["parents"]) & stopped for r in joined)
    config.fidelity.stopped_join_population = False

    # Successive halving: rungs of 4 and 10 steps keeping half each time: per
    # round of 4, 2 stop after 4 steps, 1 after 10 (having trained 4 + 10),
    # 1 trains 4 + 10 + 30.
    config.fidelity.hurdle_steps = 0
    config.fidelity.rung_steps = (4, 10)
    config.fidelity.keep_fraction = 0.5
    halving = api.run_search(config, str(tmp_path / "halving"))
    history = read("halving")
    for round_index in range(5):
        members = [r for r in history if r["round"] == round_index]
        assert sorted(r.get("rung", -1) for r in members) == [-1, 0, 0, 1]
    passed = next(r for r in history if r["round"] == 0 and "fidelity" not in r)
    assert passed["metrics"] == reference[passed["id"]]["metrics"]
    metrics = [
        json.loads(line)
        for line in (tmp_path / "halving" / "metrics.jsonl").read_text().splitlines()
    ]
    assert metrics[-1]["training_steps"] == 5 * (4 * 4 + 2 * 10 + 30)
    assert halving["compilations"] == 3

"""A wall-clock budget stops the search at a round boundary, finishes within
the budget, records that it stopped on time, and a resumed run does not run
more rounds than the budget left."""

import json
import time

import numpy as np
import pytest

import pathways_jax
from pathways_jax.core.time_budget import TimeBudget


class _SlowEvaluator(pathways_jax.FunctionEvaluator):
    """The function evaluator, a fixed time per round (a stand-in for training)."""

    def __init__(self, space, round_seconds):
        super().__init__(space)
        self.round_seconds = round_seconds

    def evaluate(self, plan, keys, num_real, ids):
        time.sleep(self.round_seconds)
        return super().evaluate(plan, keys, num_real, ids)


class _Finish:
    def __init__(self, seconds):
        self.seconds = seconds

    def finalize_seconds(self, round_seconds, num_finalists, compile_seconds):
        return self.seconds * num_finalists + compile_seconds


def test_the_next_round_is_estimated_from_the_last_two_and_the_finish_from_the_evaluator():
    budget = TimeBudget(10.0, _Finish(1.0), num_finalists=2)
    assert not budget.exhausted(9.5)  # Nothing measured: the first round always runs.
    budget.add_round(3.0, compile_seconds=2.0)  # The first round compiled for 2 s.
    # Next round: 1 s of work (the first compilation is paid once); finish: 2 x 1 s + 2 s.
    assert budget.next_round_seconds() == 1.0 and budget.finish_seconds() == 4.0
    assert budget.exhausted(5.5) and not budget.exhausted(4.5)
    budget.add_round(2.0, compile_seconds=0.5)  # A later round compiled a new program.
    assert budget.next_round_seconds() == 1.5 + 0.5  # The longer net round + its compilation.
    budget.add_round(1.0)
    assert budget.next_round_seconds() == 1.5  # The longer of the last two, no compilation.
    assert not budget.exhausted(4.0) and budget.exhausted(5.0)  # 4 + 1.5 + 4 <= 10 < 5 + 5.5
    unlimited = TimeBudget(float("inf"))
    unlimited.add_round(1e9)
    assert not unlimited.limited and not unlimited.exhausted(1e12)


def _search(bit_space, workdir, seconds, round_seconds=0.25):
    strategy = pathways_jax.RegularizedEvolution(
        space=bit_space, population_size=8, sample_size=2, round_size=4
    )
    settings = pathways_jax.LoopSettings(
        seed=1,
        evaluations=4000,
        round_size=4,
        top_k=1,
        checkpoint_every=1000,
        report=False,
        progress_bar=False,
        seconds=seconds,
    )
    return pathways_jax.search(
        space=bit_space,
        strategy=strategy,
        evaluator=_SlowEvaluator(bit_space, round_seconds),
        settings=settings,
        workdir=str(workdir),
    )


def test_a_time_budget_stops_at_a_round_boundary_and_records_it(bit_space, tmp_path):
    result = _search(bit_space, tmp_path / "run", seconds=3.0)
    record = result.summary["time_budget"]
    assert record["stopped_by_time"] and record["seconds"] == 3.0
    evaluated = len(result.history)
    assert 4 <= evaluated < 4000 and evaluated % 4 == 0  # Whole rounds, far from the count.
    assert [r["id"] for r in result.history] == list(range(evaluated))
    # The loop stopped before a round that would not have fitted (and a
    # busy machine gets a second's slack for writing the records).
    assert record["elapsed_seconds"] <= 3.0 + 1.0
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["time_budget"] == record
    # The run is complete: running it again changes nothing.
    again = _search(bit_space, tmp_path / "run", seconds=3.0)
    assert len(again.history) == evaluated and again.summary["best_id"] == saved["best_id"]


def test_without_a_time_budget_the_count_is_the_budget(bit_space, tmp_path):
    strategy = pathways_jax.RandomSearch(space=bit_space, population_size=8, round_size=4)
    result = pathways_jax.search(
        space=bit_space,
        strategy=strategy,
        evaluator=pathways_jax.FunctionEvaluator(bit_space),
        settings=pathways_jax.LoopSettings(evaluations=12, round_size=4, report=False),
    )
    assert len(result.history) == 12 and "time_budget" not in result.summary


@pytest.mark.parametrize("seconds", [0, -5])
def test_a_time_budget_must_be_positive(seconds):
    from pathways_jax import config as config_lib

    config = config_lib.default_config()
    config.budget.seconds = seconds
    with pytest.raises(config_lib.ConfigError, match=r"config.budget.seconds=.* expected a number"):
        config_lib.check_config(config)
    assert np.isinf(config_lib.default_config().budget.seconds)

"""The behavioural equivalence cache on the pathway space (``fresh_weights``'
behaviour hook): candidates are fingerprinted by what they learn in a few
steps, and a hit inherits its source's metrics."""

import os

import numpy as np

from pathways_jax import api
from pathways_jax.core import behaviour_cache
from pathways_jax.runs import records
from tests.search_test import VECTOR_CONFIG, _load_config


def test_pathway_search_with_the_behaviour_cache(tmp_path):
    config = _load_config(VECTOR_CONFIG)
    config.strategy.behaviour_cache = True
    config.progress.report = False
    summary = api.run_search(config, str(tmp_path))
    history = records.read_json_lines(os.path.join(tmp_path, records.HISTORY_FILE))
    assert len(history) == summary["evaluations"] == 20
    by_id = {record["id"]: record for record in history}
    for record in history:
        if behaviour_cache.NOTE in record:  # A hit: its source's metrics exactly.
            assert record["metrics"] == by_id[record[behaviour_cache.NOTE]]["metrics"]
        elif "cache_hit_of" not in record:
            assert len(record["behaviour"]) == 32
            assert np.isfinite(record["metrics"]["fitness"])
    metrics = records.read_json_lines(os.path.join(tmp_path, records.METRICS_FILE))
    assert all("behaviour_hit_rate" in line for line in metrics)


def test_behaviour_hash_rounds_relative_to_the_magnitude():
    a = np.array([1.0, 1e-6, 300.0])
    assert behaviour_cache.behaviour_hash(a) == behaviour_cache.behaviour_hash(a * (1 + 1e-7))
    assert behaviour_cache.behaviour_hash(a) != behaviour_cache.behaviour_hash(a * (1 + 1e-3))

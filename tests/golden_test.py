"""Same config and seed, same history, byte for byte, across refactors: small
versions of the shipped configs (``tests/configs/golden.py``) against the
histories and final metrics recorded in ``tests/golden/`` before the search
loop was opened to other spaces."""

import importlib.util
import json
import os

import pytest

from pathways_jax import api

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(REPO, "tests", "golden")


@pytest.mark.parametrize("variant", ["mnist1d", "digits", "pbt", "nsga2"])
def test_history_and_final_metrics_equal_the_golden_files(tmp_path, variant):
    config_module = os.path.join(REPO, "tests", "configs", "golden.py")
    spec = importlib.util.spec_from_file_location("golden_config", config_module)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    summary = api.run_search(module.get_config(variant), str(tmp_path))
    with open(os.path.join(GOLDEN, f"{variant}.history.jsonl"), "rb") as file:
        expected = file.read()
    assert (tmp_path / "history.jsonl").read_bytes() == expected
    with open(os.path.join(GOLDEN, f"{variant}.summary.json"), encoding="utf-8") as file:
        golden = json.load(file)
    assert summary["best_id"] == golden["best_id"]
    assert summary["best_description"] == golden["best_description"]
    assert json.loads(json.dumps(summary["final"])) == golden["final"]

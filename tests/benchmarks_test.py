"""The benchmark runner's smoke version writes every result and the page.

Nothing here is about time: only that the files and fields exist and hold
sane values (finite, positive, the same work done three ways).
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = (
    "machine",
    "throughput",
    "efficiency",
    "conv_formulation",
    "compilation",
    "scaling",
    "time_to_quality",
    "op_profile",
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("benchmarks")
    env = dict(os.environ, JAX_NUM_CPU_DEVICES="2")
    completed = subprocess.run(
        [
            sys.executable,
            os.path.join(REPO_ROOT, "benchmarks", "run.py"),
            "--quick",
            f"--results_dir={directory}",
            f"--doc={directory / 'benchmarks.md'}",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = {}
    for name in RESULTS:
        with open(directory / f"{name}.json") as handle:
            results[name] = json.load(handle)
    return results, (directory / "benchmarks.md").read_text()


def test_quick_run_writes_every_result(quick_run):
    results, page = quick_run
    throughput = results["throughput"]
    for name in ("a_framework", "b_plain_jax", "c_torch"):
        rate = throughput[name]["candidates_per_second"]
        assert math.isfinite(rate) and rate > 0
        assert len(throughput[name]["accuracy"]) == throughput["pathways"]
    # One program per shape class that the pathways need.
    needed = sum(count > 0 for count in throughput["a_framework"]["class_counts"].values())
    assert throughput["a_framework"]["compilations"] == needed
    one_program = throughput["a_shape_class_variants"]["none"]
    assert one_program["compilations"] == 1
    np.testing.assert_allclose(
        one_program["accuracy"], throughput["a_framework"]["accuracy"], atol=2e-3
    )
    # The same initial weights and minibatches: the same work, the same accuracy.
    assert max(throughput["mean_abs_accuracy_difference"].values()) < 0.05
    assert throughput["ratio_a_over_b"] > 0 and throughput["ratio_a_over_c"] > 0
    efficiency = results["efficiency"]
    assert efficiency["matmul"]["peak"] > 0
    assert 0 < efficiency["useful_training_flops"] <= efficiency["executed_training_flops"]
    assert results["conv_formulation"]["max_output_difference"] < 1e-3
    compilation = results["compilation"]
    assert compilation["flat"]
    assert all(1 <= p["population_program"] <= 2 for p in compilation["points"])
    scaling = results["scaling"]
    assert [p["devices"] for p in scaling["points"]] == [1, 2]
    assert scaling["identical_results"]
    assert scaling["one_core"]["devices"] == 1
    profile = results["op_profile"]["pathways"]
    for kind in profile.values():
        parts = {row["part"]: row for row in kind["rows"]}
        # The products of the blocks' operations run in both passes.
        assert parts["operation"]["forward"] > 0 and parts["operation"]["backward"] > 0
        assert 0 < parts["operation"]["products"] <= parts["operation"]["total"]
        assert parts["optimizer"]["other"] > 0
        assert math.isclose(kind["profiled_ms_per_step"], sum(r["total"] for r in kind["rows"]))
    assert "### Profile: the parts of a step" in page
    quality = results["time_to_quality"]
    assert 0 <= quality["seeds"][0]["test_accuracy"] <= 1
    for heading in ("## Targets", "## 1. Throughput", "## 2. Compilation", "## 3. Device"):
        assert heading in page
    assert "python benchmarks/run.py --quick" in page


def test_median_seconds_counts_a_missed_target_as_infinitely_slow():
    from benchmarks.time_to_quality import median_seconds

    assert median_seconds([3.0, 1.0, 2.0]) == 2.0
    assert median_seconds([None, 5.0, 3.0]) == 5.0
    assert median_seconds([None, None, 3.0]) is None


def test_fidelity_search_summary_pairs_variants_with_the_default_by_seed():
    from benchmarks.fidelity_search import markdown, summarise

    def run(variant, seed, steps, best):
        return {
            "variant": variant,
            "seed": seed,
            "candidates": 10,
            "fully_trained": 10,
            "training_steps": 10 * steps,
            "steps_per_candidate": steps,
            "best_validation": best,
            "retrained_validation": best,
            "test": best,
        }

    table = summarise(
        [
            run("default", 0, 400, 0.90),
            run("default", 1, 300, 0.80),
            run("hurdle30_x3", 0, 100, 0.95),
            run("hurdle30_x3", 1, 150, 0.70),
        ]
    )
    row = table["hurdle30_x3"]
    assert row["reduction"] == pytest.approx((4.0 + 2.0) / 2)
    assert row["best_validation_difference"] == pytest.approx([0.05, -0.10])
    assert row["best_validation"] == pytest.approx(0.825)
    assert table["default"]["reduction"] == 1.0
    assert "best_validation_difference" not in table["default"]
    assert "| 3.0x | 82.5% | +5.0, -10.0 |" in markdown(table)


def test_profile_labels_name_the_scope_and_pass_of_each_operation():
    import jax
    import jax.numpy as jnp

    from benchmarks import op_profile

    def loss(w, x):
        with jax.named_scope("operation"):
            y = jnp.tanh(x @ w)
        with jax.named_scope("head"):
            return jnp.sum(y * y)

    def step(w, x):
        grad = jax.grad(loss)(w, x)
        with jax.named_scope("optimizer"):
            return w - 0.1 * grad

    text = jax.jit(step).lower(jnp.ones((4, 4)), jnp.ones((2, 4))).compile().as_text()
    labels = op_profile.instruction_labels(text).values()
    assert ("operation", "forward", True) in labels
    assert ("operation", "backward", True) in labels
    assert any(scope == "optimizer" and direction == "" for scope, direction, _ in labels)
    assert not any(scope == "head" and product for scope, _, product in labels)

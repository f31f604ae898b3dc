"""``PathwayClassifier``/``PathwayRegressor``: scikit-learn's conventions, raw
tables in and out, a wall-clock budget, the leaderboard, the explanation, and
exported code that reproduces ``predict`` on raw rows without the package;
``pathways-jax fit`` runs the same flow from a file."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn import base, datasets
from sklearn.model_selection import cross_val_score
from sklearn.utils import estimator_checks

from pathways_jax import PathwayClassifier, PathwayRegressor
from pathways_jax.automodel import inputs, presets
from tests.export_test import _run_without_pathways_jax
from tests.tables_test import write_iris_table

pandas = pytest.importorskip("pandas")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = {"preset": "fast", "max_candidates": 8, "seed": 1}


def iris_frame():
    """Iris as a DataFrame with a text column, a boolean column and missing cells."""
    bunch = datasets.load_iris()
    rng = np.random.default_rng(0)
    frame = pandas.DataFrame(bunch.data, columns=["sl", "sw", "pl", "pw"])
    frame.loc[rng.random(len(frame)) < 0.1, "sw"] = np.nan
    colour = np.array(["purple", "blue", "white"], dtype=object)[bunch.target]
    colour[rng.random(len(frame)) < 0.3] = "grey"
    colour[rng.random(len(frame)) < 0.05] = None
    frame["colour"] = colour
    frame["large"] = bunch.data[:, 2] > 4.5
    species = np.array(["setosa", "versicolor", "virginica"])[bunch.target]
    return frame, species


@pytest.fixture(scope="module")
def fitted():
    frame, species = iris_frame()
    order = np.random.default_rng(1).permutation(len(frame))
    train, test = order[:120], order[120:]
    model = PathwayClassifier(**TINY, feature_selection=True).fit(frame.iloc[train], species[train])
    return model, frame.iloc[test], species[test]


def test_a_classifier_follows_the_estimator_conventions(fitted):
    model, x_test, y_test = fitted
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert model.n_features_in_ == 6 and list(model.feature_names_in_)[-1] == "large"
    predictions = model.predict(x_test)
    assert set(predictions) <= set(model.classes_)
    probabilities = model.predict_proba(x_test)
    assert probabilities.shape == (len(x_test), 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(model.classes_[probabilities.argmax(axis=1)], predictions)
    assert model.score(x_test, y_test) == np.mean(predictions == y_test) > 0.6
    clone = base.clone(model)
    assert clone.get_params() == model.get_params() and not hasattr(clone, "classes_")
    assert clone.set_params(preset="best").preset == "best"
    assert len(model.history_) == 8 and model.best_pathway_ == model.summary_["best_description"]
    # scikit-learn's check_dict_unchanged: predict leaves the attributes as they were.
    state = dict(model.__dict__)
    model.predict(x_test)
    assert model.__dict__.keys() == state.keys()
    assert all(model.__dict__[k] is v for k, v in state.items())
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(x_test), predictions)


def test_the_leaderboard_and_the_explanation(fitted):
    model, _, _ = fitted
    board = model.leaderboard(top=3)
    assert list(board["rank"]) == [1, 2, 3]
    assert board["validation_accuracy"].is_monotonic_decreasing
    assert {"pathway", "num_params", "flops", "round"} <= set(board.columns)
    explanation = model.explain(repeats=4)
    importance = explanation["importance"]
    assert set(importance["input"]) == {"sl", "sw", "pl", "pw", "colour", "large"}
    assert (importance["low"] <= importance["importance"]).all()
    assert (importance["importance"] <= importance["high"]).all()
    assert importance["importance"].is_monotonic_decreasing


def test_exported_code_reproduces_predict_on_raw_rows(fitted, tmp_path):
    model, x_test, _ = fitted
    rows = x_test.copy()
    rows.iloc[0, rows.columns.get_loc("colour")] = "orange"  # Never seen in training.
    with pytest.warns(UserWarning, match="column 'colour' has categories not seen"):
        expected = model.predict(rows)
    model.export(str(tmp_path / "code"))
    rows.to_csv(tmp_path / "rows.csv", index=False)
    script = str(tmp_path / "code" / "predict.py")
    done = _run_without_pathways_jax(script, f"--data={tmp_path / 'rows.csv'}", "--show=1000")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "categories not seen in training ['orange']" in done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("predicted classes:"))
    assert line == f"predicted classes: {[str(v) for v in expected]}"
    # Columns the winner's input mask does not read may be left out, here and in predict.
    unused = model.unused_columns_
    assert set(unused) == set(model.feature_names_in_) - set(model.explain(repeats=2)["uses"])
    if unused:
        rows.drop(columns=unused).to_csv(tmp_path / "used.csv", index=False)
        done = _run_without_pathways_jax(script, f"--data={tmp_path / 'used.csv'}", "--show=1000")
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"predicted classes: {[str(v) for v in expected]}" in done.stdout
        with pytest.warns(UserWarning):
            np.testing.assert_array_equal(model.predict(rows.drop(columns=unused)), expected)


def test_a_regressor_on_numbers_and_bad_inputs_are_one_line_errors():
    x, y = datasets.load_diabetes(return_X_y=True)
    model = PathwayRegressor(**TINY).fit(x[:200], y[:200])
    predictions = model.predict(x[200:260])
    assert predictions.shape == (60,) and np.isfinite(predictions).all()
    assert abs(predictions.mean() - y[:200].mean()) < 2 * y.std()  # In the units of y.
    assert -1 < model.score(x[200:260], y[200:260]) <= 1
    with pytest.raises(ValueError, match="X has 5 features, but PathwayRegressor is expecting 10"):
        model.predict(x[:3, :5])
    with pytest.raises(ValueError, match="time_budget='soon' is invalid"):
        PathwayRegressor(time_budget="soon").fit(x, y)
    with pytest.raises(ValueError, match="preset='huge' is invalid"):
        PathwayRegressor(preset="huge").fit(x, y)
    with pytest.raises(
        ValueError,
        match=r"objective='accuracy' is invalid: expected one of \('auto', 'r2', 'mse'\)",
    ):
        PathwayRegressor(objective="accuracy").fit(x, y)
    with pytest.raises(ValueError, match="y has 1 class"):
        PathwayClassifier().fit(x[:10], np.zeros(10))


def test_durations_and_presets_follow_the_data():
    assert inputs.parse_duration("5m") == 300 and inputs.parse_duration("90s") == 90
    assert inputs.parse_duration(1.5) == 1.5 and inputs.parse_duration(None) == float("inf")
    assert inputs.parse_duration("1h") == 3600
    fast = presets.PRESETS["fast"]
    assert presets.training_steps(fast, 20) == fast.min_steps
    assert presets.training_steps(fast, 100) == 125  # 40 passes of 100 rows in batches of 32.
    assert presets.training_steps(fast, 100_000) == fast.max_steps


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_parameters_default_constructible,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_estimators_unfitted,
        estimator_checks.check_estimator_repr,
        estimator_checks.check_estimator_cloneable,
        # Bad inputs, refused before any search:
        estimator_checks.check_complex_data,
        estimator_checks.check_estimators_empty_data_messages,
        estimator_checks.check_estimator_sparse_array,
        estimator_checks.check_estimator_sparse_matrix,
    ],
    ids=lambda check: check.__name__,
)
@pytest.mark.parametrize("estimator", [PathwayClassifier(), PathwayRegressor()], ids=repr)
def test_scikit_learn_estimator_checks(check, estimator):
    check(type(estimator).__name__, estimator)


def test_a_classifier_refuses_a_continuous_target():
    estimator_checks.check_classifiers_regression_target("PathwayClassifier", PathwayClassifier())


def test_cross_val_score_runs_the_search_per_fold():
    x, y = datasets.load_iris(return_X_y=True)
    # The second fold selects on the validation loss (minimised) instead of accuracy.
    scores = cross_val_score(PathwayClassifier(**TINY, objective="loss"), x, y, cv=2)
    assert scores.shape == (2,) and (scores > 0.5).all()


def test_the_fit_command_writes_code_and_reports_bad_arguments(tmp_path):
    write_iris_table(tmp_path / "iris.csv")
    command = [
        sys.executable,
        "-m",
        "pathways_jax.commands.main",
        "fit",
        str(tmp_path / "iris.csv"),
    ]
    env = dict(os.environ, PYTHONPATH=REPO)
    bad = subprocess.run(
        [*command, "--target=species", "--time=soon", f"--out={tmp_path}/m"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "--time='soon' is invalid" in bad.stderr
    done = subprocess.run(
        [
            *command,
            "--target=species",
            "--time=5m",
            "--max-candidates=8",
            "--preset=fast",
            f"--out={tmp_path}/model",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "rank  validation" in done.stdout and "Best pathway:" in done.stdout
    code = tmp_path / "model" / "code"
    assert (code / "predict.py").exists() and (code / "table_encoding.py").exists()
    assert (tmp_path / "model" / "run" / "summary.json").exists()
    predicted = _run_without_pathways_jax(str(code / "predict.py"), "--data=test_split.csv")
    assert predicted.returncode == 0 and "accuracy:" in predicted.stdout, predicted.stderr[-2000:]

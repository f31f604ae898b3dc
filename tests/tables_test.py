"""A raw table (text, boolean and empty cells, text labels) through the search:
the encoding is fitted on the training rows, recorded in preprocessing.json,
and the exported predict.py, without pathways_jax, reproduces the test
accuracy on the raw test rows."""

import json
import os
import re

import numpy as np
import pytest
from sklearn import datasets

from pathways_jax import api
from pathways_jax.config import load_config_file
from pathways_jax.data import table_encoding
from tests.export_test import HAS_TORCH, VECTOR_CONFIG, _run_without_pathways_jax

SPECIES = np.array(["setosa", "versicolor", "virginica"])


def write_iris_table(path) -> None:
    """Iris with a text column, a boolean column and empty cells, species as text."""
    bunch = datasets.load_iris()
    rng = np.random.default_rng(3)
    lines = ["sepal_length,sepal_width,petal_length,petal_width,colour,large,species"]
    for row, label in zip(bunch.data, bunch.target, strict=True):
        cells = [f"{value:.1f}" for value in row]
        cells[1] = "" if rng.random() < 0.1 else cells[1]
        colour = ["purple", "blue", "white"][label] if rng.random() < 0.7 else "grey"
        colour = "" if rng.random() < 0.05 else colour
        large = "true" if row[2] > 4.5 else "false"
        lines.append(",".join([*cells, colour, large, SPECIES[label]]))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("table")
    write_iris_table(directory / "iris.csv")
    config = load_config_file(VECTOR_CONFIG)
    config.dataset.name = f"csv:{directory / 'iris.csv'}"
    config.dataset.label_column = "species"
    workdir = str(directory / "run")
    return workdir, api.run_search(config, workdir)


def test_the_encoding_is_recorded_and_read_by_name(table_run):
    workdir, summary = table_run
    best = os.path.join(workdir, "best")
    with open(os.path.join(best, "preprocessing.json"), encoding="utf-8") as file:
        preprocessing = json.load(file)
    assert preprocessing["class_names"] == list(SPECIES)
    kinds = {c["name"]: c["kind"] for c in preprocessing["table"]["columns"]}
    assert kinds == {
        "sepal_length": "numeric",
        "sepal_width": "numeric",
        "petal_length": "numeric",
        "petal_width": "numeric",
        "colour": "one_hot",
        "large": "numeric",
    }
    assert "sepal_width missing" in preprocessing["table"]["features"]
    assert preprocessing["input_shape"] == [len(preprocessing["table"]["features"])]
    assert summary["final"]["test"]["accuracy"] > 0.5
    # The exported encoder is the package's own.
    exported = os.path.join(best, "table_encoding.py")
    with open(exported, encoding="utf-8") as file, open(table_encoding.__file__) as own:
        assert file.read() == own.read()


@pytest.mark.parametrize(
    "framework",
    ["flax", pytest.param("torch", marks=pytest.mark.skipif(not HAS_TORCH, reason="no torch"))],
)
def test_predict_script_reproduces_the_test_accuracy_on_raw_rows(table_run, framework):
    workdir, summary = table_run
    best = os.path.join(workdir, "best")
    result = _run_without_pathways_jax(
        os.path.join(best, "predict.py"), "--data=test_split.csv", f"--framework={framework}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "predicted classes: ['" in result.stdout  # By name.
    match = re.search(r"accuracy: ([0-9.]+) \((\d+)/(\d+)\)", result.stdout)
    assert match, result.stdout
    correct, count = int(match.group(2)), int(match.group(3))
    assert correct / count == pytest.approx(summary["final"]["test"]["accuracy"], abs=1e-6)


def test_unknown_categories_are_noted_and_missing_columns_refused(table_run, tmp_path):
    workdir, _ = table_run
    best = os.path.join(workdir, "best")
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "sepal_length,sepal_width,petal_length,petal_width,colour,large\n"
        "5.1,,1.4,0.2,orange,false\n6.3,3.3,6.0,2.5,white,true\n"
    )
    result = _run_without_pathways_jax(os.path.join(best, "predict.py"), f"--data={rows}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "column 'colour' has categories not seen in training ['orange']" in result.stderr
    rows.write_text("sepal_length,petal_length\n5.1,1.4\n")
    result = _run_without_pathways_jax(os.path.join(best, "predict.py"), f"--data={rows}")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "missing columns ['sepal_width', 'petal_width', 'colour', 'large']" in result.stderr

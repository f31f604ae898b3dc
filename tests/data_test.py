"""Tests for pathways_jax.data: built-ins, files, validation, splits and standardisation."""

import random
import re

import hypothesis
import numpy as np
import pytest
from hypothesis import strategies as st

from pathways_jax import data
from pathways_jax.data import DataError, Dataset, mnist1d_cache, splits, validation


def make_config(**overrides):
    config = data.default_dataset_config()
    for key, value in overrides.items():
        config[key] = value
    return config


def load(seed=0, **overrides):
    return data.load_dataset(make_config(**overrides), seed)


def write_npz(tmp_path, file_name="data.npz", **arrays):
    path = tmp_path / file_name
    np.savez(path, **arrays)
    return f"npz:{path}"


def write_csv(tmp_path, text, file_name="data.csv"):
    path = tmp_path / file_name
    path.write_text(text)
    return f"csv:{path}"


def labelled_rows(num_rows=50, num_features=3):
    """x whose column 0 is the row id (so rows are traceable through splits), y in 0..2."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(num_rows, num_features))
    x[:, 0] = np.arange(num_rows)
    return x, np.arange(num_rows) % 3


def row_ids(x):
    return set(np.asarray(x)[:, 0].round().astype(int).tolist())


# --- Built-in datasets ---------------------------------------------------------------------

BUILTINS = {
    # name: (task, input_kind, input_shape, num_classes, total examples)
    "digits": ("classification", "image", (8, 8, 1), 10, 1797),
    "iris": ("classification", "vector", (4,), 3, 150),
    "wine": ("classification", "vector", (13,), 3, 178),
    "breast_cancer": ("classification", "vector", (30,), 2, 569),
    "diabetes": ("regression", "vector", (10,), 0, 442),
    "synthetic_linear": ("regression", "vector", (8,), 0, 1000),
    "listops": ("classification", "sequence", (48, 15), 10, 1000),
}


def test_dataset_names_lists_every_builtin():
    assert set(data.dataset_names()) == {"mnist1d", *BUILTINS}


def test_default_config_has_every_option():
    config = data.default_dataset_config()
    assert config.name == "mnist1d"
    assert set(config) == {
        "name",
        "validation_fraction",
        "test_fraction",
        "split_seed",
        "label_column",
        "task",
        "standardize",
        "num_examples",
        "num_features",
        "noise",
        "sequence_length",
        "nesting_depth",
        "max_examples",
    }


def check_dataset(dataset, task, input_kind, input_shape, num_classes):
    assert isinstance(dataset, Dataset)
    assert (dataset.task, dataset.input_kind) == (task, input_kind)
    assert dataset.input_shape == input_shape
    assert dataset.num_classes == num_classes
    assert dataset.num_outputs == (num_classes if task == "classification" else 1)
    label_dtype = np.int32 if task == "classification" else np.float32
    for split in ("train", "val", "test"):
        x, y = getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")
        assert x.dtype == np.float32 and x.shape == (len(y), *input_shape) and len(y) > 0
        assert y.dtype == label_dtype and y.ndim == 1
        if task == "classification":
            assert y.min() >= 0 and y.max() < num_classes
    assert "\n" not in dataset.summary() and dataset.name in dataset.summary()


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_loads_with_expected_shapes(name):
    task, input_kind, input_shape, num_classes, total = BUILTINS[name]
    dataset = load(name=name)
    check_dataset(dataset, task, input_kind, input_shape, num_classes)
    sizes = [len(dataset.y_train), len(dataset.y_val), len(dataset.y_test)]
    assert sum(sizes) == total
    assert sizes[2] == round(0.2 * total)


def test_digits_are_scaled_to_unit_interval():
    dataset = load(name="digits")
    assert dataset.x_train.min() == 0.0 and dataset.x_train.max() == 1.0


@pytest.fixture(scope="module")
def mnist1d_dataset(tmp_path_factory):
    """MNIST-1D loaded once per process (lru cache), with any disk cache in a temp folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(mnist1d_cache.CACHE_DIR_ENV, str(tmp_path_factory.mktemp("cache")))
        yield load(name="mnist1d")


def test_mnist1d_loads_package_splits(mnist1d_dataset):
    check_dataset(mnist1d_dataset, "classification", "sequence", (40, 1), 10)
    assert (len(mnist1d_dataset.y_train), len(mnist1d_dataset.y_val)) == (3200, 800)
    assert len(mnist1d_dataset.y_test) == 1000
    again = load(seed=1, name="mnist1d")  # From the in-process cache.
    np.testing.assert_array_equal(again.x_test, mnist1d_dataset.x_test)
    assert not np.array_equal(again.y_train, mnist1d_dataset.y_train)


def fake_mnist1d_arrays(offset=0.0):
    rng = np.random.default_rng(0)
    return mnist1d_cache.SourceArrays(
        x=rng.normal(size=(4000, 40, 1)).astype(np.float32) + offset,
        y=(np.arange(4000) % 10).astype(np.int32),
        x_test=rng.normal(size=(1000, 40, 1)).astype(np.float32),
        y_test=(np.arange(1000) % 10).astype(np.int32),
    )


def test_mnist1d_disk_cache_round_trip_and_rejects_bad_files(tmp_path):
    path = str(tmp_path / "mnist1d.npz")
    assert mnist1d_cache.read_cache(path) is None  # Missing.
    arrays = fake_mnist1d_arrays()
    assert mnist1d_cache.write_cache(path, arrays)
    for read, written in zip(mnist1d_cache.read_cache(path), arrays, strict=True):
        np.testing.assert_array_equal(read, written)
    (tmp_path / "mnist1d.npz").write_bytes((tmp_path / "mnist1d.npz").read_bytes()[:1000])
    assert mnist1d_cache.read_cache(path) is None  # Truncated.
    np.savez(path, **arrays._asdict(), mnist1d_version=np.array("0.0.0-other"))
    assert mnist1d_cache.read_cache(path) is None  # Stale package version.
    assert mnist1d_cache.write_cache(path, arrays._replace(y=arrays.y + 10))
    assert mnist1d_cache.read_cache(path) is None  # Malformed labels.


def test_mnist1d_load_uses_disk_cache_and_regenerates_bad_ones(tmp_path, monkeypatch):
    generated = []

    def fake_generate():
        generated.append(1)
        return fake_mnist1d_arrays()

    monkeypatch.setattr(mnist1d_cache, "generate", fake_generate)
    monkeypatch.setenv(mnist1d_cache.CACHE_DIR_ENV, str(tmp_path))
    uncached_load = mnist1d_cache.load.__wrapped__
    uncached_load()
    uncached_load()
    assert len(generated) == 1 and (tmp_path / "mnist1d.npz").exists()
    (tmp_path / "mnist1d.npz").write_text("not a zip")
    assert not uncached_load().x.flags.writeable
    assert len(generated) == 2
    monkeypatch.setenv(mnist1d_cache.CACHE_DIR_ENV, "")
    assert mnist1d_cache.cache_path() is None


def test_mnist1d_generation_restores_global_rngs(monkeypatch):
    import mnist1d.data

    def fake_make_dataset(args):
        mnist1d.utils.set_seed(args.seed)
        return {
            "x": np.zeros((2, 40)),
            "y": np.zeros(2),
            "x_test": np.zeros((1, 40)),
            "y_test": [0],
        }

    monkeypatch.setattr(mnist1d.data, "make_dataset", fake_make_dataset)
    random.seed(123)
    np.random.seed(123)  # noqa: NPY002
    expected = (random.random(), np.random.random())  # noqa: NPY002
    random.seed(123)
    np.random.seed(123)  # noqa: NPY002
    arrays = mnist1d_cache.generate()
    assert arrays.x.shape == (2, 40, 1) and arrays.x.dtype == np.float32
    assert (random.random(), np.random.random()) == expected  # noqa: NPY002


# --- Splits ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["iris", "synthetic_linear"])
def test_splits_are_deterministic_in_the_seed(name):
    first, again, other = load(seed=3, name=name), load(seed=3, name=name), load(seed=4, name=name)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    assert not np.array_equal(first.x_train, other.x_train)


def test_split_seed_overrides_seed_argument():
    first, second = load(seed=0, name="iris", split_seed=7), load(seed=1, name="iris", split_seed=7)
    np.testing.assert_array_equal(first.x_train, second.x_train)


def test_splits_are_disjoint_and_cover_all_rows(tmp_path):
    x, y = labelled_rows()
    dataset = load(name=write_npz(tmp_path, x=x, y=y), standardize=False)
    train, val, test = (row_ids(s) for s in (dataset.x_train, dataset.x_val, dataset.x_test))
    assert not (train & val or train & test or val & test)
    assert train | val | test == set(range(len(x)))
    assert (len(train), len(val), len(test)) == (32, 8, 10)


def test_test_split_is_untouched_by_validation_carve(tmp_path):
    x, y = labelled_rows()
    name = write_npz(tmp_path, x=x, y=y)
    carved = [load(name=name, validation_fraction=f, standardize=False) for f in (0.1, 0.5)]
    np.testing.assert_array_equal(carved[0].x_test, carved[1].x_test)
    x_test, y_test = x[:7] + 100, y[:7]
    name = write_npz(tmp_path, "split.npz", x_train=x, y_train=y, x_test=x_test, y_test=y_test)
    for seed in (0, 1):
        dataset = load(seed=seed, name=name, standardize=False)
        np.testing.assert_array_equal(dataset.x_test, x_test.astype(np.float32))
        np.testing.assert_array_equal(dataset.y_test, y_test)
        assert row_ids(dataset.x_train) | row_ids(dataset.x_val) == set(range(len(x)))


def test_max_examples_subsamples_train_only():
    full, small = load(name="iris"), load(name="iris", max_examples=10, standardize=False)
    assert len(small.y_train) == 10
    assert (len(small.y_val), len(small.y_test)) == (len(full.y_val), len(full.y_test))
    raw = load(name="iris", standardize=False)
    assert {tuple(row) for row in small.x_train} <= {tuple(row) for row in raw.x_train}


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(
    num_examples=st.integers(1, 500),
    fraction=st.floats(0.001, 0.999),
    seed=st.integers(0, 2**32),
)
def test_carve_indices_partitions_or_names_the_fraction(num_examples, fraction, seed):
    rng = splits.split_rng(seed)
    num_carved = int(np.floor(num_examples * fraction + 0.5))
    if not 0 < num_carved < num_examples:
        with pytest.raises(DataError, match="src: test_fraction="):
            splits.carve_indices(num_examples, fraction, rng, "src", "test_fraction")
        return
    kept, carved = splits.carve_indices(num_examples, fraction, rng, "src", "test_fraction")
    assert len(kept) > 0 and len(carved) == num_carved
    assert len(kept) + len(carved) == num_examples
    np.testing.assert_array_equal(np.sort(np.concatenate([kept, carved])), np.arange(num_examples))


# --- Standardisation -------------------------------------------------------------------------


def test_vector_features_are_standardised_with_train_stats():
    raw, scaled = load(name="wine", standardize=False), load(name="wine")
    mean, std = raw.x_train.mean(0, dtype=np.float64), raw.x_train.std(0, dtype=np.float64)
    np.testing.assert_allclose(scaled.x_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled.x_train.std(0), 1, atol=1e-4)
    np.testing.assert_allclose(scaled.x_val, (raw.x_val - mean) / std, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(scaled.x_test, (raw.x_test - mean) / std, rtol=1e-4, atol=1e-4)


def test_regression_targets_are_standardised_and_invertible():
    raw, scaled = load(name="diabetes", standardize=False), load(name="diabetes")
    assert (raw.target_mean, raw.target_std) == (0.0, 1.0)
    assert scaled.target_mean == pytest.approx(raw.y_train.mean(dtype=np.float64))
    assert scaled.target_std == pytest.approx(raw.y_train.std(dtype=np.float64))
    assert abs(scaled.y_train.mean()) < 1e-5 and scaled.y_train.std() == pytest.approx(1, abs=1e-5)
    restored = scaled.y_test * scaled.target_std + scaled.target_mean
    np.testing.assert_allclose(restored, raw.y_test, rtol=1e-5)


def test_constant_feature_maps_to_zero(tmp_path):
    x, y = labelled_rows()
    x[:, 1] = 0.1
    dataset = load(name=write_npz(tmp_path, x=x, y=y))
    assert np.all(dataset.x_train[:, 1] == 0) and np.all(np.isfinite(dataset.x_test))


def test_sequence_inputs_from_npz_are_not_rescaled(tmp_path):
    x = np.random.default_rng(0).normal(5.0, 3.0, size=(40, 6, 2))
    dataset = load(name=write_npz(tmp_path, x=x, y=np.arange(40) % 2), split_seed=0)
    assert dataset.input_kind == "sequence"
    assert {tuple(r.ravel()) for r in dataset.x_train} <= {tuple(r.ravel()) for r in x.astype("f4")}


# --- Files -----------------------------------------------------------------------------------


def test_npz_pooled_form_round_trip(tmp_path):
    x, y = labelled_rows()
    dataset = load(name=write_npz(tmp_path, x=x, y=y), standardize=False)
    check_dataset(dataset, "classification", "vector", (3,), 3)
    rows = {int(round(row[0])): row for row in x}
    for features, label in zip(dataset.x_train, dataset.y_train, strict=True):
        np.testing.assert_allclose(features, rows[int(round(features[0]))], rtol=1e-6)
        assert label == y[int(round(features[0]))]


def test_npz_split_form_image_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.random((30, 4, 4, 1)),
        "y_train": rng.normal(size=30),
        "x_test": rng.random((5, 4, 4, 1)),
        "y_test": rng.normal(size=5),
    }
    dataset = load(name=write_npz(tmp_path, **arrays))
    check_dataset(dataset, "regression", "image", (4, 4, 1), 0)
    assert (len(dataset.y_train), len(dataset.y_val), len(dataset.y_test)) == (24, 6, 5)


def test_csv_round_trip(tmp_path):
    x, y = labelled_rows(num_rows=20, num_features=2)
    lines = ["id, feature, label"] + [
        f"{a:.0f},{float(b)!r},{c}" for (a, b), c in zip(x, y, strict=True)
    ]
    dataset = load(name=write_csv(tmp_path, "\n".join(lines) + "\n\n"), standardize=False)
    check_dataset(dataset, "classification", "vector", (2,), 3)
    test_ids = sorted(row_ids(dataset.x_test))
    np.testing.assert_allclose(dataset.x_test[np.argsort(dataset.x_test[:, 0])], x[test_ids])
    np.testing.assert_array_equal(dataset.y_test[np.argsort(dataset.x_test[:, 0])], y[test_ids])


def test_csv_label_column_and_auto_regression(tmp_path):
    rows = "\n".join(f"{i * 0.5},{i},{i / 3}" for i in range(20))
    name = write_csv(tmp_path, f"a,b,target\n{rows}\n")
    dataset = load(name=name, label_column="target")
    assert dataset.task == "regression" and dataset.input_shape == (2,)
    assert load(name=name, label_column="b").task == "classification"
    assert load(name=name, label_column="b", task="regression").task == "regression"


def test_csv_with_text_and_missing_cells_is_encoded_with_training_statistics(tmp_path):
    rng = np.random.default_rng(0)
    colours = np.array(["red", "green", "blue"])
    lines = ["size,colour,label"]
    for i in range(60):
        size = "" if i % 7 == 0 else f"{rng.normal(10 + i % 2, 1):.3f}"
        colour = "" if i % 11 == 0 else colours[i % 3]
        lines.append(f"{size},{colour},{'big' if i % 2 else 'small'}")
    dataset = load(name=write_csv(tmp_path, "\n".join(lines) + "\n"))
    encoding = dataset.encoding
    assert dataset.class_names == ("big", "small") and dataset.task == "classification"
    assert [c["kind"] for c in encoding["columns"]] == ["numeric", "one_hot"]
    assert encoding["features"][:2] == ["size", "size missing"]
    assert set(encoding["features"][2:5]) == {"colour=red", "colour=green", "colour=blue"}
    assert dataset.input_shape == (len(encoding["features"]),)
    # Standardised with the training rows' statistics: mean 0 there, not elsewhere.
    np.testing.assert_allclose(dataset.x_train[:, 0].mean(), 0.0, atol=1e-5)
    assert abs(dataset.x_test[:, 0].mean()) > 1e-4
    assert np.isfinite(dataset.x_train).all() and np.isfinite(dataset.x_test).all()
    total = len(dataset.y_train) + len(dataset.y_val) + len(dataset.y_test)
    assert total == 60


def test_infer_task_rule():
    assert validation.infer_task(np.array([0, 5, 3])) == "classification"
    assert validation.infer_task(np.array([0.0, 1.0, 1.0])) == "classification"
    assert validation.infer_task(np.array([0.0, 1.5])) == "regression"
    assert validation.infer_task(np.arange(500.0)) == "regression"


# --- Validation failures ---------------------------------------------------------------------


def _npz(**arrays):
    return lambda tmp_path: ({"name": write_npz(tmp_path, **arrays)}, "data.npz")


def _csv(text, **options):
    return lambda tmp_path: ({"name": write_csv(tmp_path, text), **options}, "data.csv")


def _file(contents, file_name):
    def setup(tmp_path):
        (tmp_path / file_name).write_bytes(contents)
        return {"name": f"{file_name.split('.')[-1]}:{tmp_path / file_name}"}, file_name

    return setup


def _config(**options):
    return lambda tmp_path: (options, options.get("name", "mnist1d"))


X, Y = labelled_rows(num_rows=20)
NAN_X = np.where(np.arange(60).reshape(20, 3) < 3, np.nan, X)
FAILURES = {
    "unknown_name": (_config(name="imagenet"), r"name='imagenet'.*npz:PATH.*csv:PATH"),
    "missing_file": (lambda p: ({"name": f"npz:{p}/absent.npz"}, "absent.npz"), "file not found"),
    "not_a_zip": (_file(b"not a zip", "data.npz"), "not a zip"),
    "truncated_zip": (_file(b"PK\x03\x04broken", "data.npz"), "not a zip"),
    "npy_not_npz": (_file(b"\x93NUMPY\x01\x00", "data.npz"), "single .npy array"),
    "missing_y": (_npz(x=X), r"missing arrays \['y'\]"),
    "missing_test": (_npz(x_train=X, y_train=Y), r"missing arrays \['x_test', 'y_test'\]"),
    "both_forms": (_npz(x=X, y=Y, x_train=X, y_train=Y, x_test=X, y_test=Y), "both arrays"),
    "empty_x": (_npz(x=np.zeros((0, 3)), y=np.zeros(0)), r"array 'x' has shape \(0, 3\).*empty"),
    "x_rank_1": (_npz(x=Y, y=Y), "array 'x' has rank 1"),
    "x_rank_5": (_npz(x=np.zeros((20, 1, 1, 1, 1)), y=Y), "array 'x' has rank 5"),
    "length_mismatch": (_npz(x=X, y=Y[:19]), "array 'y' has 19 entries but array 'x' has 20"),
    "y_rank_2": (_npz(x=X, y=Y[:, None]), r"array 'y' has shape \(20, 1\).*rank 1"),
    "string_x": (_npz(x=X.astype(str), y=Y), "array 'x' has dtype <U.*integer or float"),
    "bool_y": (_npz(x=X, y=Y > 0), "array 'y' has dtype bool"),
    "nan_x": (_npz(x=NAN_X, y=Y), "array 'x' has 3 NaN and 0 inf"),
    "inf_y": (_npz(x=X, y=np.where(Y > 1, np.inf, 0.5)), "array 'y' has 0 NaN and 6 inf"),
    "float32_overflow": (_npz(x=X * 1e300, y=Y), "array 'x' has 0 NaN and 59 inf"),
    "negative_labels": (_npz(x=X, y=Y - 1), "array 'y' has 7 negative values"),
    "non_integer_labels": (
        lambda p: ({"name": write_npz(p, x=X, y=Y + 0.5), "task": "classification"}, "data.npz"),
        "array 'y' has 20 non-integer values",
    ),
    "one_class": (_npz(x=X, y=np.ones(20, int)), "array 'y' has 1 distinct class"),
    "split_test_shape": (
        _npz(x_train=X, y_train=Y, x_test=X[:, :2], y_test=Y),
        r"array 'x_test' has shape \(20, 2\) but array 'x_train' has \(20, 3\)",
    ),
    "bad_task": (
        lambda p: ({"name": write_npz(p, x=X, y=Y), "task": "ranking"}, "data.npz"),
        "task='ranking'.*auto, classification, regression",
    ),
    "builtin_task_mismatch": (_config(name="iris", task="regression"), "iris: task='regression'"),
    "validation_fraction_high": (_config(name="iris", validation_fraction=1.0), "validation_fr"),
    "test_fraction_zero": (_config(name="iris", test_fraction=0.0), "iris: test_fraction=0.0"),
    "fraction_not_number": (_config(name="iris", test_fraction="half"), "test_fraction='half'"),
    "fraction_empties_split": (_config(name="iris", validation_fraction=0.001), "validation_fr"),
    "negative_split_seed": (_config(name="iris", split_seed=-2), "iris: split_seed=-2"),
    "unknown_option": (_config(name="iris", epochs=3), r"unknown dataset config fields \['ep"),
    "synthetic_features": (_config(name="synthetic_linear", num_features=0), "num_features=0"),
    "synthetic_noise": (_config(name="synthetic_linear", noise=-1.0), "noise=-1.0"),
    "csv_empty": (_csv(""), "file is empty"),
    "csv_no_header": (_csv("1,2,0\n3,4,1\n"), "first row .* is all numbers.*header"),
    "csv_no_label": (_csv("a,b,y\n1,2,0\n"), r"label_column='label' in header \['a', 'b', 'y'\]"),
    "csv_custom_label": (_csv("a,label\n1,0\n", label_column="cls"), "label_column='cls'"),
    "csv_only_label": (_csv("label\n0\n1\n"), "only the label column"),
    "csv_no_rows": (_csv("a,label\n"), "no data rows"),
    "csv_ragged": (_csv("a,b,label\n1,2,0\n3,4\n"), "line 3 has 2 cells"),
    "csv_missing_label": (
        _csv("a,b,label\n1,x,0\n3,y,\n"),
        r"column 'label' has 1 missing values, e.g. in data row 2",
    ),
    "csv_text_label_for_regression": (
        _csv("a,label\n1,low\n2,high\n", task="regression"),
        r"column 'label' has text value 'low' but task='regression'",
    ),
    "csv_duplicate": (_csv("a,a,label\n1,2,0\n"), r"duplicate column names \['a'\]"),
    "csv_inf": (_csv("a,label\n1,0\ninf,1\n"), "feature columns has 0 NaN and 1 inf"),
    "csv_bad_encoding": (_file(b"a,label\n\xff,1\n", "data.csv"), "UnicodeDecodeError"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_invalid_inputs_raise_one_line_data_error(case, tmp_path):
    setup, pattern = FAILURES[case]
    options, source = setup(tmp_path)
    with pytest.raises(DataError) as error:
        data.load_dataset(options, seed=0)  # A plain dict, so values skip ConfigDict type checks.
    message = str(error.value)
    assert "\n" not in message
    assert message.split(": ")[0].endswith(source), message
    assert re.search(pattern, message), message
    assert "expected" in message, message


def test_plain_dict_config_takes_defaults():
    dataset = data.load_dataset({"name": "iris", "max_examples": 5}, seed=0)
    assert len(dataset.y_train) == 5


def test_dataset_checks_its_own_fields():
    x, y = np.zeros((4, 2), np.float32), np.zeros(4, np.int32)
    with pytest.raises(DataError, match="toy: task='ranking'"):
        Dataset("toy", "ranking", "vector", 2, x, y, x, y, x, y)
    with pytest.raises(DataError, match="toy: x_val has shape"):
        Dataset("toy", "classification", "vector", 2, x, y, x[:, :1], y, x, y)
    assert DataError("a\nb").args == ("a b",)

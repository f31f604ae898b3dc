"""``PathwayClassifier`` and ``PathwayRegressor``: a search behind scikit-learn's
estimator interface.

``fit(X, y)`` turns the data into a dataset (tables encoded with statistics of
the training rows, see :mod:`.inputs`), chooses the search's size from the
data and the preset (:mod:`.presets`), and runs the one search loop
(:func:`pathways_jax.core.loop.run`) within ``time_budget``. The winner is
kept as its plain Flax network and weights, which is what ``predict`` runs
and what ``export`` writes as standalone code.

    from pathways_jax import PathwayClassifier
    model = PathwayClassifier(time_budget="2m").fit(X_train, y_train)
    model.score(X_test, y_test), model.leaderboard(), model.export("model/")
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from pathways_jax.automodel import inputs, presets
from pathways_jax.automodel import report as report_lib
from pathways_jax.data import table_encoding, tables
from pathways_jax.data.registry import split_dataset

VALIDATION_FRACTION = 0.2
TEST_FRACTION = 0.1
PREDICT_CHUNK = 4096


class _PathwayEstimator(BaseEstimator):
    """What both estimators share (see the module doc); ``_task`` names the
    task, and each estimator's ``_targets(y)`` turns ``y`` into class ids or targets."""

    _task = ""

    def __init__(
        self,
        time_budget=None,
        max_candidates=None,
        max_latency_ms=None,
        max_params=None,
        objective="auto",
        preset="balanced",
        seed=0,
        workdir=None,
        devices=None,
        verbose=False,
        input_kind="auto",
        feature_selection=False,
    ):
        self.time_budget = time_budget
        self.max_candidates = max_candidates
        self.max_latency_ms = max_latency_ms
        self.max_params = max_params
        self.objective = objective
        self.preset = preset
        self.seed = seed
        self.workdir = workdir
        self.devices = devices
        self.verbose = verbose
        self.input_kind = input_kind
        self.feature_selection = feature_selection

    # -- fit -------------------------------------------------------------------------------

    def _named_classes(self, dataset):
        """The dataset with the names of ``classes_`` (for exported code), unless
        the classes are the ids 0..K-1 themselves."""
        classes = getattr(self, "classes_", None)
        if classes is None:
            return dataset
        if classes.dtype.kind in "iu" and np.array_equal(classes, np.arange(len(classes))):
            return dataset
        return dataclasses.replace(dataset, class_names=tuple(str(c) for c in classes))

    def _feature_selection(self, dataset) -> bool:
        """Input-mask genes (``feature_selection=True``; vector inputs only)."""
        if self.feature_selection not in (True, False):
            raise ValueError(
                f"feature_selection={self.feature_selection!r} is invalid: expected True or False"
            )
        if self.feature_selection and dataset.input_kind != "vector":
            raise ValueError(
                f"feature_selection=True is invalid for {dataset.input_kind} inputs "
                "(it chooses columns of vector inputs)"
            )
        return bool(self.feature_selection)

    def _fitness_metric(self) -> str:
        """``config.space.fitness_metric`` of ``objective`` ('' for the default)."""
        from pathways_jax.training.losses import FITNESS_METRICS

        allowed = ("auto", *FITNESS_METRICS[self._task])
        if self.objective not in allowed:
            raise ValueError(
                f"objective={self.objective!r} is invalid: expected one of {allowed} "
                f"(the validation metric a {self._task} search selects on; the losses "
                "are minimised)"
            )
        return "" if self.objective == "auto" else self.objective

    def fit(self, X, y):
        """Search for a pathway that predicts ``y`` from ``X``; returns ``self``.

        Args:
          X: ``[n, features]`` numbers, a table (DataFrame or object array with
            text, booleans and missing values), ``[n, length, channels]``
            sequences or ``[n, h, w, c]`` images.
          y: ``[n]`` labels (any values: classes are ``np.unique(y)``) or targets.
        """
        from pathways_jax.core import experiment, loop

        fitness_metric = self._fitness_metric()
        seconds = inputs.parse_duration(self.time_budget)
        if is_frame := inputs.is_frame(X):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        targets = self._targets(y)
        source, kind, names = inputs.source_of(X, targets, self.input_kind)
        dataset = split_dataset(
            "fit",
            source,
            self._task,
            kind,
            names,
            validation_fraction=VALIDATION_FRACTION,
            test_fraction=TEST_FRACTION,
            max_examples=-1,
            split_seed=int(self.seed),
            standardize=True,
        )
        dataset = self._named_classes(dataset)
        table = source.x if isinstance(source.x, tables.RawTable) else None
        self.n_features_in_ = table.num_columns if table else int(np.prod(dataset.input_shape))
        if table is None and not is_frame and np.asarray(X).ndim == 2:
            self.n_features_in_ = np.asarray(X).shape[1]
        config = presets.search_config(
            dataset,
            preset=self.preset,
            seed=self.seed,
            seconds=seconds,
            max_candidates=self.max_candidates,
            max_params=self.max_params,
            max_latency_ms=self.max_latency_ms,
            devices=self.devices,
            verbose=self.verbose,
            data_name=f"fit:{inputs.data_digest(X, y)}",
            feature_selection=self._feature_selection(dataset),
        )
        config.space.fitness_metric = fitness_metric
        if self.workdir is None:
            config.progress.report = False
        built = experiment.build(config, dataset=dataset)
        result = loop.run(built, None if self.workdir is None else str(self.workdir))
        self._keep(built.space, dataset, result)
        return self

    def _keep(self, space, dataset, result) -> None:
        """The fitted attributes, and the winner's plain network and weights."""
        from pathways_jax.codegen import export as export_lib
        from pathways_jax.codegen import plain_network

        self.space_ = space
        self.dataset_ = dataset
        self.summary_ = result.summary
        self.history_ = result.history
        self.best_ = result.best
        self.best_pathway_ = result.best["description"]
        self.final_ = result.final
        self.genome_ = space.from_json(result.best["genome"])
        self.encoding_ = dataset.encoding
        self.unused_columns_ = export_lib.unused_columns(space, self.genome_, dataset) or []
        self._network = plain_network.build_plain_network(space, self.genome_)
        if result.params is not None:
            self.supernet_params_ = result.params
            self.variables_ = plain_network.plain_params_from_supernet(
                space, self.genome_, result.params
            )
        else:  # A finished workdir: the exported weights of its best/.
            self.supernet_params_ = None
            self.variables_ = _load_flax_variables(self._best_dir(), self._network, dataset)
        self._forward = _compiled_forward(self._network)

    # -- predict ---------------------------------------------------------------------------

    def _inputs(self, X) -> np.ndarray:
        """Model inputs float32 [n, *input_shape] of raw ``X``, preprocessed as in ``fit``."""
        check_is_fitted(self, "variables_")
        dataset = self.dataset_
        if self.encoding_ is not None:
            features, _ = inputs.feature_table(X, [c["name"] for c in self.encoding_["columns"]])
            if not isinstance(features, tables.RawTable):
                features = tables.table_from_array(
                    features, [c["name"] for c in self.encoding_["columns"]]
                )
            unknown = table_encoding.unknown_categories(self.encoding_, features.columns)
            for column, levels in unknown.items():
                warnings.warn(
                    f"column {column!r} has categories not seen in training {levels[:5]}; "
                    "they are encoded as no category",
                    stacklevel=3,
                )
            return table_encoding.encode(self.encoding_, features.columns, self.unused_columns_)
        x, _ = inputs.feature_table(X)
        x, _ = inputs.input_array(np.asarray(x, np.float32), self.input_kind)
        if x.ndim == 2 and x.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {x.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        if x.shape[1:] != dataset.input_shape:
            raise ValueError(
                f"X has {x.shape[1:]} per example but the model was fitted on "
                f"{dataset.input_shape} (expected the same features)"
            )
        if not np.isfinite(x).all():
            raise ValueError("X has NaN or inf values (expected finite numbers, as in fit)")
        if dataset.input_mean is not None:
            x = (x - dataset.input_mean) / dataset.input_std
        return x.astype(np.float32)

    def _outputs(self, X) -> np.ndarray:
        """Network outputs [n, num_outputs] of raw ``X``."""

        x = self._inputs(X)
        chunks = [
            np.asarray(self._forward(self.variables_, x[i : i + PREDICT_CHUNK]))
            for i in range(0, len(x), PREDICT_CHUNK)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dataset_.num_outputs))

    # -- results ---------------------------------------------------------------------------

    def leaderboard(self, top: int = 10):
        """The ``top`` candidates by validation fitness (description, validation
        metrics, parameters, latency, round): a pandas DataFrame when pandas
        is installed, else a list of dicts."""
        check_is_fitted(self, "history_")
        return report_lib.leaderboard(self.space_, self.history_, top)

    def explain(self, repeats: int = 10) -> dict:
        """Which inputs the winner uses and how much each matters: permutation
        importance on the validation split, each with a 95% confidence interval
        over ``repeats`` permutations (see :func:`.report.permutation_importance`)."""
        check_is_fitted(self, "variables_")
        return report_lib.explain(self, repeats)

    def export(self, directory: str, framework: str | tuple = ("flax", "torch")) -> list[str]:
        """Write the winner as standalone code: ``model.py`` (Flax) and/or
        ``model_torch.py`` (PyTorch) with weights, ``predict.py`` and
        ``preprocessing.json`` (raw table rows are encoded by the exported
        ``table_encoding.py``). Returns the paths written."""
        from pathways_jax.codegen import export as export_lib

        check_is_fitted(self, "variables_")
        formats = (framework,) if isinstance(framework, str) else tuple(framework)
        if self.supernet_params_ is None:  # The workdir's best/ already holds the code.
            shutil.copytree(self._best_dir(), directory, dirs_exist_ok=True)
            return sorted(os.path.join(directory, name) for name in os.listdir(directory))
        final = self.final_ or {}
        return export_lib.export_pathway(
            directory,
            self.space_,
            self.genome_,
            self.supernet_params_,
            self.dataset_,
            steps=int(final.get("steps", 1)),
            provenance={"validation": final.get("validation"), "test": final.get("test")},
            formats=formats,
        )

    def _best_dir(self) -> str:
        return os.path.join(str(self.workdir), "best")

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_forward", None)  # A compiled function does not pickle.
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        if "_network" in state:
            self._forward = _compiled_forward(self._network)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.non_deterministic = False
        return tags


def _compiled_forward(network):
    """The jitted forward pass of the winner's plain network (made at fit, so
    that ``predict`` leaves the estimator's attributes as they were)."""
    import jax

    return jax.jit(network.apply)


def _column_vector(y) -> np.ndarray:
    """``y`` as given, a column vector ``[n, 1]`` flattened with scikit-learn's warning."""
    from sklearn.exceptions import DataConversionWarning

    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is flattened",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y.ravel()
    return y


def _load_flax_variables(best_dir: str, network, dataset):
    """Plain-network variables from an exported ``params.msgpack``."""
    import jax
    import jax.numpy as jnp
    from flax import serialization

    template = network.init(jax.random.key(0), jnp.zeros((1, *dataset.input_shape), jnp.float32))
    with open(os.path.join(best_dir, "params.msgpack"), "rb") as file:
        return serialization.from_bytes(template, file.read())


class PathwayClassifier(ClassifierMixin, _PathwayEstimator):
    """Searches for a classifier of ``X`` (see :class:`_PathwayEstimator` and the
    module doc). Fitted attributes: ``classes_``, ``best_pathway_``,
    ``summary_``, ``history_``, ``final_``, ``n_features_in_``."""

    _task = "classification"

    def _targets(self, y) -> np.ndarray:
        from sklearn.utils.multiclass import type_of_target

        y = _column_vector(y)
        if y.ndim != 1:
            raise ValueError(f"y has shape {y.shape} (expected [n_samples] labels)")
        kind = type_of_target(y) if y.dtype.kind in "biuf" else "multiclass"
        if kind == "continuous":
            raise ValueError(
                "Unknown label type: continuous (expected class labels; use "
                "PathwayRegressor for a continuous target)"
            )
        absent = [i for i, cell in enumerate(y.tolist()) if table_encoding.is_missing(cell)]
        if absent:
            raise ValueError(f"y has {len(absent)} missing labels (expected a label in every row)")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has {len(self.classes_)} class (expected at least 2 classes to classify)"
            )
        return np.searchsorted(self.classes_, y).astype(np.int32)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``[n, n_classes]`` (columns in the order of ``classes_``)."""
        logits = self._outputs(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        """Predicted classes ``[n]`` (values of ``classes_``)."""
        outputs = self._outputs(X)  # Checks that the estimator is fitted.
        return self.classes_[np.argmax(outputs, axis=1)]


class PathwayRegressor(RegressorMixin, _PathwayEstimator):
    """Searches for a regressor of ``X`` (see :class:`_PathwayEstimator` and the
    module doc). Fitted attributes: ``best_pathway_``, ``summary_``,
    ``history_``, ``final_``, ``n_features_in_``."""

    _task = "regression"

    def _targets(self, y) -> np.ndarray:
        y = _column_vector(y)
        if y.ndim != 1:
            raise ValueError(f"y has shape {y.shape} (expected [n_samples] targets)")
        try:
            y = y.astype(np.float64)
        except ValueError:
            raise ValueError(
                "y has values that are not numbers (expected numeric targets)"
            ) from None
        if not np.isfinite(y).all():
            raise ValueError("y has NaN or inf values (expected finite targets)")
        return y

    def predict(self, X) -> np.ndarray:
        """Predicted targets ``[n]`` in the units of ``y``."""
        outputs = self._outputs(X)[:, 0].astype(np.float64)
        return outputs * self.dataset_.target_std + self.dataset_.target_mean

"""From data to a model and its code in one call: scikit-learn-style estimators
over the search (``PathwayClassifier``, ``PathwayRegressor``)."""

from pathways_jax.automodel.estimators import PathwayClassifier, PathwayRegressor

__all__ = ["PathwayClassifier", "PathwayRegressor"]

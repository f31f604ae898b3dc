"""Offline dataset registry: built-in and file datasets, validated and split by seed.

>>> config = default_dataset_config()
>>> config.name = "iris"
>>> dataset = load_dataset(config, seed=0)
>>> dataset.x_train.shape, dataset.num_classes
((96, 4), 3)
"""

from pathways_jax.data.dataset import DataError, Dataset
from pathways_jax.data.registry import dataset_names, default_dataset_config, load_dataset

__all__ = [
    "DataError",
    "Dataset",
    "dataset_names",
    "default_dataset_config",
    "load_dataset",
]

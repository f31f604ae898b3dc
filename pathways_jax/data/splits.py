"""Deterministic random splits, subsampling and standardisation of numpy arrays."""

from __future__ import annotations

import numpy as np

from pathways_jax.data.dataset import DataError

# A standard deviation this small relative to max(|mean|, 1) counts as zero (constant column).
_RELATIVE_STD_FLOOR = 1e-7


def split_rng(seed: int) -> np.random.Generator:
    """The generator all split decisions for `seed` draw from, in a fixed order."""
    return np.random.Generator(np.random.PCG64(seed))


def carve_indices(
    num_examples: int, fraction: float, rng: np.random.Generator, source: str, field: str
) -> tuple[np.ndarray, np.ndarray]:
    """Randomly partitions range(num_examples) into a kept part and a carved-out part.

    The carved part has round(num_examples * fraction) examples; both parts must be non-empty.

    Returns:
      (kept, carved): disjoint int64 index arrays, each sorted, together covering all indices.

    Raises:
      DataError: naming `field` if either part would be empty.
    """
    num_carved = int(np.floor(num_examples * fraction + 0.5))
    if not 0 < num_carved < num_examples:
        raise DataError(
            f"{source}: {field}={fraction} of {num_examples} examples leaves "
            f"{num_carved} carved and {num_examples - num_carved} kept "
            f"(expected a fraction leaving both parts non-empty)"
        )
    order = rng.permutation(num_examples)
    return np.sort(order[num_carved:]), np.sort(order[:num_carved])


def subsample_indices(num_examples: int, max_examples: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of at most `max_examples` of `num_examples`, chosen without replacement.

    `max_examples <= 0` or `>= num_examples` keeps every index.
    """
    if max_examples <= 0 or max_examples >= num_examples:
        return np.arange(num_examples)
    return np.sort(rng.choice(num_examples, size=max_examples, replace=False))


def standardization_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std of `values` [n, ...] over axis 0, as float64 [...].

    Columns whose std is (numerically) zero get std 1, so they map to zero instead of NaN.
    """
    values = values.astype(np.float64)
    mean = values.mean(axis=0)
    std = values.std(axis=0)
    constant = std <= _RELATIVE_STD_FLOOR * np.maximum(np.abs(mean), 1.0)
    return mean, np.where(constant, 1.0, std)


def standardize(values: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(values - mean) / std broadcast over axis 0, as float32 of the same shape."""
    return ((values.astype(np.float64) - mean) / std).astype(np.float32)

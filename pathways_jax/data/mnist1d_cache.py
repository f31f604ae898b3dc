"""MNIST-1D, generated locally with the `mnist1d` package and cached in-process and on disk.

Generation with the package's default arguments (the MNIST-1D paper's data: 4000 train and
1000 test sequences of length 40, 10 classes) never touches the network, but importing the
package and generating takes a couple of seconds, so the arrays are cached:

* in-process, by `functools.lru_cache`;
* on disk, in `$PATHWAYS_JAX_CACHE/mnist1d.npz` (default `~/.cache/pathways_jax/mnist1d.npz`;
  set `PATHWAYS_JAX_CACHE` to the empty string to disable). The file is written atomically and
  checked on read; an unreadable, stale or malformed file is ignored and regenerated.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import random
import tempfile
import zipfile

import numpy as np

from pathways_jax.data.dataset import SourceArrays

CACHE_DIR_ENV = "PATHWAYS_JAX_CACHE"
CACHE_FILE_NAME = "mnist1d.npz"
NUM_CLASSES = 10
SEQUENCE_LENGTH = 40
_NUM_TRAIN, _NUM_TEST = 4000, 1000
_VERSION_KEY = "mnist1d_version"


def cache_path() -> str | None:
    """Path of the on-disk cache file, or None if `$PATHWAYS_JAX_CACHE` is set but empty."""
    directory = os.environ.get(CACHE_DIR_ENV)
    if directory is None:
        directory = os.path.join(os.path.expanduser("~"), ".cache", "pathways_jax")
    elif not directory:
        return None
    return os.path.join(os.path.expanduser(directory), CACHE_FILE_NAME)


def _package_version() -> str:
    try:
        return importlib.metadata.version("mnist1d")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def generate() -> SourceArrays:
    """Generates MNIST-1D with the package defaults, leaving global RNG states as they were.

    Returns:
      SourceArrays with x float32 [4000, 40, 1], y int32 [4000], x_test float32 [1000, 40, 1],
      y_test int32 [1000]; labels in 0..9.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    # make_dataset reseeds the global numpy and python RNGs; restore them for the caller.
    numpy_state, python_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    try:
        data = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(numpy_state)  # noqa: NPY002
        random.setstate(python_state)
    return SourceArrays(
        x=np.asarray(data["x"], np.float32)[..., None],
        y=np.asarray(data["y"], np.int32),
        x_test=np.asarray(data["x_test"], np.float32)[..., None],
        y_test=np.asarray(data["y_test"], np.int32),
    )


def _is_well_formed(arrays: SourceArrays) -> bool:
    for x, y, size in ((arrays.x, arrays.y, _NUM_TRAIN), (arrays.x_test, arrays.y_test, _NUM_TEST)):
        if x.shape != (size, SEQUENCE_LENGTH, 1) or x.dtype != np.float32:
            return False
        if y.shape != (size,) or y.dtype != np.int32:
            return False
        if not np.all(np.isfinite(x)) or y.min() < 0 or y.max() >= NUM_CLASSES:
            return False
    return True


def read_cache(path: str) -> SourceArrays | None:
    """The cached arrays at `path`, or None if missing, unreadable, stale or malformed."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if str(archive[_VERSION_KEY]) != _package_version():
                return None
            arrays = SourceArrays(*(archive[key] for key in SourceArrays._fields))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return arrays if _is_well_formed(arrays) else None


def write_cache(path: str, arrays: SourceArrays) -> bool:
    """Writes `arrays` to `path` atomically (temp file, then rename); False if that failed."""
    directory = os.path.dirname(path) or "."
    temp_path = None
    try:
        os.makedirs(directory, exist_ok=True)
        descriptor, temp_path = tempfile.mkstemp(dir=directory, suffix=".tmp")
        with os.fdopen(descriptor, "wb") as file:
            np.savez(file, **arrays._asdict(), **{_VERSION_KEY: np.array(_package_version())})
        os.chmod(temp_path, 0o644)
        os.replace(temp_path, path)
        return True
    except OSError as error:
        logging.getLogger(__name__).warning("Could not cache MNIST-1D at %s: %s", path, error)
        if temp_path is not None and os.path.exists(temp_path):
            os.remove(temp_path)
        return False


@functools.lru_cache(maxsize=1)
def load() -> SourceArrays:
    """MNIST-1D from the in-process cache, else the disk cache, else freshly generated.

    Returns:
      Read-only arrays shaped as in `generate`.
    """
    path = cache_path()
    arrays = read_cache(path) if path else None
    if arrays is None:
        arrays = generate()
        if path:
            write_cache(path, arrays)
    for array in arrays:
        array.flags.writeable = False
    return arrays

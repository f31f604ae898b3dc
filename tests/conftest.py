"""Shared fixtures: small spaces whose compiled functions are reused by many tests."""

import os
import tempfile

# Tests in this process use one CPU device; multi-device tests start subprocesses.
_CACHE_ROOT = os.path.join(tempfile.gettempdir(), "pathways_jax_test_cache")
os.environ.setdefault("PATHWAYS_JAX_CACHE", os.path.join(_CACHE_ROOT, "data"))
# Compilation dominates the suite's time: share compiled programs between test
# processes and the search subprocesses they start (same program, same binary).
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(_CACHE_ROOT, "xla"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
# The tests' programs are compiled many times and run for a few steps, so they
# are compiled without LLVM's optimisation passes and with XLA:CPU's older
# element-wise emitters: programs compile in about half the time and step
# several times slower. Neither changes what a program computes; the
# benchmarks and the search command use XLA's defaults. ``XLA_FLAGS=`` (empty)
# runs the suite with XLA's defaults.
os.environ.setdefault(
    "XLA_FLAGS", "--xla_backend_optimization_level=0 --xla_cpu_use_fusion_emitters=false"
)

import jax  # noqa: E402
import pytest  # noqa: E402

from pathways_jax.spaces.pathway.genome import GeneTables  # noqa: E402
from pathways_jax.spaces.pathway.space import PathwaySpace  # noqa: E402

SMALL_TABLES = GeneTables(
    max_depth=4,
    conv_widths=(4, 8),
    dense_widths=(8, 16),
    kernel_sizes=(3, 5),
    batch_sizes=(8, 16),
)


@pytest.fixture(scope="session")
def sequence_space() -> PathwaySpace:
    return PathwaySpace(SMALL_TABLES, "sequence", (12, 1), "classification", 3)


@pytest.fixture(scope="session")
def vector_space() -> PathwaySpace:
    return PathwaySpace(SMALL_TABLES, "vector", (5,), "regression", 1)


@pytest.fixture(scope="session")
def image_space() -> PathwaySpace:
    return PathwaySpace(SMALL_TABLES, "image", (6, 6, 1), "classification", 4)


@pytest.fixture(scope="session")
def bit_space():
    """The stand-in space (``examples/bitstring.py``): strategy and loop tests
    that need no network use it, and its programs compile in a second."""
    import importlib.util
    import sys

    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples", "bitstring.py")
    spec = importlib.util.spec_from_file_location("bitstring_stand_in", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.BitStringSpace(length=12)


# The longest test files, longest first (measured cold on 2 cores). Workers
# take whole files (``--dist loadfile`` in scripts/test.sh: a module's
# fixtures, such as a shared search, run once) in collection order, so
# starting with these leaves only short files for the end.
SLOW_FIRST = (
    "tests/benchmarks_test.py",
    "tests/distributed_test.py",
    "tests/codegen_test.py",
    "tests/estimators_test.py",
    "tests/attention_test.py",
    "tests/golden_test.py",
    "tests/pathnet_test.py",
    "tests/checkpoint_test.py",
    "tests/export_test.py",
    "tests/search_test.py",
    "tests/shape_classes_test.py",
    "tests/strategies_test.py",
)


def pytest_collection_modifyitems(items):
    """Slow files first, each file's tests in their own order (a stable sort,
    the same in every worker)."""

    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)


def first(tree):
    """Member 0 of a population."""
    return jax.tree_util.tree_map(lambda leaf: leaf[0], tree)

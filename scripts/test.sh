#!/usr/bin/env bash
# Run the whole test suite (and the linters) in .venv with the test extras.
# Extra arguments go to pytest, e.g. ./scripts/test.sh -k genome
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh" test
# The PyTorch export's tests need torch (an optional extra of the package): a
# pinned release is installed when it is missing. PATHWAYS_JAX_TORCH=none skips
# it (those tests are then skipped); any other value is a pip requirement.
TORCH_SPEC="${PATHWAYS_JAX_TORCH:-torch==2.13.0}"
if [ "$TORCH_SPEC" != "none" ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
  echo "Installing $TORCH_SPEC into .venv for the PyTorch export tests"
  .venv/bin/python -m pip install --quiet "$TORCH_SPEC"
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Tests that need several devices start their own processes with JAX_NUM_CPU_DEVICES.
# Each worker takes whole test files, so a module's shared fixtures run once.
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"

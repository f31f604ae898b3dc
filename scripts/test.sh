#!/usr/bin/env bash
# Run the whole test suite (and the linters) in .venv with the test extras.
# Extra arguments go to pytest, e.g. ./scripts/test.sh -k genome
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh" test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# Tests that need several devices start their own processes with JAX_NUM_CPU_DEVICES.
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --dist load "$@"

# Shared by demo.sh and test.sh: create .venv if missing and install the package.
# Usage: source scripts/_env.sh [extras]   (extras e.g. "test")
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "pathways_jax needs Python 3.10 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
EXTRAS="${1:-}"
SPEC="."
if [ -n "$EXTRAS" ]; then SPEC=".[$EXTRAS]"; fi
# Reinstall only when setup.py changed since the last install.
STAMP=".venv/.pathways_jax_installed${EXTRAS:+_$EXTRAS}"
if [ ! -f "$STAMP" ] || [ setup.py -nt "$STAMP" ]; then
  echo "Installing pathways_jax ($SPEC) into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e "$SPEC"
  touch "$STAMP"
fi

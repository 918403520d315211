#!/usr/bin/env bash
# protrnn quick start (Linux, Python >= 3.11, no root needed).
#   bash quickstart.sh run  [snakemake arguments]   # installs if needed, then: snakemake --cores 8 ...
#   bash quickstart.sh test [pytest arguments]      # installs if needed, then runs the test suite
# Environment: PYTHON (interpreter for the virtual environment, default python3), CORES (default 8),
# PROTRNN_TORCH (pip requirement for torch, default torch==2.13.0).
set -euo pipefail
cd "$(dirname "$0")"

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  run | test) ;;
  *) echo "usage: bash quickstart.sh run|test [arguments]" >&2; exit 2 ;;
esac

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "protrnn needs Python >= 3.11 (Snakemake 8+); found: $("$python" --version 2>&1)." >&2
  echo "Point PYTHON at a newer interpreter, e.g. PYTHON=python3.12 bash quickstart.sh $command" >&2
  exit 1
fi

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
  echo "creating virtual environment $venv" >&2
  "$python" -m venv "$venv"
fi
stamp="$venv/.protrnn-install"
want="$(cat pyproject.toml | sha256sum | cut -c1-16) ${PROTRNN_TORCH:-torch==2.13.0}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing protrnn and its dependencies into $venv" >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    # shellcheck disable=SC2086  # PROTRNN_TORCH may carry pip options (e.g. an index URL)
    "$venv/bin/python" -m pip install --quiet ${PROTRNN_TORCH:-torch==2.13.0}
  fi
  "$venv/bin/python" -m pip install --quiet -e ".[dev]"
  echo "$want" > "$stamp"
fi
export PATH="$PWD/$venv/bin:$PATH"

if [ "$command" = run ]; then
  exec snakemake --cores "${CORES:-8}" "$@"
else
  exec python -m pytest -q "$@"
fi

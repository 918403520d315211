#!/usr/bin/env bash
# protrnn quick start (Linux, Python >= 3.11, no root needed).
#   bash quickstart.sh run  [snakemake arguments]   # installs if needed, then: snakemake --cores 8 ...
#   bash quickstart.sh test [pytest arguments]      # installs if needed, then runs the test suite
# Installs the exact versions and hashes of requirements/lock-cpu.txt (CPU build of torch, CPython 3.11;
# regenerate it with `bash requirements/lock.sh`), then protrnn itself (editable, no dependencies).
# Environment: PYTHON (interpreter for the virtual environment, default python3), CORES (default 8),
# PROTRNN_TORCH (pip requirement for another torch build, e.g. a CUDA one or one for another Python;
# it may carry pip options such as an index URL): everything else still comes from the lock with
# hashes, torch as given WITHOUT hash checking (and so do any packages it needs beyond the lock).
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
lock=requirements/lock-cpu.txt
if [ ! -x "$venv/bin/python" ]; then
  echo "creating virtual environment $venv" >&2
  "$python" -m venv "$venv"
fi
stamp="$venv/.protrnn-install"
want="$(cat pyproject.toml "$lock" | sha256sum | cut -c1-16) ${PROTRNN_TORCH:-locked}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "installing protrnn and its locked dependencies ($lock) into $venv" >&2
  pip=("$venv/bin/python" -m pip install --quiet)
  if [ -z "${PROTRNN_TORCH:-}" ]; then
    "${pip[@]}" --require-hashes -r "$lock"
  else
    # the lock less its torch entry (the pin line and its --hash continuation lines)
    rest=$(mktemp)
    trap 'rm -f "$rest"' EXIT
    awk '/^torch==/ { skip = 1 } skip { if (!/\\$/) skip = 0; next } { print }' "$lock" > "$rest"
    "${pip[@]}" --require-hashes -r "$rest"
    rm -f "$rest"
    echo "installing ${PROTRNN_TORCH} (PROTRNN_TORCH: not hash-checked)" >&2
    # shellcheck disable=SC2086  # PROTRNN_TORCH may carry pip options (e.g. an index URL)
    "${pip[@]}" ${PROTRNN_TORCH}
  fi
  "${pip[@]}" --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi
export PATH="$PWD/$venv/bin:$PATH"

if [ "$command" = run ]; then
  exec snakemake --cores "${CORES:-8}" "$@"
else
  exec python -m pytest -q "$@"
fi

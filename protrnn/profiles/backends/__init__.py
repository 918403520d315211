"""One interface over the profile backends: build a database, search profiles.

Every backend returns the same thing: per query an L x 20 float32 PSSM in BLAST column order
(half-bit log-odds), BLOSUM62 rows without hits, self-hits removed, plus a stats dict
(:mod:`protrnn.profiles.search`). Backends, each a module standing alone:

- ``mmseqs2`` (default): :mod:`protrnn.profiles.backends.mmseqs2`, iterative MMseqs2 search.
- ``psiblast``: :mod:`protrnn.profiles.backends.psiblast`, NCBI BLAST+ as in PSIPRED.
- ``jackhmmer``: :mod:`protrnn.profiles.backends.jackhmmer`, HMMER through pyhmmer (installs from
  PyPI; imported only when a search runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from protrnn.profiles.backends import jackhmmer, mmseqs2, psiblast


class Backend(Protocol):
    """What a backend module provides."""

    TOOL: str
    DEFAULT_PARAMS: dict
    #: The files of a finished database folder.
    DATABASE_FILES: tuple[str, ...]

    def check_params(self, params: dict) -> dict: ...

    def tool_version(self) -> str: ...

    def build_database(self, fasta_paths: list[Path], out_dir: Path, threads: int) -> dict: ...

    def search_profiles(
        self, queries: dict[str, str], db_dir: Path, params: dict, threads: int, workdir: Path
    ) -> tuple[dict[str, np.ndarray], dict]: ...


_MODULES = {"mmseqs2": mmseqs2, "psiblast": psiblast, "jackhmmer": jackhmmer}
BACKENDS = tuple(_MODULES)


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (one of :data:`BACKENDS`)."""
    if name not in _MODULES:
        raise ValueError(f"unknown profile backend {name!r}; choose one of {BACKENDS}")
    return _MODULES[name]  # type: ignore[return-value]

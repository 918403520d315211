"""Optional redundancy reduction of the profile database (MMseqs2 linclust)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from protrnn.core.tools import find_mmseqs
from protrnn.profiles.backends.mmseqs2 import build_mmseqs_db
from protrnn.profiles.database import cluster_fasta

LETTERS = "ACDEFGHIKLMNPQRSTVWY"


@pytest.fixture(scope="module")
def mmseqs() -> str:
    try:
        return find_mmseqs()
    except FileNotFoundError as err:
        pytest.skip(str(err))


def _family(rng: np.random.Generator, n: int, changes: int) -> list[str]:
    seed = list(rng.choice(list(LETTERS), size=200))
    out = []
    for _ in range(n):
        copy = list(seed)
        for i in rng.choice(200, size=changes, replace=False):
            copy[i] = rng.choice(list(LETTERS))
        out.append("".join(copy))
    return out


def test_near_identical_sequences_collapse(mmseqs: str, tmp_path: Path):
    rng = np.random.default_rng(5)
    close = _family(rng, 6, changes=4)  # ~98 % identical to each other
    unrelated = ["".join(rng.choice(list(LETTERS), size=200)) for _ in range(5)]
    fasta = tmp_path / "db.fasta"
    fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(close + unrelated)))
    reps = tmp_path / "reps.fasta"
    info = cluster_fasta([fasta], reps, 0.9, 0.8, 1, mmseqs)
    assert info["n_sequences_before"] == 11
    assert info["n_sequences_after"] == 6  # one representative of the family + 5 unrelated
    db = build_mmseqs_db([reps], tmp_path / "db" / "db", 1, mmseqs, create_index=False)
    assert db["n_sequences"] == 6

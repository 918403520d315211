"""Random protein sequences for tests (seeded generators, no data files)."""

from __future__ import annotations

import numpy as np

from protrnn.core.alphabet import AMINO_ACIDS


def random_seq(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list(AMINO_ACIDS), size=n))


def mutate(rng: np.random.Generator, seq: str, rate: float) -> str:
    """``seq`` with each residue replaced by a random one with probability ``rate``."""
    letters = list(seq)
    for i in np.flatnonzero(rng.random(len(seq)) < rate):
        letters[i] = str(rng.choice(list(AMINO_ACIDS)))
    return "".join(letters)

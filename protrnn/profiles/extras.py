"""The extra per-position profile columns stored beside each PSSM: layout, no-hit values, checks.

Every backend returns, per query, an L x :data:`N_EXTRA` float32 array (stored as float16) with
these columns (docs/architecture.md, "Profile columns and feature blocks"):

- ``prob_A`` .. ``prob_V`` (20, BLAST order): the profile's amino-acid distribution at the position
  (each row sums to 1). mmseqs2: ``result2profile --profile-output-mode 1`` (the probabilities,
  pseudocounts included, that its PSSM is computed from); psiblast: the ASCII PSSM's "weighted
  observed percentages" / 100 (no pseudocounts); jackhmmer: the HMM's match emission
  probabilities.
- ``information`` (bits, >= 0): psiblast's "information per position"; mmseqs2 and jackhmmer: the
  relative entropy of the probabilities against :data:`BACKGROUND`.
- ``depth`` (count, >= 0): the included hit segments that align a residue to the position (all
  rounds for mmseqs2, the last round for psiblast and jackhmmer; the query itself not counted).
- ``gap_fraction`` ([0, 1]): of the included hit segments spanning the position, the fraction
  with a gap there (0 where none spans it).

A protein without hits gets :func:`no_hit_extras`: :data:`BACKGROUND` probabilities, information
0, depth 0, gap fraction 0 (its PSSM is the BLOSUM62 rows,
:func:`protrnn.profiles.blosum.blosum_profile`). :data:`EXTRAS_VERSION` changes whenever a
column's meaning does; shards and the cache record it, and older profiles without it are not used
for the extra columns.
"""

from __future__ import annotations

import re

import numpy as np

from protrnn.core.alphabet import AMINO_ACIDS, N_AA

#: Bump when a column's meaning changes (stored profiles without this version lack the columns).
EXTRAS_VERSION = 1
EXTRA_COLUMNS: tuple[str, ...] = (
    *(f"prob_{a}" for a in AMINO_ACIDS),
    "information",
    "depth",
    "gap_fraction",
)
N_EXTRA = len(EXTRA_COLUMNS)  # 23
PROBS = slice(0, N_AA)
INFORMATION, DEPTH, GAP_FRACTION = N_AA, N_AA + 1, N_AA + 2
#: How the extras are stored (shards and cache).
EXTRAS_DTYPE = np.float16

# BLOSUM62's background frequencies (as in MMseqs2's blosum62.out), MMseqs2 order ACDEFG...VWY
_BACKGROUND_MMSEQS = {
    "A": 0.07422, "C": 0.02469, "D": 0.05363, "E": 0.05431, "F": 0.04742, "G": 0.07415,
    "H": 0.02621, "I": 0.06792, "K": 0.05815, "L": 0.09891, "M": 0.02499, "N": 0.04465,
    "P": 0.03854, "Q": 0.03426, "R": 0.05161, "S": 0.05723, "T": 0.05089, "V": 0.07292,
    "W": 0.01303, "Y": 0.03228,
}  # fmt: skip
_bg = np.array([_BACKGROUND_MMSEQS[a] for a in AMINO_ACIDS], dtype=np.float64)
#: BLOSUM62's amino-acid background frequencies in BLAST order (normalised to sum 1).
BACKGROUND: np.ndarray = _bg / _bg.sum()
BACKGROUND.setflags(write=False)


def no_hit_extras(length: int) -> np.ndarray:
    """The extras of a protein without hits: background probabilities, information, depth and
    gap fraction 0 (float32, L x :data:`N_EXTRA`)."""
    out = np.zeros((length, N_EXTRA), dtype=np.float32)
    out[:, PROBS] = BACKGROUND
    return out


def relative_entropy(probs: np.ndarray) -> np.ndarray:
    """Bits of information per row: sum p * log2(p / background) (0 * log 0 = 0)."""
    p = np.asarray(probs, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log2(p / BACKGROUND), 0.0)
    return np.maximum(terms.sum(axis=1), 0.0)


def normalized(probs: np.ndarray) -> np.ndarray:
    """Rows scaled to sum 1; an all-zero row becomes :data:`BACKGROUND`."""
    p = np.asarray(probs, dtype=np.float64)
    total = p.sum(axis=1, keepdims=True)
    return np.where(total > 0, p / np.where(total > 0, total, 1.0), BACKGROUND)


def assemble(
    probs: np.ndarray, information: np.ndarray, depth: np.ndarray, gaps: np.ndarray
) -> np.ndarray:
    """L x :data:`N_EXTRA` float32 from probabilities (rows normalised), information (bits),
    depth (aligned residues per position) and gaps (gapped spanning segments per position)."""
    length = len(probs)
    out = np.empty((length, N_EXTRA), dtype=np.float32)
    out[:, PROBS] = normalized(probs)
    out[:, INFORMATION] = information
    out[:, DEPTH] = depth
    spanning = depth + gaps
    out[:, GAP_FRACTION] = np.where(spanning > 0, gaps / np.where(spanning > 0, spanning, 1), 0)
    return out


class Coverage:
    """Aligned residues (depth) and gaps per query position, summed over hit segments."""

    def __init__(self, length: int) -> None:
        self.residues = np.zeros(length + 1, dtype=np.int64)  # difference arrays
        self.gaps = np.zeros(length + 1, dtype=np.int64)

    def add(self, start: int, stop: int, gap: bool) -> None:
        """Query positions ``start:stop`` hold a residue (``gap`` False) or a gap of one hit."""
        target = self.gaps if gap else self.residues
        target[start] += 1
        target[stop] -= 1

    def add_cigar(self, qstart: int, cigar: str) -> None:
        """One MMseqs2 backtrace from query position ``qstart`` (0-based): ``M`` aligns residues,
        ``I`` puts query residues against a target gap, ``D`` (target residues between two
        query positions) covers no query position."""
        position = qstart
        for count, op in _CIGAR.findall(cigar):
            n = int(count)
            if op != "D":
                self.add(position, position + n, gap=op == "I")
                position += n

    def add_aligned(self, qstart: int, query_row: str, hit_row: str) -> None:
        """One pairwise alignment of query positions from ``qstart`` (0-based): rows of equal
        length, gaps written ``-`` or ``.``; columns where the query has a gap are skipped."""
        q = np.frombuffer(query_row.encode("ascii"), dtype=np.uint8)
        h = np.frombuffer(hit_row.encode("ascii"), dtype=np.uint8)
        if len(q) != len(h):
            raise ValueError(f"alignment rows differ in length: {len(q)} and {len(h)}")
        in_query = (q != ord("-")) & (q != ord("."))
        hit_gap = (h[in_query] == ord("-")) | (h[in_query] == ord("."))
        positions = qstart + np.arange(int(in_query.sum()))
        if len(positions) and positions[-1] >= len(self.residues) - 1:
            raise ValueError(f"alignment reaches query position {positions[-1]}, beyond the end")
        np.add.at(self.residues, positions[~hit_gap], 1)
        np.add.at(self.residues, positions[~hit_gap] + 1, -1)
        np.add.at(self.gaps, positions[hit_gap], 1)
        np.add.at(self.gaps, positions[hit_gap] + 1, -1)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(depth, gaps) per query position, float64."""
        depth = np.cumsum(self.residues)[:-1].astype(np.float64)
        gaps = np.cumsum(self.gaps)[:-1].astype(np.float64)
        return depth, gaps


_CIGAR = re.compile(r"(\d+)([MID])")


def check_extras(where: str, key: str, extras: np.ndarray, length: int | None = None) -> None:
    """ValueError naming ``where`` and ``key`` unless ``extras`` is L x :data:`N_EXTRA`, finite,
    with probabilities in [0, 1], non-negative information and depth, gap fraction in [0, 1]."""
    array = np.asarray(extras)
    wrong_length = length is not None and len(array) != length
    if array.ndim != 2 or array.shape[1] != N_EXTRA or wrong_length:
        raise ValueError(
            f"{where}: extra profile columns of {key!r} have shape {array.shape}, "
            f"expected ({length if length is not None else 'L'}, {N_EXTRA})"
        )
    values = array.astype(np.float32)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{where}: extra profile columns of {key!r} have non-finite values")
    bounded = np.concatenate([values[:, PROBS], values[:, GAP_FRACTION : GAP_FRACTION + 1]], 1)
    counts = values[:, INFORMATION:GAP_FRACTION]  # information and depth
    if (bounded < 0).any() or (bounded > 1.001).any() or (counts < 0).any():
        raise ValueError(f"{where}: extra profile columns of {key!r} are out of range")


def stored(extras: np.ndarray) -> np.ndarray:
    """``extras`` as stored (:data:`EXTRAS_DTYPE`)."""
    return np.asarray(extras, dtype=np.float32).astype(EXTRAS_DTYPE)


def quantized(extras: np.ndarray) -> np.ndarray:
    """``extras`` at the stored precision, as float32: what every backend returns, so that the
    values are the same whether they come from a search, a shard or the cache."""
    return stored(extras).astype(np.float32)

"""BLOSUM62 rows in BLAST column order: the PSSM of a protein without homologues.

The matrix is NCBI's integer BLOSUM62 (scale ln(2)/2, i.e. half-bit log-odds), the same unit as
the MMseqs2 profiles of :mod:`protrnn.profiles.backends.mmseqs2`, so the fallback and real profiles
match.
Residues are mapped with :func:`protrnn.core.alphabet.normalize_residue` (U->C, O->K, lower->upper);
X (and B, Z, J, anything unknown) gets NCBI's X row: -1 in every column.
"""

from __future__ import annotations

import numpy as np

from protrnn.core.alphabet import AA_ALPHABET, AMINO_ACIDS, normalize_residue

# Rows and columns in AA_ALPHABET order (ARNDCQEGHILKMFPSTWYV, then the X row), values from NCBI.
_ROWS = (
    "A   4  -1  -2  -2   0  -1  -1   0  -2  -1  -1  -1  -1  -2  -1   1   0  -3  -2   0",
    "R  -1   5   0  -2  -3   1   0  -2   0  -3  -2   2  -1  -3  -2  -1  -1  -3  -2  -3",
    "N  -2   0   6   1  -3   0   0   0   1  -3  -3   0  -2  -3  -2   1   0  -4  -2  -3",
    "D  -2  -2   1   6  -3   0   2  -1  -1  -3  -4  -1  -3  -3  -1   0  -1  -4  -3  -3",
    "C   0  -3  -3  -3   9  -3  -4  -3  -3  -1  -1  -3  -1  -2  -3  -1  -1  -2  -2  -1",
    "Q  -1   1   0   0  -3   5   2  -2   0  -3  -2   1   0  -3  -1   0  -1  -2  -1  -2",
    "E  -1   0   0   2  -4   2   5  -2   0  -3  -3   1  -2  -3  -1   0  -1  -3  -2  -2",
    "G   0  -2   0  -1  -3  -2  -2   6  -2  -4  -4  -2  -3  -3  -2   0  -2  -2  -3  -3",
    "H  -2   0   1  -1  -3   0   0  -2   8  -3  -3  -1  -2  -1  -2  -1  -2  -2   2  -3",
    "I  -1  -3  -3  -3  -1  -3  -3  -4  -3   4   2  -3   1   0  -3  -2  -1  -3  -1   3",
    "L  -1  -2  -3  -4  -1  -2  -3  -4  -3   2   4  -2   2   0  -3  -2  -1  -2  -1   1",
    "K  -1   2   0  -1  -3   1   1  -2  -1  -3  -2   5  -1  -3  -1   0  -1  -3  -2  -2",
    "M  -1  -1  -2  -3  -1   0  -2  -3  -2   1   2  -1   5   0  -2  -1  -1  -1  -1   1",
    "F  -2  -3  -3  -3  -2  -3  -3  -3  -1   0   0  -3   0   6  -4  -2  -2   1   3  -1",
    "P  -1  -2  -2  -1  -3  -1  -1  -2  -2  -3  -3  -1  -2  -4   7  -1  -1  -4  -3  -2",
    "S   1  -1   1   0  -1   0   0   0  -1  -2  -2   0  -1  -2  -1   4   1  -3  -2  -2",
    "T   0  -1   0  -1  -1  -1  -1  -2  -2  -1  -1  -1  -1  -2  -1   1   5  -2  -2   0",
    "W  -3  -3  -4  -4  -2  -2  -3  -2  -2  -3  -2  -3  -1   1  -4  -3  -2  11   2  -3",
    "Y  -2  -2  -2  -3  -2  -1  -2  -3   2  -1  -1  -2  -1   3  -3  -2  -2   2   7  -1",
    "V   0  -3  -3  -3  -1  -2  -2  -3  -3   3   1  -2   1  -1  -2  -2   0  -3  -1   4",
    "X  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1  -1",
)


def _parse_rows() -> np.ndarray:
    """21 x 20 int8 matrix (rows AA_ALPHABET incl. X, columns AMINO_ACIDS) from :data:`_ROWS`."""
    letters = "".join(row.split()[0] for row in _ROWS)
    if letters != AA_ALPHABET:
        raise AssertionError(f"BLOSUM62 rows {letters} are not in {AA_ALPHABET} order")
    matrix = np.array([[int(v) for v in row.split()[1:]] for row in _ROWS], dtype=np.int8)
    if not np.array_equal(matrix[:20], matrix[:20].T):
        raise AssertionError("BLOSUM62 table is not symmetric")
    return matrix


#: BLOSUM62 in half bits: row = residue (AA_ALPHABET, X last), column = AMINO_ACIDS (BLAST order).
BLOSUM62: np.ndarray = _parse_rows()
BLOSUM62.setflags(write=False)
#: The unit of BLOSUM62 and of every raw PSSM produced here.
UNIT = "half-bit log-odds (score = 2 * log2(p / p_background)), as NCBI BLOSUM62"
COLUMN_ORDER = AMINO_ACIDS
_ROW_INDEX = {a: i for i, a in enumerate(AA_ALPHABET)}


def blosum_profile(sequence: str) -> np.ndarray:
    """L x 20 float32 PSSM of a protein with no homologues: the BLOSUM62 row of each residue."""
    rows = np.fromiter(
        (_ROW_INDEX[normalize_residue(c)] for c in sequence), dtype=np.intp, count=len(sequence)
    )
    return BLOSUM62[rows].astype(np.float32)

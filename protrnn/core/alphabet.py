"""Residue and label alphabets shared by every stage (see DESIGN.md, "Alphabets")."""

from __future__ import annotations

import hashlib

import numpy as np

#: Canonical amino-acid order: BLAST's PSSM column order. Index 20 is X (unknown).
AMINO_ACIDS = "ARNDCQEGHILKMFPSTWYV"
UNKNOWN = "X"
AA_ALPHABET = AMINO_ACIDS + UNKNOWN
N_AA = len(AMINO_ACIDS)  # 20 PSSM columns
N_AA_TOKENS = len(AA_ALPHABET)  # 21 one-hot columns

#: Documented mapping of non-standard letters onto the 21-letter alphabet.
#: U (selenocysteine) -> C, O (pyrrolysine) -> K; the ambiguity codes B (D/N), Z (E/Q),
#: J (I/L) and anything else (X, '*', gaps) -> X. Lower case is upper-cased first (DSSP
#: writes bonded cysteines in lower case).
NONSTANDARD_MAP = {"U": "C", "O": "K", "B": "X", "Z": "X", "J": "X"}

SS8 = "HGIEBTSC"
SS3 = "HEC"
#: DSSP 8 -> 3 states, the reduction used by NetSurfP-2.0 and DCRNN-era papers.
SS8_TO_SS3 = {"H": "H", "G": "H", "I": "H", "E": "E", "B": "E", "T": "C", "S": "C", "C": "C"}
#: Coil spellings found in the sources (DSSP blank, '-', 'L'), and DSSP>=4 PPII 'P', all -> 'C'.
SS8_ALIASES = {"L": "C", "-": "C", " ": "C", "_": "C", "P": "C"}

_AA_INDEX = {a: i for i, a in enumerate(AA_ALPHABET)}


def normalize_residue(letter: str) -> str:
    """Map one residue letter to the 21-letter alphabet (upper case, U->C, O->K, else X)."""
    up = letter.upper()
    if up in _AA_INDEX:
        return up
    return NONSTANDARD_MAP.get(up, UNKNOWN)


def normalize_sequence(sequence: str) -> str:
    """Apply :func:`normalize_residue` to every letter."""
    return "".join(normalize_residue(c) for c in sequence)


def encode_sequence(sequence: str) -> np.ndarray:
    """Residue indices into :data:`AA_ALPHABET` (uint8, X = 20)."""
    return np.fromiter(
        (_AA_INDEX[normalize_residue(c)] for c in sequence), dtype=np.uint8, count=len(sequence)
    )


def normalize_ss8(labels: str) -> str:
    """Map coil spellings to ``C``; raise ValueError on letters outside DSSP's alphabet."""
    out = []
    for i, c in enumerate(labels):
        c = SS8_ALIASES.get(c, c)
        if c not in SS8:
            raise ValueError(f"unknown ss8 letter {c!r} at position {i + 1}")
        out.append(c)
    return "".join(out)


def ss8_to_ss3(ss8: str) -> str:
    """Reduce canonical 8-state labels to 3 states."""
    return "".join(SS8_TO_SS3[c] for c in ss8)


def encode_labels(labels: str, alphabet: str) -> np.ndarray:
    """Label indices (int8) into ``alphabet``."""
    index = {c: i for i, c in enumerate(alphabet)}
    return np.fromiter((index[c] for c in labels), dtype=np.int8, count=len(labels))


def sequence_hash(sequence: str) -> str:
    """Content key of a protein: sha256 of the upper-cased raw sequence (first 24 hex digits)."""
    return hashlib.sha256(sequence.upper().encode()).hexdigest()[:24]

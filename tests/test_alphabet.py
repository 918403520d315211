"""Alphabets: residue normalization, label reduction, hashing."""

import numpy as np
import pytest

from protrnn.core import alphabet


def test_blast_column_order():
    assert alphabet.AMINO_ACIDS == "ARNDCQEGHILKMFPSTWYV"
    assert alphabet.AA_ALPHABET[20] == "X"


@pytest.mark.parametrize(
    ("letter", "expected"),
    [("a", "A"), ("U", "C"), ("O", "K"), ("B", "X"), ("Z", "X"), ("J", "X"), ("*", "X")],
)
def test_normalize_residue(letter, expected):
    assert alphabet.normalize_residue(letter) == expected


def test_encode_sequence_indices():
    codes = alphabet.encode_sequence("ARvXu")
    assert codes.dtype == np.uint8
    assert codes.tolist() == [0, 1, 19, 20, 4]


def test_ss8_aliases_and_reduction():
    assert alphabet.normalize_ss8("L-HP G") == "CCHCCG"
    assert alphabet.ss8_to_ss3("HGIEBTSC") == "HHHEECCC"
    with pytest.raises(ValueError, match="position 2"):
        alphabet.normalize_ss8("HQ")


def test_sequence_hash_is_case_insensitive_and_stable():
    assert alphabet.sequence_hash("acd") == alphabet.sequence_hash("ACD")
    assert len(alphabet.sequence_hash("ACD")) == 24
    assert alphabet.sequence_hash("ACD") != alphabet.sequence_hash("ACE")

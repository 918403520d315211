"""Encoding: round trip of a hand-made table, PSSM scaling, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.alphabet import AA_ALPHABET, sequence_hash
from protrnn.features import N_FEATURES, SCALING, encode_dataset, load_encoded


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["p1", "p2", "p3"],
            "sequence": ["ARNU", "WYVXB", "GG"],
            "ss8": ["HGIE", "BTSCH", ""],
            "ss3": ["HHHE", "ECCCH", ""],
            "eval_mask": ["1101", "11111", "11"],
            "cb513_mask": ["0110", "", ""],
            "split": ["train", "valid", "test"],
            "label": ["", "", ""],
        }
    )


def _profiles(table: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {}
    for k, seq in enumerate(table["sequence"]):
        prof = np.full((len(seq), 20), float(k), dtype=np.float32)
        prof[0, 0] = 0.0  # raw 0 -> 0.5 after logistic scaling
        prof[0, 1] = -3.0
        out[sequence_hash(seq)] = prof
    return out


def test_round_trip(tmp_path: Path) -> None:
    table = _table()
    out = tmp_path / "enc.npz"
    summary = encode_dataset(table, _profiles(table), out)
    assert summary == {"n_proteins": 3, "n_residues": 11}
    assert SCALING == "logistic"
    enc = load_encoded(out)
    assert len(enc) == 3 and list(enc.ids) == ["p1", "p2", "p3"]
    assert enc.lengths.tolist() == [4, 5, 2] and enc.offsets.tolist() == [0, 4, 9]

    x = enc.features(0)
    assert x.shape == (4, N_FEATURES) and x.dtype == np.float32
    # one-hot: A R N, and U -> C
    assert [AA_ALPHABET[j] for j in x[:, :21].argmax(1)] == ["A", "R", "N", "C"]
    assert np.allclose(x[:, :21].sum(1), 1.0)
    assert x[0, 21] == pytest.approx(0.5)
    assert x[0, 22] == pytest.approx(1 / (1 + np.exp(3.0)), abs=1e-3)  # float16 storage
    # W Y V X B(-> X)
    assert [AA_ALPHABET[j] for j in enc.features(1)[:, :21].argmax(1)] == list("WYVXX")

    t = enc.targets(0)
    assert t["ss8"].tolist() == [0, 1, 2, 3]
    assert t["ss3"].tolist() == [0, 0, 0, 1]
    assert t["eval_mask"].tolist() == [1, 1, 0, 1]
    assert t["cb513_mask"].tolist() == [0, 1, 1, 0]
    assert enc.targets(1)["cb513_mask"].tolist() == [0] * 5  # empty -> all zeros
    assert enc.targets(2)["ss8"].tolist() == [-1, -1]  # unknown labels

    valid = enc.subset("valid")
    assert list(valid.ids) == ["p2"]
    assert np.array_equal(valid.features(0), enc.features(1))
    assert len(enc.subset("nothing")) == 0


def test_missing_profile_names_protein(tmp_path: Path) -> None:
    table = _table()
    profiles = _profiles(table)
    del profiles[sequence_hash("WYVXB")]
    with pytest.raises(KeyError, match="p2"):
        encode_dataset(table, profiles, tmp_path / "enc.npz")
    assert not (tmp_path / "enc.npz").exists()


def test_profile_length_mismatch_names_protein(tmp_path: Path) -> None:
    table = _table()
    profiles = _profiles(table)
    profiles[sequence_hash("GG")] = np.zeros((3, 20))
    with pytest.raises(ValueError, match="p3"):
        encode_dataset(table, profiles, tmp_path / "enc.npz")


def test_label_length_mismatch_names_protein(tmp_path: Path) -> None:
    table = _table()
    table.loc[0, "eval_mask"] = "101"  # e.g. leading zeros lost by a numeric read
    with pytest.raises(ValueError, match="p1.*eval_mask"):
        encode_dataset(table, _profiles(table), tmp_path / "enc.npz")

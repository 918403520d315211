"""Encoding: round trip of a hand-made table, PSSM scaling, RSA, per-protein labels and membrane
flags, old files, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.core.alphabet import AA_ALPHABET, sequence_hash
from protrnn.encode import (
    N_FEATURES,
    SCALING,
    encode_dataset,
    encoding_spec,
    load_encoded,
    shard_provenance,
)


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
            "membrane": ["", "", ""],
            "rsa": ["0.5,nan,1,0", "", "0.25,0.125"],
        }
    )


def _protein_table() -> pd.DataFrame:
    """A per-protein (localization) table: labels and membrane flags, no per-residue labels."""
    table = _table()
    table["label"] = ["Nucleus", "", "Cytoplasm"]
    table["membrane"] = ["soluble", "unknown", "membrane"]
    for column in ("ss8", "ss3", "eval_mask", "cb513_mask", "rsa"):
        table[column] = ""
    return table


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

    # RSA: NaN = unknown, a protein without RSA all NaN
    assert enc.has_rsa
    assert np.array_equal(t["rsa"], [0.5, np.nan, 1.0, 0.0], equal_nan=True)
    assert np.isnan(enc.targets(1)["rsa"]).all()
    assert enc.targets(2)["rsa"].tolist() == [0.25, 0.125]
    # a per-residue set: no classes, labels and membrane flags unknown
    assert enc.task == "per_residue" and enc.classes == ()
    assert enc.label.tolist() == [-1, -1, -1] and enc.membrane.tolist() == [-1, -1, -1]

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


def test_no_rsa_column_means_no_rsa(tmp_path: Path) -> None:
    table = _table().drop(columns=["rsa"])
    encode_dataset(table, _profiles(table), tmp_path / "enc.npz")
    enc = load_encoded(tmp_path / "enc.npz")
    assert not enc.has_rsa and np.isnan(enc.rsa).all() and enc.rsa.shape == (11,)


@pytest.mark.parametrize("rsa", ["0.5,0.5,0.5", "0.5,x,0.5,0.5", "0.5,1.5,0.5,0.5"])
def test_bad_rsa_names_protein(tmp_path: Path, rsa: str) -> None:
    table = _table()
    table.loc[0, "rsa"] = rsa
    with pytest.raises(ValueError, match="p1.*rsa"):
        encode_dataset(table, _profiles(table), tmp_path / "enc.npz")


def test_per_protein_round_trip(tmp_path: Path) -> None:
    table = _protein_table()
    classes = ["Cytoplasm", "Mitochondrion", "Nucleus"]
    out = tmp_path / "enc.npz"
    encode_dataset(table, _profiles(table), out, task="per_protein", classes=classes)
    enc = load_encoded(out)
    assert enc.task == "per_protein" and enc.classes == tuple(classes)
    assert enc.label.tolist() == [2, -1, 0] and enc.label.dtype == np.int64
    assert enc.membrane.tolist() == [0, -1, 1] and enc.membrane.dtype == np.int64
    assert not enc.has_rsa
    assert enc.targets(0)["eval_mask"].tolist() == [1, 1, 1, 1]  # empty mask: every residue
    # select and subset carry the per-protein arrays
    picked = enc.select([2, 0])
    assert picked.label.tolist() == [0, 2] and picked.membrane.tolist() == [1, 0]
    assert picked.classes == tuple(classes)
    test = enc.subset("test")
    assert test.label.tolist() == [0] and test.membrane.tolist() == [1]

    # without classes: the table's labels, sorted
    encode_dataset(table, _profiles(table), out, task="per_protein")
    assert load_encoded(out).classes == ("Cytoplasm", "Nucleus")


def test_per_protein_errors_name_the_protein(tmp_path: Path) -> None:
    table = _protein_table()
    with pytest.raises(ValueError, match="p1.*'Nucleus'"):
        encode_dataset(table, _profiles(table), tmp_path / "e.npz", "per_protein", ["Cytoplasm"])
    table.loc[1, "membrane"] = "M"
    with pytest.raises(ValueError, match="p2.*membrane"):
        encode_dataset(table, _profiles(table), tmp_path / "e.npz", "per_protein")
    with pytest.raises(ValueError, match="unique"):
        encode_dataset(table, _profiles(table), tmp_path / "e.npz", "per_protein", ["A", "A"])
    with pytest.raises(ValueError, match="per_protein"):
        encode_dataset(_table(), _profiles(_table()), tmp_path / "e.npz", classes=["A", "B"])


def _rewrite(path: Path, drop: tuple[str, ...], **changes: np.ndarray) -> None:
    """Rewrite an npz without the keys ``drop`` (the layout of an older protrnn)."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k not in drop}
    np.savez_compressed(path, **{**arrays, **changes})


def test_older_files_load_or_fail_clearly(tmp_path: Path) -> None:
    table = _table()
    out = tmp_path / "enc.npz"
    encode_dataset(table, _profiles(table), out)
    new_keys = ("classes", "membrane", "rsa", "has_rsa")
    _rewrite(out, new_keys, label=np.full(3, np.nan, dtype=np.float32))
    enc = load_encoded(out)
    assert enc.task == "per_residue" and enc.classes == () and not enc.has_rsa
    assert enc.label.tolist() == [-1, -1, -1] and enc.membrane.tolist() == [-1, -1, -1]
    assert np.isnan(enc.targets(0)["rsa"]).all()
    assert enc.targets(0)["ss8"].tolist() == [0, 1, 2, 3]

    _rewrite(out, (), task=np.array("per_protein"))
    with pytest.raises(ValueError, match="encode it again"):
        load_encoded(out)


def test_encoding_spec_describes_the_features(tmp_path: Path) -> None:
    spec = encoding_spec()
    assert spec == {
        "version": 1,
        "features": ["onehot21", "pssm_logistic20"],
        "n_features": 41,
        "aa_alphabet": AA_ALPHABET,
        "pssm_columns": "ARNDCQEGHILKMFPSTWYV",
    }
    assert spec["n_features"] == N_FEATURES
    table = _table()
    enc = load_encoded(_encoded(tmp_path / "e.npz", table))
    assert enc.features(0).shape[1] == spec["n_features"]


def _encoded(path: Path, table: pd.DataFrame, provenance: dict | None = None) -> Path:
    encode_dataset(table, _profiles(table), path, profile_provenance=provenance)
    return path


def _shard_json(folder: Path, i: int, **changes: object) -> Path:
    """A profile shard's provenance JSON as scripts/profile_search.py writes it."""
    record = {
        "backend": "mmseqs2",
        "tool": "mmseqs2",
        "version": "v1",
        "parameters": {"num_iterations": 2, "evalue": 0.001},
        "database": {"checksum": "abc", "n_sequences": 10, "n_residues": 900},
        "cache": {"folder": "x", "key": "y"},
        "stats": {"seconds": float(i)},  # differs per shard: not part of the provenance
        "n_proteins": i,
        "shard": f"shard{i}.npz",
        **changes,
    }
    shard = folder / f"shard{i}.npz"
    shard.with_suffix(".json").write_text(json.dumps(record))
    return shard


def test_provenance_goes_from_shards_into_the_npz(tmp_path: Path) -> None:
    shards = [_shard_json(tmp_path, i) for i in range(3)]
    provenance = shard_provenance(shards)
    assert provenance == {
        "backend": "mmseqs2",
        "database": {"checksum": "abc", "n_sequences": 10, "n_residues": 900},
        "database_checksum": "abc",
        "parameters": {"num_iterations": 2, "evalue": 0.001},
    }
    enc = load_encoded(_encoded(tmp_path / "e.npz", _table(), provenance))
    assert enc.provenance == {"encoding": encoding_spec(), "profiles": provenance}
    # unknown profile provenance (e.g. protrnn predict's own encoding) and older files
    assert load_encoded(_encoded(tmp_path / "u.npz", _table())).provenance == {
        "encoding": encoding_spec(),
        "profiles": None,
    }
    _rewrite(tmp_path / "u.npz", ("provenance",))
    assert load_encoded(tmp_path / "u.npz").provenance is None


def test_the_same_table_encodes_to_the_same_arrays_and_digest(tmp_path: Path) -> None:
    a = load_encoded(_encoded(tmp_path / "a.npz", _table()))
    b = load_encoded(_encoded(tmp_path / "b.npz", _table()))
    assert a.digest() == b.digest()
    assert a.subset("train").digest() != a.digest()
    changed = _table()
    changed.loc[1, "ss8"] = "BTSCC"
    assert load_encoded(_encoded(tmp_path / "c.npz", changed)).digest() != a.digest()


def test_encoded_with_another_encoding_is_refused(tmp_path: Path) -> None:
    path = _encoded(tmp_path / "e.npz", _table())
    other = {"encoding": {**encoding_spec(), "version": 0}, "profiles": None}
    _rewrite(path, (), provenance=np.array(json.dumps(other)))
    with pytest.raises(ValueError, match=r"e\.npz: encoded as .*encode it again"):
        load_encoded(path)

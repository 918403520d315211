"""Bad inputs of the feature encoding (encode.features) and of the profiles' extra columns: each
is one clear error naming the file, key or protein, and leaves no partial output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from protrnn.core.alphabet import sequence_hash
from protrnn.encode import encode_dataset, encoding_spec, load_encoded
from protrnn.model.inference import load_model
from protrnn.model.zoo import build_model
from protrnn.profiles.cache import ProfileCache
from protrnn.profiles.search import Profiles
from protrnn.profiles.store import read_provenance, read_shard, write_shard
from tests.extras_checks import dataset

ALL = ("onehot", "pssm", "profile_probs", "information", "depth", "gap_fraction")
TODAYS_SPEC = encoding_spec()
TINY_RNN = {"type": "rnn", "cell": "gru", "hidden": 8, "layers": 1, "dropout": 0.0}


def _rewrite(path: Path, drop: tuple[str, ...] = (), **changes: object) -> None:
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if k not in drop}
    np.savez_compressed(path, **{**arrays, **changes})


def test_unknown_or_repeated_features(tmp_path: Path) -> None:
    table, pssms, extras = dataset(2)
    for bad in (("onehot", "bogus"), ("pssm", "pssm"), ()):
        with pytest.raises(ValueError, match=r"encode.features .*needs distinct names"):
            encode_dataset(table, pssms, tmp_path / "d.npz", features=bad, extras=extras)
    assert list(tmp_path.iterdir()) == []


def test_extra_features_without_extra_columns(tmp_path: Path) -> None:
    table, pssms, extras = dataset(3)
    out = tmp_path / "d.npz"
    with pytest.raises(KeyError, match="protein 'p0'.*extra profile columns"):
        encode_dataset(table, pssms, out, features=("onehot", "depth"))
    del extras[sequence_hash(table["sequence"][2])]
    with pytest.raises(KeyError, match="protein 'p2'"):
        encode_dataset(table, pssms, out, features=("onehot", "depth"), extras=extras)
    extras[sequence_hash(table["sequence"][2])] = np.zeros((3, 23), np.float32)
    with pytest.raises(ValueError, match="protein 'p2'.*shape"):
        encode_dataset(table, pssms, out, features=("onehot", "depth"), extras=extras)
    bad = np.full((len(table["sequence"][2]), 23), 0.05, np.float32)
    bad[0, 22] = 2.0  # a gap fraction above 1
    extras[sequence_hash(table["sequence"][2])] = bad
    with pytest.raises(ValueError, match="protein 'p2'.*out of range"):
        encode_dataset(table, pssms, out, features=("onehot", "depth"), extras=extras)
    assert list(tmp_path.iterdir()) == []


def test_encoded_file_lacking_its_extra_array(tmp_path: Path) -> None:
    table, pssms, extras = dataset(2)
    path = tmp_path / "d.npz"
    encode_dataset(table, pssms, path, features=ALL, extras=extras)
    _rewrite(path, ("extra",))
    with pytest.raises(ValueError, match=r"d\.npz: features .* need an extra array"):
        load_encoded(path)


def test_encoded_file_of_unknown_features(tmp_path: Path) -> None:
    table, pssms, extras = dataset(2)
    path = tmp_path / "d.npz"
    encode_dataset(table, pssms, path, features=ALL, extras=extras)
    unknown = {**encoding_spec(ALL), "features": ["onehot21", "future_block7"]}
    _rewrite(path, provenance=np.array(json.dumps({"encoding": unknown, "profiles": None})))
    with pytest.raises(ValueError, match=r"d\.npz: .*\['future_block7'\] unknown"):
        load_encoded(path)


def test_old_shard_asked_for_extra_columns(tmp_path: Path) -> None:
    _, pssms, extras = dataset(2)
    old = tmp_path / "shard1.npz"
    write_shard(old, dict(pssms), {"backend": "mmseqs2"})  # as written before the extras
    with pytest.raises(ValueError, match=r"shard1\.npz holds no extra profile columns"):
        read_shard(old, extras=True)
    shard = tmp_path / "shard0.npz"
    write_shard(shard, Profiles(pssms, extras), {"backend": "mmseqs2"})
    record = read_provenance(shard)
    record["extras"]["version"] = 0  # another extras version
    shard.with_suffix(".json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match=r"shard0\.npz holds no extra profile columns of vers"):
        read_shard(shard, extras=True)


def test_shard_written_without_a_proteins_extra_columns(tmp_path: Path) -> None:
    _, pssms, extras = dataset(2)
    key = next(iter(pssms))
    del extras[key]
    with pytest.raises(ValueError, match=rf"s\.npz: profile '{key}' has no extra columns"):
        write_shard(tmp_path / "s.npz", Profiles(pssms, extras), {})
    assert list(tmp_path.iterdir()) == []


def test_broken_cache_entry_of_extra_columns(tmp_path: Path) -> None:
    _, pssms, extras = dataset(1)
    cache = ProfileCache(tmp_path, "sum", "mmseqs2", {}, "18-8cc5c", "code")
    cache.put_many(Profiles(pssms, extras))
    key = next(iter(pssms))
    np.save(cache.extras_path(key), np.zeros((2, 23), np.float16))
    with pytest.raises(ValueError, match=rf"profile cache entry .*{key}\.extras1\.npy"):
        cache.get_extras(key, len(pssms[key]))


def test_model_of_unknown_features(tmp_path: Path) -> None:
    future = {**TODAYS_SPEC, "features": ["onehot21", "pssm_logistic20", "contacts5"]}
    model = build_model(TINY_RNN, 46)
    path = tmp_path / "future" / "model.pt"
    path.parent.mkdir()
    torch.save({"spec": TINY_RNN, "state_dict": model.state_dict(), "features": 46,
                "provenance": {"encoding": future, "profiles": None}}, path)  # fmt: skip
    with pytest.raises(ValueError, match=r"future/model\.pt: .*\['contacts5'\] unknown"):
        load_model(path, "cpu")
    from protrnn.predict import check_model_provenance

    with pytest.raises(ValueError, match=r"future/model\.pt: .*contacts5.*retrain the model"):
        check_model_provenance(path, {"encoding": future}, None)  # type: ignore[arg-type]

"""Bad-input catalogue, encode and train stages (issue 12): each bad input stops with one clear
message naming the file (and key or record) and leaves no partial output, or, for a checkpoint
that may not be resumed, trains afresh after one log line saying why.

All cases run in-process on tiny synthetic sets (seconds in all).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from protrnn.core.alphabet import sequence_hash
from protrnn.encode import encode_dataset, encoding_spec, load_encoded, shard_provenance
from protrnn.model.inference import load_model
from protrnn.model.train import train
from tests.test_protein_models import TINY, _proteins
from tests.test_training import PRESET, TINY_RNN, _Stop, _stop_after_epoch, _synthetic

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _leftovers(folder: Path) -> list[str]:
    """Every file under ``folder`` (none when it does not exist)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def _shard(folder: Path, i: int, **changes: object) -> Path:
    """Profile shard ``i`` whose provenance JSON (as scripts/profile_search.py writes it) has
    ``changes``; a change to None drops the key."""
    record = {
        "backend": "mmseqs2",
        "parameters": {"num_iterations": 3, "evalue": 0.001},
        "database": {"checksum": "c0ffee", "n_sequences": 5, "n_residues": 500},
        **changes,
    }
    folder.mkdir(parents=True, exist_ok=True)
    shard = folder / f"shard{i}.npz"
    record = {k: v for k, v in record.items() if v is not None}
    shard.with_suffix(".json").write_text(json.dumps(record))
    return shard


# ---------------------------------------------------------------- encode
def test_shards_that_disagree_on_search_parameters_are_named(tmp_path: Path) -> None:
    shards = [
        _shard(tmp_path, 0),
        _shard(tmp_path, 1, parameters={"num_iterations": 2, "evalue": 0.001}),
    ]
    with pytest.raises(ValueError) as err:
        shard_provenance(shards)
    msg = str(err.value)
    assert msg.startswith("profile shards disagree on parameters:")
    assert str(tmp_path / "shard0.json") in msg and str(tmp_path / "shard1.json") in msg
    assert "rerun rule profile_search" in msg


def test_shards_from_different_databases_are_named(tmp_path: Path) -> None:
    other = {"checksum": "beef", "n_sequences": 5, "n_residues": 500}
    shards = [_shard(tmp_path, 0), _shard(tmp_path, 1), _shard(tmp_path, 2, database=other)]
    with pytest.raises(ValueError, match=r"disagree on database: .*shard0\.json.*shard2\.json"):
        shard_provenance(shards)


def test_shard_provenance_without_parameters_names_file_and_key(tmp_path: Path) -> None:
    shards = [_shard(tmp_path, 0, parameters=None)]
    with pytest.raises(ValueError, match=r"shard0\.json: profile provenance lacks 'parameters'"):
        shard_provenance(shards)


def test_missing_shard_provenance_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"shard3\.json of profile shard .*shard3\.npz"):
        shard_provenance([tmp_path / "shard3.npz"])


def test_missing_profile_names_the_protein_and_leaves_no_file(tmp_path: Path) -> None:
    table = pd.DataFrame({"id": ["p1", "p2"], "sequence": ["ACD", "EFG"], "split": "train"})
    profiles = {sequence_hash("ACD"): np.zeros((3, 20))}
    with pytest.raises(KeyError, match=r"protein 'p2': no profile for sequence hash"):
        encode_dataset(table, profiles, tmp_path / "enc" / "d.npz")
    assert _leftovers(tmp_path / "enc") == []


def test_encoded_set_of_another_encoding_is_refused(tmp_path: Path) -> None:
    path = _synthetic(tmp_path / "d.npz", 4)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    other = {"encoding": {**encoding_spec(), "n_features": 40}, "profiles": None}
    arrays["provenance"] = np.array(json.dumps(other))
    np.savez_compressed(path, **arrays)
    with pytest.raises(ValueError, match=r"d\.npz: encoded as .* delete it and encode it again"):
        load_encoded(path)


# ---------------------------------------------------------------- train: stops
def test_training_set_without_train_proteins(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 6, splits=["valid"] * 3 + ["test"] * 3)
    out = tmp_path / "model"
    with pytest.raises(ValueError) as err:
        train(TINY_RNN, PRESET, data, out, seed=1, log=lambda s: None)
    assert str(err.value) == f"{data}: no proteins with split 'train' (splits: ['test', 'valid'])"
    assert _leftovers(out) == []


def test_too_few_train_proteins_for_a_validation_split(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 1)
    out = tmp_path / "model"
    with pytest.raises(ValueError, match=rf"{data}: too few 'train' proteins .* add 'valid' ones"):
        train(TINY_RNN, PRESET, data, out, seed=1, log=lambda s: None)
    assert _leftovers(out) == []


def test_per_protein_model_on_a_per_residue_set(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 8)
    out = tmp_path / "model"
    with pytest.raises(ValueError) as err:
        train(TINY["rnn_last"], PRESET, data, out, seed=1, log=lambda s: None)
    assert str(err.value) == (
        f"model type 'rnn_last' predicts per_protein, but {data} is a per_residue dataset"
    )
    assert _leftovers(out) == []


def test_per_residue_model_on_a_per_protein_set(tmp_path: Path) -> None:
    data = _proteins(tmp_path / "p.npz", 8)
    with pytest.raises(ValueError, match=rf"predicts per_residue, but {data} is a per_protein"):
        train(TINY_RNN, PRESET, data, tmp_path / "model", seed=1, log=lambda s: None)
    assert _leftovers(tmp_path / "model") == []


def test_unknown_loss_weight_names_the_preset_key(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 8)
    preset = {**PRESET, "loss_weights": {"ss9": 1.0}}
    with pytest.raises(ValueError, match=r"preset loss_weights: unknown head\(s\) \['ss9'\]"):
        train(TINY_RNN, preset, data, tmp_path / "model", seed=1, log=lambda s: None)
    assert _leftovers(tmp_path / "model") == []


def test_zero_epochs_writes_no_model(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 8)
    with pytest.raises(ValueError, match=r"no epoch was trained \(epochs=0\)"):
        train(TINY_RNN, {**PRESET, "epochs": 0}, data, tmp_path / "m", seed=1, log=lambda s: None)
    assert _leftovers(tmp_path / "m") == []


# ---------------------------------------------------------------- train: checkpoints
def test_checkpoint_of_another_model_spec_trains_afresh(tmp_path: Path) -> None:
    """Today's code stopped ("delete the output folder"); a stale checkpoint is now replaced,
    and the old model.pt and history go at once, so a run killed before its end leaves no stale
    model."""
    data = _synthetic(tmp_path / "d.npz", 12)
    out = tmp_path / "model"
    train(TINY_RNN, PRESET, data, out, seed=1, log=lambda s: None)
    logs: list[str] = []
    stop = _stop_after_epoch(1)

    def log(line: str) -> None:
        logs.append(line)
        stop(line)

    with pytest.raises(_Stop):  # killed after epoch 1 of the fresh run
        train({**TINY_RNN, "hidden": 8}, PRESET, data, out, seed=1, log=log)
    assert logs[0] == (
        f"not resuming from {out / 'checkpoints' / 'last.pt'}: it was trained on other inputs: "
        "model spec (hidden) differ; training afresh"
    )
    assert not (out / "model.pt").exists()
    assert pd.read_csv(out / "history.tsv", sep="\t")["epoch"].tolist() == [1]  # the new run's


def test_corrupt_checkpoint_trains_afresh(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 12)
    out = tmp_path / "model"
    ckpt = out / "checkpoints" / "last.pt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"PK\x03\x04 truncated")
    logs: list[str] = []
    summary = train(TINY_RNN, PRESET, data, out, seed=1, log=logs.append)
    assert logs[0].startswith(f"not resuming from {ckpt}: it cannot be read ({ckpt}: not a")
    assert logs[0].endswith("; training afresh")
    assert summary["epochs_run"] == PRESET["epochs"]
    fresh = tmp_path / "fresh"
    train(TINY_RNN, PRESET, data, fresh, seed=1, log=lambda s: None)
    a = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(fresh / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_corrupt_model_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match=rf"{path}: not a readable torch file"):
        load_model(path, "cpu")
    with pytest.raises(FileNotFoundError, match=rf"{tmp_path / 'none.pt'} does not exist"):
        load_model(tmp_path / "none.pt", "cpu")

"""Per-protein (localization) task: loss, overfitting, train() outputs, prediction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from protrnn.core.alphabet import sequence_hash
from protrnn.encode import encode_dataset, load_encoded
from protrnn.model.batching import collate
from protrnn.model.inference import load_model, predict_proba
from protrnn.model.loss import evaluate, loss_weights, masked_loss
from protrnn.model.train import train
from protrnn.model.zoo import build_model
from tests.synthetic import random_seq
from tests.test_training import PRESET, TINY_RNN

CLASSES = ["Cytoplasm", "Mitochondrion", "Nucleus"]
MEMBRANE = ["membrane", "soluble", "unknown", ""]
TINY = {
    "rnn_attention": {
        "type": "rnn_attention",
        "hidden": 16,
        "kernels": [1, 3],
        "filters": 8,
        "attention": 16,
        "fc": [16],
        "dropout": 0.0,
    },
    "cnn_rnn_pool": {
        "type": "cnn_rnn_pool",
        "embed": 8,
        "kernels": [3],
        "filters": 8,
        "hidden": 16,
        "layers": 1,
        "fc": [16],
        "dropout": 0.0,
    },
    "rnn_last": {"type": "rnn_last", "cell": "gru", "hidden": 16, "fc": [16], "dropout": 0.0},
}
WEIGHTS = {"location": 1.0, "membrane": 0.5}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _proteins(path: Path, n: int, seed: int = 0, splits: list[str] | None = None) -> Path:
    """Encoded per-protein set of random proteins with random labels (every class present;
    membrane flags of the first 8: membrane, soluble, unknown, '' twice)."""
    rng = np.random.default_rng(seed)
    rows, profiles = [], {}
    for i in range(n):
        seq = random_seq(rng, int(rng.integers(10, 40)))
        rows.append(
            {
                "id": f"prot{i}",
                "sequence": seq,
                "split": splits[i] if splits else "train",
                "label": CLASSES[i % len(CLASSES)] if i < 3 else str(rng.choice(CLASSES)),
                "membrane": MEMBRANE[i % len(MEMBRANE)] if i < 8 else str(rng.choice(MEMBRANE)),
            }
        )
        profiles[sequence_hash(seq)] = rng.normal(0, 2, (len(seq), 20))
    encode_dataset(pd.DataFrame(rows), profiles, path, task="per_protein", classes=CLASSES)
    return path


def test_loss_weights_per_task() -> None:
    shared = {"ss8": 1.0, "ss3": 0.5}  # a preset's weights are shared by both tasks
    assert loss_weights("per_protein", shared) == {"location": 1.0, "membrane": 1.0}
    assert loss_weights("per_protein", {"membrane": 0.2}) == {"location": 1.0, "membrane": 0.2}
    assert loss_weights("per_residue", shared) == {"ss8": 1.0, "ss3": 0.5, "rsa": 1.0}
    assert loss_weights("per_residue", None) == {"ss8": 1.0, "ss3": 1.0, "rsa": 1.0}
    with pytest.raises(ValueError, match="locaton"):
        loss_weights("per_protein", {"locaton": 1.0})


def test_loss_ignores_unknown_labels_and_membrane(tmp_path: Path) -> None:
    enc = load_encoded(_proteins(tmp_path / "d.npz", 8))
    enc = enc.select(np.arange(8))
    batch = collate(enc, np.arange(8), torch.device("cpu"))
    assert batch["membrane"].tolist() == [1, 0, -1, -1] * 2
    batch["location"][[1, 6]] = -1
    torch.manual_seed(0)
    out = build_model(TINY["rnn_last"], n_classes=3)(batch["x"], batch["lengths"])
    before = masked_loss(out, batch, WEIGHTS)
    changed = {k: v.clone() for k, v in out.items()}
    changed["location"][[1, 6]] += torch.tensor([5.0, -3.0, 1.0])
    changed["membrane"][[2, 3, 6, 7]] += torch.tensor([4.0, -4.0])
    assert torch.allclose(masked_loss(changed, batch, WEIGHTS), before, atol=1e-6, rtol=0)
    changed["membrane"][0] += torch.tensor([4.0, -4.0])
    assert not torch.allclose(masked_loss(changed, batch, WEIGHTS), before)
    # the weights: membrane-only loss is the weighted mean cross-entropy of the 4 known flags
    only = masked_loss(out, batch, {"location": 0.0, "membrane": 2.0})
    keep = batch["membrane"] >= 0
    expected = 2.0 * torch.nn.functional.cross_entropy(
        out["membrane"][keep], batch["membrane"][keep]
    )
    assert torch.allclose(only, expected, atol=1e-6)


@pytest.mark.parametrize("name", sorted(TINY))
def test_overfits_random_labels(tmp_path: Path, name: str) -> None:
    """16 random proteins with random labels of 3 classes: memorised to 100% train accuracy."""
    torch.manual_seed(0)
    enc = load_encoded(_proteins(tmp_path / "d.npz", 16, seed=1))
    model = build_model(TINY[name], n_classes=len(CLASSES))
    opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.0)
    batch = collate(enc, np.arange(16), torch.device("cpu"))
    cpu = torch.device("cpu")
    for step in range(400):
        model.train()
        loss = masked_loss(model(batch["x"], batch["lengths"]), batch, WEIGHTS)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 20 == 19:
            metrics = evaluate(model, enc, cpu, WEIGHTS, 16)
            if metrics["accuracy"] == metrics["membrane_accuracy"] == 100.0:
                break
    metrics = evaluate(model, enc, cpu, WEIGHTS, 16)
    assert metrics["accuracy"] == 100.0 and metrics["membrane_accuracy"] == 100.0, (step, metrics)


def test_train_and_predict_per_protein(tmp_path: Path) -> None:
    data = _proteins(tmp_path / "d.npz", 16, splits=["train"] * 12 + ["valid"] * 4)
    out = tmp_path / "model"
    logs: list[str] = []
    spec = TINY["rnn_attention"]
    preset = {**PRESET, "loss_weights": {"ss8": 1.0, "membrane": 0.5}}
    summary = train(spec, preset, data, out, seed=3, log=logs.append)
    assert summary["epochs_run"] == 2 and 0.0 <= summary["valid_accuracy"] <= 100.0
    history = pd.read_csv(out / "history.tsv", sep="\t")
    assert list(history.columns) == [
        "epoch",
        "train_loss",
        "valid_loss",
        "valid_accuracy",
        "valid_membrane_accuracy",
        "seconds",
    ]
    assert any("3 classes" in line for line in logs)
    saved = torch.load(out / "model.pt", weights_only=True)
    assert saved["task"] == "per_protein" and saved["classes"] == CLASSES

    model = load_model(out / "model.pt", "cpu")
    assert model.classes == tuple(CLASSES)
    enc = load_encoded(data)
    probs = predict_proba(model, enc, "cpu", batch_size=5)
    assert len(probs) == len(enc)
    for p in probs:
        assert set(p) == {"location", "membrane"}
        assert p["location"].shape == (3,) and p["membrane"].shape == (2,)
        assert np.isclose(p["location"].sum(), 1.0, atol=1e-5)
    alone = predict_proba(model, enc.select([7]), "cpu")[0]
    bucketed = predict_proba(model, enc, "cpu", buckets=[16, 64])[7]
    for head in ("location", "membrane"):
        assert np.abs(alone[head] - probs[7][head]).max() < 1e-5
        assert np.abs(bucketed[head] - probs[7][head]).max() < 1e-5

    # resuming checks the class list; a test set must use the training set's classes
    _proteins(tmp_path / "other.npz", 16, splits=["train"] * 12 + ["valid"] * 4)
    table_classes = load_encoded(tmp_path / "other.npz")
    assert table_classes.classes == tuple(CLASSES)
    reordered = tmp_path / "reordered.npz"
    rows = pd.DataFrame(
        {"id": ["a"], "sequence": ["ACDE"], "split": ["test"], "label": ["Nucleus"]}
    )
    encode_dataset(
        rows, {sequence_hash("ACDE"): np.zeros((4, 20))}, reordered, "per_protein", CLASSES[::-1]
    )
    with pytest.raises(ValueError, match="classes"):
        predict_proba(model, load_encoded(reordered), "cpu")


def test_task_mismatch_is_clear(tmp_path: Path) -> None:
    data = _proteins(tmp_path / "d.npz", 12)
    with pytest.raises(ValueError, match="per_residue.*per_protein dataset"):
        train(TINY_RNN, PRESET, data, tmp_path / "m", seed=1, log=lambda s: None)

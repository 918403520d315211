"""Relative solvent accessibility: the loss counts only known RSA of counted residues, a model
fits it, and train()/predict_proba carry it through."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from protrnn.core.alphabet import AMINO_ACIDS, SS8, SS8_TO_SS3, sequence_hash
from protrnn.encode import encode_dataset, load_encoded
from protrnn.model.batching import collate
from protrnn.model.inference import load_model, predict_proba
from protrnn.model.loss import evaluate, masked_loss
from protrnn.model.train import train
from protrnn.model.zoo import build_model
from tests.test_training import PRESET, TINY_RNN

WEIGHTS = {"ss8": 1.0, "ss3": 1.0, "rsa": 1.0}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _rsa_set(path: Path, n: int, seed: int = 0, splits: list[str] | None = None) -> Path:
    """Encoded set whose RSA is a function of the residue and its neighbours (10% unknown), and
    ss8 of the residue; 10% of residues outside eval_mask."""
    rng = np.random.default_rng(seed)
    exposure = np.linspace(0.05, 0.95, 20)  # per amino acid
    rows, profiles = [], {}
    for i in range(n):
        length = int(rng.integers(15, 40))
        aa = rng.integers(0, 20, length)
        seq = "".join(AMINO_ACIDS[a] for a in aa)
        padded = np.concatenate([[aa[0]], aa, [aa[-1]]])
        rsa = (exposure[padded[:-2]] + 2 * exposure[aa] + exposure[padded[2:]]) / 4
        rsa_text = ",".join("nan" if rng.random() < 0.1 else f"{v:.3f}" for v in rsa)
        ss8 = "".join(SS8[a % 8] for a in aa)
        rows.append(
            {
                "id": f"prot{i}",
                "sequence": seq,
                "ss8": ss8,
                "ss3": "".join(SS8_TO_SS3[c] for c in ss8),
                "eval_mask": "".join("0" if rng.random() < 0.1 else "1" for _ in range(length)),
                "split": splits[i] if splits else "train",
                "rsa": rsa_text,
            }
        )
        profiles[sequence_hash(seq)] = rng.normal(0, 2, (length, 20))
    encode_dataset(pd.DataFrame(rows), profiles, path)
    return path


def test_loss_ignores_unknown_rsa(tmp_path: Path) -> None:
    enc = load_encoded(_rsa_set(tmp_path / "d.npz", 4))
    batch = collate(enc, np.arange(4), torch.device("cpu"))
    torch.manual_seed(0)
    out = build_model(TINY_RNN, rsa=True)(batch["x"], batch["lengths"])
    rsa_only = {"rsa": 1.0}
    before = masked_loss(out, batch, rsa_only)
    known = batch["mask"] & ~torch.isnan(batch["rsa"])
    unknown = ~known  # padding, eval_mask 0 and NaN RSA
    assert (batch["mask"] & torch.isnan(batch["rsa"])).any() and (~batch["mask"]).any()
    changed = {k: v.clone() for k, v in out.items()}
    changed["rsa"][unknown] = 1.0 - changed["rsa"][unknown]
    assert torch.equal(masked_loss(changed, batch, rsa_only), before)
    expected = ((out["rsa"][known] - batch["rsa"][known]) ** 2).mean()
    assert torch.allclose(before, expected, atol=1e-6)
    changed["rsa"][known] = 1.0 - changed["rsa"][known]
    assert not torch.allclose(masked_loss(changed, batch, rsa_only), before)

    # no known RSA in the batch: the term is 0 and the loss is the ss8/ss3 loss
    batch["rsa"][:] = float("nan")
    assert masked_loss(out, batch, rsa_only) == 0.0
    both = masked_loss(out, batch, WEIGHTS)
    assert torch.equal(both, masked_loss(out, batch, {"ss8": 1.0, "ss3": 1.0}) + 0.0)
    both.backward()  # still a graph


def test_model_fits_rsa(tmp_path: Path) -> None:
    torch.manual_seed(0)
    enc = load_encoded(_rsa_set(tmp_path / "d.npz", 8))
    model = build_model({**TINY_RNN, "hidden": 32}, rsa=True)
    opt = torch.optim.AdamW(model.parameters(), lr=0.02, weight_decay=0.0)
    batch = collate(enc, np.arange(8), torch.device("cpu"))
    for _ in range(150):
        model.train()
        loss = masked_loss(model(batch["x"], batch["lengths"]), batch, WEIGHTS)
        opt.zero_grad()
        loss.backward()
        opt.step()
    metrics = evaluate(model, enc, torch.device("cpu"), WEIGHTS, 8)
    assert metrics["rsa_pcc"] > 0.95, metrics
    with torch.no_grad():
        out = model.eval()(batch["x"], batch["lengths"])
    known = batch["mask"] & ~torch.isnan(batch["rsa"])
    assert float(((out["rsa"][known] - batch["rsa"][known]) ** 2).mean()) < 0.005


def test_train_and_predict_with_rsa(tmp_path: Path) -> None:
    data = _rsa_set(tmp_path / "d.npz", 16, splits=["train"] * 12 + ["valid"] * 4)
    out = tmp_path / "model"
    logs: list[str] = []
    summary = train(TINY_RNN, PRESET, data, out, seed=3, log=logs.append)
    assert "valid_rsa_pcc" in summary and any("RSA head" in line for line in logs)
    history = pd.read_csv(out / "history.tsv", sep="\t")
    assert list(history.columns) == [
        "epoch",
        "train_loss",
        "valid_loss",
        "valid_q8",
        "valid_q3",
        "valid_rsa_pcc",
        "seconds",
    ]
    assert torch.load(out / "model.pt", weights_only=True)["rsa"] is True
    model = load_model(out / "model.pt", "cpu")
    enc = load_encoded(data)
    probs = predict_proba(model, enc, "cpu", batch_size=5)
    for i, p in enumerate(probs):
        assert set(p) == {"ss8", "ss3", "rsa"}
        assert p["rsa"].shape == (enc.lengths[i],) and p["ss8"].shape == (enc.lengths[i], 8)
        assert ((p["rsa"] >= 0) & (p["rsa"] <= 1)).all()
    alone = predict_proba(model, enc.select([2]), "cpu")[0]
    assert np.abs(alone["rsa"] - probs[2]["rsa"]).max() < 1e-5

    # loss weight 0: no RSA head, history as without RSA
    preset = {**PRESET, "loss_weights": {"rsa": 0.0}}
    train(TINY_RNN, preset, data, tmp_path / "no_rsa", seed=3, log=lambda s: None)
    history = pd.read_csv(tmp_path / "no_rsa" / "history.tsv", sep="\t")
    assert "valid_rsa_pcc" not in history.columns
    model = load_model(tmp_path / "no_rsa" / "model.pt", "cpu")
    assert np.isnan(predict_proba(model, enc.select([0]), "cpu")[0]["rsa"]).all()

"""Per-protein metrics: hand-worked cases, Gorodkin's R_K against its covariance definition."""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.evaluation.bootstrap import bootstrap_ci, paired_bootstrap_test
from protrnn.evaluation.evaluate import evaluate_model, evaluate_protein_model
from protrnn.evaluation.protein_metrics import (
    bootstrap_mcc_ci,
    confusion,
    evaluate_proteins,
    mcc_multiclass,
    paired_bootstrap_mcc_test,
    true_labels,
)


def _onehot_probs(labels: list[int], k: int) -> np.ndarray:
    out = np.full((len(labels), k), 0.1 / max(k - 1, 1))
    out[np.arange(len(labels)), labels] = 0.9
    return out


def _rk_covariance(t: np.ndarray, p: np.ndarray, k: int) -> float:
    """Gorodkin's definition: cov(X, Y) / sqrt(cov(X, X) cov(Y, Y)) of one-hot matrices."""
    x = np.eye(k)[t]
    y = np.eye(k)[p]
    xc, yc = x - x.mean(0), y - y.mean(0)
    cxy, cxx, cyy = (xc * yc).sum(), (xc * xc).sum(), (yc * yc).sum()
    return float(cxy / math.sqrt(cxx * cyy)) if cxx * cyy > 0 else 0.0


def test_mcc_hand_cases() -> None:
    # binary: TP=3 FN=1 FP=2 TN=4 -> (3*4 - 2*1) / sqrt(5*4*6*5)
    assert mcc_multiclass([[4, 2], [1, 3]]) == pytest.approx(10 / math.sqrt(600))
    # 3 classes: s=10, c=7, t=p=(3,3,4): (70 - 34) / (100 - 34)
    assert mcc_multiclass([[2, 1, 0], [0, 2, 1], [1, 0, 3]]) == pytest.approx(36 / 66)
    assert mcc_multiclass(np.diag([3, 1, 5])) == pytest.approx(1.0)
    assert mcc_multiclass([[0, 5], [5, 0]]) == pytest.approx(-1.0)
    assert mcc_multiclass([[3, 0], [2, 0]]) == 0.0  # one predicted class: sklearn's 0.0
    assert math.isnan(mcc_multiclass(np.zeros((3, 3))))
    with pytest.raises(ValueError, match="square"):
        mcc_multiclass(np.zeros((2, 3)))


def test_mcc_matches_covariance_definition_and_sklearn() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        k = int(rng.integers(2, 11))
        n = int(rng.integers(5, 80))
        t = rng.integers(0, k, n)
        p = np.where(rng.random(n) < 0.5, t, rng.integers(0, k, n))
        got = mcc_multiclass(confusion(t, p, k))
        assert got == pytest.approx(_rk_covariance(t, p, k), abs=1e-12)
        try:
            from sklearn.metrics import matthews_corrcoef
        except ImportError:
            continue
        assert got == pytest.approx(matthews_corrcoef(t, p), abs=1e-12)


def test_evaluate_proteins_hand_worked() -> None:
    classes = ["A", "B", "C"]
    y_true = [0, 0, 1, 1, 2, -1]
    pred = [0, 1, 1, 1, 2, 0]
    mem_true = [1, 0, -1, 1, 0, 1]
    mem_pred = [1, 1, 0, 1, 0, 0]
    r = evaluate_proteins(
        y_true,
        _onehot_probs(pred, 3),
        classes,
        mem_true,
        _onehot_probs(mem_pred, 2),
        n_boot=200,
    )
    assert r["task"] == "per_protein" and r["classes"] == classes
    assert (r["n_proteins"], r["n_proteins_scored"]) == (6, 5)
    assert r["accuracy"] == pytest.approx(4 / 5)
    np.testing.assert_array_equal(r["confusion"], [[1, 1, 0], [0, 2, 0], [0, 0, 1]])
    # s=5, c=4, t=(2,2,1), p=(1,3,1): (20 - 9) / sqrt((25 - 11) * (25 - 9))
    assert r["mcc"] == pytest.approx(11 / math.sqrt(224))
    pc = r["per_class"].set_index("class")
    assert pc["support"].tolist() == [2, 2, 1]
    assert pc["precision"].tolist() == pytest.approx([1.0, 2 / 3, 1.0])
    assert pc["recall"].tolist() == pytest.approx([0.5, 1.0, 1.0])
    assert pc["f1"].tolist() == pytest.approx([2 / 3, 0.8, 1.0])
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0.8 + 1.0) / 3)
    assert r["membrane_accuracy"] == pytest.approx(3 / 5)
    assert r["membrane_n"] == 5
    np.testing.assert_array_equal(r["membrane_confusion"], [[1, 1], [1, 2]])
    assert r["membrane_classes"] == ["soluble", "membrane"]
    np.testing.assert_array_equal(r["per_protein_correct"], [1, 0, 1, 1, 1, 0])
    np.testing.assert_array_equal(r["per_protein_membrane_correct"], [1, 0, 0, 1, 1, 0])
    # top-label confidence 0.9 everywhere, 4/5 right: ECE = |0.8 - 0.9|
    assert r["ece"] == pytest.approx(0.1)
    for key in ("accuracy", "mcc", "membrane_accuracy"):
        lo, hi = r[f"{key}_ci"]
        assert lo <= r[key] + 1e-12 and r[key] <= hi + 1e-12


def test_labels_only_nan_labels_and_no_membrane_head() -> None:
    r = evaluate_proteins(np.array([0.0, np.nan, 1.0]), [0, 1, 0], ["x", "y"], n_boot=50)
    assert r["n_proteins_scored"] == 2 and r["accuracy"] == pytest.approx(0.5)
    assert math.isnan(r["ece"])
    assert math.isnan(r["membrane_accuracy"]) and r["membrane_n"] == 0
    assert all(math.isnan(v) for v in r["membrane_accuracy_ci"])
    assert r["per_protein_membrane_pred"].tolist() == [-1, -1, -1]


def test_input_checks() -> None:
    with pytest.raises(ValueError, match="outside -1..1"):
        true_labels([0, 2], 2)
    with pytest.raises(ValueError, match="expected 3 class columns"):
        evaluate_proteins([0], np.ones((1, 2)), ["a", "b", "c"])
    with pytest.raises(ValueError, match="2 location predictions for 3"):
        evaluate_proteins([0, 1, 0], [0, 1], ["a", "b"])
    with pytest.raises(ValueError, match="membrane labels"):
        evaluate_proteins([0, 1], [0, 1], ["a", "b"], membrane_true=[1])


def test_bootstrap_intervals_use_protein_draws() -> None:
    rng = np.random.default_rng(3)
    t = rng.integers(0, 4, 120)
    p = np.where(rng.random(120) < 0.7, t, rng.integers(0, 4, 120))
    t[:5] = -1  # unscored proteins are left out of every draw
    r = evaluate_proteins(t, p, list("abcd"), n_boot=300, seed=7)
    keep = t >= 0
    expected = bootstrap_ci((p == t)[keep].astype(int), np.ones(keep.sum(), int), 300, 7)
    assert [r["accuracy"], *r["accuracy_ci"]] == pytest.approx(list(expected))
    est, lo, hi = bootstrap_mcc_ci(t, p, 4, n_boot=300, seed=7)
    assert [est, lo, hi] == [r["mcc"], *r["mcc_ci"]]
    assert lo < est < hi and hi - lo < 0.4
    assert bootstrap_mcc_ci(t, p, 4, n_boot=300, seed=7) == (est, lo, hi)
    assert all(math.isnan(v) for v in bootstrap_mcc_ci([-1, -1], [0, 1], 2))


def test_paired_tests() -> None:
    rng = np.random.default_rng(5)
    t = rng.integers(0, 3, 200)
    good = np.where(rng.random(200) < 0.9, t, (t + 1) % 3)
    bad = np.where(rng.random(200) < 0.5, t, (t + 1) % 3)
    same = paired_bootstrap_mcc_test(t, good, good, 3, n_boot=200)
    assert same["diff"] == 0 and same["p_value"] == 1.0
    res = paired_bootstrap_mcc_test(t, good, bad, 3, n_boot=200)
    assert res["diff"] > 0 and res["ci_low"] > 0 and res["p_value"] < 0.05
    assert res["n_proteins"] == 200
    # per-protein accuracy as the report tests it: 0/1 hits over scored proteins
    acc = paired_bootstrap_test(good == t, bad == t, np.ones(t.size, int), n_boot=200)
    assert acc["diff"] == pytest.approx((good == t).mean() - (bad == t).mean())
    assert acc["p_value"] < 0.05
    assert math.isnan(paired_bootstrap_mcc_test([-1], [0], [0], 2)["diff"])


# ----------------------------------------------------------------------- evaluate, per protein

CLASSES3 = ["Cytoplasm", "Nucleus", "Plastid"]


@dataclass(frozen=True)
class StandIn:
    """The contract's per-protein encoded set, without residue arrays."""

    ids: np.ndarray
    split: np.ndarray
    label: np.ndarray
    membrane: np.ndarray
    classes: tuple[str, ...] = tuple(CLASSES3)
    task: str = "per_protein"

    def select(self, idx: np.ndarray) -> StandIn:
        return StandIn(self.ids[idx], self.split[idx], self.label[idx], self.membrane[idx])


def _fake_model(monkeypatch: pytest.MonkeyPatch, location: dict, membrane: dict | None) -> list:
    """predict_proba returning fixed probabilities per protein id; records the ids asked for."""
    import protrnn.model.inference as training

    asked: list = []

    def predict(model, enc, device=None, batch_size=32):
        asked.append([str(i) for i in enc.ids])
        out = []
        for pid in enc.ids:
            pred = {"location": np.asarray(location[str(pid)], dtype=np.float32)}
            if membrane is not None:
                pred["membrane"] = np.asarray(membrane[str(pid)], dtype=np.float32)
            out.append(pred)
        return out

    monkeypatch.setattr(training, "load_model", lambda path, device=None: None)
    monkeypatch.setattr(training, "predict_proba", predict)
    return asked


def test_evaluate_protein_model_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    encoded = StandIn(
        ids=np.array(["a", "b", "c", "d", "e"]),
        split=np.array(["test", "train", "test", "test", "test"]),
        label=np.array([0, 1, 1, 2, 2]),
        membrane=np.array([1, 0, 0, -1, 1]),
    )
    location = {
        "a": [0.8, 0.1, 0.1],  # right
        "b": [0.0, 1.0, 0.0],  # train protein: never scored
        "c": [0.6, 0.3, 0.1],  # wrong (true Nucleus)
        "d": [0.1, 0.1, 0.8],  # right
        "e": [0.2, 0.2, 0.6],  # right
    }
    membrane = {k: [0.3, 0.7] for k in location}  # always "membrane"
    asked = _fake_model(monkeypatch, location, membrane)
    out = tmp_path / "eval" / "m1" / "deeploc1_test"
    model = tmp_path / "models" / "m1" / "model.pt"
    metrics = evaluate_protein_model(model, tmp_path / "dl1.npz", out, encoded=encoded)
    assert asked == [["a", "c", "d", "e"]]
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == metrics
    assert on_disk["task"] == "per_protein" and on_disk["classes"] == CLASSES3
    assert (on_disk["model"], on_disk["test_set"], on_disk["dataset"]) == (
        "m1",
        "deeploc1_test",
        "dl1",
    )
    assert on_disk["n_proteins"] == 4 and on_disk["n_not_test"] == 1
    assert on_disk["accuracy"] == pytest.approx(3 / 4)
    assert len(on_disk["accuracy_ci"]) == 2 and len(on_disk["mcc_ci"]) == 2
    assert on_disk["confusion"] == [[1, 0, 0], [1, 0, 0], [0, 0, 2]]
    # membrane known for a (1), c (0), e (1); predicted membrane everywhere: 2 of 3 right
    assert on_disk["membrane_accuracy"] == pytest.approx(2 / 3) and on_disk["membrane_n"] == 3
    assert {"macro_f1", "mcc", "ece", "per_class", "membrane_accuracy_ci"} <= set(on_disk)
    assert not any(k.startswith("per_protein_") for k in on_disk)

    table = pd.read_csv(out / "per_class.tsv", sep="\t")
    assert list(table.columns) == ["head", "class", "support", "precision", "recall", "f1", "mcc"]
    assert table["head"].tolist() == ["location"] * 3 + ["membrane"] * 2
    assert table["class"].tolist() == [*CLASSES3, "soluble", "membrane"]

    with np.load(out / "predictions.npz") as npz:
        assert npz["ids"].tolist() == ["a", "c", "d", "e"]
        assert npz["true"].tolist() == [0, 1, 2, 2]
        assert npz["predicted"].tolist() == [0, 0, 2, 2]
        assert npz["correct"].tolist() == [1, 0, 1, 1]
        assert npz["probabilities"].shape == (4, 3)
        assert npz["classes"].tolist() == CLASSES3
        assert npz["membrane_true"].tolist() == [1, 0, -1, 1]
        assert npz["membrane_predicted"].tolist() == [1, 1, 1, 1]
        assert npz["membrane_known"].tolist() == [1, 1, 0, 1]
        assert npz["membrane_correct"].tolist() == [1, 0, 0, 1]
        assert npz["membrane_probabilities"].shape == (4, 2)
        assert (str(npz["model"]), str(npz["test_set"]), str(npz["task"])) == (
            "m1",
            "deeploc1_test",
            "per_protein",
        )


def test_evaluate_protein_model_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = np.array(["a", "b"])
    no_test = StandIn(ids, np.array(["train", "valid"]), np.array([0, 1]), np.array([0, 1]))
    _fake_model(monkeypatch, {"a": [1, 0, 0], "b": [0, 1, 0]}, None)
    model = tmp_path / "m" / "model.pt"
    with pytest.raises(ValueError, match="no protein of split 'test'"):
        evaluate_protein_model(model, tmp_path / "x.npz", tmp_path / "o", encoded=no_test)
    enc = StandIn(ids, np.array(["test", "test"]), np.array([0, 1]), np.array([0, 1]))
    _fake_model(monkeypatch, {"a": [1, 0], "b": [0, 1]}, None)
    with pytest.raises(ValueError, match=r"a: location probabilities have shape \(2,\)"):
        evaluate_protein_model(model, tmp_path / "x.npz", tmp_path / "o", encoded=enc)
    # no membrane head: membrane metrics are NaN (null), no membrane rows
    _fake_model(monkeypatch, {"a": [1, 0, 0], "b": [1, 0, 0]}, None)
    metrics = evaluate_protein_model(model, tmp_path / "x.npz", tmp_path / "o", encoded=enc)
    assert metrics["membrane_accuracy"] is None and metrics["membrane_n"] == 0
    assert metrics["accuracy"] == 0.5 and metrics["mcc"] == 0.0


def test_evaluate_model_dispatches_per_protein(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through evaluate_model with the real encoder (features.encode_dataset, per_protein)."""
    features = pytest.importorskip("protrnn.encode")
    from protrnn.core.alphabet import sequence_hash

    if "classes" not in inspect.signature(features.encode_dataset).parameters:
        pytest.skip("features.encode_dataset has no per-protein classes yet")
    table = pd.DataFrame(
        {
            "id": ["p1", "p2", "p3"],
            "sequence": ["MKV", "MKLLA", "MST"],
            "split": ["test", "test", "train"],
            "label": ["Nucleus", "Plastid", "Cytoplasm"],
            "membrane": ["soluble", "unknown", "membrane"],
        }
    )
    profiles = {sequence_hash(s): np.zeros((len(s), 20)) for s in table["sequence"]}
    encoded_path = tmp_path / "dl.npz"
    features.encode_dataset(table, profiles, encoded_path, task="per_protein", classes=CLASSES3)
    location = {"p1": [0.2, 0.7, 0.1], "p2": [0.2, 0.7, 0.1], "p3": [1, 0, 0]}
    _fake_model(monkeypatch, location, {k: [0.9, 0.1] for k in location})
    out = tmp_path / "eval" / "m" / "dl_test"
    metrics = evaluate_model(tmp_path / "m" / "model.pt", encoded_path, out, mask="eval_mask")
    assert metrics["task"] == "per_protein" and metrics["n_proteins"] == 2
    assert metrics["accuracy"] == 0.5 and metrics["membrane_accuracy"] == 1.0
    assert metrics["membrane_n"] == 1
    with np.load(out / "predictions.npz") as npz:
        assert npz["true"].tolist() == [1, 2]

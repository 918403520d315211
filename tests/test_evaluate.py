"""evaluate_model on a tiny encoded set: a real tiny model, and a fake one with known output."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.core.alphabet import SS3, SS8, encode_labels, encode_sequence, ss8_to_ss3
from protrnn.evaluation.evaluate import evaluate_model

PROTEINS = [
    # id, sequence, ss8, eval_mask, cb513_mask
    ("p1", "ACDEFGHIKL", "HHHHGGEECC", "1111111110", "0011111100"),
    ("p2", "MNPQRS", "EEBTSC", "011111", "000011"),
    ("p3", "TVWY", "CCHH", "1111", "0000"),
]


def write_encoded(path: Path) -> Path:
    """An encoded npz in the docs/architecture.md layout."""
    lengths = np.array([len(p[1]) for p in PROTEINS], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    rng = np.random.default_rng(0)
    total = int(lengths.sum())
    ss8 = np.concatenate([encode_labels(p[2], SS8) for p in PROTEINS])
    ss8[1] = -1  # one unknown label (p1, 0-based index 1)
    ss3 = np.concatenate([encode_labels(ss8_to_ss3(p[2]), SS3) for p in PROTEINS])
    ss3[1] = -1
    np.savez_compressed(
        path,
        ids=np.array([p[0] for p in PROTEINS]),
        split=np.array(["test"] * len(PROTEINS)),
        lengths=lengths,
        offsets=offsets,
        aa=np.concatenate([encode_sequence(p[1]) for p in PROTEINS]),
        pssm=rng.random((total, 20)).astype(np.float16),
        ss8=ss8,
        ss3=ss3,
        eval_mask=np.array([int(c) for p in PROTEINS for c in p[3]], dtype=np.uint8),
        cb513_mask=np.array([int(c) for p in PROTEINS for c in p[4]], dtype=np.uint8),
        label=np.full(len(PROTEINS), np.nan, dtype=np.float32),
        scaling=np.array("logistic"),
    )
    return path


@pytest.fixture()
def encoded(tmp_path: Path) -> Path:
    return write_encoded(tmp_path / "tinyset.npz")


@pytest.fixture()
def tiny_model(tmp_path: Path) -> Path:
    """A real (untrained) tiny model saved in training.load_model's format."""
    torch = pytest.importorskip("torch")
    models = pytest.importorskip("protrnn.model.zoo")
    torch.manual_seed(0)
    spec = {"type": "rnn", "cell": "gru", "hidden": 4, "layers": 1, "dropout": 0.0}
    model = models.build_model(spec, 41)
    path = tmp_path / "models" / "tiny_gru" / "model.pt"
    path.parent.mkdir(parents=True)
    torch.save({"spec": spec, "state_dict": model.state_dict(), "features": 41}, path)
    return path


def test_evaluate_model_with_real_tiny_model(
    tmp_path: Path, encoded: Path, tiny_model: Path
) -> None:
    out = tmp_path / "eval" / "tiny_gru" / "tiny"
    metrics = evaluate_model(tiny_model, encoded, out, mask="eval_mask", device="cpu")
    on_disk = json.loads((out / "metrics.json").read_text())
    assert on_disk == metrics
    assert on_disk["model"] == "tiny_gru" and on_disk["test_set"] == "tiny"
    assert on_disk["dataset"] == "tinyset" and on_disk["mask"] == "eval_mask"
    # residues counted: eval_mask ones (9 + 5 + 4) minus the unknown label
    assert on_disk["n_residues"] == 17 and on_disk["n_proteins"] == 3
    assert np.array(on_disk["confusion_ss8"]).shape == (8, 8)

    pred = np.load(out / "predictions.npz")
    assert list(pred["ids"]) == ["p1", "p2", "p3"]
    assert pred["prob_ss8"].dtype == np.float16 and pred["prob_ss8"].shape == (20, 8)
    assert pred["prob_ss3"].shape == (20, 3)
    assert [len(s) for s in pred["pred_ss8"]] == [10, 6, 4]
    assert set("".join(pred["pred_ss3"])) <= set(SS3)
    # metrics agree with the saved predictions scored by hand
    data = np.load(encoded)
    keep = (data["eval_mask"] == 1) & (data["ss8"] >= 0)
    labels = np.array([SS8.index(c) for c in "".join(pred["pred_ss8"])])
    assert metrics["q8"] == pytest.approx((labels[keep] == data["ss8"][keep]).mean())
    np.testing.assert_array_equal(pred["mask"], data["eval_mask"])

    table = pd.read_csv(out / "per_class.tsv", sep="\t", keep_default_na=False, na_values=[""])
    assert list(table.columns) == ["head", "class", "support", "precision", "recall", "f1", "mcc"]
    assert len(table) == 11 and table["support"].sum() == 2 * 17


def fake_predictions(monkeypatch: pytest.MonkeyPatch, pred8: list[str], pred3: list[str]) -> None:
    """Replace the trained model by fixed per-protein predictions."""
    import protrnn.model.inference as training

    def probs(labels: str, alphabet: str) -> np.ndarray:
        out = np.full((len(labels), len(alphabet)), 0.01, dtype=np.float32)
        out[np.arange(len(labels)), [alphabet.index(c) for c in labels]] = 0.9
        return out

    monkeypatch.setattr(training, "load_model", lambda path, device=None: None)
    monkeypatch.setattr(
        training,
        "predict_proba",
        lambda model, enc, device=None, batch_size=32: [
            {"ss8": probs(a, SS8), "ss3": probs(b, SS3)} for a, b in zip(pred8, pred3, strict=True)
        ],
    )


def test_evaluate_model_known_predictions_and_cb513_mask(
    tmp_path: Path, encoded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # true ss8 p1 H?HHGGEECC (index 1 unknown), p2 EEBTSC, p3 CCHH; indices are 0-based
    pred8 = ["HHHHHHEECC", "EEETTC", "CCCC"]
    pred3 = ["HHHHHHEECC", "EEECCC", "CCCC"]
    fake_predictions(monkeypatch, pred8, pred3)
    model = tmp_path / "models" / "fixed" / "model.pt"
    out = tmp_path / "eval" / "fixed" / "cb513"
    m = evaluate_model(model, encoded, out, mask="eval_mask", device="cpu")
    # eval_mask: p1 positions 0-8 minus unknown 2 -> 8 residues, wrong at 4,5 (G->H): 6/8
    #            p2 positions 1-5: wrong at 2 (B->E), 4 (S->T): 3/5; p3: wrong at 2,3: 2/4
    assert m["q8"] == pytest.approx(11 / 17)
    assert m["q8_per_protein_mean"] == pytest.approx((6 / 8 + 3 / 5 + 2 / 4) / 3)
    # 3 states: p1 all 8 right, p2 (EECCC vs EECCC) 5/5, p3 2/4
    assert m["q3"] == pytest.approx(15 / 17)
    assert m["q3_from_ss8"] == pytest.approx(15 / 17)

    # new fields: CIs bracket the estimate, SOV as a mean over proteins, settings recorded
    for key in ("q8", "q3", "sov99_ss8", "sov99_ss3", "sov_refine_ss8", "sov_refine_ss3"):
        low, high = m[f"{key}_ci"]
        assert low <= m[key] <= high, key
    assert "mean over proteins" in m["sov_averaging"] and m["sov_n_proteins"] == 3
    assert m["bootstrap"]["n_boot"] == 1000 and m["bootstrap"]["seed"] == 0
    assert m["bootstrap"]["level"] == 0.95
    assert {"macro_f1_ss8", "macro_f1_ss3", "ece_ss8", "ece_ss3"} <= set(m)
    assert len(m["calibration_ss8"]) == 15
    assert m["length_bins"][0]["bin"] == "<100" and m["length_bins"][0]["n_proteins"] == 3
    assert m["length_bins"][0]["q8"] == pytest.approx(11 / 17)
    assert m["per_class_ss8"][0]["class"] == "H" and "mcc" in m["per_class_ss8"][0]
    pred = np.load(out / "predictions.npz")
    assert str(pred["model"]) == "fixed" and str(pred["test_set"]) == "cb513"
    np.testing.assert_array_equal(pred["correct_ss8"], [6, 3, 2])
    np.testing.assert_array_equal(pred["total_ss8"], [8, 5, 4])
    np.testing.assert_array_equal(pred["correct_ss3"], [8, 5, 2])
    np.testing.assert_array_equal(pred["total_ss3"], [8, 5, 4])
    assert pred["sov99_ss8"].shape == (3,) and pred["sov_refine_ss3"].dtype == np.float64
    assert pred["sov99_ss8"].mean() == pytest.approx(m["sov99_ss8"])

    out_cb = tmp_path / "eval" / "fixed" / "cb513_classic"
    cb = evaluate_model(model, encoded, out_cb, mask="cb513_mask", device="cpu")
    # cb513_mask & eval_mask: p1 indices 2-7: wrong at 4,5 -> 4/6; p2 indices 4,5: wrong at 4
    # -> 1/2; p3 none. Pooled 5/8, per-protein mean over the 2 scored proteins.
    assert cb["mask"] == "cb513_mask"
    assert cb["n_residues"] == 8 and cb["n_proteins_scored"] == 2
    assert cb["q8"] == pytest.approx(5 / 8)
    assert cb["q8_per_protein_mean"] == pytest.approx((4 / 6 + 1 / 2) / 2)
    assert np.load(out_cb / "predictions.npz")["mask"].sum() == 8


def test_evaluate_model_errors(
    tmp_path: Path, encoded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "m" / "model.pt"
    with pytest.raises(ValueError, match="unknown mask"):
        evaluate_model(model, encoded, tmp_path / "o", mask="nope")
    fake_predictions(monkeypatch, ["HHHHHHEECC", "EEETTC"], ["HHHHHHEECC", "EEECCC"])
    with pytest.raises(ValueError, match="returned 2 proteins"):
        evaluate_model(model, encoded, tmp_path / "o")
    fake_predictions(monkeypatch, ["HHHHHHEEC", "EEETTC", "CCCC"], ["HHHHHHEECC", "EEECCC", "CCCC"])
    with pytest.raises(ValueError, match="p1: ss8 probabilities have shape"):
        evaluate_model(model, encoded, tmp_path / "o")
    assert not (tmp_path / "o" / "metrics.json").exists()

    no_cb = tmp_path / "nocb.npz"
    data = dict(np.load(encoded))
    data["cb513_mask"] = np.zeros_like(data["cb513_mask"])
    np.savez_compressed(no_cb, **data)
    with pytest.raises(ValueError, match="no cb513_mask"):
        evaluate_model(model, no_cb, tmp_path / "o", mask="cb513_mask")


def test_paired_report_through_evaluate_files(
    tmp_path: Path, encoded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two fake models on the same proteins -> report pairwise table with the right direction."""
    from protrnn.report.load import load_metrics, load_predictions
    from protrnn.report.pairwise import pairwise_table

    # "z_good" as in the test above (Q8 11/17, Q3 15/17); "a_bad" predicts coil everywhere:
    # Q8 right on C only: p1 1, p2 1, p3 2 -> 4/17; Q3: p1 1, p2 3, p3 2 -> 6/17
    runs = {
        "z_good": (["HHHHHHEECC", "EEETTC", "CCCC"], ["HHHHHHEECC", "EEECCC", "CCCC"]),
        "a_bad": (["CCCCCCCCCC", "CCCCCC", "CCCC"], ["CCCCCCCCCC", "CCCCCC", "CCCC"]),
    }
    metrics_files, prediction_files = [], []
    for name, (pred8, pred3) in runs.items():
        fake_predictions(monkeypatch, pred8, pred3)
        out = tmp_path / "eval" / name / "tiny"
        evaluate_model(tmp_path / "models" / name / "model.pt", encoded, out, device="cpu")
        metrics_files.append(out / "metrics.json")
        prediction_files.append(out / "predictions.npz")
    evals = [load_metrics(p) for p in metrics_files]
    # reversed file order: pairing goes by protein id, ranking by Q8
    preds = [load_predictions(p) for p in reversed(prediction_files)]
    table = pairwise_table(evals, preds, n_boot=200).set_index("metric")
    assert list(table["model_a"]) == ["z_good", "z_good"]
    assert list(table["model_b"]) == ["a_bad", "a_bad"]
    assert table.loc["Q8", "diff"] == pytest.approx(100 * 7 / 17)
    assert table.loc["Q3", "diff"] == pytest.approx(100 * 9 / 17)
    assert table.loc["Q8", "a"] == pytest.approx(100 * 11 / 17)
    assert table.loc["Q8", "ci_low"] <= table.loc["Q8", "diff"] <= table.loc["Q8", "ci_high"]
    assert (table["n_proteins"] == 3).all() and (table["test_set"] == "tiny").all()
    # three proteins are too few for significance
    assert list(table["verdict"]) == ["not significant at 0.05"] * 2


def test_output_bytes_are_pinned(tmp_path: Path, encoded: Path, monkeypatch: pytest.MonkeyPatch):
    """metrics.json and per_class.tsv byte for byte as the code before the issue-11 split wrote
    them (digests checked against that code); a changed byte is a format change: say so."""
    pred8, pred3 = ["HHHHHHEECC", "EEETTC", "CCCC"], ["HHHHHHEECC", "EEECCC", "CCCC"]
    fake_predictions(monkeypatch, pred8, pred3)
    out = tmp_path / "eval" / "fixed" / "tiny"
    evaluate_model(tmp_path / "models" / "fixed" / "model.pt", encoded, out)
    metrics = (out / "metrics.json").read_text().replace(str(tmp_path), "TMP")
    assert hashlib.sha256(metrics.encode()).hexdigest() == (
        "dae5220cd1cd659175bce7d107ccf9e2f9383bdbd0ca7d96e04d75ba423f1e57"
    )
    assert hashlib.sha256((out / "per_class.tsv").read_bytes()).hexdigest() == (
        "be0eed9c21fa9b6295f9a8c22ee9a27b95844ebc04aad4844a8d2632c6022308"
    )

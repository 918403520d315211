"""Bad inputs of the evaluate stage: one clear error naming file, key and record; no output."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.core.alphabet import sequence_hash
from protrnn.evaluation.evaluate import evaluate_model, evaluate_protein_model
from protrnn.evaluation.redundancy import flag_redundant
from tests.test_evaluate import fake_predictions, write_encoded
from tests.test_protein_metrics import CLASSES3, StandIn, _fake_model

#: Predictions of the right shape for the three proteins of write_encoded.
RIGHT_SS8 = ["HHHHHHEECC", "EEETTC", "CCCC"]
RIGHT_SS3 = ["HHHHHHEECC", "EEECCC", "CCCC"]


@pytest.fixture()
def encoded(tmp_path: Path) -> Path:
    return write_encoded(tmp_path / "tinyset.npz")


def _model(tmp_path: Path) -> Path:
    return tmp_path / "models" / "m" / "model.pt"


def _nothing_written(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


def _patch_predict(monkeypatch: pytest.MonkeyPatch, predict) -> None:
    import protrnn.model.inference as inference

    monkeypatch.setattr(inference, "load_model", lambda path, device=None: None)
    monkeypatch.setattr(inference, "predict_proba", predict)


def test_fewer_predictions_than_proteins(tmp_path, encoded, monkeypatch):
    fake_predictions(monkeypatch, ["HHHHHHEECC", "EEETTC"], ["HHHHHHEECC", "EEECCC"])
    out = tmp_path / "eval" / "m" / "tiny"
    with pytest.raises(ValueError, match="returned 2 proteins, expected 3") as err:
        evaluate_model(_model(tmp_path), encoded, out)
    assert str(encoded) in str(err.value) and str(_model(tmp_path)) in str(err.value)
    assert _nothing_written(out)


def test_nan_probabilities_name_the_protein(tmp_path, encoded, monkeypatch):
    """NaN probabilities used to be scored silently (argmax of NaN is class 0)."""

    def predict(model, enc, device=None):
        out = [{"ss8": np.full((n, 8), 1 / 8), "ss3": np.full((n, 3), 1 / 3)} for n in enc.lengths]
        out[1]["ss8"][2, 4] = np.nan
        return out

    _patch_predict(monkeypatch, predict)
    out = tmp_path / "eval" / "m" / "tiny"
    with pytest.raises(ValueError, match=r"protein p2: ss8 probabilities are not finite") as err:
        evaluate_model(_model(tmp_path), encoded, out)
    assert str(encoded) in str(err.value)
    assert _nothing_written(out)


def test_wrong_probability_shape_names_protein_and_head(tmp_path, encoded, monkeypatch):
    fake_predictions(monkeypatch, ["HHHHHHEECC", "EEETTC", "CCCC"], ["HHHHHHEECC", "EEECC", "CCCC"])
    out = tmp_path / "eval" / "m" / "tiny"
    with pytest.raises(ValueError, match=r"protein p2: ss3 probabilities have shape \(5, 3\)"):
        evaluate_model(_model(tmp_path), encoded, out)
    assert _nothing_written(out)


def test_per_residue_set_without_test_proteins(tmp_path, encoded, monkeypatch):
    data = dict(np.load(encoded))
    data["split"] = np.array(["train", "valid", "train"])
    no_test = tmp_path / "notest.npz"
    np.savez_compressed(no_test, **data)
    fake_predictions(monkeypatch, RIGHT_SS8, RIGHT_SS3)
    out = tmp_path / "eval" / "m" / "notest"
    with pytest.raises(ValueError, match="no proteins with split 'test'") as err:
        evaluate_model(_model(tmp_path), no_test, out)
    assert str(no_test) in str(err.value)
    assert _nothing_written(out)


def test_per_protein_set_without_test_proteins(tmp_path, monkeypatch):
    ids = np.array(["a", "b"])
    no_test = StandIn(ids, np.array(["train", "valid"]), np.array([0, 1]), np.array([0, 1]))
    _fake_model(monkeypatch, {"a": [1, 0, 0], "b": [0, 1, 0]}, None)
    out = tmp_path / "eval" / "m" / "dl"
    with pytest.raises(ValueError, match=r"dl\.npz: no protein of split 'test' \(splits: "):
        evaluate_protein_model(_model(tmp_path), tmp_path / "dl.npz", out, encoded=no_test)
    assert _nothing_written(out)


def test_per_protein_model_on_a_per_residue_set(tmp_path, encoded, monkeypatch):
    """Used to fail with a bare KeyError 'ss8'."""
    _patch_predict(
        monkeypatch,
        lambda model, enc, device=None: [
            {"location": np.full(3, 1 / 3), "membrane": np.full(2, 0.5)} for _ in enc.ids
        ],
    )
    out = tmp_path / "eval" / "m" / "tiny"
    with pytest.raises(ValueError, match="predicts per-protein location classes.*another task"):
        evaluate_model(_model(tmp_path), encoded, out)
    assert _nothing_written(out)


def test_per_residue_model_on_a_per_protein_set(tmp_path):
    """A real (untrained) per-residue model on a per-protein encoded set."""
    torch = pytest.importorskip("torch")
    features = pytest.importorskip("protrnn.encode")
    from protrnn.model.zoo import build_model

    if "classes" not in inspect.signature(features.encode_dataset).parameters:
        pytest.skip("encode_dataset has no per-protein classes")
    table = pd.DataFrame(
        {
            "id": ["p1", "p2"],
            "sequence": ["MKVLA", "MKLLAST"],
            "split": ["test", "test"],
            "label": ["Nucleus", "Plastid"],
            "membrane": ["soluble", "unknown"],
        }
    )
    profiles = {sequence_hash(s): np.zeros((len(s), 20)) for s in table["sequence"]}
    encoded_path = tmp_path / "dl.npz"
    features.encode_dataset(table, profiles, encoded_path, task="per_protein", classes=CLASSES3)
    spec = {"type": "rnn", "cell": "gru", "hidden": 4, "layers": 1, "dropout": 0.0}
    model_path = _model(tmp_path)
    model_path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    model = build_model(spec, features.N_FEATURES)
    saved = {"spec": spec, "state_dict": model.state_dict(), "features": features.N_FEATURES}
    torch.save(saved, model_path)
    out = tmp_path / "eval" / "m" / "dl"
    with pytest.raises(ValueError, match="predicts per-residue ss8/ss3.*per-protein") as err:
        evaluate_model(model_path, encoded_path, out, device="cpu")
    assert str(encoded_path) in str(err.value)
    assert _nothing_written(out)


def test_encoded_set_without_its_mask_array(tmp_path, encoded):
    data = dict(np.load(encoded))
    del data["eval_mask"]
    broken = tmp_path / "nomask.npz"
    np.savez_compressed(broken, **data)
    out = tmp_path / "eval" / "m" / "nomask"
    with pytest.raises(ValueError, match=r"nomask\.npz: incomplete encoded set \(eval_mask"):
        evaluate_model(_model(tmp_path), broken, out)
    assert _nothing_written(out)


def test_cb513_mask_requested_but_absent_names_the_file(tmp_path, encoded, monkeypatch):
    data = dict(np.load(encoded))
    data["cb513_mask"] = np.zeros_like(data["cb513_mask"])
    no_cb = tmp_path / "nocb.npz"
    np.savez_compressed(no_cb, **data)
    fake_predictions(monkeypatch, RIGHT_SS8, RIGHT_SS3)
    out = tmp_path / "eval" / "m" / "nocb"
    with pytest.raises(ValueError, match=r"nocb\.npz: mask 'cb513_mask' requested"):
        evaluate_model(_model(tmp_path), no_cb, out, mask="cb513_mask")
    assert _nothing_written(out)


def test_unknown_mask_names_the_choices(tmp_path, encoded):
    with pytest.raises(ValueError, match=r"unknown mask 'observed'; choose one of \['cb513_mask'"):
        evaluate_model(_model(tmp_path), encoded, tmp_path / "o", mask="observed")
    assert not (tmp_path / "o").exists()


def test_redundancy_rejects_a_setting_of_the_old_search():
    """``sensitivity`` (-s of the old easy-search) no longer exists: no silent ignoring."""
    with pytest.raises(TypeError, match="sensitivity"):
        flag_redundant({"a": "MKV"}, {"b": "MKV"}, "mmseqs", sensitivity=7.5)

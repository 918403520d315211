"""Ensembles: members chosen by validation score, probabilities averaged, one model file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from protrnn.encode import load_encoded
from protrnn.evaluation.evaluate import evaluate_model
from protrnn.model import ensemble_select
from protrnn.model.checkpoint import load_torch_file, save_torch_file
from protrnn.model.ensemble import Ensemble, choose_members, write_ensemble
from protrnn.model.ensemble_select import make_ensemble, validation_proteins, validation_score
from protrnn.model.inference import load_model, predict_proba
from protrnn.model.train import train
from protrnn.report.summary import ensemble_sentence
from tests.test_training import PRESET, TINY_RNN, _synthetic

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def three_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("ensemble")
    splits = ["train"] * 24 + ["valid"] * 8
    data = _synthetic(root / "d.npz", 32, splits=splits)
    models = {}
    for name, hidden in (("small", 4), ("mid", 8), ("big", 16)):
        spec = {**TINY_RNN, "hidden": hidden, "bidirectional": True}
        train(spec, PRESET, data, root / name, seed=1, log=lambda _: None)
        models[name] = root / name / "model.pt"
    return data, models


def test_members_are_the_best_by_validation_score() -> None:
    assert choose_members({"a": 0.5, "b": 0.7, "c": 0.6, "d": 0.7}, 3) == ["b", "d", "c"]


def test_ensemble_averages_member_probabilities(
    three_models: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    data, models = three_models
    scores = {n: float(load_torch_file(p)["valid_q8"]) for n, p in models.items()}
    description = write_ensemble(tmp_path / "model.pt", models, 2)
    assert description["members"] == choose_members(scores, 2)
    assert description["candidate_scores"] == pytest.approx(scores)
    encoded = load_encoded(data)
    ensemble = load_model(tmp_path / "model.pt", "cpu")
    assert isinstance(ensemble, Ensemble) and ensemble.names == description["members"]
    got = predict_proba(ensemble, encoded, "cpu")
    members = [predict_proba(load_model(models[m], "cpu"), encoded, "cpu") for m in ensemble.names]
    for i, pred in enumerate(got):
        for head in ("ss8", "ss3"):
            mean = np.mean([m[i][head] for m in members], axis=0)
            np.testing.assert_allclose(pred[head], mean, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(pred[head].sum(-1), 1.0, rtol=1e-5)


def test_ensemble_file_stands_alone(
    three_models: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    """The members' weights are inside the ensemble file: overwriting a member's model.pt
    afterwards changes none of the ensemble's predictions."""
    data, models = three_models
    copies = {}
    for name, path in models.items():
        copies[name] = tmp_path / f"{name}.pt"
        copies[name].write_bytes(path.read_bytes())
    write_ensemble(tmp_path / "model.pt", copies, 3)
    encoded = load_encoded(data)
    before = predict_proba(load_model(tmp_path / "model.pt", "cpu"), encoded, "cpu")
    for path in copies.values():
        saved = load_torch_file(path)
        saved["state_dict"] = {k: torch.zeros_like(v) for k, v in saved["state_dict"].items()}
        save_torch_file(saved, path)
    after = predict_proba(load_model(tmp_path / "model.pt", "cpu"), encoded, "cpu")
    zeroed = predict_proba(load_model(copies["big"], "cpu"), encoded, "cpu")
    assert not np.allclose(zeroed[0]["ss8"], before[0]["ss8"])
    for b, a in zip(before, after, strict=True):
        np.testing.assert_array_equal(b["ss8"], a["ss8"])


def test_ensemble_needs_two_compatible_members(
    three_models: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    _, models = three_models
    with pytest.raises(ValueError, match="at least 2 members"):
        write_ensemble(tmp_path / "one.pt", {"big": models["big"]}, 3)
    other = load_torch_file(models["mid"])
    other["task"] = "per_protein"
    save_torch_file(other, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="differ in task"):
        write_ensemble(tmp_path / "bad.pt", {"big": models["big"], "x": tmp_path / "other.pt"}, 2)
    assert not (tmp_path / "bad.pt").exists()


def test_members_are_ranked_and_sized_on_the_shared_validation_proteins(
    three_models: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    """Every candidate and every candidate ensemble is scored on the dataset's 'valid'
    proteins; the saved ensemble scores there what its description says."""
    data, models = three_models
    valid = validation_proteins(load_encoded(data))
    assert valid is not None and len(valid) == 8 and set(valid.split) == {"valid"}
    description = make_ensemble(tmp_path / "model.pt", models, 3, valid)
    alone = {n: validation_score(load_model(p, "cpu"), valid) for n, p in models.items()}
    assert description["candidate_scores"] == pytest.approx(alone)
    ranked = choose_members(alone, 3)
    assert description["members"] == ranked[: len(description["members"])]
    k = str(len(description["members"]))
    assert description["ensemble_scores"][k] == max(description["ensemble_scores"].values())
    saved = load_model(tmp_path / "model.pt", "cpu")
    assert validation_score(saved, valid) == pytest.approx(description["ensemble_scores"][k])
    assert description["saved_scores"]["big"] == load_torch_file(models["big"])["valid_q8"]


@pytest.mark.parametrize(
    ("together", "members"),
    [
        ({("big", "mid"): 70.0, ("big", "mid", "small"): 71.0}, ["big", "mid", "small"]),
        ({("big", "mid"): 69.0, ("big", "mid", "small"): 68.0}, ["big"]),  # nobody helps
        ({("big", "mid"): 72.0, ("big", "mid", "small"): 72.0}, ["big", "mid"]),  # tie: fewer
    ],
)
def test_a_candidate_joins_only_when_it_raises_the_validation_score(
    three_models: tuple[Path, dict[str, Path]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    together: dict,
    members: list[str],
) -> None:
    data, models = three_models
    scores = {("big",): 69.0, ("mid",): 60.0, ("small",): 50.0, **together}
    real_build = ensemble_select.model_from_content

    def build(content: dict, path: Path) -> torch.nn.Module:
        model = real_build(content, path)
        model.candidate = str(path)  # the candidate's name (select_on_validation passes it)
        return model

    def fake_score(model: torch.nn.Module, valid_set) -> float:
        members = model.names if isinstance(model, Ensemble) else [model.candidate]
        return scores[tuple(members)]

    monkeypatch.setattr(ensemble_select, "model_from_content", build)
    monkeypatch.setattr(ensemble_select, "validation_score", fake_score)
    valid = validation_proteins(load_encoded(data))
    description = make_ensemble(tmp_path / "model.pt", models, 3, valid)
    assert description["members"] == members
    assert load_model(tmp_path / "model.pt", "cpu").names == members


def test_without_valid_proteins_the_saved_scores_rank(
    three_models: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    data, models = three_models
    assert validation_proteins(load_encoded(data).subset("train")) is None
    description = make_ensemble(tmp_path / "model.pt", models, 2, None)
    scores = {n: float(load_torch_file(p)["valid_q8"]) for n, p in models.items()}
    assert description["members"] == choose_members(scores, 2)


def test_an_ensembles_evaluation_names_its_members(
    three_models: tuple[Path, dict[str, Path]], tmp_path: Path
) -> None:
    _, models = three_models
    data = _synthetic(tmp_path / "test_set.npz", 6, seed=3, splits=["test"] * 6)
    write_ensemble(tmp_path / "ensemble" / "model.pt", models, 2)
    names = load_model(tmp_path / "ensemble" / "model.pt", "cpu").names
    metrics = evaluate_model(tmp_path / "ensemble" / "model.pt", data, tmp_path / "eval" / "set")
    single = evaluate_model(models["big"], data, tmp_path / "eval_big" / "set")
    assert metrics["ensemble_members"] == names
    assert "ensemble_members" not in single


def test_the_report_says_what_the_ensemble_holds() -> None:
    path = "results/models/localization/ensemble/model.pt"
    one = [{"model": "ensemble", "model_path": path, "ensemble_members": ["cnn_bigru_pool"]}]
    assert ensemble_sentence(one, "localization").startswith("The ensemble is cnn_bigru_pool alone")
    three = [{**one[0], "ensemble_members": ["bigru", "cnn_bigru", "cnn"]}]
    assert "of bigru, cnn_bigru and cnn:" in ensemble_sentence(three, "localization")
    assert ensemble_sentence(three, "secondary_structure") is None
    assert ensemble_sentence([{"model": "bigru", "model_path": path}], "localization") is None

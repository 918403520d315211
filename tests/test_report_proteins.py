"""Per-protein report sections render from fake metrics.json / predictions.npz files."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.data.formats.deeploc import CLASSES
from protrnn.evaluation.evaluate import json_safe, write_protein_predictions
from protrnn.evaluation.protein_metrics import evaluate_proteins
from protrnn.report.build import write_tables
from protrnn.report.context import ReportInputs, collect
from protrnn.report.html import Section
from protrnn.report.load import load_protein_metrics, split_eval_files
from protrnn.report.pairwise import PROTEIN_PAIRWISE_COLUMNS
from protrnn.report.render_protein import protein_summary_html
from protrnn.report.sections_protein import (
    localization_confusion_section,
    localization_pairwise_section,
    localization_per_class_section,
    localization_section,
)
from protrnn.report.tables_protein import (
    DEEPLOC1_ACCURACY,
    SUMMARY_COLUMNS,
    deeploc1_published,
    is_per_protein_published,
    protein_summary_table,
)

N = 80


def _fake_eval(root: Path, model: str, test_set: str, hit_rate: float, seed: int) -> Path:
    """metrics.json + predictions.npz of a fake model as evaluate_protein_model writes them."""
    rng = np.random.default_rng(seed)
    truth = np.random.default_rng(0).integers(0, len(CLASSES), N)
    pred = np.where(rng.random(N) < hit_rate, truth, rng.integers(0, len(CLASSES), N))
    probs = np.full((N, len(CLASSES)), 0.02)
    probs[np.arange(N), pred] = 0.82
    mem_true = np.random.default_rng(1).integers(-1, 2, N)
    mem_pred = np.where(rng.random(N) < 0.8, np.maximum(mem_true, 0), 1 - np.maximum(mem_true, 0))
    mem_probs = np.eye(2)[mem_pred] * 0.8 + 0.1
    result = evaluate_proteins(truth, probs, CLASSES, mem_true, mem_probs, n_boot=100)
    out = root / "eval" / model / test_set
    out.mkdir(parents=True)
    info = {"model": model, "test_set": test_set}
    content = json_safe({**info, **{k: v for k, v in result.items() if "per_protein_" not in k}})
    (out / "metrics.json").write_text(json.dumps(content))
    ids = [f"P{i:03d}" for i in range(N)]
    write_protein_predictions(
        out / "predictions.npz", ids, probs, mem_probs, result, model, test_set
    )
    return out / "metrics.json"


def protein_sections(
    evals: list[Path],
    out: Path,
    published: list[dict] | None = None,
    profiles: str = "this workflow",
    parse_stats: dict | None = None,
) -> list[Section]:
    """The per-protein sections of a report on ``evals`` (its TSVs written to ``out``)."""
    inputs = ReportInputs(
        evals, {}, {"profile_source": profiles}, published or [], out, parse_stats=parse_stats
    )
    ctx = collect(replace(inputs, n_boot=100))
    write_tables(ctx)
    makers = (
        localization_section,
        localization_pairwise_section,
        localization_per_class_section,
        localization_confusion_section,
    )
    return [s for s in (make(ctx) for make in makers) if s is not None]


@pytest.fixture()
def evals(tmp_path: Path) -> list[Path]:
    return [
        _fake_eval(tmp_path, "gru_small", "deeploc1_test", 0.5, 1),
        _fake_eval(tmp_path, "gru_big", "deeploc1_test", 0.9, 2),
        _fake_eval(tmp_path, "gru_big", "deeploc2_p4", 0.7, 3),
    ]


def test_split_eval_files_and_loading(tmp_path: Path, evals: list[Path]) -> None:
    residue = tmp_path / "residue.json"
    residue.write_text(json.dumps({"model": "m", "test_set": "cb513", "q8": 0.7, "q3": 0.8}))
    per_residue, per_protein = split_eval_files([evals[0], residue, evals[1]])
    assert per_residue == [residue] and per_protein == [evals[0], evals[1]]
    with pytest.raises(ValueError, match="lacks 'accuracy'"):
        load_protein_metrics(residue)
    assert is_per_protein_published(deeploc1_published("x"))
    assert not is_per_protein_published({"method": "m", "q8": 70.0, "accuracy": None})


def test_summary_table_orders_and_marks_published(evals: list[Path]) -> None:
    loaded = [load_protein_metrics(p) for p in evals]
    table = protein_summary_table(loaded, [deeploc1_published("deeploc1_test")], "mmseqs2")
    assert list(table.columns) == SUMMARY_COLUMNS
    assert table["test_set"].tolist() == ["deeploc1_test"] * 3 + ["deeploc2_p4"]
    assert table["model"].tolist()[:2] == ["gru_big", "gru_small"]  # best first
    pub = table.iloc[2]
    assert pub["source"] == "published" and pub["accuracy"] == DEEPLOC1_ACCURACY
    assert "profiles" in pub["note"] and pub["n_proteins"] == 2773
    own = table.iloc[0]
    assert own["accuracy_ci_low"] <= own["accuracy"] <= own["accuracy_ci_high"]
    assert 0 < own["accuracy"] <= 100 and -1 <= own["mcc"] <= 1  # percent vs fraction
    assert own["profiles"] == "mmseqs2" and own["membrane_n"] > 0
    html = protein_summary_html(table)
    assert html.count('class="published"') == 1 and "77.97" in html
    assert "Test set: deeploc2_p4" in html
    with pytest.raises(ValueError, match="lacks 'profiles'"):
        protein_summary_table(loaded, [{"method": "x", "test_set": "t", "accuracy": 70}])
    with pytest.raises(ValueError, match="expected a percentage"):
        protein_summary_table(loaded, [{**deeploc1_published("t"), "accuracy": 0.78}])


def test_report_sections_render(tmp_path: Path, evals: list[Path]) -> None:
    stats = {
        "deeploc1_test": {
            "records_read": 2768,
            "kept": 123,
            "dropped": {"in_exclude_accession": 2637, "in_exclude_sequence": 8},
            "splits": {"test": 123},
            "exclusion": "proteins also in DL2 removed",
        }
    }
    out = tmp_path / "report"
    sections = protein_sections(
        evals,
        out,
        published=[deeploc1_published("deeploc1_test")],
        profiles="mmseqs2 / seqdb",
        parse_stats=stats,
    )
    anchors = [a for a, _, _ in sections]
    assert anchors == [
        "localization",
        "localization-pairwise",
        "localization-per-class",
        "localization-confusion",
    ]
    page = "".join(h for _, _, h in sections)
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert page.count("data:image/png;base64,") == 4 == len(figures)
    assert figures == [
        "protein_confusion_deeploc1_test.png",
        "protein_confusion_deeploc2_p4.png",
        "protein_f1_deeploc1_test.png",
        "protein_f1_deeploc2_p4.png",
    ]
    assert "mmseqs2 / seqdb" in page
    assert "in exclude accession: 2,637" in page and "123" in page
    assert "Lysosome/Vacuole" in page and "Macro-F1" in page
    assert not re.search(r"\bnan\b", page)

    for name in ("accuracy", "per_class", "confusion", "pairwise"):
        assert (out / f"protein_{name}.tsv").exists()
    pairwise = pd.read_csv(out / "protein_pairwise.tsv", sep="\t")
    assert list(pairwise.columns) == PROTEIN_PAIRWISE_COLUMNS
    assert pairwise["metric"].tolist() == ["accuracy", "mcc", "membrane_accuracy"]
    row = pairwise.iloc[0]
    assert (row["model_a"], row["model_b"], row["n_proteins"]) == ("gru_big", "gru_small", N)
    assert row["diff"] > 0 and row["a"] > row["b"]
    assert bool(row["significant"]) and "gru_big is better" in row["verdict"]
    confusion = pd.read_csv(out / "protein_confusion.tsv", sep="\t")
    assert len(confusion) == 3 * len(CLASSES) ** 2
    assert confusion.groupby(["test_set", "model"])["count"].sum().eq(N).all()
    per_class = pd.read_csv(out / "protein_per_class.tsv", sep="\t")
    assert len(per_class) == 3 * len(CLASSES)


def test_empty_and_published_only(tmp_path: Path) -> None:
    assert protein_sections([], tmp_path / "none") == []
    assert not list((tmp_path / "none").glob("protein_*.tsv"))  # no per-protein TSVs either
    sections = protein_sections([], tmp_path / "pub", published=[deeploc1_published("dl1")])
    assert [a for a, _, _ in sections] == ["localization"]
    assert "77.97" in sections[0].html

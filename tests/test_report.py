"""build_report on synthetic evaluation files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.evaluate import metrics_to_json
from protrnn.metrics import evaluate_predictions
from protrnn.report import accuracy_table, build_report, own_profile_source

PUBLISHED = [
    {"method": "DCRNN (Li & Yu 2016)", "test_set": "cb513_dcrnn", "q8": 69.7, "q3": 84.0,
     "profiles": "PSI-BLAST / UniRef90", "source": "published"},
    {"method": "NetSurfP-2.0 (Klausen et al. 2019)", "test_set": "cb513", "q8": 71.3,
     "q3": 84.5, "profiles": "HHblits / Uniclust30"},
]
PROVENANCE = {
    "git_commit": "abc1234",
    "tools": {"python": "3.11.9", "torch": "2.3.0"},
    "datasets": [{"dataset": "cb513", "proteins": 513, "sources": "cb513.csv sha256 deadbeef01"}],
    "profiles": {"tool": "mmseqs2", "parameters": {"num_iterations": 3},
                 "database": {"name": "seqdb", "sha256": "cafe42", "size_bytes": 123456}},
    "config": {"train": {"preset": "cpu", "seed": 1}, "url": "https://example.org/data.csv"},
}


def synthetic_metrics(path: Path, model: str, test_set: str, hit_rate: float, seed: int) -> dict:
    """metrics.json of a fake model that is right on about ``hit_rate`` of residues."""
    rng = np.random.default_rng(seed)
    true8, pred8, true3, pred3, masks = [], [], [], [], []
    for length in rng.integers(20, 60, size=12):
        t8 = rng.integers(0, 8, size=length)
        t3 = np.array([0, 0, 0, 1, 1, 2, 2, 2])[t8]
        hit = rng.random(length) < hit_rate
        true8.append(t8)
        pred8.append(np.where(hit, t8, rng.integers(0, 8, size=length)))
        true3.append(t3)
        pred3.append(np.where(hit, t3, rng.integers(0, 3, size=length)))
        masks.append((rng.random(length) < 0.95).astype(np.uint8))
    result = evaluate_predictions(true8, pred8, true3, pred3, masks)
    content = metrics_to_json(result, model=model, test_set=test_set, mask="eval_mask",
                              mask_description="eval_mask == 1 (observed residues)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return content


def history(path: Path, offset: float) -> Path:
    epochs = np.arange(1, 6)
    pd.DataFrame({
        "epoch": epochs, "train_loss": 2.0 / epochs + offset, "valid_loss": 2.1 / epochs + offset,
        "valid_q8": 50 + 3 * epochs - offset, "valid_q3": 70 + 2 * epochs - offset,
        "seconds": 10.0 * epochs,
    }).to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture()
def report_dir(tmp_path: Path) -> tuple[Path, dict]:
    evals = {}
    files = []
    for model, rate in (("gru_small", 0.6), ("lstm<b>", 0.8)):
        for k, test_set in enumerate(("cb513", "cb513_dcrnn")):
            path = tmp_path / "eval" / model / test_set / "metrics.json"
            evals[(model, test_set)] = synthetic_metrics(path, model, test_set, rate, seed=k)
            files.append(path)
    hist = {"gru_small": history(tmp_path / "h1.tsv", 0.0),
            "lstm<b>": history(tmp_path / "h2.tsv", 0.3)}
    out = tmp_path / "report"
    index = build_report(files, hist, PROVENANCE, PUBLISHED, out)
    assert index == out / "index.html"
    return out, evals


def test_report_files_and_tables(report_dir: tuple[Path, dict]) -> None:
    out, evals = report_dir
    page = (out / "index.html").read_text()
    acc = pd.read_csv(out / "accuracy.tsv", sep="\t")
    # best model first within each test set, published rows after the own ones
    cb = acc[acc["test_set"] == "cb513"]
    assert list(cb["model"]) == ["lstm<b>", "gru_small", "NetSurfP-2.0 (Klausen et al. 2019)"]
    assert list(cb["source"]) == ["this workflow", "this workflow", "published"]
    q8 = 100 * evals[("lstm<b>", "cb513")]["q8"]
    assert cb.iloc[0]["q8"] == pytest.approx(q8, abs=1e-3)
    assert f"{q8:.1f}" in page
    assert f"{evals[('gru_small', 'cb513_dcrnn')]['n_residues']:,}" in page
    assert "71.3" in page and "84.5" in page and "69.7" in page
    per_class = pd.read_csv(out / "per_class.tsv", sep="\t")
    assert len(per_class) == 4 * (8 + 3)
    assert {"model", "test_set", "head", "class", "f1"} <= set(per_class.columns)
    figures = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figures == ["confusion_cb513.png", "confusion_cb513_dcrnn.png", "learning_curves.png",
                       "per_class_f1_cb513.png", "per_class_f1_cb513_dcrnn.png"]


def test_report_html_is_self_contained(report_dir: tuple[Path, dict]) -> None:
    out, _ = report_dir
    page = (out / "index.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page)
    assert refs, "expected embedded images and in-page links"
    assert all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
    assert page.count('src="data:image/png;base64,') == 5
    assert "<link" not in page and "<script" not in page and "@import" not in page


def test_report_marks_published_rows_and_escapes(report_dir: tuple[Path, dict]) -> None:
    out, _ = report_dir
    page = (out / "index.html").read_text()
    rows = re.findall(r'<tr class="published">(.*?)</tr>', page)
    assert len(rows) == 2
    assert any("NetSurfP-2.0" in r and "HHblits / Uniclust30" in r for r in rows)
    assert any("DCRNN" in r and "PSI-BLAST / UniRef90" in r for r in rows)
    assert "lstm&lt;b&gt;" in page and "lstm<b>" not in page
    # provenance: checksums and versions rendered
    assert "deadbeef01" in page and "cafe42" in page and "2.3.0" in page
    assert "residue-pooled" in page
    assert "mmseqs2 / seqdb (this workflow)" in page


def test_own_profile_source() -> None:
    assert own_profile_source({"profile_source": "MMseqs2 / seqdb"}) == "MMseqs2 / seqdb"
    cfg = {"config": {"profiles": {"backend": "mmseqs2", "database": "seqdb"}}}
    assert own_profile_source(cfg) == "mmseqs2 / seqdb (this workflow)"
    assert own_profile_source({}) == "this workflow (see Provenance)"


def test_accuracy_table_rejects_fractions_in_published() -> None:
    bad = [{"method": "X", "test_set": "cb513", "q8": 0.7, "q3": 0.84, "profiles": "HHblits"}]
    with pytest.raises(ValueError, match="percentage"):
        accuracy_table([], bad, "here")
    with pytest.raises(ValueError, match="profiles"):
        accuracy_table([], [{"method": "X", "test_set": "cb513", "q8": 70.0}], "here")

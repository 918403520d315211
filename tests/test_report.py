"""build_report on synthetic evaluation files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.evaluation.evaluate import PAIRED_ARRAYS, add_intervals, metrics_to_json
from protrnn.evaluation.residue_metrics import evaluate_predictions
from protrnn.report.build import (
    accuracy_table,
    build_report,
    own_profile_source,
    pairwise_table,
    run_times_table,
)

PUBLISHED = [
    {
        "method": "DCRNN (Li & Yu 2016)",
        "test_set": "cb513_dcrnn",
        "q8": 69.7,
        "q3": 84.0,
        "profiles": "PSI-BLAST / UniRef90",
        "source": "published",
    },
    {
        "method": "NetSurfP-2.0 (Klausen et al. 2019)",
        "test_set": "cb513",
        "q8": 71.3,
        "q3": 84.5,
        "profiles": "HHblits / Uniclust30",
    },
]
PROVENANCE = {
    "git_commit": "abc1234",
    "tools": {"python": "3.11.9", "torch": "2.3.0"},
    "datasets": [{"dataset": "cb513", "proteins": 513, "sources": "cb513.csv sha256 deadbeef01"}],
    "profiles": {
        "tool": "mmseqs2",
        "parameters": {"num_iterations": 3},
        "database": {"name": "seqdb", "sha256": "cafe42", "size_bytes": 123456},
    },
    "config": {"train": {"preset": "cpu", "seed": 1}, "url": "https://example.org/data.csv"},
}


def soft(labels: np.ndarray, n: int, confidence: float) -> np.ndarray:
    """Probabilities with argmax ``labels`` and top-label probability ``confidence``."""
    out = np.full((len(labels), n), (1 - confidence) / (n - 1))
    out[np.arange(len(labels)), labels] = confidence
    return out


def synthetic_metrics(path: Path, model: str, test_set: str, hit_rate: float, seed: int) -> dict:
    """metrics.json (with CIs) and predictions.npz of a fake model right on ~``hit_rate``.

    Same ``seed`` = same proteins (ids, lengths, true labels) for every model.
    """
    rng = np.random.default_rng(seed)
    hits = np.random.default_rng([seed, round(100 * hit_rate)])
    true8, pred8, true3, pred3, masks = [], [], [], [], []
    for length in rng.integers(20, 160, size=30):
        t8 = rng.integers(0, 8, size=length)
        t3 = np.array([0, 0, 0, 1, 1, 2, 2, 2])[t8]
        hit = hits.random(length) < hit_rate
        true8.append(t8)
        pred8.append(soft(np.where(hit, t8, hits.integers(0, 8, size=length)), 8, hit_rate))
        true3.append(t3)
        pred3.append(soft(np.where(hit, t3, hits.integers(0, 3, size=length)), 3, hit_rate))
        masks.append((rng.random(length) < 0.95).astype(np.uint8))
    result = add_intervals(evaluate_predictions(true8, pred8, true3, pred3, masks), n_boot=200)
    content = metrics_to_json(
        result,
        model=model,
        test_set=test_set,
        mask="eval_mask",
        mask_description="eval_mask == 1 (observed residues)",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    np.savez(
        path.parent / "predictions.npz",
        ids=np.array([f"p{i}" for i in range(30)]),
        model=np.array(model),
        test_set=np.array(test_set),
        **{key: result[src] for key, src in PAIRED_ARRAYS.items()},
    )
    return content


def benchmarks(root: Path) -> list[Path]:
    """Fake Snakemake benchmark files (two train jobs, one evaluate job with 2 repeats, report)."""
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    files = {
        "train/bigru.tsv": ["100.25\t0:01:40\t812.5\t900\t800\t801\t1\t2\t95.0\t96.1"],
        "train/lstm.tsv": ["50.0\t0:00:50\t400.0\t500\t390\t391\t1\t2\t90.0\t45.0"],
        "evaluate/bigru/cb513.tsv": [
            "10.0\t0:00:10\t100\t-\t-\t-\t-\t-\t-\t9.0",
            "20.0\t0:00:20\t120\t-\t-\t-\t-\t-\t-\t19.0",
        ],
        "report.tsv": ["3.0\t0:00:03\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA"],
    }
    paths = []
    for name, rows in files.items():
        path = root / "benchmarks" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + "\n".join(rows) + "\n")
        paths.append(path)
    return paths


def history(path: Path, offset: float) -> Path:
    epochs = np.arange(1, 6)
    pd.DataFrame(
        {
            "epoch": epochs,
            "train_loss": 2.0 / epochs + offset,
            "valid_loss": 2.1 / epochs + offset,
            "valid_q8": 50 + 3 * epochs - offset,
            "valid_q3": 70 + 2 * epochs - offset,
            "seconds": 10.0 * epochs,
        }
    ).to_csv(path, sep="\t", index=False)
    return path


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    tmp_path = tmp_path_factory.mktemp("report")
    evals = {}
    files = []
    for model, rate in (("gru_small", 0.6), ("lstm<b>", 0.8)):
        for k, test_set in enumerate(("cb513", "cb513_dcrnn")):
            path = tmp_path / "eval" / model / test_set / "metrics.json"
            evals[(model, test_set)] = synthetic_metrics(path, model, test_set, rate, seed=k)
            files.append(path)
    hist = {
        "gru_small": history(tmp_path / "h1.tsv", 0.0),
        "lstm<b>": history(tmp_path / "h2.tsv", 0.3),
    }
    out = tmp_path / "report"
    index = build_report(
        files, hist, PROVENANCE, PUBLISHED, out, benchmark_files=benchmarks(tmp_path), n_boot=200
    )
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
    assert figures == [
        "calibration_cb513.png",
        "calibration_cb513_dcrnn.png",
        "confusion_cb513.png",
        "confusion_cb513_dcrnn.png",
        "learning_curves.png",
        "length_bins_cb513.png",
        "length_bins_cb513_dcrnn.png",
        "per_class_f1_cb513.png",
        "per_class_f1_cb513_dcrnn.png",
    ]


def test_report_html_is_self_contained(report_dir: tuple[Path, dict]) -> None:
    out, _ = report_dir
    page = (out / "index.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page)
    assert refs, "expected embedded images and in-page links"
    assert all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
    assert page.count('src="data:image/png;base64,') == 9
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


def test_report_intervals_sov_and_pairwise(report_dir: tuple[Path, dict]) -> None:
    out, evals = report_dir
    page = (out / "index.html").read_text()
    best = evals[("lstm<b>", "cb513")]
    for key in ("q8", "q3", "sov99_ss8", "sov_refine_ss3"):
        low, high = best[f"{key}_ci"]
        assert f"{100 * best[key]:.1f} [{100 * low:.1f}, {100 * high:.1f}]" in page, key
    assert "SOV'99 8-state (%)" in page and "SOV_refine 3-state (%)" in page
    assert "mean over proteins" in page
    acc = pd.read_csv(out / "accuracy.tsv", sep="\t")
    row = acc[(acc["model"] == "lstm<b>") & (acc["test_set"] == "cb513")].iloc[0]
    assert row["q8_ci_low"] == pytest.approx(100 * best["q8_ci"][0], abs=1e-3)
    assert row["sov99_ss3"] == pytest.approx(100 * best["sov99_ss3"], abs=1e-3)
    assert {"macro_f1_ss8", "ece_ss3"} <= set(acc.columns)

    pairwise = pd.read_csv(out / "pairwise.tsv", sep="\t")
    assert len(pairwise) == 2 * 2  # one pair per test set, Q8 and Q3
    assert set(pairwise["model_a"]) == {"lstm<b>"} and set(pairwise["model_b"]) == {"gru_small"}
    assert (pairwise["diff"] > 10).all() and pairwise["significant"].all()
    assert (pairwise["p_value"] < 0.05).all()
    assert set(pairwise["verdict"]) == {"significant at 0.05: lstm<b> is better"}
    assert '<section id="pairwise"><h2>Pairwise significance</h2>' in page
    assert "significant at 0.05: lstm&lt;b&gt; is better" in page

    bins = pd.read_csv(out / "length_bins.tsv", sep="\t")
    assert list(bins["bin"][:5]) == ["<100", "100-199", "200-299", "300-499", ">=500"]
    assert (
        len(bins) == 4 * 5 and (bins.groupby(["model", "test_set"])["n_proteins"].sum() == 30).all()
    )
    calib = pd.read_csv(out / "calibration.tsv", sep="\t")
    assert len(calib) == 4 * 2 * 15 and set(calib["head"]) == {"ss8", "ss3"}
    assert '<section id="calibration">' in page and "ECE 8-state (%)" in page


def test_report_run_times(report_dir: tuple[Path, dict]) -> None:
    out, _ = report_dir
    page = (out / "index.html").read_text()
    times = pd.read_csv(out / "run_times.tsv", sep="\t")
    assert list(times["stage"]) == ["train", "evaluate", "report"]
    assert list(times["jobs"]) == [2, 1, 1]
    # train 100.25 + 50; evaluate: mean of its two repeats (10, 20)
    assert list(times["seconds"]) == pytest.approx([150.25, 15.0, 3.0])
    assert times.loc[0, "slowest_job"] == "bigru" and times.loc[0, "max_rss_mb"] == 812.5
    assert times.loc[1, "slowest_job"] == "bigru/cb513"
    assert '<section id="run-times"><h2>Run times per stage</h2>' in page
    assert "0:02:30" in page and "0:02:48" in page  # train; total 168.25 s


def test_run_times_table_without_files_and_bad_file(tmp_path: Path) -> None:
    assert list(run_times_table([]).columns)[:3] == ["stage", "jobs", "seconds"]
    bad = tmp_path / "benchmarks" / "x" / "y.tsv"
    bad.parent.mkdir(parents=True)
    bad.write_text("wall\n1\n")
    with pytest.raises(ValueError, match="'s' column"):
        run_times_table([bad])


def test_pairwise_identical_and_mismatched_models() -> None:
    evals = [
        {"model": m, "test_set": "t", "q8": q} for m, q in (("a", 0.7), ("b", 0.7), ("c", 0.6))
    ]
    counts = {
        "ids": np.array(["p1", "p2", "p3"]),
        "correct_ss8": np.array([5, 6, 7]),
        "total_ss8": np.array([10, 10, 10]),
        "correct_ss3": np.array([8, 8, 8]),
        "total_ss3": np.array([10, 10, 10]),
    }
    preds = [
        {"model": "a", "test_set": "t", **counts},
        {"model": "b", "test_set": "t", **counts},
        {"model": "c", "test_set": "t", **counts, "total_ss8": np.array([10, 9, 10])},
    ]
    table = pairwise_table(evals, preds, n_boot=100)
    ab = table[(table["model_a"] == "a") & (table["model_b"] == "b")]
    assert list(ab["diff"]) == [0.0, 0.0] and list(ab["p_value"]) == [1.0, 1.0]
    assert set(ab["verdict"]) == {"not significant at 0.05"}
    ac = table[(table["model_a"] == "a") & (table["model_b"] == "c")].set_index("metric")
    assert ac.loc["Q8", "verdict"] == "not comparable: different residues scored"
    assert ac.loc["Q3", "verdict"] == "not significant at 0.05"


def test_cross_validation_table_summarises_folds():
    from protrnn.report.build import cross_validation_table

    metrics = [
        {
            "test_set": f"holdout_fold{k}",
            "model": "m",
            "task": "per_protein",
            "accuracy": a,
            "mcc": 0.5,
        }
        for k, a in enumerate([0.6, 0.7, 0.8])
    ] + [{"test_set": "cb513", "model": "m", "q8": 0.6, "q3": 0.7}]
    table = cross_validation_table(metrics).set_index("metric")
    assert table.loc["accuracy", "folds"] == 3 and table.loc["accuracy", "test_set"] == "holdout"
    assert table.loc["accuracy", "mean"] == pytest.approx(70.0)
    assert table.loc["accuracy", "sd"] == pytest.approx(10.0)
    assert table.loc["MCC", "mean"] == pytest.approx(50.0)
    assert "cb513" not in set(table["test_set"])


def test_markdown_tables_render_as_html():
    from protrnn.report.build import markdown_html

    html = markdown_html("| a | b |\n|---|---:|\n| 1 | <x> |\n\n- note one\n")
    assert "<th>a</th><th>b</th>" in html and "<td>&lt;x&gt;</td>" in html
    assert "<p>note one</p>" in html and "---" not in html

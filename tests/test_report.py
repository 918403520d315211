"""build_report on synthetic evaluation files."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.core.alphabet import ss8_to_ss3
from protrnn.evaluation.evaluate import PAIRED_ARRAYS, add_intervals, metrics_to_json
from protrnn.evaluation.residue_metrics import evaluate_predictions
from protrnn.report.build import build_report
from protrnn.report.context import ReportInputs
from protrnn.report.convergence import RISE_POINTS, judge
from protrnn.report.load import history_inputs
from protrnn.report.markdown import markdown_html
from protrnn.report.pairwise import PAIRWISE_COLUMNS, pairwise_table
from protrnn.report.summary import PROTEIN_HEADLINE, RESIDUE_HEADLINE, summary_sentences
from protrnn.report.tables import (
    accuracy_table,
    cross_validation_table,
    own_profile_source,
    run_times_table,
)
from protrnn.report.tables_protein import deeploc1_published, protein_summary_table

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
    # gru_small ran its 5 epochs to the limit, still rising 3 points an epoch: not converged;
    # lstm<b> stopped early after 5 of 8 epochs: converged
    inputs = ReportInputs(
        files,
        hist,
        PROVENANCE,
        PUBLISHED,
        out,
        benchmark_files=benchmarks(tmp_path),
        n_boot=200,
        epoch_limits={"gru_small": 5, "lstm<b>": 8},
    )
    index = build_report(inputs)
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
        "summary_secondary_structure.png",
    ]


def test_report_html_is_self_contained(report_dir: tuple[Path, dict]) -> None:
    out, _ = report_dir
    page = (out / "index.html").read_text()
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", page)
    assert refs, "expected embedded images and in-page links"
    assert all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
    assert page.count('src="data:image/png;base64,') == 10
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
    html = markdown_html("| a | b |\n|---|---:|\n| 1 | <x> |\n\n- note one\n")
    assert "<th>a</th><th>b</th>" in html and "<td>&lt;x&gt;</td>" in html
    assert "<p>note one</p>" in html and "---" not in html


# -- convergence --------------------------------------------------------------------------------


def handmade_history(q8: list[float], task: str = "per_residue") -> pd.DataFrame:
    """A history.tsv as load_history returns it, with validation Q8 (or accuracy) ``q8``."""
    n = len(q8)
    frame = pd.DataFrame({"epoch": range(1, n + 1), "train_loss": 1.0, "valid_loss": 1.0})
    if task == "per_residue":
        frame = frame.assign(valid_q8=q8, valid_q3=[70.0] * n)
    else:  # the membrane accuracy rises steeply but does not count
        rising = [10.0 * k for k in range(n)]
        frame = frame.assign(valid_accuracy=q8, valid_membrane_accuracy=rising)
    frame["seconds"] = 1.0
    frame.attrs["task"] = task
    return frame


@pytest.mark.parametrize(
    ("q8", "limit", "task", "converged", "ended_by", "verdict"),
    [
        # early stopping: 6 of 10 epochs, even though epoch 6 rose by 1 point
        ([60, 62, 63, 62.0, 61.5, 62.5], 10, "per_residue", True, "early stopping", "converged:"),
        # at the limit and rising by more than 0.2 points over the last two epochs
        ([60, 62, 63, 63.5], 4, "per_residue", False, "epoch limit", "still rising"),
        # at the limit and flat (+0.1), exactly at the threshold (+0.2), or falling
        (
            [60, 62, 63, 63.05, 63.1],
            5,
            "per_residue",
            True,
            "epoch limit",
            "flat at the epoch limit",
        ),
        ([60, 62, 63.0, 63.1, 63.2], 5, "per_residue", True, "epoch limit", "+0.20 points"),
        (
            [60, 62, 64.0, 63.0, 64.1],
            5,
            "per_residue",
            True,
            "epoch limit",
            "flat at the epoch limit",
        ),
        # one epoch at the limit cannot show it stopped rising
        ([24.0], 1, "per_residue", False, "epoch limit", "a single epoch"),
        # per protein: the selection metric is the location accuracy, not the membrane one
        ([50.0, 51.0, 51.1, 51.15], 4, "per_protein", True, "epoch limit", "flat"),
        ([50.0, 51.0, 52.0], 3, "per_protein", False, "epoch limit", "still rising"),
        # no epoch limit given: not judged, no mark
        ([60, 62, 64], None, "per_residue", None, "unknown", "not judged"),
    ],
)
def test_convergence_rule_on_handmade_histories(
    q8: list[float],
    limit: int | None,
    task: str,
    converged: bool | None,
    ended_by: str,
    verdict: str,
) -> None:
    run = judge("m", handmade_history(q8, task), limit)
    assert run.converged is converged
    assert run.ended_by == ended_by
    assert verdict in run.verdict
    assert run.metric == ("valid_q8" if task == "per_residue" else "valid_accuracy")
    assert RISE_POINTS == 0.2


def test_report_marks_models_that_did_not_converge(report_dir: tuple[Path, dict]) -> None:
    out, _ = report_dir
    page = (out / "index.html").read_text()
    section = page.split('<section id="accuracy">')[1].split("</section>")[0]
    # the rule is stated, the badge sits on gru_small's rows only, the sentence names it
    assert "rose by more than 0.2 points over its last two epochs" in section
    assert "ended at the epoch limit of its preset (not by early stopping)" in section
    rows = re.findall(r"<tr><td>(gru_small|lstm&lt;b&gt;)(.*?)</td>", section)
    marks = {(name, "not converged" in rest) for name, rest in rows}
    assert marks == {("gru_small", True), ("lstm&lt;b&gt;", False)}
    assert re.search(
        r'<p class="warning"><b>gru_small</b> is marked <em>not converged</em>.*?'
        r"comparison with the other models is provisional",
        section,
    )
    # each model's learning curve beside its scores: one sparkline per own row (2 x 2 test sets)
    assert section.count('<svg class="spark"') == 4
    assert "validation Q8 per epoch (%): 53.0, 56.0, 59.0, 62.0, 65.0" in section
    table = pd.read_csv(out / "convergence.tsv", sep="\t").set_index("model")
    assert table.loc["gru_small", "ended_by"] == "epoch limit"
    assert table.loc["gru_small", "rise"] == pytest.approx(6.0)
    assert not table.loc["gru_small", "converged"]
    assert table.loc["lstm<b>", "ended_by"] == "early stopping"
    assert table.loc["lstm<b>", "converged"]
    training = page.split('<section id="training">')[1].split("</section>")[0]
    assert "not converged: still rising at the epoch limit (+6.00 points" in training


def test_history_inputs_name_models_and_read_epoch_limits(tmp_path: Path) -> None:
    config = {
        "train": {"preset": "cpu"},
        "presets": {"cpu": {"epochs": 8}},
        "experiments": {"ss": {}, "loc": {"presets": {"cpu": {"epochs": 3}}}},
    }
    runs = (("ss", "a"), ("loc", "b"))
    paths = [tmp_path / f"results/models/{e}/{m}/history.tsv" for e, m in runs]
    files, limits = history_inputs(paths, config["experiments"], config)
    assert files == {"ss/a": paths[0], "loc/b": paths[1]}
    assert limits == {"ss/a": 8, "loc/b": 3}
    files, limits = history_inputs(paths[:1], {"ss": {}}, config)
    assert files == {"a": paths[0]} and limits == {"a": 8}
    with pytest.raises(ValueError, match="experiment 'loc' is not one of the report's"):
        history_inputs(paths, {"ss": {}}, config)
    del config["presets"]["cpu"]["epochs"]
    with pytest.raises(
        ValueError, match="preset 'cpu' \\(experiment 'ss', model 'a'\\) lacks 'epochs'"
    ):
        history_inputs(paths[:1], {"ss": {}}, config)


# -- summary ------------------------------------------------------------------------------------

OWN_PROFILES = "mmseqs2 / seqdb (this workflow)"


def handmade_accuracy() -> pd.DataFrame:
    """accuracy.tsv rows of hand-written metrics (fractions, as metrics.json holds them)."""
    evals = [
        {"model": "small", "test_set": "cb513", "q8": 0.655, "q3": 0.80, "q8_ci": [0.64, 0.67]},
        {"model": "big", "test_set": "cb513", "q8": 0.702, "q3": 0.841, "q8_ci": [0.69, 0.714]},
        {"model": "big", "test_set": "ts115", "q8": 0.70, "q3": 0.83},
        {"model": "small", "test_set": "ts115", "q8": 0.699, "q3": 0.82},
        {"model": "solo", "test_set": "casp12", "q8": 0.61, "q3": 0.75},
        {"model": "big", "test_set": "cb513_dcrnn", "q8": 0.66, "q3": 0.80},
        {"model": "small", "test_set": "cb513_dcrnn", "q8": 0.65, "q3": 0.79},
    ]
    return accuracy_table(evals, PUBLISHED, OWN_PROFILES)


def pair(test_set: str, a: str, b: str, diff: float, p: float, metric: str = "Q8") -> dict:
    return {
        "test_set": test_set,
        "model_a": a,
        "model_b": b,
        "metric": metric,
        "diff": diff,
        "p_value": p,
        "n_boot": 1000,
        "significant": p < 0.05,
        "verdict": "",
    }


def test_summary_names_the_best_model_and_the_significance_of_its_lead() -> None:
    table = handmade_accuracy()
    pairwise = pd.DataFrame(
        [
            pair("cb513", "big", "small", 4.7, 2 / 1001),  # smallest p of 1000 resamples
            pair("cb513", "big", "small", -0.5, 0.5, metric="Q3"),  # not the headline metric
            pair("ts115", "big", "small", 0.1, 0.62),
            pair("cb513_dcrnn", "small", "big", 0.4, 0.01),  # the paired test disagrees
        ],
        columns=PAIRWISE_COLUMNS,
    )
    cb513 = summary_sentences(table, pairwise, "cb513", RESIDUE_HEADLINE)
    assert (
        cb513[0]
        == "On cb513, big has the highest Q8: 70.2 % (95 % CI 69.0\u201371.4); its Q3 84.1 %."
    )
    assert cb513[1] == (
        "Its lead of 4.7 points over the runner-up, small, is significant by the paired bootstrap "
        "test over proteins (p \u2264 0.002)."
    )
    ts115 = summary_sentences(table, pairwise, "ts115", RESIDUE_HEADLINE)
    assert ts115[0].startswith("On ts115, big has the highest Q8: 70.0 %;")  # no interval given
    assert ts115[1] == (
        "Its lead of 0.1 points over the runner-up, small, is not significant by the paired "
        "bootstrap test over proteins (p = 0.620): on this test set the two cannot be told apart."
    )
    assert len(ts115) == 2  # no published row on ts115
    dcrnn = summary_sentences(table, pairwise, "cb513_dcrnn", RESIDUE_HEADLINE)
    assert (
        "contradicted by the paired bootstrap test" in dcrnn[1] and "finds small better" in dcrnn[1]
    )
    casp = summary_sentences(table, pairwise, "casp12", RESIDUE_HEADLINE)
    assert casp[1] == "It is the only model of this workflow evaluated on casp12."
    assert summary_sentences(table, pairwise, "no_such_set", RESIDUE_HEADLINE) == []


def test_summary_untested_and_not_comparable_leads() -> None:
    table = handmade_accuracy()
    none = pd.DataFrame(columns=PAIRWISE_COLUMNS)
    untested = summary_sentences(table, none, "cb513", RESIDUE_HEADLINE)
    assert untested[1].endswith("small, was not tested (no paired per-protein predictions).")
    row = {**pair("cb513", "big", "small", np.nan, np.nan), "verdict": "not comparable: x"}
    odd = summary_sentences(table, pd.DataFrame([row]), "cb513", RESIDUE_HEADLINE)
    assert odd[1].endswith("small, could not be tested (not comparable: x).")


def test_summary_gap_to_published_rows_with_their_profiles() -> None:
    table = handmade_accuracy()
    cb513 = summary_sentences(
        table, pd.DataFrame(columns=PAIRWISE_COLUMNS), "cb513", RESIDUE_HEADLINE
    )
    assert cb513[2] == (
        "NetSurfP-2.0 (Klausen et al. 2019) (published; profiles: HHblits / Uniclust30) reports "
        "Q8 71.3 %: big is 1.1 points below it, with profiles from "
        "mmseqs2 / seqdb (this workflow)."
    )
    dcrnn = summary_sentences(
        table, pd.DataFrame(columns=PAIRWISE_COLUMNS), "cb513_dcrnn", RESIDUE_HEADLINE
    )
    assert "reports Q8 69.7 %: big is 3.7 points below it" in dcrnn[2]
    assert "PSI-BLAST / UniRef90" in dcrnn[2]
    # localization: accuracy is the headline, the published row keeps its two decimals
    evals = [
        {"model": "loc", "test_set": "dl1", "accuracy": 0.8, "accuracy_ci": [0.75, 0.85]},
        {"model": "loc2", "test_set": "dl1", "accuracy": 0.5},
    ]
    summary = protein_summary_table(evals, [deeploc1_published("dl1")], OWN_PROFILES)
    pairs = pd.DataFrame([pair("dl1", "loc", "loc2", 30.0, 0.3, metric="accuracy")])
    loc = summary_sentences(summary, pairs, "dl1", PROTEIN_HEADLINE)
    assert loc[0] == "On dl1, loc has the highest accuracy: 80.0 % (95 % CI 75.0\u201385.0)."
    assert "(p = 0.300)" in loc[1]
    assert "reports accuracy 77.97 %: loc is 2.0 points above it" in loc[2]


def test_summary_says_when_the_comparison_is_provisional() -> None:
    table = handmade_accuracy()
    rising = judge("big", handmade_history([60, 62, 64]), 3)
    flat = judge("small", handmade_history([60, 62.0, 62.1, 62.1]), 4)
    none = pd.DataFrame(columns=PAIRWISE_COLUMNS)
    sentences = summary_sentences(
        table, none, "ts115", RESIDUE_HEADLINE, {"big": rising, "small": flat}
    )
    assert sentences[-1] == "big is marked not converged, so this comparison is provisional."
    calm = summary_sentences(table, none, "ts115", RESIDUE_HEADLINE, {"small": flat})
    assert "provisional" not in calm[-1]


def test_report_opens_with_the_summary(report_dir: tuple[Path, dict]) -> None:
    out, evals = report_dir
    page = (out / "index.html").read_text()
    first = page.split("<section ")[1]
    assert first.startswith('id="summary"><h2>Summary</h2>')
    assert 'alt="summary_secondary_structure"' in first
    q8 = 100 * evals[("lstm<b>", "cb513")]["q8"]
    assert f"On cb513, lstm&lt;b&gt; has the highest Q8: {q8:.1f} %" in first
    assert "gru_small, is significant by the paired bootstrap test over proteins" in first
    assert "NetSurfP-2.0 (Klausen et al. 2019) (published; profiles: HHblits / Uniclust30)" in first
    # every table scrolls inside its own box (no table is wider than the page on its own)
    assert page.count("<table") == page.count('<div class="wide"><table')


# -- predictions along the chain ----------------------------------------------------------------

#: Per protein of a handmade test set: (share of its scored residues predicted right, scored
#: residues); every protein also has 4 residues with mask 0. p5 ties p0 with fewer scored
#: residues, p6 has none (no Q8). By Q8: worst p1, median p2 (3rd of 6), best p0.
TRACK_PROTEINS = [(0.9, 40), (0.2, 30), (0.5, 20), (0.7, 30), (0.4, 40), (0.9, 20), (0.0, 0)]
TRACK_PICKS = {"best": "p0", "median": "p2", "worst": "p1"}
#: Test set -> its dataset (the table's name differs from the test set's for ts115).
TRACK_TEST_SETS = {"cb513": "cb513", "ts115": "ts115_labels"}
TRACK_SEEDS = {"cb513": 1, "ts115": 2}


def _track_proteins(seed: int, scale: float) -> tuple[list, list, list, list, list]:
    """True labels, predicted probabilities (8 and 3 states) and masks of TRACK_PROTEINS; the
    prediction is right on the first ``share * scale`` of each protein's scored residues."""
    rng = np.random.default_rng(seed)
    true8, pred8, true3, pred3, masks = [], [], [], [], []
    to3 = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    for share, scored in TRACK_PROTEINS:
        t8 = rng.integers(0, 8, size=scored + 4)
        mask = np.r_[np.ones(scored, np.uint8), np.zeros(4, np.uint8)]
        wrong = np.arange(len(t8)) >= round(share * scale * scored)
        p8 = np.where(wrong, (t8 + 1) % 8, t8)
        true8.append(t8)
        pred8.append(soft(p8, 8, 0.4 + 0.5 * share))
        true3.append(to3[t8])
        pred3.append(soft(to3[p8], 3, 0.6))
        masks.append(mask)
    return true8, pred8, true3, pred3, masks


def _write_track_eval(path: Path, model: str, test_set: str, scale: float) -> dict:
    """metrics.json and a predictions.npz with evaluate's keys, for one handmade model."""
    true8, pred8, true3, pred3, masks = _track_proteins(TRACK_SEEDS[test_set], scale)
    result = add_intervals(evaluate_predictions(true8, pred8, true3, pred3, masks), n_boot=50)
    content = metrics_to_json(
        result,
        model=model,
        test_set=test_set,
        dataset=TRACK_TEST_SETS[test_set],
        model_path=f"results/models/secondary_structure/{model}/model.pt",
        mask="eval_mask",
        mask_description="eval_mask == 1 (observed residues)",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    lengths = np.array([len(t) for t in true8])
    np.savez_compressed(
        path.parent / "predictions.npz",
        ids=np.array([f"p{i}" for i in range(len(true8))]),
        lengths=lengths.astype(np.int32),
        offsets=np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64),
        pred_ss8=np.array(["".join(np.array(list("HGIEBTSC"))[p.argmax(1)]) for p in pred8]),
        prob_ss8=np.concatenate(pred8).astype(np.float16),
        mask=np.concatenate(masks).astype(np.uint8),
        q8=result["per_protein_q8"],
        q3=result["per_protein_q3"],
        model=np.array(model),
        test_set=np.array(test_set),
        **{key: result[src] for key, src in PAIRED_ARRAYS.items()},
    )
    return content


def _write_track_table(path: Path, test_set: str) -> Path:
    """The dataset table of a handmade test set (the true labels of _track_proteins)."""
    from protrnn.data.table import make_row, make_table, write_table

    true8 = _track_proteins(TRACK_SEEDS[test_set], 1.0)[0]
    rows = []
    for i, t8 in enumerate(true8):
        ss8 = "".join(np.array(list("HGIEBTSC"))[t8])
        seq = "".join(np.random.default_rng(i).choice(list("ACDEFGHIKLMNPQRSTVWY"), len(t8)))
        mask = "1" * (len(t8) - 4) + "0000"
        rows.append(make_row(f"p{i}", seq, ss8, ss8_to_ss3(ss8), mask, "", "test"))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_table(make_table(rows, str(path)), path)
    return path


def handmade_track_run(root: Path) -> tuple[list[Path], list[Path]]:
    """Two models ('good' ahead of 'weak<1>') on two test sets, and their dataset tables."""
    files, tables = [], []
    for test_set, dataset in TRACK_TEST_SETS.items():
        for model, scale in (("weak<1>", 0.5), ("good", 1.0)):
            path = root / "eval" / "secondary_structure" / model / test_set / "metrics.json"
            _write_track_eval(path, model, test_set, scale)
            files.append(path)
        tables.append(_write_track_table(root / "datasets" / f"{dataset}.tsv.gz", test_set))
    return files, tables


@pytest.fixture(scope="module")
def track_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("tracks")
    files, tables = handmade_track_run(root)
    inputs = ReportInputs(files, {}, PROVENANCE, [], root / "report", n_boot=50)
    build_report(replace(inputs, dataset_tables=tables))
    return (root / "report" / "index.html").read_text()


def test_report_tracks_best_median_and_worst_protein_per_test_set(track_page: str) -> None:
    section = track_page.split('<section id="tracks">')[1].split("</section>")[0]
    assert section.startswith("<h2>Predictions along the chain</h2>")
    parts = section.split("<h3>")[1:]
    assert [p.split("</h3>")[0] for p in parts] == ["cb513", "ts115"]
    for part, dataset in zip(parts, TRACK_TEST_SETS.values(), strict=True):
        assert f"Model good, the highest Q8 on {part.split('<')[0]};" in part
        assert f"among its 6 proteins with scored residues (labels from dataset {dataset})" in part
        svgs = re.findall(r"<svg .*?</svg>", part, re.S)
        assert len(svgs) == 3
        drawn = [re.search(r"<title>(\S+) ", s).group(1) for s in svgs]
        assert drawn == list(TRACK_PICKS.values())
        words = re.findall(r"<figcaption>(\w+) by Q8 on \w+: (\w+) \(", part)
        assert words == [(r.capitalize(), pid) for r, pid in TRACK_PICKS.items()]
        assert "best by Q8: 90.0 % of 40 scored" in part
        assert "median by Q8: 50.0 % of 20 scored" in part
        assert "worst by Q8: 20.0 % of 30 scored" in part
        for svg in svgs:
            root = ET.fromstring(svg)
            assert [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")].count(
                "true"
            ) == 1
            assert "unobserved" in svg  # the 4 residues with mask 0 are hatched


def test_track_pictures_keep_the_page_self_contained(track_page: str) -> None:
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", track_page)
    assert all(r.startswith(("data:image/png;base64,", "#")) for r in refs)
    ids = re.findall(r'<pattern id="([^"]+)"', track_page)
    assert len(ids) == 6 and len(set(ids)) == 6
    assert '<a href="#tracks">Predictions along the chain</a>' in track_page


def test_no_track_section_without_dataset_tables(report_dir: tuple[Path, dict]) -> None:
    out, _ = report_dir
    page = (out / "index.html").read_text()
    assert 'id="tracks"' not in page and "Predictions along the chain" not in page

"""Self-contained HTML comparison report: accuracy with CIs, SOV, pairwise tests, figures.

``build_report`` writes into ``out_dir``: ``index.html`` (one file, inline CSS, figures embedded
as base64 PNG data URIs, no external references), the tables ``accuracy.tsv`` (with 95% CI
columns ``*_ci_low``/``*_ci_high``), ``per_class.tsv``, ``pairwise.tsv``, ``length_bins.tsv``,
``calibration.tsv`` and ``run_times.tsv``, and every figure as ``figures/*.png``.

Units: Q8/Q3, SOV and ECE in the report and its TSVs are percentages; F1, MCC, macro-F1 and
the reliability-diagram columns of calibration.tsv (bin edges, mean confidence, accuracy) are
fractions in [0, 1]. metrics.json files hold fractions (see :mod:`protrnn.evaluation.evaluate`);
published values are given in percent.

Pairwise tests: for every pair of own models on a test set, a paired percentile bootstrap over
proteins (:func:`protrnn.evaluation.bootstrap.paired_bootstrap_test`, seed 0, 1000 resamples) of
the Q8
and Q3 difference, using the per-protein correct/total counts of each model's predictions.npz,
paired by protein id. No correction for multiple comparisons is applied.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from protrnn.core.fileio import atomic_path, atomic_write_text  # noqa: E402
from protrnn.evaluation.bootstrap import paired_bootstrap_test  # noqa: E402
from protrnn.report.common import ALPHA  # noqa: E402
from protrnn.report.common import escape as _e  # noqa: E402
from protrnn.report.common import fmt as _fmt  # noqa: E402
from protrnn.report.common import fmt_ci as _fmt_ci  # noqa: E402
from protrnn.report.common import img as _img  # noqa: E402
from protrnn.report.common import int_or_none as _int_or_none  # noqa: E402
from protrnn.report.common import pct as _pct  # noqa: E402
from protrnn.report.common import row_normalized as _row_normalized  # noqa: E402
from protrnn.report.common import safe_name as _safe  # noqa: E402
from protrnn.report.common import save_figure as _save  # noqa: E402
from protrnn.report.common import verdict as _verdict  # noqa: E402
from protrnn.report.proteins import (  # noqa: E402
    is_per_protein_published,
    load_protein_predictions,
    protein_report_sections,
    split_eval_files,
)

#: Metrics with a 95% CI in metrics.json (``{key}_ci``) and in accuracy.tsv (percent).
CI_METRICS = [
    "q8",
    "q3",
    "q3_from_ss8",
    "sov99_ss8",
    "sov99_ss3",
    "sov_refine_ss8",
    "sov_refine_ss3",
]
ACCURACY_COLUMNS = [
    "test_set",
    "model",
    "source",
    *[c for k in CI_METRICS for c in (k, f"{k}_ci_low", f"{k}_ci_high")],
    "macro_f1_ss8",
    "macro_f1_ss3",
    "ece_ss8",
    "ece_ss3",
    "q8_per_protein_mean",
    "q3_per_protein_mean",
    "n_residues",
    "n_proteins",
    "mask",
    "profiles",
]
PAIRWISE_COLUMNS = [
    "test_set",
    "model_a",
    "model_b",
    "metric",
    "a",
    "b",
    "diff",
    "ci_low",
    "ci_high",
    "p_value",
    "n_proteins",
    "n_boot",
    "significant",
    "verdict",
]
LENGTH_BIN_COLUMNS = [
    "test_set",
    "model",
    "bin",
    "n_proteins",
    "n_residues",
    "q8",
    "q8_ci_low",
    "q8_ci_high",
    "q3",
    "q3_ci_low",
    "q3_ci_high",
]
CALIBRATION_COLUMNS = [
    "test_set",
    "model",
    "head",
    "bin",
    "lower",
    "upper",
    "n",
    "confidence",
    "accuracy",
]
RUN_TIME_COLUMNS = [
    "stage",
    "jobs",
    "seconds",
    "hms",
    "cpu_seconds",
    "max_rss_mb",
    "slowest_job",
    "slowest_seconds",
]
REDUNDANCY_COLUMNS = [
    "test_set",
    "model",
    "metric",
    "n_proteins",
    "n_redundant",
    "all",
    "nonredundant",
]
REDUNDANCY_CAPTION = (
    '<p class="caption">Test proteins with a significant MMseqs2 alignment (E-value at most '
    "{evalue:g}) of at least {identity:.0f}% sequence identity to a protein the models trained "
    "or early-stopped on are flagged redundant; accuracy is shown on all test proteins and on the "
    "non-redundant ones only (Q8/Q3 residue-pooled, accuracy per protein; percent). A large gap "
    "means the test set rewards memorised homologues.</p>"
)
#: Workflow order of the stages (first folder under benchmarks/); others follow by name.
STAGE_ORDER = ["download", "datasets", "profiles", "encode", "train", "evaluate", "report"]
#: predictions.npz arrays the pairwise tests need.
PAIRED_KEYS = ("ids", "correct_ss8", "total_ss8", "correct_ss3", "total_ss3")
HISTORY_COLUMNS = ["epoch", "train_loss", "valid_loss", "seconds"]
#: Validation metrics plotted per task (history.tsv columns and titles).
HISTORY_METRICS = {
    "per_residue": [("valid_q8", "validation Q8"), ("valid_q3", "validation Q3")],
    "per_protein": [
        ("valid_accuracy", "validation accuracy"),
        ("valid_membrane_accuracy", "validation membrane accuracy"),
    ],
}
OWN_SOURCE = "this workflow"

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1400px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #345; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.sig { color: #1a6b2a; font-weight: bold; }
div.wide { overflow-x: auto; }
tr.published td { background: #fff8e5; font-style: italic; }
tr.group td { background: #e4e9f0; font-weight: bold; }
span.badge { background: #c77d00; color: #fff; border-radius: 3px; padding: 0 .4em;
             font-size: .8em; font-style: normal; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption, p.caption { color: #555; font-size: .9em; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: .85em; }
nav a { margin-right: 1em; }
"""


# ----------------------------------------------------------------------------- data


def load_metrics(path: Path) -> dict:
    """Read one metrics.json written by :func:`protrnn.evaluation.evaluate.evaluate_model`."""
    data = json.loads(Path(path).read_text())
    for key in ("model", "test_set", "q8", "q3"):
        if key not in data:
            raise ValueError(f"{path}: metrics.json lacks {key!r}")
    return data


def _check_published(row: dict) -> dict:
    """Validate a published reference row (percent values, test set and profile source)."""
    for key in ("method", "test_set", "profiles"):
        if not row.get(key):
            raise ValueError(f"published row {row!r} lacks {key!r}")
    for key in ("q8", "q3"):
        value = row.get(key)
        if value is not None and not 1.0 < float(value) <= 100.0:
            raise ValueError(f"published {row['method']} {key}={value}: expected a percentage")
    return row


def _ci_pct(e: dict, key: str) -> tuple[float, float]:
    """(low, high) of ``{key}_ci`` in percent; NaN when metrics.json has no interval."""
    ci = e.get(f"{key}_ci")
    if not ci or len(ci) != 2:
        return float("nan"), float("nan")
    return _pct(ci[0]), _pct(ci[1])


def _own_row(e: dict, profiles: str) -> dict:
    """accuracy.tsv row of one metrics.json (percent, CIs as separate columns)."""
    row: dict[str, Any] = {"test_set": e["test_set"], "model": e["model"], "source": OWN_SOURCE}
    for key in CI_METRICS:
        row[key] = _pct(e.get(key))
        row[f"{key}_ci_low"], row[f"{key}_ci_high"] = _ci_pct(e, key)
    for key in ("macro_f1_ss8", "macro_f1_ss3"):
        value = e.get(key)
        row[key] = float("nan") if value is None else float(value)
    row.update(
        {
            "ece_ss8": _pct(e.get("ece_ss8")),
            "ece_ss3": _pct(e.get("ece_ss3")),
            "q8_per_protein_mean": _pct(e.get("q8_per_protein_mean")),
            "q3_per_protein_mean": _pct(e.get("q3_per_protein_mean")),
            "n_residues": e.get("n_residues"),
            "n_proteins": e.get("n_proteins"),
            "mask": e.get("mask", ""),
            "profiles": e.get("profiles", profiles),
        }
    )
    return row


def accuracy_table(evals: list[dict], published: list[dict], profiles: str) -> pd.DataFrame:
    """One row per (model, test set) and per published reference; accuracies in percent.

    Test sets keep their first-appearance order; within one, own models are sorted by Q8
    (best first), published rows follow them. Own rows carry 95% CI columns
    (``{metric}_ci_low``/``_ci_high``, NaN when metrics.json has none), SOV, macro-F1, ECE.
    """
    own = pd.DataFrame([_own_row(e, profiles) for e in evals], columns=ACCURACY_COLUMNS)
    pub = pd.DataFrame(
        [
            {
                "test_set": p["test_set"],
                "model": p["method"],
                "source": p.get("source", "published"),
                "q8": float(p["q8"]) if p.get("q8") is not None else np.nan,
                "q3": float(p["q3"]) if p.get("q3") is not None else np.nan,
                "n_residues": p.get("n_residues"),
                "n_proteins": p.get("n_proteins"),
                "profiles": p["profiles"],
            }
            for p in map(_check_published, published)
        ],
        columns=ACCURACY_COLUMNS,
    )
    order = list(dict.fromkeys([*own["test_set"], *pub["test_set"]]))
    parts = []
    for test_set in order:
        mine = own[own["test_set"] == test_set].sort_values("q8", ascending=False, kind="stable")
        theirs = pub[pub["test_set"] == test_set].sort_values("q8", ascending=False)
        parts.extend(p for p in (mine, theirs) if len(p))
    if not parts:
        return pd.DataFrame(columns=ACCURACY_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def per_class_long(evals: list[dict]) -> pd.DataFrame:
    """All per-class rows: model, test_set, head, class, support, precision, recall, f1."""
    rows = []
    for e in evals:
        for head in ("ss8", "ss3"):
            for r in e.get(f"per_class_{head}", []):
                rows.append({"model": e["model"], "test_set": e["test_set"], "head": head, **r})
    columns = ["model", "test_set", "head", "class", "support", "precision", "recall", "f1", "mcc"]
    return pd.DataFrame(rows, columns=columns).astype(
        {"precision": float, "recall": float, "f1": float, "mcc": float}
    )


def length_bins_long(evals: list[dict]) -> pd.DataFrame:
    """All length-bin rows (percent): test_set, model, bin, counts, Q8/Q3 with CIs."""
    rows = []
    for e in evals:
        for r in e.get("length_bins", []):
            row = {
                "test_set": e["test_set"],
                "model": e["model"],
                "bin": r["bin"],
                "n_proteins": r.get("n_proteins"),
                "n_residues": r.get("n_residues"),
            }
            for key in ("q8", "q8_ci_low", "q8_ci_high", "q3", "q3_ci_low", "q3_ci_high"):
                row[key] = _pct(r.get(key))
            rows.append(row)
    return pd.DataFrame(rows, columns=LENGTH_BIN_COLUMNS)


def calibration_long(evals: list[dict]) -> pd.DataFrame:
    """All reliability-diagram bins (fractions): test_set, model, head, bin, edges, n, ..."""
    rows = []
    for e in evals:
        for head in ("ss8", "ss3"):
            for r in e.get(f"calibration_{head}", []):
                rows.append(
                    {
                        "test_set": e["test_set"],
                        "model": e["model"],
                        "head": head,
                        **{k: r.get(k) for k in CALIBRATION_COLUMNS[3:]},
                    }
                )
    frame = pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)
    return frame.astype({"confidence": float, "accuracy": float})


def load_predictions(path: Path) -> dict:
    """Per-protein arrays of one predictions.npz needed for paired tests.

    Returns ``model``, ``test_set`` (from the file, else from the workflow layout
    ``results/eval/{model}/{testset}/predictions.npz``), ``ids`` and the per-protein arrays
    present (``correct_ss8``, ``total_ss8``, ``correct_ss3``, ``total_ss3``, SOVs).
    """
    path = Path(path)
    with np.load(path) as data:
        keys = set(data.files)
        if not set(PAIRED_KEYS) <= keys:
            raise ValueError(
                f"{path}: predictions.npz lacks the per-protein counts "
                "(correct_ss8/total_ss8/correct_ss3/total_ss3); re-run evaluate"
            )
        out = {
            k: np.asarray(data[k])
            for k in keys
            if k not in ("prob_ss8", "prob_ss3", "mask", "pred_ss8", "pred_ss3")
        }
    model = str(out.pop("model", "")) or path.parent.parent.name
    test_set = str(out.pop("test_set", "")) or path.parent.name
    out["ids"] = np.asarray([str(i) for i in out["ids"]])
    return {"model": model, "test_set": test_set, **out}


def load_redundancy(paths: list[Path]) -> dict[str, pd.DataFrame]:
    """Test set name (file stem) -> flags table written by rule redundancy."""
    return {
        Path(p).stem: pd.read_csv(p, sep="\t", dtype={"id": str, "train_id": str}) for p in paths
    }


def _pooled(correct: np.ndarray, total: np.ndarray, select: np.ndarray) -> float:
    """Pooled accuracy (percent) of the selected proteins."""
    n = total[select].sum()
    return 100 * correct[select].sum() / n if n else float("nan")


def _scored(pred: dict) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(metric, correct, total) per protein: Q8/Q3 residue counts, or 0/1 per-protein accuracy."""
    if "correct_ss8" in pred:
        return [
            ("Q8", pred["correct_ss8"], pred["total_ss8"]),
            ("Q3", pred["correct_ss3"], pred["total_ss3"]),
        ]
    known = np.asarray(pred["true"]) >= 0
    hit = (np.asarray(pred["predicted"]) == np.asarray(pred["true"])) & known
    return [("accuracy", hit.astype(int), known.astype(int))]


def redundancy_table(predictions: list[dict], flags: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Accuracy per model, test set and metric on all proteins and on the non-redundant ones."""
    rows = []
    for pred in predictions:
        table = flags.get(pred["test_set"])
        if table is None:
            continue
        redundant = set(table.loc[table["redundant"].astype(bool), "id"])
        keep = np.array([i not in redundant for i in pred["ids"]], dtype=bool)
        every = np.ones(len(keep), dtype=bool)
        for metric, correct, total in _scored(pred):
            rows.append(
                {
                    "test_set": pred["test_set"],
                    "model": pred["model"],
                    "metric": metric,
                    "n_proteins": len(keep),
                    "n_redundant": int((~keep).sum()),
                    "all": _pooled(correct, total, every),
                    "nonredundant": _pooled(correct, total, keep),
                }
            )
    return pd.DataFrame(rows, columns=REDUNDANCY_COLUMNS)


def redundancy_html(table: pd.DataFrame) -> str:
    head = (
        "<tr><th>Test set</th><th>Model</th><th>Metric</th><th>Proteins</th><th>Redundant</th>"
        "<th>All proteins</th><th>Non-redundant only</th></tr>"
    )
    body = "".join(
        f"<tr><td>{_e(r.test_set)}</td><td>{_e(r.model)}</td><td>{_e(r.metric)}</td>"
        f"<td>{r.n_proteins}</td><td>{r.n_redundant}</td><td>{_fmt(r.all)}</td>"
        f"<td>{_fmt(r.nonredundant)}</td></tr>"
        for r in table.itertuples()
    )
    return f"<table>{head}{body}</table>"


FOLD_NAME = re.compile(r"^(?P<base>.+)_fold(?P<fold>\d+)$")
CV_COLUMNS = ["test_set", "model", "folds", "metric", "mean", "sd", "min", "max"]
CV_CAPTION = (
    '<p class="caption">Cross-validation: each fold trains on all homology partitions but one and '
    "scores the held-out one (and any other test set); mean, standard deviation (n - 1), minimum "
    "and maximum over folds, in percent (MCC x 100).</p>"
)


BACKENDS_CAPTION = (
    '<p class="caption">Output of <code>bench/profile_backends.py</code> ({path}): the same chains '
    "searched against the same database by each backend (throughput, and the ratio to MMseqs2), "
    "agreement between their PSSMs (mean per-position Pearson r), and the CB513 accuracy of one "
    "small model trained on each backend's profiles and on one-hot input alone.</p>"
)


def markdown_html(text: str) -> str:
    """Markdown tables and bullet lines (what the benchmark scripts print) as HTML."""
    parts: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        if rows:
            head = "".join(f"<th>{_e(c)}</th>" for c in rows[0])
            body = "".join(
                "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
            rows.clear()

    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(set(c) <= set("-:") for c in cells):
                rows.append(cells)
            continue
        flush()
        if line.startswith(("- ", "* ")):
            parts.append(f"<p>{_e(line[2:])}</p>")
        elif line:
            parts.append(f"<p>{_e(line.lstrip('#').strip())}</p>")
    flush()
    return "".join(parts)


def cross_validation_table(metrics: list[dict]) -> pd.DataFrame:
    """Mean and spread over folds (test sets named ``{base}_fold{k}``) per model and metric."""
    rows: dict[tuple[str, str, str], list[float]] = {}
    for m in metrics:
        match = FOLD_NAME.match(str(m.get("test_set", "")))
        if not match:
            continue
        model = str(m["model"])
        if m.get("task") == "per_protein":
            values = {"accuracy": m.get("accuracy"), "MCC": m.get("mcc")}
        else:
            values = {"Q8": m.get("q8"), "Q3": m.get("q3")}
        for metric, value in values.items():
            if value is not None:
                rows.setdefault((match["base"], model, metric), []).append(100 * float(value))
    out = [
        {
            "test_set": base,
            "model": model,
            "folds": len(v),
            "metric": metric,
            "mean": float(np.mean(v)),
            "sd": float(np.std(v, ddof=1)) if len(v) > 1 else float("nan"),
            "min": float(np.min(v)),
            "max": float(np.max(v)),
        }
        for (base, model, metric), v in rows.items()
    ]
    return pd.DataFrame(out, columns=CV_COLUMNS)


def cross_validation_html(table: pd.DataFrame) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in CV_COLUMNS)
    body = "".join(
        f"<tr><td>{_e(r.test_set)}</td><td>{_e(r.model)}</td><td>{r.folds}</td>"
        f"<td>{_e(r.metric)}</td><td>{_fmt(r.mean)}</td><td>{_fmt(r.sd)}</td>"
        f"<td>{_fmt(r.min)}</td><td>{_fmt(r.max)}</td></tr>"
        for r in table.itertuples()
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def pairwise_table(
    evals: list[dict], predictions: list[dict], n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Paired bootstrap of Q8 and Q3 for every pair of own models on each test set.

    ``predictions`` are :func:`load_predictions` dicts. Models of a test set are ordered by Q8
    (best first) and model_a is always the higher-ranked one, so ``diff = a - b`` (percentage
    points) is usually positive. Proteins are paired by id (those in both files); a pair whose
    models scored different residues on a shared protein is "not comparable".
    """
    preds = {(p["test_set"], p["model"]): p for p in predictions}
    rows = []
    for test_set in dict.fromkeys(e["test_set"] for e in evals):
        ranked = sorted(
            (e for e in evals if e["test_set"] == test_set),
            key=lambda e: -np.nan_to_num(_pct(e.get("q8")), nan=-1.0),
        )
        models = [e["model"] for e in ranked if (test_set, e["model"]) in preds]
        for i, a in enumerate(models):
            for b in models[i + 1 :]:
                rows.extend(
                    _pair_rows(test_set, preds[(test_set, a)], preds[(test_set, b)], n_boot, seed)
                )
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


def _pair_rows(test_set: str, pa: dict, pb: dict, n_boot: int, seed: int) -> list[dict]:
    """Q8 and Q3 rows of one model pair (see :func:`pairwise_table`)."""
    index_b = {pid: k for k, pid in enumerate(pb["ids"])}
    common = [(k, index_b[pid]) for k, pid in enumerate(pa["ids"]) if pid in index_b]
    ia = np.array([k for k, _ in common], dtype=np.int64)
    ib = np.array([k for _, k in common], dtype=np.int64)
    rows = []
    for metric, head in (("Q8", "ss8"), ("Q3", "ss3")):
        ca, ta = pa[f"correct_{head}"][ia], pa[f"total_{head}"][ia]
        cb, tb = pb[f"correct_{head}"][ib], pb[f"total_{head}"][ib]
        row = {
            "test_set": test_set,
            "model_a": pa["model"],
            "model_b": pb["model"],
            "metric": metric,
            "n_proteins": len(common),
        }
        if not np.array_equal(ta, tb):
            rows.append(
                {
                    **row,
                    "significant": False,
                    "verdict": "not comparable: different residues scored",
                }
            )
            continue
        res = paired_bootstrap_test(ca, cb, ta, n_boot=n_boot, seed=seed)
        n_res = ta.sum()
        p = res["p_value"]
        rows.append(
            {
                **row,
                "a": 100.0 * ca.sum() / n_res if n_res else np.nan,
                "b": 100.0 * cb.sum() / n_res if n_res else np.nan,
                "diff": 100.0 * res["diff"],
                "ci_low": 100.0 * res["ci_low"],
                "ci_high": 100.0 * res["ci_high"],
                "p_value": p,
                "n_proteins": res["n_proteins"],
                "n_boot": res["n_boot"],
                "significant": bool(p < ALPHA),
                "verdict": _verdict(pa["model"], pb["model"], p, res["diff"]),
            }
        )
    return rows


def _stage_and_job(path: Path) -> tuple[str, str]:
    """Stage = first folder under ``benchmarks/`` (or the file stem directly under it)."""
    parts = Path(path).with_suffix("").parts
    if "benchmarks" in parts:
        rest = parts[len(parts) - 1 - parts[::-1].index("benchmarks") + 1 :]
    else:
        rest = parts[-2:] if len(parts) > 1 else parts
    if not rest:
        raise ValueError(f"{path}: cannot tell the stage of this benchmark file")
    return rest[0], "/".join(rest[1:]) or rest[0]


def _hms(seconds: float) -> str:
    """Seconds as h:mm:ss."""
    if np.isnan(seconds):
        return "-"
    total = int(round(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def run_times_table(benchmark_files: list[Path]) -> pd.DataFrame:
    """Wall-clock time per stage from Snakemake benchmark TSVs.

    Each file holds one row per benchmark repeat (columns ``s``, ``h:m:s``, ``max_rss`` in MB,
    ..., ``cpu_time``); a job's time is the mean over its repeats. Per stage: number of jobs,
    summed seconds and CPU seconds, the largest ``max_rss`` and the slowest job.
    """
    jobs = []
    for path in benchmark_files:
        frame = pd.read_csv(path, sep="\t")
        if "s" not in frame.columns:
            raise ValueError(f"{path}: benchmark file lacks the 's' column")
        stage, job = _stage_and_job(Path(path))

        def col(name: str, frame: pd.DataFrame = frame) -> pd.Series:
            if name not in frame.columns:
                return pd.Series([np.nan] * len(frame), dtype=float)
            return pd.to_numeric(frame[name], errors="coerce")

        jobs.append(
            {
                "stage": stage,
                "job": job,
                "seconds": col("s").mean(),
                "cpu": col("cpu_time").mean(),
                "rss": col("max_rss").max(),
            }
        )
    if not jobs:
        return pd.DataFrame(columns=RUN_TIME_COLUMNS)
    data = pd.DataFrame(jobs)
    rank = {s: i for i, s in enumerate(STAGE_ORDER)}
    rows = []
    for stage in sorted(data["stage"].unique(), key=lambda s: (rank.get(s, len(rank)), s)):
        sub = data[data["stage"] == stage]
        slowest = sub.loc[sub["seconds"].fillna(-1).idxmax()]
        seconds = float(sub["seconds"].sum(min_count=1))
        rows.append(
            {
                "stage": stage,
                "jobs": len(sub),
                "seconds": seconds,
                "hms": _hms(seconds),
                "cpu_seconds": float(sub["cpu"].sum(min_count=1)),
                "max_rss_mb": float(sub["rss"].max()),
                "slowest_job": slowest["job"],
                "slowest_seconds": float(slowest["seconds"]),
            }
        )
    return pd.DataFrame(rows, columns=RUN_TIME_COLUMNS)


def load_history(path: Path) -> pd.DataFrame:
    """Read a history.tsv and check its columns."""
    frame = pd.read_csv(path, sep="\t")
    missing = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    tasks = [t for t, cols in HISTORY_METRICS.items() if all(c in frame for c, _ in cols)]
    if missing or not tasks:
        raise ValueError(
            f"{path}: history lacks columns {missing or 'valid_q8/valid_q3 or valid_accuracy'}"
        )
    frame.attrs["task"] = tasks[0]
    return frame


# ----------------------------------------------------------------------------- figures


def plot_per_class_f1(table: pd.DataFrame, test_set: str, path: Path) -> Path:
    """Grouped bars of per-class F1 (8 and 3 states), one colour per model."""
    data = table[table["test_set"] == test_set]
    n_models = data["model"].nunique()
    fig, axes = plt.subplots(
        1,
        2,
        figsize=(4 + 1.2 * max(n_models, 2) + 4, 3.8),
        gridspec_kw={"width_ratios": [8, 3]},
        sharey=True,
    )
    for ax, head in zip(axes, ("ss8", "ss3"), strict=True):
        sub = data[data["head"] == head]
        sns.barplot(data=sub, x="class", y="f1", hue="model", ax=ax, legend=head == "ss3")
        ax.set_title(f"{head.upper()} per-class F1")
        ax.set_xlabel("DSSP class" if head == "ss8" else "3-state class")
        ax.set_ylabel("F1")
        ax.set_ylim(0, 1)
    if axes[1].get_legend() is not None:
        sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1.02, 1), title="model")
    fig.suptitle(f"Per-class F1 on {test_set}")
    return _save(fig, path)


def plot_confusions(evals: list[dict], test_set: str, path: Path) -> Path:
    """Row-normalised 8-state confusion heatmaps, one panel per model, for one test set."""
    items = [e for e in evals if e["test_set"] == test_set]
    n = len(items)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 4.0 * rows), squeeze=False)
    for ax, e in zip(axes.flat, items, strict=False):
        classes = list(e.get("classes_ss8", "HGIEBTSC"))
        sns.heatmap(
            100 * _row_normalized(np.asarray(e["confusion_ss8"])),
            annot=True,
            fmt=".0f",
            cmap="Blues",
            vmin=0,
            vmax=100,
            cbar=False,
            square=True,
            xticklabels=classes,
            yticklabels=classes,
            ax=ax,
            annot_kws={"size": 8},
        )
        ax.set_title(f"{e['model']} (Q8 {_pct(e['q8']):.1f}%)", fontsize=10)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true (DSSP)")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(f"{test_set}: 8-state confusion, % of each true class")
    fig.tight_layout()
    return _save(fig, path)


def plot_learning_curves(
    histories: dict[str, pd.DataFrame], path: Path, task: str = "per_residue"
) -> Path:
    """Loss (train solid, validation dashed) and validation metrics against epoch per model."""
    (first, first_title), (second, second_title) = HISTORY_METRICS[task]
    frames = [h.assign(model=name) for name, h in histories.items()]
    data = pd.concat(frames, ignore_index=True)
    loss = data.melt(
        id_vars=["model", "epoch"],
        value_vars=["train_loss", "valid_loss"],
        var_name="split",
        value_name="loss",
    )
    loss["split"] = loss["split"].str.replace("_loss", "", regex=False)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    sns.lineplot(
        data=loss, x="epoch", y="loss", hue="model", style="split", ax=axes[0], legend=False
    )
    axes[0].set_title("loss (solid: train, dashed: validation)")
    for ax, col, title in ((axes[1], first, first_title), (axes[2], second, second_title)):
        sns.lineplot(
            data=data, x="epoch", y=col, hue="model", marker="o", ax=ax, legend=col == second
        )
        ax.set_title(title)
        ax.set_ylabel(f"{title} (%)")
    for ax in axes:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    if axes[2].get_legend() is not None:
        sns.move_legend(axes[2], "upper left", bbox_to_anchor=(1.02, 1), title="model")
    fig.tight_layout()
    return _save(fig, path)


def plot_length_bins(table: pd.DataFrame, test_set: str, path: Path) -> Path:
    """Q8 and Q3 per sequence-length bin with 95% CI bars, one series per model."""
    data = table[table["test_set"] == test_set]
    bins = list(dict.fromkeys(data["bin"]))
    models = list(dict.fromkeys(data["model"]))
    counts = data.drop_duplicates("bin").set_index("bin")["n_proteins"]
    labels = [f"{b}\n({_int_or_none(counts.get(b)) or 0} prot.)" for b in bins]
    x = np.arange(len(bins))
    width = 0.8 / max(len(models), 1)
    colors = sns.color_palette(n_colors=max(len(models), 1))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=False)
    for ax, key in zip(axes, ("q8", "q3"), strict=True):
        for k, model in enumerate(models):
            sub = data[data["model"] == model].set_index("bin").reindex(bins)
            y = sub[key].to_numpy(float)
            err = np.vstack(
                [
                    y - sub[f"{key}_ci_low"].to_numpy(float),
                    sub[f"{key}_ci_high"].to_numpy(float) - y,
                ]
            )
            err = np.where(np.isnan(err), 0.0, err)
            ax.errorbar(
                x + (k - (len(models) - 1) / 2) * width,
                y,
                yerr=err,
                fmt="o-",
                capsize=3,
                color=colors[k],
                label=model,
                markersize=4,
            )
        ax.set_xticks(x, labels)
        ax.set_xlabel("sequence length (residues)")
        ax.set_ylabel(f"{key.upper()} (%)")
        ax.set_title(f"{key.upper()} by sequence length")
        ax.grid(axis="y", alpha=0.3)
    axes[1].legend(title="model", loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(f"Accuracy by sequence length on {test_set}")
    fig.tight_layout()
    return _save(fig, path)


def plot_calibration(table: pd.DataFrame, evals: list[dict], test_set: str, path: Path) -> Path:
    """Reliability diagrams (8- and 3-state heads): accuracy against mean confidence per bin."""
    data = table[(table["test_set"] == test_set) & (table["n"] > 0)]
    ece = {
        (e["model"], h): _pct(e.get(f"ece_{h}"))
        for e in evals
        if e["test_set"] == test_set
        for h in ("ss8", "ss3")
    }
    models = list(dict.fromkeys(data["model"]))
    colors = sns.color_palette(n_colors=max(len(models), 1))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, head in zip(axes, ("ss8", "ss3"), strict=True):
        ax.plot([0, 1], [0, 1], ls="--", color="#888", lw=1, label="perfect calibration")
        for k, model in enumerate(models):
            sub = data[(data["model"] == model) & (data["head"] == head)]
            ax.plot(
                sub["confidence"],
                sub["accuracy"],
                "o-",
                color=colors[k],
                markersize=4,
                label=f"{model} (ECE {ece.get((model, head), np.nan):.1f}%)",
            )
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_aspect("equal")
        ax.set_xlabel("mean top-label confidence in bin")
        ax.set_ylabel("accuracy in bin")
        ax.set_title("8-state head" if head == "ss8" else "3-state head")
        ax.legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Reliability diagrams on {test_set}")
    fig.tight_layout()
    return _save(fig, path)


# ----------------------------------------------------------------------------- HTML


def accuracy_html(table: pd.DataFrame) -> str:
    """The accuracy table with 95% CIs and SOV, grouped by test set, published rows marked."""
    head = (
        "<tr><th>Model / method</th><th>Q8 (%)</th><th>Q3 (%)</th>"
        "<th>Q3 from 8-state head (%)</th><th>SOV'99 8-state (%)</th>"
        "<th>SOV'99 3-state (%)</th><th>SOV_refine 8-state (%)</th>"
        "<th>SOV_refine 3-state (%)</th><th>Per-protein mean Q8 (%)</th>"
        "<th>Residues</th><th>Proteins</th><th>Mask</th><th>Profiles</th></tr>"
    )
    body = []
    for test_set, group in table.groupby("test_set", sort=False):
        body.append(f'<tr class="group"><td colspan="13">Test set: {_e(test_set)}</td></tr>')
        for r in group.itertuples(index=False):
            row = r._asdict()
            published = r.source != OWN_SOURCE
            name = _e(r.model)
            if published:
                name += f' <span class="badge">{_e(r.source)}</span>'
            cells = [f"<td>{name}</td>"]
            cells += [
                f'<td class="num">{_fmt_ci(row[k], row[f"{k}_ci_low"], row[f"{k}_ci_high"])}</td>'
                for k in CI_METRICS
            ]
            cells += [f'<td class="num">{_fmt(r.q8_per_protein_mean)}</td>']
            cells += [
                f'<td class="num">{_fmt(v)}</td>'
                for v in (_int_or_none(r.n_residues), _int_or_none(r.n_proteins))
            ]
            cells += [f"<td>{_fmt(r.mask)}</td>", f"<td>{_e(r.profiles)}</td>"]
            cls = ' class="published"' if published else ""
            body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f'<div class="wide"><table>{head}{"".join(body)}</table></div>'


def _by_test_set(frame: pd.DataFrame, test_set: str) -> pd.DataFrame:
    return frame[frame["test_set"] == test_set]


def per_class_html(per_class: pd.DataFrame, acc: pd.DataFrame, test_set: str) -> str:
    """8-state F1 and one-vs-rest MCC per class and model, with macro-F1 (8 and 3 states)."""
    data = _by_test_set(per_class, test_set)
    data = data[data["head"] == "ss8"]
    own = _by_test_set(acc, test_set)
    own = own[own["source"] == OWN_SOURCE]
    if data.empty or own.empty:
        return ""
    classes = list(dict.fromkeys(data["class"]))
    head = (
        "<tr><th>Model</th><th>Score</th>"
        + "".join(f"<th>{_e(c)}</th>" for c in classes)
        + "<th>Macro-F1 8-state</th><th>Macro-F1 3-state</th></tr>"
    )
    body = []
    for r in own.itertuples(index=False):
        sub = data[data["model"] == r.model].set_index("class")
        for k, score in enumerate(("f1", "mcc")):
            name = f'<td rowspan="2">{_e(r.model)}</td>' if k == 0 else ""
            cells = "".join(
                f'<td class="num">{_fmt(sub[score].get(c, np.nan), 3)}</td>' for c in classes
            )
            macro = (
                f'<td class="num" rowspan="2">{_fmt(r.macro_f1_ss8, 3)}</td>'
                f'<td class="num" rowspan="2">{_fmt(r.macro_f1_ss3, 3)}</td>'
                if k == 0
                else ""
            )
            body.append(f"<tr>{name}<td>{score.upper()}</td>{cells}{macro}</tr>")
    return f'<h3>{_e(test_set)}</h3><div class="wide"><table>{head}{"".join(body)}</table></div>'


def pairwise_html(pairwise: pd.DataFrame, test_set: str) -> str:
    """The pairwise significance table of one test set."""
    data = _by_test_set(pairwise, test_set)
    if data.empty:
        return (
            f"<h3>{_e(test_set)}</h3><p>No pair of models with per-protein predictions on "
            "this test set.</p>"
        )
    head = (
        "<tr><th>Model A</th><th>Model B</th><th>Metric</th><th>A (%)</th><th>B (%)</th>"
        "<th>A &minus; B (points) [95% CI]</th><th>p-value</th><th>Proteins</th>"
        "<th>Verdict</th></tr>"
    )
    body = []
    for r in data.itertuples(index=False):
        p = r.p_value
        p_text = "&ndash;" if p is None or np.isnan(p) else f"{p:.3f}"
        if p is not None and not np.isnan(p) and r.n_boot and p <= 2.0 / (r.n_boot + 1) + 1e-12:
            p_text = f"&le; {p:.3f}"
        cls = ' class="sig"' if r.significant else ""
        body.append(
            f"<tr><td>{_e(r.model_a)}</td><td>{_e(r.model_b)}</td><td>{_e(r.metric)}</td>"
            f'<td class="num">{_fmt(r.a)}</td><td class="num">{_fmt(r.b)}</td>'
            f'<td class="num">{_fmt_ci(r.diff, r.ci_low, r.ci_high, 2)}</td>'
            f'<td class="num">{p_text}</td><td class="num">{_fmt(_int_or_none(r.n_proteins))}</td>'
            f"<td{cls}>{_e(r.verdict)}</td></tr>"
        )
    return f"<h3>{_e(test_set)}</h3><table>{head}{''.join(body)}</table>"


def ece_html(acc: pd.DataFrame) -> str:
    """Expected calibration error per own model and test set."""
    own = acc[acc["source"] == OWN_SOURCE]
    if own.empty:
        return ""
    head = (
        "<tr><th>Test set</th><th>Model</th><th>ECE 8-state (%)</th><th>ECE 3-state (%)</th></tr>"
    )
    body = "".join(
        f"<tr><td>{_e(r.test_set)}</td><td>{_e(r.model)}</td>"
        f'<td class="num">{_fmt(r.ece_ss8, 2)}</td><td class="num">{_fmt(r.ece_ss3, 2)}</td></tr>'
        for r in own.itertuples(index=False)
    )
    return f"<table>{head}{body}</table>"


def run_times_html(table: pd.DataFrame) -> str:
    """Run time per stage, with a total row."""
    head = (
        "<tr><th>Stage</th><th>Jobs</th><th>Wall time (s)</th><th>h:mm:ss</th>"
        "<th>CPU time (s)</th><th>Peak RSS (MB)</th><th>Slowest job</th>"
        "<th>Its time (s)</th></tr>"
    )
    body = [
        f'<tr><td>{_e(r.stage)}</td><td class="num">{_fmt(int(r.jobs))}</td>'
        f'<td class="num">{_fmt(r.seconds)}</td><td class="num">{_e(r.hms)}</td>'
        f'<td class="num">{_fmt(r.cpu_seconds)}</td><td class="num">{_fmt(r.max_rss_mb)}</td>'
        f'<td>{_e(r.slowest_job)}</td><td class="num">{_fmt(r.slowest_seconds)}</td></tr>'
        for r in table.itertuples(index=False)
    ]
    total = float(table["seconds"].sum(min_count=1))
    body.append(
        f'<tr class="group"><td>total</td><td class="num">{_fmt(int(table["jobs"].sum()))}'
        f'</td><td class="num">{_fmt(total)}</td><td class="num">{_hms(total)}</td>'
        '<td colspan="4"></td></tr>'
    )
    return f"<table>{head}{''.join(body)}</table>"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _dump(value: Any) -> str:
    """Readable text dump of nested data (YAML when available, else JSON)."""
    try:
        import yaml

        return yaml.safe_dump(_plain(value), sort_keys=False, default_flow_style=False)
    except ImportError:  # pragma: no cover - pyyaml is a workflow dependency
        return json.dumps(value, indent=2, default=str)


def _plain(value: Any) -> Any:
    """Plain Python containers (Snakemake's config wrappers are dict/list subclasses)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if _is_scalar(value) else str(value)


def provenance_html(value: Any, depth: int = 0) -> str:
    """Render nested provenance as tables: scalars in key/value tables, lists of records as
    tables, nested dicts under headings; a ``config`` entry and anything deeper as a text dump."""
    if _is_scalar(value):
        text = "" if value is None else str(value)
        return f"<pre>{_e(text)}</pre>" if "\n" in text else _e(text)
    if isinstance(value, dict):
        if depth >= 3:
            return f"<pre>{_e(_dump(value))}</pre>"
        scalars = {k: v for k, v in value.items() if _is_scalar(v)}
        out = ""
        if scalars:
            rows = "".join(
                f"<tr><th>{_e(k)}</th><td>{provenance_html(v)}</td></tr>"
                for k, v in scalars.items()
            )
            out += f"<table>{rows}</table>"
        level = min(3 + depth, 6)
        for k, v in value.items():
            if k in scalars:
                continue
            inner = f"<pre>{_e(_dump(v))}</pre>" if k == "config" else provenance_html(v, depth + 1)
            out += f"<h{level}>{_e(k)}</h{level}>{inner}"
        return out
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) and all(map(_is_scalar, v.values())) for v in value):
            cols = list(dict.fromkeys(k for v in value for k in v))
            head = "".join(f"<th>{_e(c)}</th>" for c in cols)
            rows = "".join(
                "<tr>" + "".join(f"<td>{provenance_html(v.get(c))}</td>" for c in cols) + "</tr>"
                for v in value
            )
            return f"<table><tr>{head}</tr>{rows}</table>"
        if all(_is_scalar(v) for v in value):
            return _e(", ".join("" if v is None else str(v) for v in value))
    return f"<pre>{_e(_dump(value))}</pre>"


def _page(title: str, sections: list[tuple[str, str, str]]) -> str:
    """Assemble the page from (anchor, heading, html) sections."""
    nav = " ".join(f'<a href="#{a}">{_e(h)}</a>' for a, h, _ in sections)
    body = "".join(
        f'<section id="{a}"><h2>{_e(h)}</h2>{content}</section>' for a, h, content in sections
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f"<nav>{nav}</nav>{body}</body></html>\n"
    )


# ----------------------------------------------------------------------------- entry point


def own_profile_source(provenance: dict) -> str:
    """Short profile label of this workflow's rows, e.g. "mmseqs2 / seqdb (this workflow)".

    ``provenance["profile_source"]`` wins when given; otherwise tool and database name are
    read from ``provenance["profiles"]`` (run_provenance's layout) and the config.
    """
    if provenance.get("profile_source"):
        return str(provenance["profile_source"])
    prof = provenance.get("profiles") or {}
    database = prof.get("database") if isinstance(prof.get("database"), dict) else {}
    config_profiles = (provenance.get("config") or {}).get("profiles") or {}
    tool = prof.get("tool") or prof.get("backend") or config_profiles.get("backend")
    db = database.get("name") or config_profiles.get("database")
    parts = [str(x) for x in (tool, db) if x]
    return f"{' / '.join(parts)} (this workflow)" if parts else "this workflow (see Provenance)"


PER_CLASS_CAPTION = (
    '<p class="caption">F1 and one-vs-rest Matthews correlation (MCC) per DSSP class; '
    "macro-F1 is the unweighted mean of per-class F1 over the classes present or predicted, "
    "so rare classes (I, B, G) weigh as much as H or E.</p>"
)


CALIBRATION_CAPTION = (
    '<p class="caption">Expected calibration error (ECE): over scored residues, the '
    "residue-weighted mean gap |accuracy &minus; mean confidence| across 15 equal-width bins "
    "of top-label confidence (percent; lower is better).</p>"
)


RUN_TIMES_CAPTION = (
    '<p class="caption">From Snakemake benchmark files: wall-clock seconds summed over the '
    "jobs of each stage (a stage is the first folder under benchmarks/; jobs may have run in "
    "parallel, so the total is compute time, not elapsed time), CPU time summed, and the "
    "largest peak resident memory of one job.</p>"
)


def _write_tsv(frame: pd.DataFrame, path: Path, float_format: str = "%.4f") -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format=float_format)


def _default_predictions(eval_files: list[Path]) -> list[Path]:
    """predictions.npz next to each metrics.json, where present and holding per-protein counts."""
    found = []
    for path in (Path(p).parent / "predictions.npz" for p in eval_files):
        if path.exists():
            with np.load(path) as data:
                if set(PAIRED_KEYS) <= set(data.files):
                    found.append(path)
    return found


def build_report(
    eval_files: list[Path],
    history_files: dict[str, Path],
    provenance: dict,
    published: list[dict],
    out_dir: Path,
    prediction_files: list[Path] | None = None,
    benchmark_files: list[Path] | None = None,
    redundancy_files: list[Path] | None = None,
    redundancy_settings: dict | None = None,
    parse_stats: dict[str, dict] | None = None,
    backend_benchmark: Path | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Path:
    """Write index.html, the TSV tables and figures/*.png to ``out_dir``.

    ``published`` rows need method, test_set, q8/q3 (percent) and profiles. The profiles
    column of own rows comes from :func:`own_profile_source`. ``prediction_files`` are the
    predictions.npz files for the pairwise tests (None: the predictions.npz next to each
    metrics.json, where present). ``benchmark_files`` are Snakemake benchmark TSVs for the
    run-time section (None or empty: no section, run_times.tsv has only its header).
    ``n_boot``/``seed`` set the paired bootstrap. Returns the path of index.html.
    """
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    eval_files, protein_files = split_eval_files([Path(p) for p in eval_files])
    protein_published = [p for p in published if is_per_protein_published(p)]
    published = [p for p in published if not is_per_protein_published(p)]
    evals = [load_metrics(Path(p)) for p in eval_files]
    profiles = own_profile_source(provenance)
    acc = accuracy_table(evals, published, profiles)
    per_class = per_class_long(evals)
    bins = length_bins_long(evals)
    calib = calibration_long(evals)
    if prediction_files is None:
        prediction_files = _default_predictions([Path(p) for p in eval_files])
    residue_dirs = {Path(p).parent for p in eval_files}
    prediction_files = [p for p in prediction_files if Path(p).parent in residue_dirs]
    predictions = [load_predictions(Path(p)) for p in prediction_files]
    pairwise = pairwise_table(evals, predictions, n_boot=n_boot, seed=seed)
    run_times = run_times_table([Path(p) for p in benchmark_files or []])
    protein_predictions = [
        load_protein_predictions(p.parent / "predictions.npz")
        for p in protein_files
        if (p.parent / "predictions.npz").exists()
    ]
    redundancy = redundancy_table(
        predictions + protein_predictions,
        load_redundancy([Path(p) for p in redundancy_files or []]),
    )
    _write_tsv(acc, out_dir / "accuracy.tsv")
    _write_tsv(per_class, out_dir / "per_class.tsv", "%.6g")
    _write_tsv(pairwise, out_dir / "pairwise.tsv", "%.6g")
    _write_tsv(bins, out_dir / "length_bins.tsv")
    _write_tsv(calib, out_dir / "calibration.tsv", "%.6g")
    _write_tsv(run_times, out_dir / "run_times.tsv", "%.2f")
    _write_tsv(redundancy, out_dir / "redundancy.tsv", "%.2f")

    masks = sorted({str(e.get("mask_description", e.get("mask", "?"))) for e in evals})
    n_boot_eval = next((e["bootstrap"].get("n_boot") for e in evals if e.get("bootstrap")), None)
    measured = (
        "Q8 and Q3 are residue-pooled accuracies over all counted residues of a test set (not "
        "a mean of per-protein accuracies, which is shown separately); residues count where "
        f"the mask is 1 and the true label is known. Masks used: {_e('; '.join(masks) or '-')}. "
        "Q3 is the 3-state head; 'Q3 from 8-state head' reduces the 8-state prediction "
        "(H,G,I&rarr;H; E,B&rarr;E; T,S,C&rarr;C). SOV'99 (Zemla et al. 1999) and SOV_refine "
        "(Liu &amp; Wang 2018) are computed per protein over observed segments and reported as "
        "the mean over proteins. Brackets give 95% percentile-bootstrap confidence intervals "
        f"over proteins ({_e(n_boot_eval or 'no')} resamples; proteins, not residues, are "
        "resampled). Own models are sorted by Q8, best first. Published rows are copied from "
        "the papers, were computed with other profile databases (column Profiles), and are not "
        "re-run here; profile depth alone moves accuracy by several points."
    )
    sections = [("accuracy", "Accuracy", f'<p class="caption">{measured}</p>' + accuracy_html(acc))]

    test_sets = list(dict.fromkeys(e["test_set"] for e in evals))
    pair_caption = (
        "Every pair of this workflow's models on a test set, paired by protein: the "
        "difference A &minus; B in residue-pooled accuracy (percentage points), its 95% "
        f"paired percentile-bootstrap interval over proteins ({n_boot} resamples, seed {seed}) "
        "and the two-sided bootstrap p-value (smallest possible value "
        f"{2 / (n_boot + 1):.3f}). 'Significant at {ALPHA:g}' means p &lt; {ALPHA:g}; no "
        "correction for multiple comparisons is applied, so with many pairs read small "
        "differences with care. Model A is the one ranked higher by Q8."
    )
    pair_parts = [pairwise_html(pairwise, ts) for ts in test_sets]
    if pair_parts:
        sections.append(
            (
                "pairwise",
                "Pairwise significance",
                f'<p class="caption">{pair_caption}</p>' + "".join(pair_parts),
            )
        )

    f1_parts, cm_parts, len_parts, cal_parts = [], [], [], []
    for ts in test_sets:
        name = _safe(ts)
        f1_path = plot_per_class_f1(per_class, ts, fig_dir / f"per_class_f1_{name}.png")
        f1_parts.append(per_class_html(per_class, acc, ts))
        f1_parts.append(
            _img(
                f1_path,
                f"Per-class F1 on {_e(ts)} (8-state and 3-state heads), over residues with mask 1.",
            )
        )
        cm_path = plot_confusions(evals, ts, fig_dir / f"confusion_{name}.png")
        cm_parts.append(
            _img(
                cm_path,
                f"8-state confusion on {_e(ts)}: each row is a true DSSP "
                "class, cells give the % of that class predicted as each column.",
            )
        )
        if not _by_test_set(bins, ts).empty:
            len_path = plot_length_bins(bins, ts, fig_dir / f"length_bins_{name}.png")
            len_parts.append(
                _img(
                    len_path,
                    f"Q8 and Q3 on {_e(ts)} by full sequence length, "
                    "pooled over the proteins of each bin (protein counts under "
                    "the bins); bars are 95% bootstrap intervals over proteins.",
                )
            )
        if not _by_test_set(calib, ts).empty and (_by_test_set(calib, ts)["n"] > 0).any():
            cal_path = plot_calibration(calib, evals, ts, fig_dir / f"calibration_{name}.png")
            cal_parts.append(
                _img(
                    cal_path,
                    f"Reliability diagrams on {_e(ts)}: residues "
                    "binned by top-label confidence (15 equal-width bins); a "
                    "calibrated model lies on the diagonal.",
                )
            )
    if f1_parts:
        sections.append(
            (
                "per-class",
                "Per-class F1 and MCC",
                PER_CLASS_CAPTION + "".join(f1_parts),
            )
        )
        sections.append(("confusion", "Confusion matrices", "".join(cm_parts)))
    if len_parts:
        sections.append(("length", "Accuracy by sequence length", "".join(len_parts)))
    if cal_parts:
        sections.append(
            (
                "calibration",
                "Calibration",
                CALIBRATION_CAPTION + ece_html(acc) + "".join(cal_parts),
            )
        )

    if not redundancy.empty:
        settings = {"min_identity": 0.25, "evalue": 0.001, **(redundancy_settings or {})}
        caption = REDUNDANCY_CAPTION.format(
            evalue=settings["evalue"], identity=100 * settings["min_identity"]
        )
        sections.append(("redundancy", "Redundancy check", caption + redundancy_html(redundancy)))

    proteins = protein_report_sections(
        protein_files,
        out_dir,
        published=protein_published,
        profiles=profiles,
        parse_stats=parse_stats,
        n_boot=n_boot,
        seed=seed,
    )
    sections.extend(proteins.sections)
    every_metric = [json.loads(Path(p).read_text()) for p in [*eval_files, *protein_files]]
    folds = cross_validation_table(every_metric)
    _write_tsv(folds, out_dir / "cross_validation.tsv", "%.3f")
    if not folds.empty:
        sections.append(
            ("cross-validation", "Cross-validation", CV_CAPTION + cross_validation_html(folds))
        )

    if backend_benchmark is not None:
        sections.append(
            (
                "profile-backends",
                "Profile backends (benchmark)",
                BACKENDS_CAPTION.format(path=_e(backend_benchmark))
                + markdown_html(Path(backend_benchmark).read_text()),
            )
        )

    if history_files:
        histories = {m: load_history(Path(p)) for m, p in history_files.items()}
        curves = []
        for task, label in (("per_residue", "Q8/Q3"), ("per_protein", "accuracy")):
            group = {m: h for m, h in histories.items() if h.attrs["task"] == task}
            if not group:
                continue
            suffix = "" if task == "per_residue" else "_per_protein"
            lc_path = plot_learning_curves(group, fig_dir / f"learning_curves{suffix}.png", task)
            curves.append(
                _img(
                    lc_path,
                    f"Per-epoch training and validation loss and validation {label} of the "
                    f"{task.replace('_', '-')} models (validation split from the training data; "
                    "test sets are never used during training).",
                )
            )
        sections.append(("training", "Learning curves", "".join(curves)))

    if not run_times.empty:
        sections.append(
            (
                "run-times",
                "Run times per stage",
                RUN_TIMES_CAPTION + run_times_html(run_times),
            )
        )

    sections.append(
        (
            "provenance",
            "Provenance",
            provenance_html(provenance) if provenance else "<p>No provenance recorded.</p>",
        )
    )
    index = out_dir / "index.html"
    title = "protrnn: secondary structure and localization from sequence"
    atomic_write_text(index, _page(title, sections))
    return index

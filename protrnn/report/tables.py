"""The report's per-residue and run-wide tables (the TSVs of ``results/report/``): accuracy with
95% CIs, per-class scores, length bins, calibration, redundancy, cross-validation and run times.

Units: Q8/Q3, SOV and ECE in percent; F1, MCC, macro-F1 and the reliability-diagram columns of
calibration.tsv (bin edges, mean confidence, accuracy) as fractions in [0, 1]. The per-protein
tables are in :mod:`protrnn.report.tables_protein`, the paired tests in
:mod:`protrnn.report.pairwise`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from protrnn.report.common import OWN_SOURCE, ci_pair, hms, num, pct
from protrnn.report.load import load_benchmark

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
PER_CLASS_COLUMNS = [
    "model",
    "test_set",
    "head",
    "class",
    "support",
    "precision",
    "recall",
    "f1",
    "mcc",
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
CV_COLUMNS = ["test_set", "model", "folds", "metric", "mean", "sd", "min", "max"]
#: Test sets of a cross-validation fold: ``{base}_fold{k}``.
FOLD_NAME = re.compile(r"^(?P<base>.+)_fold(?P<fold>\d+)$")
#: Workflow order of the stages (first folder under benchmarks/); others follow by name.
STAGE_ORDER = ["download", "datasets", "profiles", "encode", "train", "evaluate", "report"]
#: per-class scores stored as fractions.
SCORE_TYPES = {"precision": float, "recall": float, "f1": float, "mcc": float}


# ----------------------------------------------------------------------------- accuracy


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


def check_published(row: dict) -> dict:
    """Validate a published reference row (percent values, test set and profile source)."""
    for key in ("method", "test_set", "profiles"):
        if not row.get(key):
            raise ValueError(f"published row {row!r} lacks {key!r}")
    for key in ("q8", "q3"):
        value = row.get(key)
        if value is not None and not 1.0 < float(value) <= 100.0:
            raise ValueError(f"published {row['method']} {key}={value}: expected a percentage")
    return row


def _own_row(e: dict, profiles: str) -> dict:
    """accuracy.tsv row of one metrics.json (percent, CIs as separate columns)."""
    row: dict[str, Any] = {"test_set": e["test_set"], "model": e["model"], "source": OWN_SOURCE}
    for key in CI_METRICS:
        row[key] = pct(e.get(key))
        row[f"{key}_ci_low"], row[f"{key}_ci_high"] = ci_pair(e, key)
    for key in ("macro_f1_ss8", "macro_f1_ss3"):
        row[key] = num(e.get(key))
    row.update(
        {
            "ece_ss8": pct(e.get("ece_ss8")),
            "ece_ss3": pct(e.get("ece_ss3")),
            "q8_per_protein_mean": pct(e.get("q8_per_protein_mean")),
            "q3_per_protein_mean": pct(e.get("q3_per_protein_mean")),
            "n_residues": e.get("n_residues"),
            "n_proteins": e.get("n_proteins"),
            "mask": e.get("mask", ""),
            "profiles": e.get("profiles", profiles),
        }
    )
    return row


def _published_row(p: dict) -> dict:
    """accuracy.tsv row of one published reference (percent)."""
    return {
        "test_set": p["test_set"],
        "model": p["method"],
        "source": p.get("source", "published"),
        "q8": float(p["q8"]) if p.get("q8") is not None else np.nan,
        "q3": float(p["q3"]) if p.get("q3") is not None else np.nan,
        "n_residues": p.get("n_residues"),
        "n_proteins": p.get("n_proteins"),
        "profiles": p["profiles"],
    }


def ranked_by_test_set(
    own: pd.DataFrame, published: pd.DataFrame, key: str, columns: list[str]
) -> pd.DataFrame:
    """Own and published rows grouped by test set (first-appearance order, own first); within
    a test set own rows sorted by ``key`` (best first, stable), then published ones by ``key``."""
    order = list(dict.fromkeys([*own["test_set"], *published["test_set"]]))
    parts = []
    for test_set in order:
        mine = own[own["test_set"] == test_set].sort_values(key, ascending=False, kind="stable")
        theirs = published[published["test_set"] == test_set].sort_values(key, ascending=False)
        parts.extend(p for p in (mine, theirs) if len(p))
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def accuracy_table(evals: list[dict], published: list[dict], profiles: str) -> pd.DataFrame:
    """One row per (model, test set) and per published reference; accuracies in percent.

    Test sets keep their first-appearance order; within one, own models are sorted by Q8
    (best first), published rows follow them. Own rows carry 95% CI columns
    (``{metric}_ci_low``/``_ci_high``, NaN when metrics.json has none), SOV, macro-F1, ECE.
    """
    own = pd.DataFrame([_own_row(e, profiles) for e in evals], columns=ACCURACY_COLUMNS)
    pub = pd.DataFrame(
        [_published_row(check_published(p)) for p in published], columns=ACCURACY_COLUMNS
    )
    return ranked_by_test_set(own, pub, "q8", ACCURACY_COLUMNS)


# ----------------------------------------------------------------------------- long tables


def per_class_long(evals: list[dict]) -> pd.DataFrame:
    """All per-class rows: model, test_set, head, class, support, precision, recall, f1."""
    rows = [
        {"model": e["model"], "test_set": e["test_set"], "head": head, **r}
        for e in evals
        for head in ("ss8", "ss3")
        for r in e.get(f"per_class_{head}", [])
    ]
    return pd.DataFrame(rows, columns=PER_CLASS_COLUMNS).astype(SCORE_TYPES)


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
            for key in LENGTH_BIN_COLUMNS[5:]:
                row[key] = pct(r.get(key))
            rows.append(row)
    return pd.DataFrame(rows, columns=LENGTH_BIN_COLUMNS)


def calibration_long(evals: list[dict]) -> pd.DataFrame:
    """All reliability-diagram bins (fractions): test_set, model, head, bin, edges, n, ..."""
    rows = [
        {
            "test_set": e["test_set"],
            "model": e["model"],
            "head": head,
            **{k: r.get(k) for k in CALIBRATION_COLUMNS[3:]},
        }
        for e in evals
        for head in ("ss8", "ss3")
        for r in e.get(f"calibration_{head}", [])
    ]
    frame = pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)
    return frame.astype({"confidence": float, "accuracy": float})


# ----------------------------------------------------------------------------- redundancy


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


# ----------------------------------------------------------------------------- run-wide


def cross_validation_table(metrics: list[dict]) -> pd.DataFrame:
    """Mean and spread over folds (test sets named ``{base}_fold{k}``) per model and metric."""
    rows: dict[tuple[str, str, str], list[float]] = {}
    for m in metrics:
        match = FOLD_NAME.match(str(m.get("test_set", "")))
        if not match:
            continue
        if m.get("task") == "per_protein":
            values = {"accuracy": m.get("accuracy"), "MCC": m.get("mcc")}
        else:
            values = {"Q8": m.get("q8"), "Q3": m.get("q3")}
        for metric, value in values.items():
            if value is not None:
                key = (match["base"], str(m["model"]), metric)
                rows.setdefault(key, []).append(100 * float(value))
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


def run_times_table(benchmark_files: list[Path]) -> pd.DataFrame:
    """Wall-clock time per stage from Snakemake benchmark TSVs.

    Each file holds one row per benchmark repeat (columns ``s``, ``h:m:s``, ``max_rss`` in MB,
    ..., ``cpu_time``); a job's time is the mean over its repeats. Per stage: number of jobs,
    summed seconds and CPU seconds, the largest ``max_rss`` and the slowest job.
    """
    jobs = [load_benchmark(Path(p)) for p in benchmark_files]
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
                "hms": hms(seconds),
                "cpu_seconds": float(sub["cpu"].sum(min_count=1)),
                "max_rss_mb": float(sub["rss"].max()),
                "slowest_job": slowest["job"],
                "slowest_seconds": float(slowest["seconds"]),
            }
        )
    return pd.DataFrame(rows, columns=RUN_TIME_COLUMNS)

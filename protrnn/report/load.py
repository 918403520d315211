"""Reading the workflow's result files for the report, with their checks: metrics.json,
predictions.npz, history.tsv, redundancy flags and Snakemake benchmark TSVs.

Nothing is computed here; :mod:`protrnn.report.tables` and :mod:`protrnn.report.pairwise`
turn what is read into the report's tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from protrnn.config import model_preset

#: predictions.npz arrays the per-residue pairwise tests need.
RESIDUE_PAIRED_KEYS = ("ids", "correct_ss8", "total_ss8", "correct_ss3", "total_ss3")
#: predictions.npz arrays the per-protein pairwise tests need.
PROTEIN_PAIRED_KEYS = ("ids", "true", "predicted")
#: Per-protein predictions.npz arrays the report keeps.
PROTEIN_ARRAYS = ("ids", "true", "predicted", "membrane_true", "membrane_predicted", "classes")
#: Per-residue predictions.npz arrays the report does not need (large).
RESIDUE_SKIPPED = ("prob_ss8", "prob_ss3", "mask", "pred_ss8", "pred_ss3")
HISTORY_COLUMNS = ["epoch", "train_loss", "valid_loss", "seconds"]
#: Validation metrics of history.tsv per task (column, title); the first one selects the
#: best epoch and drives early stopping (:mod:`protrnn.model.train`).
HISTORY_METRICS = {
    "per_residue": [("valid_q8", "validation Q8"), ("valid_q3", "validation Q3")],
    "per_protein": [
        ("valid_accuracy", "validation accuracy"),
        ("valid_membrane_accuracy", "validation membrane accuracy"),
    ],
}


# ----------------------------------------------------------------------------- metrics.json


def is_per_protein_metrics(metrics: Mapping[str, Any]) -> bool:
    """Whether a metrics.json content comes from a per-protein evaluation."""
    return metrics.get("task") == "per_protein"


def split_eval_files(eval_files: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(per-residue, per-protein) metrics.json paths, each in the given order."""
    residue, protein = [], []
    for path in map(Path, eval_files):
        data = json.loads(path.read_text())
        (protein if is_per_protein_metrics(data) else residue).append(path)
    return residue, protein


def load_metrics(path: Path) -> dict:
    """Read one metrics.json written by :func:`protrnn.evaluation.evaluate.evaluate_model`."""
    data = json.loads(Path(path).read_text())
    for key in ("model", "test_set", "q8", "q3"):
        if key not in data:
            raise ValueError(f"{path}: metrics.json lacks {key!r}")
    return data


def load_protein_metrics(path: Path) -> dict:
    """Read a per-protein metrics.json
    (:func:`protrnn.evaluation.evaluate.evaluate_protein_model`)."""
    data = json.loads(Path(path).read_text())
    for key in ("model", "test_set", "accuracy", "classes", "confusion"):
        if key not in data:
            raise ValueError(f"{path}: per-protein metrics.json lacks {key!r}")
    if not is_per_protein_metrics(data):
        raise ValueError(f"{path}: not a per-protein metrics.json (task {data.get('task')!r})")
    return data


# ----------------------------------------------------------------------------- predictions.npz


def _named(path: Path, model: str, test_set: str, arrays: dict) -> dict:
    """Model and test set from the file, else from ``results/eval/.../{model}/{testset}/``."""
    arrays["ids"] = np.asarray([str(i) for i in arrays["ids"]])
    return {
        "model": model or path.parent.parent.name,
        "test_set": test_set or path.parent.name,
        **arrays,
    }


def load_predictions(path: Path) -> dict:
    """Per-protein arrays of one per-residue predictions.npz needed for paired tests.

    Returns ``model``, ``test_set`` (from the file, else from the workflow layout
    ``results/eval/{model}/{testset}/predictions.npz``), ``ids`` and the per-protein arrays
    present (``correct_ss8``, ``total_ss8``, ``correct_ss3``, ``total_ss3``, SOVs).
    """
    path = Path(path)
    with np.load(path) as data:
        keys = set(data.files)
        if not set(RESIDUE_PAIRED_KEYS) <= keys:
            raise ValueError(
                f"{path}: predictions.npz lacks the per-protein counts "
                "(correct_ss8/total_ss8/correct_ss3/total_ss3); re-run evaluate"
            )
        out = {k: np.asarray(data[k]) for k in keys if k not in RESIDUE_SKIPPED}
    model = str(out.pop("model", ""))
    test_set = str(out.pop("test_set", ""))
    return _named(path, model, test_set, out)


def load_protein_predictions(path: Path) -> dict:
    """Per-protein arrays of one per-protein predictions.npz, for the pairwise tests.

    Returns ``model``, ``test_set`` (from the file, else from the layout
    ``results/eval/{model}/{testset}/predictions.npz``), ``ids``, ``true``, ``predicted`` and,
    when present, ``membrane_true``/``membrane_predicted``.
    """
    path = Path(path)
    with np.load(path) as data:
        if not set(PROTEIN_PAIRED_KEYS) <= set(data.files):
            raise ValueError(
                f"{path}: not a per-protein predictions.npz (lacks {PROTEIN_PAIRED_KEYS})"
            )
        out = {k: np.asarray(data[k]) for k in PROTEIN_ARRAYS if k in data.files}
        model = str(data["model"]) if "model" in data.files else ""
        test_set = str(data["test_set"]) if "test_set" in data.files else ""
    return _named(path, model, test_set, out)


#: predictions.npz arrays the pictures of predictions need (:mod:`protrnn.report.tracks`).
TRACK_KEYS = ("ids", "lengths", "offsets", "pred_ss8", "prob_ss8", "mask", "q8")


def load_track_predictions(path: Path) -> dict:
    """What the pictures of predictions read of one per-residue predictions.npz: ``ids``,
    ``lengths``, ``offsets``, ``pred_ss8`` (strings), ``confidence`` (the largest 8-state
    probability per residue, float32, concatenated like ``prob_ss8``), ``mask`` and ``q8``."""
    path = Path(path)
    with np.load(path) as data:
        absent = [k for k in TRACK_KEYS if k not in data.files]
        if absent:
            raise ValueError(f"{path}: predictions.npz lacks {absent}; re-run evaluate")
        out = {k: np.asarray(data[k]) for k in TRACK_KEYS if k != "prob_ss8"}
        prob = np.asarray(data["prob_ss8"], dtype=np.float32)
    out["confidence"] = prob.max(axis=1) if len(prob) else np.zeros(0, np.float32)
    out["ids"] = np.asarray([str(i) for i in out["ids"]])
    total = int(np.asarray(out["lengths"], dtype=np.int64).sum())
    if len(out["confidence"]) != total or len(out["mask"]) != total:
        raise ValueError(
            f"{path}: prob_ss8 has {len(out['confidence'])} rows and mask {len(out['mask'])} "
            f"values, but the lengths sum to {total}"
        )
    return out


def predictions_next_to(eval_files: Iterable[Path], keys: Iterable[str]) -> list[Path]:
    """The predictions.npz next to each metrics.json, where present and holding ``keys``."""
    found = []
    for path in (Path(p).parent / "predictions.npz" for p in eval_files):
        if path.exists():
            with np.load(path) as data:
                if set(keys) <= set(data.files):
                    found.append(path)
    return found


# ----------------------------------------------------------------------------- other results


def load_redundancy(paths: list[Path]) -> dict[str, pd.DataFrame]:
    """Test set name (file stem) -> flags table written by rule redundancy."""
    return {
        Path(p).stem: pd.read_csv(p, sep="\t", dtype={"id": str, "train_id": str}) for p in paths
    }


def load_history(path: Path) -> pd.DataFrame:
    """Read a history.tsv and check its columns; ``attrs["task"]`` tells the task."""
    frame = pd.read_csv(path, sep="\t")
    absent = [c for c in HISTORY_COLUMNS if c not in frame.columns]
    tasks = [t for t, cols in HISTORY_METRICS.items() if all(c in frame for c, _ in cols)]
    if absent or not tasks:
        raise ValueError(
            f"{path}: history lacks columns {absent or 'valid_q8/valid_q3 or valid_accuracy'}"
        )
    frame.attrs["task"] = tasks[0]
    return frame


def epoch_limit(config: Mapping[str, Any], experiment: str, model: str) -> int:
    """The epoch limit of ``model``'s training in ``experiment``: its preset's ``epochs``."""
    preset = model_preset(dict(config), experiment, model)
    if preset.get("epochs") is None:
        raise ValueError(
            f"config: preset {config['train']['preset']!r} (experiment {experiment!r}, "
            f"model {model!r}) lacks 'epochs'"
        )
    return int(preset["epochs"])


def history_inputs(
    history_files: Iterable[Path], experiments: Mapping[str, Any], config: Mapping[str, Any]
) -> tuple[dict[str, Path], dict[str, int]]:
    """Learning-curve name -> history.tsv and name -> epoch limit, for the workflow's
    ``results/models/{experiment}/{model}/history.tsv`` files. The name is the model, or
    ``experiment/model`` when the report covers several ``experiments``."""
    files, limits = {}, {}
    for path in map(Path, history_files):
        experiment, model = path.parent.parent.name, path.parent.name
        if experiment not in experiments:
            raise ValueError(f"{path}: experiment {experiment!r} is not one of the report's")
        name = model if len(experiments) == 1 else f"{experiment}/{model}"
        files[name] = path
        limits[name] = epoch_limit(config, experiment, model)
    return files, limits


def stage_and_job(path: Path) -> tuple[str, str]:
    """Stage = first folder under ``benchmarks/`` (or the file stem directly under it)."""
    parts = Path(path).with_suffix("").parts
    if "benchmarks" in parts:
        rest = parts[len(parts) - 1 - parts[::-1].index("benchmarks") + 1 :]
    else:
        rest = parts[-2:] if len(parts) > 1 else parts
    if not rest:
        raise ValueError(f"{path}: cannot tell the stage of this benchmark file")
    return rest[0], "/".join(rest[1:]) or rest[0]


def load_benchmark(path: Path) -> dict:
    """One job of a Snakemake benchmark TSV: stage, job, mean seconds and CPU seconds over its
    repeats, the largest ``max_rss`` (MB)."""
    frame = pd.read_csv(path, sep="\t")
    if "s" not in frame.columns:
        raise ValueError(f"{path}: benchmark file lacks the 's' column")
    stage, job = stage_and_job(Path(path))

    def col(name: str) -> pd.Series:
        if name not in frame.columns:
            return pd.Series([np.nan] * len(frame), dtype=float)
        return pd.to_numeric(frame[name], errors="coerce")

    return {
        "stage": stage,
        "job": job,
        "seconds": col("s").mean(),
        "cpu": col("cpu_time").mean(),
        "rss": col("max_rss").max(),
    }

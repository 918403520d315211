"""Which proteins the report draws along the chain, and their data.

Per experiment and per-residue test set, the model with the highest headline Q8 on that test set
(the first of equals, in evaluation order) is chosen; of its proteins with at least one scored
residue (per-protein Q8 not NaN), the best, the median and the worst by per-protein Q8 are drawn
(ties: more scored residues ranks higher, then the id). Their true 8-state labels come from the
dataset table named by metrics.json's ``dataset``; the prediction, its confidence and the scored
residues (mask) from the predictions.npz beside metrics.json. The pictures themselves are
:func:`protrnn.core.tracks.track_svg` (drawn by :mod:`protrnn.report.sections_tracks`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from protrnn.data.table import read_table
from protrnn.report.convergence import experiment_of
from protrnn.report.load import load_track_predictions
from protrnn.report.summary import DEFAULT_EXPERIMENT

#: The proteins drawn per test set, in page order.
RANKS = ("best", "median", "worst")
DATASET_SUFFIX = ".tsv.gz"


@dataclass(frozen=True)
class TrackProtein:
    """One drawn protein: its rank, labels, prediction, confidence, scored residues and Q8."""

    rank: str
    protein_id: str
    sequence: str
    true_ss8: str | None
    pred_ss8: str
    confidence: np.ndarray
    mask: np.ndarray
    q8: float
    n_scored: int


@dataclass(frozen=True)
class TrackSet:
    """The drawn proteins of one test set, with the model they come from."""

    experiment: str
    test_set: str
    model: str
    dataset: str
    n_ranked: int
    proteins: tuple[TrackProtein, ...]


def ranked(q8: np.ndarray, n_scored: np.ndarray, ids: np.ndarray) -> list[tuple[str, int]]:
    """(rank, index) of the best, median and worst protein by Q8 (module docstring); proteins
    without a Q8 are left out and a protein is named once (fewer than three proteins)."""
    valid = [i for i in range(len(q8)) if np.isfinite(q8[i])]
    order = sorted(valid, key=lambda i: (float(q8[i]), int(n_scored[i]), str(ids[i])))
    if not order:
        return []
    picks = {"best": order[-1], "median": order[(len(order) - 1) // 2], "worst": order[0]}
    out, seen = [], set()
    for rank in RANKS:
        if picks[rank] not in seen:
            seen.add(picks[rank])
            out.append((rank, picks[rank]))
    return out


def best_evaluations(eval_files: Iterable[Path], evals: list[dict]) -> list[tuple[str, dict, Path]]:
    """(experiment, metrics, metrics.json path) of the highest-Q8 model per experiment and test
    set, in first-appearance order."""
    best: dict[tuple[str, str], tuple[dict, Path]] = {}
    for path, metrics in zip(map(Path, eval_files), evals, strict=True):
        experiment = experiment_of(metrics) or DEFAULT_EXPERIMENT["per_residue"]
        key = (experiment, metrics["test_set"])
        if key not in best or float(metrics["q8"]) > float(best[key][0]["q8"]):
            best[key] = (metrics, path)
    return [(experiment, m, p) for (experiment, _), (m, p) in best.items()]


def _dataset_of(metrics: dict, path: Path, tables: dict[str, Path]) -> str:
    """The dataset of an evaluation, which must be one of the report's tables."""
    dataset = metrics.get("dataset")
    if dataset is None:
        raise ValueError(f"{path}: metrics.json lacks 'dataset'; re-run evaluate")
    if dataset not in tables:
        raise ValueError(
            f"{path}: dataset {dataset!r} of test set {metrics['test_set']!r} is not among the "
            f"report's dataset tables ({', '.join(sorted(tables)) or 'none'})"
        )
    return str(dataset)


def _protein(
    rank: str, i: int, preds: dict, rows: pd.DataFrame, where: tuple[Path, Path]
) -> TrackProtein:
    """The drawn data of protein ``i`` of ``preds``, its labels from the table ``rows``."""
    pid = str(preds["ids"][i])
    start, n = int(preds["offsets"][i]), int(preds["lengths"][i])
    if pid not in rows.index:
        raise ValueError(f"{where[0]}: protein {pid!r} is not in the dataset table {where[1]}")
    row = rows.loc[pid]
    if len(row["sequence"]) != n:
        raise ValueError(
            f"{where[0]}: protein {pid!r} has {n} residues, but {len(row['sequence'])} in the "
            f"dataset table {where[1]}; re-run evaluate"
        )
    mask = np.asarray(preds["mask"][start : start + n], dtype=np.uint8)
    return TrackProtein(
        rank=rank,
        protein_id=pid,
        sequence=str(row["sequence"]),
        true_ss8=str(row["ss8"]) or None,
        pred_ss8=str(preds["pred_ss8"][i]),
        confidence=np.asarray(preds["confidence"][start : start + n], dtype=np.float64),
        mask=mask,
        q8=float(preds["q8"][i]),
        n_scored=int(mask.sum()),
    )


def _labels(table: Path) -> pd.DataFrame:
    """The dataset table indexed by id (ids must be unique, as the datasets stage writes them)."""
    rows = read_table(table).set_index("id")
    if not rows.index.is_unique:
        dup = rows.index[rows.index.duplicated()][0]
        raise ValueError(f"{table}: duplicate id {dup!r}")
    return rows


def track_set(experiment: str, metrics: dict, path: Path, table: Path) -> TrackSet:
    """The drawn proteins of one evaluation (its predictions.npz beside ``path``)."""
    npz = path.parent / "predictions.npz"
    preds = load_track_predictions(npz)
    offsets, lengths = preds["offsets"].astype(np.int64), preds["lengths"].astype(np.int64)
    mask = preds["mask"].astype(np.int64)
    n_scored = np.array([mask[o : o + n].sum() for o, n in zip(offsets, lengths, strict=True)])
    picks = ranked(np.asarray(preds["q8"], dtype=float), n_scored, preds["ids"])
    rows = _labels(table) if picks else pd.DataFrame()
    proteins = tuple(_protein(rank, i, preds, rows, (npz, table)) for rank, i in picks)
    return TrackSet(
        experiment=experiment,
        test_set=str(metrics["test_set"]),
        model=str(metrics["model"]),
        dataset=table.name.removesuffix(DATASET_SUFFIX),
        n_ranked=int(np.isfinite(np.asarray(preds["q8"], dtype=float)).sum()),
        proteins=proteins,
    )


def collect_tracks(
    eval_files: Iterable[Path], evals: list[dict], table_files: Iterable[Path] | None
) -> list[TrackSet]:
    """The drawn proteins of every experiment and per-residue test set (none without
    ``table_files``, the dataset tables ``results/datasets/{dataset}.tsv.gz``)."""
    if table_files is None:
        return []
    tables = {Path(p).name.removesuffix(DATASET_SUFFIX): Path(p) for p in table_files}
    out = []
    for experiment, metrics, path in best_evaluations(eval_files, evals):
        dataset = _dataset_of(metrics, path, tables)
        out.append(track_set(experiment, metrics, path, tables[dataset]))
    return out

"""What every report section reads: the loaded results and the tables made from them, gathered
once by :func:`collect` (sections only draw figures and write HTML)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from protrnn.evaluation.bootstrap import N_BOOT, SEED
from protrnn.report.convergence import Convergence, by_model, training_runs
from protrnn.report.load import (
    RESIDUE_PAIRED_KEYS,
    load_history,
    load_metrics,
    load_predictions,
    load_protein_metrics,
    load_protein_predictions,
    load_redundancy,
    predictions_next_to,
    split_eval_files,
)
from protrnn.report.pairwise import pairwise_table, protein_pairwise_table
from protrnn.report.studies import Study, load_study
from protrnn.report.tables import (
    accuracy_table,
    calibration_long,
    cross_validation_table,
    length_bins_long,
    own_profile_source,
    per_class_long,
    redundancy_table,
    run_times_table,
)
from protrnn.report.tables_protein import (
    is_per_protein_published,
    protein_confusion_long,
    protein_per_class_long,
    protein_summary_table,
)
from protrnn.report.tracks import TrackSet, collect_tracks


@dataclass
class Results:
    """The evaluations of one task (metrics.json contents), their per-protein predictions and
    the pairwise tests between their models."""

    evals: list[dict]
    predictions: list[dict]
    pairwise: pd.DataFrame

    @property
    def test_sets(self) -> list[str]:
        """Test sets in first-appearance order."""
        return list(dict.fromkeys(e["test_set"] for e in self.evals))


@dataclass
class ResidueResults(Results):
    """Per-residue results and their tables."""

    accuracy: pd.DataFrame
    per_class: pd.DataFrame
    length_bins: pd.DataFrame
    calibration: pd.DataFrame


@dataclass
class ProteinResults(Results):
    """Per-protein results and their tables."""

    summary: pd.DataFrame
    per_class: pd.DataFrame
    confusion: pd.DataFrame


@dataclass(frozen=True)
class ReportInputs:
    """The result files and settings a report is made from.

    ``eval_files``: metrics.json of per-residue and per-protein evaluations. ``history_files``:
    learning-curve name -> history.tsv. ``published`` rows need method, test_set, q8/q3 or
    accuracy (percent) and profiles; the profiles column of own rows comes from
    :func:`~protrnn.report.tables.own_profile_source` of ``provenance``. ``prediction_files``
    are the predictions.npz files for the pairwise tests (None: the predictions.npz next to
    each metrics.json, where present). ``benchmark_files`` are Snakemake benchmark TSVs for the
    run-time section (None or empty: no section, run_times.tsv has only its header).
    ``redundancy_files``/``redundancy_settings``: rule redundancy's flags and its config.
    ``parse_stats``: per-protein dataset name -> its parser's counts. ``backend_benchmark``:
    the markdown of bench/profile_backends.py. ``n_boot``/``seed`` set the paired bootstrap.
    ``epoch_limits``: learning-curve name -> the epoch limit of its preset, for the convergence
    rule (:mod:`protrnn.report.convergence`; a model without one is not judged).
    ``dataset_tables``: the dataset tables (``results/datasets/{dataset}.tsv.gz``) that hold the
    true labels of the proteins drawn along the chain (:mod:`protrnn.report.tracks`; None: no
    such section). ``studies``: benchmark study directories (:mod:`protrnn.report.studies`).
    """

    eval_files: list[Path]
    history_files: Mapping[str, Path]
    provenance: dict
    published: list[dict]
    out_dir: Path
    prediction_files: list[Path] | None = None
    benchmark_files: list[Path] | None = None
    redundancy_files: list[Path] | None = None
    redundancy_settings: dict | None = None
    parse_stats: Mapping[str, Mapping[str, Any]] | None = None
    backend_benchmark: Path | None = None
    n_boot: int = N_BOOT
    seed: int = SEED
    epoch_limits: Mapping[str, int] | None = None
    dataset_tables: list[Path] | None = None
    studies: list[Path] | None = None


@dataclass
class ReportContext:
    """Everything the sections read. ``protein`` is None without per-protein evaluations and
    published per-protein rows."""

    out_dir: Path
    residue: ResidueResults
    protein: ProteinResults | None
    redundancy: pd.DataFrame
    folds: pd.DataFrame
    run_times: pd.DataFrame
    histories: dict[str, pd.DataFrame]
    runs: dict[str, Convergence]
    provenance: dict
    profiles: str
    n_boot: int
    seed: int
    redundancy_settings: dict = field(default_factory=dict)
    parse_stats: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    backend_benchmark: Path | None = None
    backend_markdown: str = ""
    tracks: list[TrackSet] = field(default_factory=list)
    studies: list[Study] = field(default_factory=list)

    @property
    def fig_dir(self) -> Path:
        return self.out_dir / "figures"

    def trained(self, results: Results | None) -> dict[str, Convergence]:
        """Model name -> its training, for the models of ``results``."""
        return by_model(results.evals, self.runs) if results is not None else {}


def collect_residue(
    eval_files: list[Path],
    published: list[dict],
    profiles: str,
    prediction_files: list[Path] | None,
    n_boot: int,
    seed: int,
) -> ResidueResults:
    """Load the per-residue evaluations and make their tables and pairwise tests."""
    evals = [load_metrics(p) for p in eval_files]
    if prediction_files is None:
        prediction_files = predictions_next_to(eval_files, RESIDUE_PAIRED_KEYS)
    residue_dirs = {Path(p).parent for p in eval_files}
    prediction_files = [p for p in prediction_files if Path(p).parent in residue_dirs]
    predictions = [load_predictions(Path(p)) for p in prediction_files]
    return ResidueResults(
        evals=evals,
        accuracy=accuracy_table(evals, published, profiles),
        per_class=per_class_long(evals),
        length_bins=length_bins_long(evals),
        calibration=calibration_long(evals),
        predictions=predictions,
        pairwise=pairwise_table(evals, predictions, n_boot=n_boot, seed=seed),
    )


def collect_protein(
    eval_files: list[Path], published: list[dict], profiles: str, n_boot: int, seed: int
) -> ProteinResults | None:
    """Load the per-protein evaluations (None when there are none and no published rows)."""
    evals = [load_protein_metrics(p) for p in eval_files]
    if not evals and not published:
        return None
    files = [p.parent / "predictions.npz" for p in eval_files]
    predictions = [load_protein_predictions(p) for p in files if p.exists()]
    return ProteinResults(
        evals=evals,
        summary=protein_summary_table(evals, published, profiles),
        per_class=protein_per_class_long(evals),
        confusion=protein_confusion_long(evals),
        predictions=predictions,
        pairwise=protein_pairwise_table(evals, predictions, n_boot=n_boot, seed=seed),
    )


def collect(inputs: ReportInputs) -> ReportContext:
    """Read every result file and make every table."""
    residue_files, protein_files = split_eval_files([Path(p) for p in inputs.eval_files])
    profiles = own_profile_source(inputs.provenance)
    published = inputs.published
    n_boot, seed = inputs.n_boot, inputs.seed
    residue = collect_residue(
        residue_files,
        [p for p in published if not is_per_protein_published(p)],
        profiles,
        inputs.prediction_files,
        n_boot,
        seed,
    )
    protein_rows = [p for p in published if is_per_protein_published(p)]
    protein = collect_protein(protein_files, protein_rows, profiles, n_boot, seed)
    protein_evals = protein.evals if protein else []
    every_prediction = residue.predictions + (protein.predictions if protein else [])
    flags = load_redundancy([Path(p) for p in inputs.redundancy_files or []])
    backends = inputs.backend_benchmark
    markdown = Path(backends).read_text() if backends is not None else ""
    histories = {m: load_history(Path(p)) for m, p in inputs.history_files.items()}
    return ReportContext(
        out_dir=Path(inputs.out_dir),
        residue=residue,
        protein=protein,
        redundancy=redundancy_table(every_prediction, flags),
        folds=cross_validation_table([*residue.evals, *protein_evals]),
        run_times=run_times_table([Path(p) for p in inputs.benchmark_files or []]),
        histories=histories,
        runs=training_runs(histories, inputs.epoch_limits or {}),
        provenance=inputs.provenance,
        profiles=profiles,
        n_boot=n_boot,
        seed=seed,
        redundancy_settings=dict(inputs.redundancy_settings or {}),
        parse_stats=inputs.parse_stats or {},
        backend_benchmark=backends,
        backend_markdown=markdown,
        tracks=collect_tracks(residue_files, residue.evals, inputs.dataset_tables),
        studies=[load_study(Path(d)) for d in inputs.studies or []],
    )

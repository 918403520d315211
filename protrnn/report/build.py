"""Build the self-contained HTML comparison report: the sections in page order, and the TSVs.

``build_report`` writes into ``out_dir``: ``index.html`` (one file, inline CSS, figures embedded
as base64 PNG data URIs, no external references), the tables ``accuracy.tsv`` (with 95% CI
columns ``*_ci_low``/``*_ci_high``), ``per_class.tsv``, ``pairwise.tsv``, ``length_bins.tsv``,
``calibration.tsv``, ``run_times.tsv``, ``redundancy.tsv``, ``cross_validation.tsv`` and, with
per-protein results, ``protein_accuracy.tsv``, ``protein_per_class.tsv``,
``protein_confusion.tsv`` and ``protein_pairwise.tsv``; every figure as ``figures/*.png``.

Where things live: reading result files :mod:`~protrnn.report.load`; tables
:mod:`~protrnn.report.tables`, :mod:`~protrnn.report.tables_protein`,
:mod:`~protrnn.report.pairwise`; figures :mod:`~protrnn.report.figures`; table HTML
:mod:`~protrnn.report.render`; page, CSS and captions :mod:`~protrnn.report.html`; the sections
:mod:`~protrnn.report.sections_residue`, :mod:`~protrnn.report.sections_tracks` (SVG pictures
inline, no files), :mod:`~protrnn.report.sections_protein` and
:mod:`~protrnn.report.sections_run`. Units are described in :mod:`protrnn.report.common`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from protrnn.core.fileio import atomic_dir, atomic_write_text
from protrnn.report.common import write_tsv
from protrnn.report.context import ReportContext, ReportInputs, collect
from protrnn.report.convergence import convergence_table
from protrnn.report.html import TITLE, Section, page
from protrnn.report.sections_protein import (
    localization_confusion_section,
    localization_pairwise_section,
    localization_per_class_section,
    localization_section,
)
from protrnn.report.sections_residue import (
    accuracy_section,
    calibration_section,
    confusion_section,
    length_section,
    pairwise_section,
    per_class_section,
)
from protrnn.report.sections_run import (
    backends_section,
    cross_validation_section,
    provenance_section,
    redundancy_section,
    run_times_section,
    studies_section,
    training_section,
)
from protrnn.report.sections_summary import summary_section
from protrnn.report.sections_tracks import tracks_section

#: The page, top to bottom; each returns its section or None.
SECTIONS: tuple[Callable[[ReportContext], Section | None], ...] = (
    summary_section,
    accuracy_section,
    pairwise_section,
    per_class_section,
    confusion_section,
    length_section,
    calibration_section,
    tracks_section,
    redundancy_section,
    localization_section,
    localization_pairwise_section,
    localization_per_class_section,
    localization_confusion_section,
    cross_validation_section,
    backends_section,
    studies_section,
    training_section,
    run_times_section,
    provenance_section,
)


def write_tables(ctx: ReportContext) -> None:
    """Every TSV of the report (float formats as the files have always had)."""
    out, res = ctx.out_dir, ctx.residue
    write_tsv(res.accuracy, out / "accuracy.tsv")
    write_tsv(res.per_class, out / "per_class.tsv", "%.6g")
    write_tsv(res.pairwise, out / "pairwise.tsv", "%.6g")
    write_tsv(res.length_bins, out / "length_bins.tsv")
    write_tsv(res.calibration, out / "calibration.tsv", "%.6g")
    write_tsv(ctx.run_times, out / "run_times.tsv", "%.2f")
    write_tsv(ctx.redundancy, out / "redundancy.tsv", "%.2f")
    if ctx.protein is not None:
        write_tsv(ctx.protein.summary, out / "protein_accuracy.tsv", "%.6g")
        write_tsv(ctx.protein.per_class, out / "protein_per_class.tsv", "%.6g")
        write_tsv(ctx.protein.confusion, out / "protein_confusion.tsv", "%.6g")
        write_tsv(ctx.protein.pairwise, out / "protein_pairwise.tsv", "%.6g")
    write_tsv(ctx.folds, out / "cross_validation.tsv", "%.3f")
    write_tsv(convergence_table(ctx.runs), out / "convergence.tsv", "%.4f")


def build_report(inputs: ReportInputs) -> Path:
    """Write index.html, the TSV tables and figures/*.png to ``inputs.out_dir``; returns the
    path of index.html. Every input is read before anything is written, and the folder is
    replaced as a whole only when the report is complete, so a failure leaves no half report."""
    ctx = collect(inputs)
    target = Path(inputs.out_dir)
    with atomic_dir(target) as staging:
        ctx = replace(ctx, out_dir=staging)
        ctx.fig_dir.mkdir(parents=True, exist_ok=True)
        write_tables(ctx)
        sections = [s for s in (make(ctx) for make in SECTIONS) if s is not None]
        atomic_write_text(staging / "index.html", page(TITLE, sections))
    return target / "index.html"

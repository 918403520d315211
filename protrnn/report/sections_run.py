"""The run-wide sections of the report: redundancy check, cross-validation, profile-backend
benchmark, benchmark studies, learning curves, run times and provenance; one function per
section, each returning its :class:`~protrnn.report.html.Section` or None when it has nothing
to show."""

from __future__ import annotations

from protrnn.report.common import escape as e
from protrnn.report.common import img
from protrnn.report.context import ReportContext
from protrnn.report.figures import plot_learning_curves
from protrnn.report.html import (
    CV_CAPTION,
    RUN_TIMES_CAPTION,
    Section,
    backends_caption,
    convergence_rule,
    learning_curves_caption,
    provenance_html,
    redundancy_caption,
    study_caption,
)
from protrnn.report.markdown import markdown_html
from protrnn.report.render import cross_validation_html, redundancy_html, run_times_html
from protrnn.report.render_training import convergence_html

#: Learning-curve figures per task: (task, metric label, file-name suffix).
CURVE_TASKS = (("per_residue", "Q8/Q3", ""), ("per_protein", "accuracy", "_per_protein"))


def redundancy_section(ctx: ReportContext) -> Section | None:
    """Accuracy on all test proteins and on those without a close training homologue."""
    if ctx.redundancy.empty:
        return None
    settings = {"min_identity": 0.25, "evalue": 0.001, **ctx.redundancy_settings}
    text = redundancy_caption(settings["evalue"], 100 * settings["min_identity"])
    return Section("redundancy", "Redundancy check", text + redundancy_html(ctx.redundancy))


def cross_validation_section(ctx: ReportContext) -> Section | None:
    """Mean and spread over cross-validation folds."""
    if ctx.folds.empty:
        return None
    content = CV_CAPTION + cross_validation_html(ctx.folds)
    return Section("cross-validation", "Cross-validation", content)


def backends_section(ctx: ReportContext) -> Section | None:
    """The profile-backend benchmark's markdown output, when the run has one."""
    if ctx.backend_benchmark is None:
        return None
    content = backends_caption(str(ctx.backend_benchmark)) + markdown_html(ctx.backend_markdown)
    return Section("profile-backends", "Profile backends (benchmark)", content)


def studies_section(ctx: ReportContext) -> Section | None:
    """The benchmark studies of ``report.studies``: each one's text, table and figures."""
    if not ctx.studies:
        return None
    parts = []
    for study in ctx.studies:
        figures = "".join(img(f, e(f"{study.title}: {f.stem}")) for f in study.figures)
        body = study_caption(str(study.path)) + markdown_html(study.markdown) + figures
        parts.append(f"<h3>{e(study.title)}</h3>{body}")
    return Section("studies", "Benchmark studies", "".join(parts))


def training_section(ctx: ReportContext) -> Section | None:
    """Learning curves of every trained model, one figure per task."""
    if not ctx.histories:
        return None
    curves = []
    for task, label, suffix in CURVE_TASKS:
        group = {m: h for m, h in ctx.histories.items() if h.attrs["task"] == task}
        if not group:
            continue
        path = plot_learning_curves(group, ctx.fig_dir / f"learning_curves{suffix}.png", task)
        curves.append(img(path, learning_curves_caption(task, label)))
    content = convergence_rule() + convergence_html(ctx.runs) + "".join(curves)
    return Section("training", "Learning curves and convergence", content)


def run_times_section(ctx: ReportContext) -> Section | None:
    """Wall-clock and CPU time per workflow stage."""
    if ctx.run_times.empty:
        return None
    content = RUN_TIMES_CAPTION + run_times_html(ctx.run_times)
    return Section("run-times", "Run times per stage", content)


def provenance_section(ctx: ReportContext) -> Section:
    """Checksums, tool versions, commit and config of the run."""
    if not ctx.provenance:
        return Section("provenance", "Provenance", "<p>No provenance recorded.</p>")
    return Section("provenance", "Provenance", provenance_html(ctx.provenance))

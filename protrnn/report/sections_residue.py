"""The per-residue sections of the report (secondary structure): one function per section,
each returning its :class:`~protrnn.report.html.Section` or None when it has nothing to show,
and drawing its figures into ``figures/``."""

from __future__ import annotations

from functools import partial

from protrnn.report.common import by_test_set
from protrnn.report.context import ReportContext
from protrnn.report.figures import (
    plot_calibration,
    plot_confusions,
    plot_length_bins,
    plot_per_class_f1,
)
from protrnn.report.html import (
    CALIBRATION_CAPTION,
    PER_CLASS_CAPTION,
    Section,
    accuracy_caption,
    convergence_rule,
    pairwise_caption,
    test_set_figures,
)
from protrnn.report.render import accuracy_html, ece_html, pairwise_html, per_class_html
from protrnn.report.render_training import not_converged_notice


def accuracy_section(ctx: ReportContext) -> Section:
    """Q8/Q3 and SOV with 95% CIs per model and test set, published rows beside them."""
    evals = ctx.residue.evals
    masks = sorted({str(e.get("mask_description", e.get("mask", "?"))) for e in evals})
    n_boot = next((e["bootstrap"].get("n_boot") for e in evals if e.get("bootstrap")), None)
    trained = ctx.trained(ctx.residue)
    content = (
        accuracy_caption(masks, n_boot)
        + convergence_rule()
        + accuracy_html(ctx.residue.accuracy, trained)
        + not_converged_notice(trained)
    )
    return Section("accuracy", "Accuracy", content)


def pairwise_section(ctx: ReportContext) -> Section | None:
    """Paired bootstrap tests between the models of each test set."""
    parts = [pairwise_html(ctx.residue.pairwise, ts) for ts in ctx.residue.test_sets]
    if not parts:
        return None
    content = pairwise_caption(ctx.n_boot, ctx.seed) + "".join(parts)
    return Section("pairwise", "Pairwise significance", content)


def per_class_section(ctx: ReportContext) -> Section | None:
    """Per-class F1 and MCC tables and bar charts per test set."""
    res = ctx.residue
    draw = partial(plot_per_class_f1, res.per_class)
    table = partial(per_class_html, res.per_class, res.accuracy)
    parts = test_set_figures(res.test_sets, ctx.fig_dir, "per_class_f1", draw, table)
    if not parts:
        return None
    return Section("per-class", "Per-class F1 and MCC", PER_CLASS_CAPTION + "".join(parts))


def confusion_section(ctx: ReportContext) -> Section | None:
    """8-state confusion heatmaps per test set."""
    draw = partial(plot_confusions, ctx.residue.evals)
    parts = test_set_figures(ctx.residue.test_sets, ctx.fig_dir, "confusion", draw)
    if not parts:
        return None
    return Section("confusion", "Confusion matrices", "".join(parts))


def length_section(ctx: ReportContext) -> Section | None:
    """Q8/Q3 by sequence length per test set (where metrics.json has length bins)."""
    bins = ctx.residue.length_bins
    test_sets = [ts for ts in ctx.residue.test_sets if not by_test_set(bins, ts).empty]
    parts = test_set_figures(test_sets, ctx.fig_dir, "length_bins", partial(plot_length_bins, bins))
    if not parts:
        return None
    return Section("length", "Accuracy by sequence length", "".join(parts))


def calibration_section(ctx: ReportContext) -> Section | None:
    """ECE table and reliability diagrams per test set (where there are calibration bins)."""
    calib = ctx.residue.calibration
    test_sets = [ts for ts in ctx.residue.test_sets if (by_test_set(calib, ts)["n"] > 0).any()]
    draw = partial(plot_calibration, calib, ctx.residue.evals)
    parts = test_set_figures(test_sets, ctx.fig_dir, "calibration", draw)
    if not parts:
        return None
    content = CALIBRATION_CAPTION + ece_html(ctx.residue.accuracy) + "".join(parts)
    return Section("calibration", "Calibration", content)

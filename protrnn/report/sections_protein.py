"""The per-protein sections of the report (subcellular localization, membrane/soluble): one
function per section, each returning its :class:`~protrnn.report.html.Section` or None when
there is no per-protein result, and drawing its figures as ``figures/protein_*.png``."""

from __future__ import annotations

from functools import partial

from protrnn.report.context import ReportContext
from protrnn.report.figures import plot_protein_confusions, plot_protein_per_class_f1
from protrnn.report.html import (
    CONVERGENCE_POINTER,
    PARSE_STATS_CAPTION,
    PROTEIN_PER_CLASS_CAPTION,
    PROTEIN_SUMMARY_CAPTION,
    Section,
    protein_pairwise_caption,
    test_set_figures,
)
from protrnn.report.render_protein import (
    parse_stats_html,
    protein_pairwise_html,
    protein_per_class_html,
    protein_summary_html,
)
from protrnn.report.render_training import not_converged_notice


def localization_section(ctx: ReportContext) -> Section | None:
    """Accuracy, MCC and membrane accuracy per model and test set, and the parsers' counts."""
    if ctx.protein is None:
        return None
    trained = ctx.trained(ctx.protein)
    content = (
        PROTEIN_SUMMARY_CAPTION
        + CONVERGENCE_POINTER
        + protein_summary_html(ctx.protein.summary, trained)
        + not_converged_notice(trained)
    )
    if ctx.parse_stats:
        content += PARSE_STATS_CAPTION + parse_stats_html(ctx.parse_stats)
    return Section("localization", "Localization (per protein)", content)


def localization_pairwise_section(ctx: ReportContext) -> Section | None:
    """Paired bootstrap tests between the models of each per-protein test set."""
    if ctx.protein is None or not ctx.protein.test_sets:
        return None
    parts = [protein_pairwise_html(ctx.protein.pairwise, ts) for ts in ctx.protein.test_sets]
    content = protein_pairwise_caption(ctx.n_boot, ctx.seed) + "".join(parts)
    return Section("localization-pairwise", "Localization: pairwise significance", content)


def localization_per_class_section(ctx: ReportContext) -> Section | None:
    """Per-location F1 and MCC tables and bar charts per test set."""
    if ctx.protein is None or not ctx.protein.test_sets:
        return None
    res = ctx.protein
    draw = partial(plot_protein_per_class_f1, res.per_class)
    table = partial(protein_per_class_html, res.per_class, res.summary)
    parts = test_set_figures(res.test_sets, ctx.fig_dir, "protein_f1", draw, table)
    content = PROTEIN_PER_CLASS_CAPTION + "".join(parts)
    return Section("localization-per-class", "Localization: per-class F1 and MCC", content)


def localization_confusion_section(ctx: ReportContext) -> Section | None:
    """Location confusion heatmaps per test set."""
    if ctx.protein is None or not ctx.protein.test_sets:
        return None
    draw = partial(plot_protein_confusions, ctx.protein.evals)
    parts = test_set_figures(ctx.protein.test_sets, ctx.fig_dir, "protein_confusion", draw)
    return Section("localization-confusion", "Localization: confusion matrices", "".join(parts))

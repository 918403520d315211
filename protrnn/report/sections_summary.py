"""The summary at the top of the report: per experiment one figure of every model's headline
scores per test set with 95% intervals (published rows marked), and beside it the sentences of
:mod:`protrnn.report.summary` (best model, significance of its lead, gap to published rows)."""

from __future__ import annotations

import pandas as pd

from protrnn.report.common import escape as e
from protrnn.report.common import img, safe_name
from protrnn.report.context import ReportContext, Results
from protrnn.report.figures import plot_summary
from protrnn.report.html import Section, caption, summary_caption
from protrnn.report.summary import (
    PROTEIN_HEADLINE,
    RESIDUE_HEADLINE,
    Headline,
    ensemble_sentence,
    experiment_test_sets,
    summary_sentences,
)


def _experiment_html(
    ctx: ReportContext,
    name: str,
    test_sets: list[str],
    table: pd.DataFrame,
    results: Results,
    headline: Headline,
) -> str:
    """Figure and sentences of one experiment."""
    rows = table[table["test_set"].isin(test_sets)]
    path = ctx.fig_dir / f"summary_{safe_name(name)}.png"
    labels = " and ".join(label for _, label in headline.shown)
    plot_summary(rows, headline.shown, f"{name}: {labels} per test set", path)
    trained = ctx.trained(results)
    words = []
    for ts in test_sets:
        sentences = summary_sentences(rows, results.pairwise, ts, headline, trained)
        if sentences:
            items = "".join(f"<li>{e(s)}</li>" for s in sentences)
            words.append(f"<h4>{e(ts)}</h4><ul>{items}</ul>")
    ensemble = ensemble_sentence(results.evals, name)
    if ensemble:
        words.append(f"<p>{e(ensemble)}</p>")
    figure = img(path, summary_caption(labels))
    return (
        f'<h3>Experiment {e(name)}</h3><div class="summary">{figure}'
        f'<div class="sentences">{"".join(words)}</div></div>'
    )


def summary_section(ctx: ReportContext) -> Section | None:
    """The answer at a glance, per experiment (None without any evaluation)."""
    parts = []
    tasks = [(ctx.residue, ctx.residue.accuracy, RESIDUE_HEADLINE)]
    if ctx.protein is not None:
        tasks.append((ctx.protein, ctx.protein.summary, PROTEIN_HEADLINE))
    for results, table, headline in tasks:
        for name, test_sets in experiment_test_sets(results.evals, headline.task).items():
            parts.append(_experiment_html(ctx, name, test_sets, table, results, headline))
    if not parts:
        return None
    intro = caption(
        "Which model is best on each test set, by how much, and is that real? Details, every "
        "other score and the tests behind these sentences follow in the sections below."
    )
    return Section("summary", "Summary", intro + "".join(parts))

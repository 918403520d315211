"""HTML of the report's per-protein tables (localization): the summary with each model's
learning curve, per-location F1/MCC, pairwise tests and the parsers' counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from protrnn.report.common import OWN_SOURCE, by_test_set, fmt, fmt_ci, int_or_none, missing, wide
from protrnn.report.common import escape as e
from protrnn.report.convergence import Convergence
from protrnn.report.render import group_rows, head_row, no_pairs, pair_row, score_rows
from protrnn.report.render_training import training_cell

PROTEIN_SUMMARY_HEAD = [
    "Model / method",
    "Accuracy (%) [95% CI]",
    "MCC [95% CI]",
    "Macro-F1",
    "Membrane/soluble accuracy (%) [95% CI]",
    "Proteins",
    "Profiles",
    "Note",
    "Learning curve",
]
PROTEIN_PAIRWISE_HEAD = (
    "<tr><th>Model A</th><th>Model B</th><th>Metric</th><th>A</th><th>B</th>"
    "<th>A &minus; B [95% CI]</th><th>p-value</th><th>Proteins</th><th>Verdict</th></tr>"
)
PROTEIN_METRIC_NAMES = {
    "accuracy": "accuracy (%)",
    "mcc": "MCC",
    "membrane_accuracy": "membrane (%)",
}


def protein_summary_html(
    table: pd.DataFrame, trained: Mapping[str, Convergence] | None = None
) -> str:
    """The per-protein summary table, grouped by test set, published rows marked, with each
    model's learning curve (``trained``: model -> its training)."""
    trained = trained or {}

    def cells(r: Any, published: bool) -> list[str]:
        # published values keep the paper's two decimals
        digits = 2 if published else 1
        accuracy = fmt_ci(r.accuracy, r.accuracy_ci_low, r.accuracy_ci_high, digits)
        membrane = fmt_ci(
            r.membrane_accuracy, r.membrane_accuracy_ci_low, r.membrane_accuracy_ci_high
        )
        n_mem = int_or_none(r.membrane_n)
        if n_mem is not None and not missing(r.membrane_accuracy):
            membrane += f" <small>(n={n_mem:,})</small>"
        return [
            f'<td class="num">{accuracy}</td>',
            f'<td class="num">{fmt_ci(r.mcc, r.mcc_ci_low, r.mcc_ci_high, 3)}</td>',
            f'<td class="num">{fmt(r.macro_f1, 3)}</td>',
            f'<td class="num">{membrane}</td>',
            f'<td class="num">{fmt(int_or_none(r.n_proteins))}</td>',
            f"<td>{e(r.profiles)}</td>",
            f"<td>{e(r.note) if isinstance(r.note, str) else ''}</td>",
            f"<td>{'' if published else training_cell(trained.get(r.model))}</td>",
        ]

    rows = group_rows(table, len(PROTEIN_SUMMARY_HEAD), cells, trained)
    return wide(f"<table>{head_row(PROTEIN_SUMMARY_HEAD)}{rows}</table>")


def protein_per_class_html(per_class: pd.DataFrame, summary: pd.DataFrame, test_set: str) -> str:
    """Per-location F1 (and one-vs-rest MCC) per model on one test set, with macro-F1."""
    data = per_class[(per_class["test_set"] == test_set) & (per_class["head"] == "location")]
    own = summary[(summary["test_set"] == test_set) & (summary["source"] == OWN_SOURCE)]
    if data.empty or own.empty:
        return ""
    classes = list(dict.fromkeys(data["class"]))
    support = data.drop_duplicates("class").set_index("class")["support"]
    head = (
        "<tr><th>Model</th><th>Score</th>"
        + "".join(
            f"<th>{e(c)}<br><small>n={int(support.get(c, 0)):,}</small></th>" for c in classes
        )
        + "<th>Macro-F1</th></tr>"
    )
    body = []
    for r in own.itertuples(index=False):
        sub = data[data["model"] == r.model].set_index("class")
        macro = f'<td class="num" rowspan="2">{fmt(r.macro_f1, 3)}</td>'
        body += score_rows(r.model, sub, classes, macro)
    return f"<h3>{e(test_set)}</h3>" + wide(f"<table>{head}{''.join(body)}</table>")


def protein_pairwise_html(pairwise: pd.DataFrame, test_set: str) -> str:
    """The pairwise significance table of one per-protein test set."""
    data = by_test_set(pairwise, test_set)
    if data.empty:
        return no_pairs(test_set)
    body = "".join(
        pair_row(
            r,
            PROTEIN_METRIC_NAMES.get(r.metric, r.metric),
            3 if r.units == "fraction" else 1,
            r.significant is True,
        )
        for r in data.itertuples(index=False)
    )
    return f"<h3>{e(test_set)}</h3>" + wide(f"<table>{PROTEIN_PAIRWISE_HEAD}{body}</table>")


def parse_stats_html(parse_stats: Mapping[str, Mapping[str, Any]]) -> str:
    """One row per dataset from its ``parse_stats`` (:mod:`protrnn.data.formats.deeploc`): records
    read, dropped per reason, kept, kept per split, and what was excluded."""
    if not parse_stats:
        return ""
    head = (
        "<tr><th>Dataset</th><th>Records read</th><th>Dropped</th><th>Kept</th>"
        "<th>Per split</th><th>Exclusion</th></tr>"
    )
    body = []
    for name, stats in parse_stats.items():
        dropped = ", ".join(
            f"{e(k.replace('_', ' '))}: {int(v):,}" for k, v in (stats.get("dropped") or {}).items()
        )
        splits = ", ".join(f"{e(k)}: {int(v):,}" for k, v in (stats.get("splits") or {}).items())
        body.append(
            f'<tr><td>{e(name)}</td><td class="num">{fmt(stats.get("records_read"))}</td>'
            f'<td>{dropped or "&ndash;"}</td><td class="num">{fmt(stats.get("kept"))}</td>'
            f"<td>{splits or '&ndash;'}</td><td>{e(stats.get('exclusion', ''))}</td></tr>"
        )
    return wide(f"<table>{head}{''.join(body)}</table>")

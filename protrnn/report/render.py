"""HTML of the report's per-residue and run-wide tables, one function per table (the
DataFrames come from :mod:`protrnn.report.tables` and :mod:`protrnn.report.pairwise`), and the
helpers the per-protein tables (:mod:`protrnn.report.render_protein`) share: every table sits in
a box that scrolls sideways if it is wider than the page, published rows are marked, models
that did not converge carry a badge, every value is escaped."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from protrnn.report.common import (
    OWN_SOURCE,
    by_test_set,
    fmt,
    fmt_ci,
    hms,
    int_or_none,
    p_value_text,
    wide,
)
from protrnn.report.common import escape as e
from protrnn.report.convergence import Convergence
from protrnn.report.render_training import training_cell
from protrnn.report.tables import CV_COLUMNS

#: accuracy.tsv columns of the main accuracy table (95% CIs in brackets) and their headers.
ACCURACY_MAIN = {"q8": "Q8 (%)", "q3": "Q3 (%)", "sov99_ss8": "SOV'99 8-state (%)"}
#: Columns with a CI behind the "more columns" toggle.
ACCURACY_MORE = {
    "q3_from_ss8": "Q3 from 8-state head (%)",
    "sov99_ss3": "SOV'99 3-state (%)",
    "sov_refine_ss8": "SOV_refine 8-state (%)",
    "sov_refine_ss3": "SOV_refine 3-state (%)",
}
ACCURACY_MORE_SUMMARY = (
    "More columns: Q3 from the 8-state head, SOV'99 3-state, SOV_refine, per-protein mean Q8, "
    "residues and mask of this workflow's rows"
)
PAIRWISE_HEAD = (
    "<tr><th>Model A</th><th>Model B</th><th>Metric</th><th>A (%)</th><th>B (%)</th>"
    "<th>A &minus; B (points) [95% CI]</th><th>p-value</th><th>Proteins</th>"
    "<th>Verdict</th></tr>"
)


def head_row(names: list[str]) -> str:
    """A header row of ready-made cell contents."""
    return "<tr>" + "".join(f"<th>{n}</th>" for n in names) + "</tr>"


def name_cell(model: str, source: str, run: Convergence | None = None) -> tuple[str, bool]:
    """(Model cell content, published?): published rows carry their source as a badge, models
    the convergence rule marks carry a "not converged" badge."""
    published = source != OWN_SOURCE
    name = e(model)
    if published:
        name += f' <span class="badge">{e(source)}</span>'
    if run is not None and run.converged is False:
        name += f' <span class="badge warn" title="{e(run.verdict)}">not converged</span>'
    return name, published


def group_rows(
    table: pd.DataFrame,
    columns: int,
    cells: Callable[[Any, bool], list[str]],
    trained: Mapping[str, Convergence] | None = None,
) -> str:
    """Rows grouped under one header row per test set; ``cells(row, published)`` gives a row's
    cells after the model name; ``trained``: model -> its training (for the badge)."""
    trained = trained or {}
    body = []
    for test_set, group in table.groupby("test_set", sort=False):
        body.append(f'<tr class="group"><td colspan="{columns}">Test set: {e(test_set)}</td></tr>')
        for r in group.itertuples(index=False):
            run = None if r.source != OWN_SOURCE else trained.get(r.model)
            name, published = name_cell(r.model, r.source, run)
            cls = ' class="published"' if published else ""
            body.append(f"<tr{cls}><td>{name}</td>{''.join(cells(r, published))}</tr>")
    return "".join(body)


def score_rows(model: str, sub: pd.DataFrame, classes: list[str], macro: str) -> list[str]:
    """F1 and MCC rows of one model over ``classes``; ``macro`` cells span both rows."""
    rows = []
    for k, score in enumerate(("f1", "mcc")):
        name = f'<td rowspan="2">{e(model)}</td>' if k == 0 else ""
        cells = "".join(
            f'<td class="num">{fmt(sub[score].get(c, np.nan), 3)}</td>' for c in classes
        )
        rows.append(f"<tr>{name}<td>{score.upper()}</td>{cells}{macro if k == 0 else ''}</tr>")
    return rows


def no_pairs(test_set: str) -> str:
    """What a pairwise section says for a test set without a testable pair."""
    return (
        f"<h3>{e(test_set)}</h3><p>No pair of models with per-protein predictions on "
        "this test set.</p>"
    )


# ----------------------------------------------------------------------------- per residue


def _ci_cells(r: Any, columns: Mapping[str, str]) -> list[str]:
    row = r._asdict()
    return [
        f'<td class="num">{fmt_ci(row[k], row[f"{k}_ci_low"], row[f"{k}_ci_high"])}</td>'
        for k in columns
    ]


def accuracy_html(table: pd.DataFrame, trained: Mapping[str, Convergence] | None = None) -> str:
    """The accuracy table, grouped by test set, published rows marked: Q8, Q3 and SOV'99 with
    95% CIs, proteins, profiles and each model's learning curve; the other columns of
    accuracy.tsv behind a toggle (:func:`accuracy_more_html`)."""
    trained = trained or {}
    head = head_row(
        ["Model / method", *ACCURACY_MAIN.values(), "Proteins", "Profiles", "Learning curve"]
    )

    def cells(r: Any, published: bool) -> list[str]:
        curve = "" if published else training_cell(trained.get(r.model))
        return [
            *_ci_cells(r, ACCURACY_MAIN),
            f'<td class="num">{fmt(int_or_none(r.n_proteins))}</td>',
            f"<td>{e(r.profiles)}</td>",
            f"<td>{curve}</td>",
        ]

    rows = group_rows(table, len(ACCURACY_MAIN) + 4, cells, trained)
    return wide(f"<table>{head}{rows}</table>") + accuracy_more_html(table, trained)


def accuracy_more_html(
    table: pd.DataFrame, trained: Mapping[str, Convergence] | None = None
) -> str:
    """The secondary accuracy columns of this workflow's rows, behind a <details> toggle."""
    own = table[table["source"] == OWN_SOURCE]
    if own.empty:
        return ""
    head = head_row(
        ["Model", *ACCURACY_MORE.values(), "Per-protein mean Q8 (%)", "Residues", "Mask"]
    )

    def cells(r: Any, published: bool) -> list[str]:
        return [
            *_ci_cells(r, ACCURACY_MORE),
            f'<td class="num">{fmt(r.q8_per_protein_mean)}</td>',
            f'<td class="num">{fmt(int_or_none(r.n_residues))}</td>',
            f"<td>{fmt(r.mask)}</td>",
        ]

    rows = group_rows(own, len(ACCURACY_MORE) + 4, cells, trained)
    table_html = wide(f"<table>{head}{rows}</table>")
    return f"<details><summary>{ACCURACY_MORE_SUMMARY}</summary>{table_html}</details>"


def per_class_html(per_class: pd.DataFrame, acc: pd.DataFrame, test_set: str) -> str:
    """8-state F1 and one-vs-rest MCC per class and model, with macro-F1 (8 and 3 states)."""
    data = by_test_set(per_class, test_set)
    data = data[data["head"] == "ss8"]
    own = by_test_set(acc, test_set)
    own = own[own["source"] == OWN_SOURCE]
    if data.empty or own.empty:
        return ""
    classes = list(dict.fromkeys(data["class"]))
    head = (
        "<tr><th>Model</th><th>Score</th>"
        + "".join(f"<th>{e(c)}</th>" for c in classes)
        + "<th>Macro-F1 8-state</th><th>Macro-F1 3-state</th></tr>"
    )
    body = []
    for r in own.itertuples(index=False):
        sub = data[data["model"] == r.model].set_index("class")
        macro = (
            f'<td class="num" rowspan="2">{fmt(r.macro_f1_ss8, 3)}</td>'
            f'<td class="num" rowspan="2">{fmt(r.macro_f1_ss3, 3)}</td>'
        )
        body += score_rows(r.model, sub, classes, macro)
    return f"<h3>{e(test_set)}</h3>" + wide(f"<table>{head}{''.join(body)}</table>")


def pair_row(r: Any, metric: str, digits: int, significant: bool) -> str:
    """One row of a pairwise table (values with ``digits`` decimals, the difference with one
    more)."""
    cls = ' class="sig"' if significant else ""
    return (
        f"<tr><td>{e(r.model_a)}</td><td>{e(r.model_b)}</td><td>{e(metric)}</td>"
        f'<td class="num">{fmt(r.a, digits)}</td><td class="num">{fmt(r.b, digits)}</td>'
        f'<td class="num">{fmt_ci(r.diff, r.ci_low, r.ci_high, digits + 1)}</td>'
        f'<td class="num">{p_value_text(r.p_value, r.n_boot)}</td>'
        f'<td class="num">{fmt(int_or_none(r.n_proteins))}</td>'
        f"<td{cls}>{e(r.verdict)}</td></tr>"
    )


def pairwise_html(pairwise: pd.DataFrame, test_set: str) -> str:
    """The pairwise significance table of one test set."""
    data = by_test_set(pairwise, test_set)
    if data.empty:
        return no_pairs(test_set)
    body = "".join(
        pair_row(r, r.metric, 1, bool(r.significant)) for r in data.itertuples(index=False)
    )
    return f"<h3>{e(test_set)}</h3>" + wide(f"<table>{PAIRWISE_HEAD}{body}</table>")


def ece_html(acc: pd.DataFrame) -> str:
    """Expected calibration error per own model and test set."""
    own = acc[acc["source"] == OWN_SOURCE]
    if own.empty:
        return ""
    head = (
        "<tr><th>Test set</th><th>Model</th><th>ECE 8-state (%)</th><th>ECE 3-state (%)</th></tr>"
    )
    body = "".join(
        f"<tr><td>{e(r.test_set)}</td><td>{e(r.model)}</td>"
        f'<td class="num">{fmt(r.ece_ss8, 2)}</td><td class="num">{fmt(r.ece_ss3, 2)}</td></tr>'
        for r in own.itertuples(index=False)
    )
    return wide(f"<table>{head}{body}</table>")


# ----------------------------------------------------------------------------- run-wide


def _plain_table(head: list[str], rows: Any) -> str:
    """A table of ready-made cell contents under plain headers."""
    header = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return wide(f"<table><tr>{header}</tr>{body}</table>")


def redundancy_html(table: pd.DataFrame) -> str:
    """Accuracy on all and on the non-redundant test proteins."""
    head = ["Test set", "Model", "Metric", "Proteins", "Redundant", "All proteins"]
    rows = (
        (e(r.test_set), e(r.model), e(r.metric), r.n_proteins, r.n_redundant, fmt(r.all))
        + (fmt(r.nonredundant),)
        for r in table.itertuples()
    )
    return _plain_table([*head, "Non-redundant only"], rows)


def cross_validation_html(table: pd.DataFrame) -> str:
    """Mean and spread over cross-validation folds."""
    rows = (
        (e(r.test_set), e(r.model), r.folds, e(r.metric))
        + (fmt(r.mean), fmt(r.sd), fmt(r.min), fmt(r.max))
        for r in table.itertuples()
    )
    return _plain_table([e(c) for c in CV_COLUMNS], rows)


def run_times_html(table: pd.DataFrame) -> str:
    """Run time per stage, with a total row."""
    head = (
        "<tr><th>Stage</th><th>Jobs</th><th>Wall time (s)</th><th>h:mm:ss</th>"
        "<th>CPU time (s)</th><th>Peak RSS (MB)</th><th>Slowest job</th>"
        "<th>Its time (s)</th></tr>"
    )
    body = [
        f'<tr><td>{e(r.stage)}</td><td class="num">{fmt(int(r.jobs))}</td>'
        f'<td class="num">{fmt(r.seconds)}</td><td class="num">{e(r.hms)}</td>'
        f'<td class="num">{fmt(r.cpu_seconds)}</td><td class="num">{fmt(r.max_rss_mb)}</td>'
        f'<td>{e(r.slowest_job)}</td><td class="num">{fmt(r.slowest_seconds)}</td></tr>'
        for r in table.itertuples(index=False)
    ]
    total = float(table["seconds"].sum(min_count=1))
    body.append(
        f'<tr class="group"><td>total</td><td class="num">{fmt(int(table["jobs"].sum()))}'
        f'</td><td class="num">{fmt(total)}</td><td class="num">{hms(total)}</td>'
        '<td colspan="4"></td></tr>'
    )
    return wide(f"<table>{head}{''.join(body)}</table>")

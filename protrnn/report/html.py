"""Page assembly and the report's words: the CSS, the page around the sections, every caption,
and the renderer of provenance records (benchmark markdown: :mod:`protrnn.report.markdown`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from protrnn.report.common import ALPHA, img, safe_name, wide
from protrnn.report.common import escape as e
from protrnn.report.convergence import RISE_POINTS

TITLE = "protrnn: secondary structure and localization from sequence"

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1400px; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #345; padding-bottom: .2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .8em 0; font-size: .92em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.sig { color: #1a6b2a; font-weight: bold; }
div.wide { overflow-x: auto; }
tr.published td { background: #fff8e5; font-style: italic; }
tr.group td { background: #e4e9f0; font-weight: bold; }
span.badge { background: #c77d00; color: #fff; border-radius: 3px; padding: 0 .4em;
             font-size: .8em; font-style: normal; white-space: nowrap; }
span.badge.warn { background: #b3261e; }
td.warn, p.warning { color: #b3261e; }
svg.spark { vertical-align: middle; }
details { margin: .4em 0 1em; }
details summary { cursor: pointer; color: #345; }
div.summary { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
div.summary figure { flex: 2 1 600px; margin: 0; }
div.summary div.sentences { flex: 1 1 360px; }
section#provenance td { overflow-wrap: anywhere; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption, p.caption { color: #555; font-size: .9em; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; font-size: .85em; }
nav a { margin-right: 1em; }
"""


class Section(NamedTuple):
    """One section of the page: its anchor, heading and HTML content."""

    anchor: str
    heading: str
    html: str


def page(title: str, sections: list[Section]) -> str:
    """Assemble the page from its sections, with a navigation line."""
    nav = " ".join(f'<a href="#{a}">{e(h)}</a>' for a, h, _ in sections)
    body = "".join(
        f'<section id="{a}"><h2>{e(h)}</h2>{content}</section>' for a, h, content in sections
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{e(title)}</h1>"
        f"<nav>{nav}</nav>{body}</body></html>\n"
    )


def caption(text: str) -> str:
    """A caption paragraph."""
    return f'<p class="caption">{text}</p>'


# ----------------------------------------------------------------------------- captions


def convergence_rule() -> str:
    """The convergence rule, as the report states it."""
    return caption(
        'Convergence: a model is marked <span class="badge warn">not converged</span> when its '
        "training ended at the epoch limit of its preset (not by early stopping) and its "
        "validation score (Q8 for secondary structure, accuracy for localization) rose by more "
        f"than {RISE_POINTS:g} points over its last two epochs (the last epoch's value minus "
        "the value two epochs earlier); a model trained for a single epoch that ended at the "
        "limit is marked too. The "
        "comparison of a marked model is provisional: it was still improving when its epoch "
        "budget ran out, so more training could change its rank. The Learning curve column "
        "shows each model's validation score per epoch (hover for the values)."
    )


CONVERGENCE_POINTER = caption(
    'The <span class="badge warn">not converged</span> marks and learning curves follow the '
    'convergence rule stated under <a href="#training">Learning curves and convergence</a>; '
    "a marked model's comparison is provisional."
)


def accuracy_caption(masks: list[str], n_boot: Any) -> str:
    """What the accuracy table measures (masks used, bootstrap resamples)."""
    return caption(
        "Q8 and Q3 are residue-pooled accuracies over all counted residues of a test set (not "
        "a mean of per-protein accuracies, which is shown separately); residues count where "
        f"the mask is 1 and the true label is known. Masks used: {e('; '.join(masks) or '-')}. "
        "Q3 is the 3-state head; 'Q3 from 8-state head' reduces the 8-state prediction "
        "(H,G,I&rarr;H; E,B&rarr;E; T,S,C&rarr;C). SOV'99 (Zemla et al. 1999) and SOV_refine "
        "(Liu &amp; Wang 2018) are computed per protein over observed segments and reported as "
        "the mean over proteins. Brackets give 95% percentile-bootstrap confidence intervals "
        f"over proteins ({e(n_boot or 'no')} resamples; proteins, not residues, are "
        "resampled). Own models are sorted by Q8, best first. Published rows are copied from "
        "the papers, were computed with other profile databases (column Profiles), and are not "
        "re-run here; profile depth alone moves accuracy by several points."
    )


def pairwise_caption(n_boot: int, seed: int) -> str:
    """How the per-residue pairwise tests were made."""
    return caption(
        "Every pair of this workflow's models on a test set, paired by protein: the "
        "difference A &minus; B in residue-pooled accuracy (percentage points), its 95% "
        f"paired percentile-bootstrap interval over proteins ({n_boot} resamples, seed {seed}) "
        "and the two-sided bootstrap p-value (smallest possible value "
        f"{2 / (n_boot + 1):.3f}). 'Significant at {ALPHA:g}' means p &lt; {ALPHA:g}; no "
        "correction for multiple comparisons is applied, so with many pairs read small "
        "differences with care. Model A is the one ranked higher by Q8."
    )


def protein_pairwise_caption(n_boot: int, seed: int) -> str:
    """How the per-protein pairwise tests were made."""
    return caption(
        "Every pair of this workflow's models on a per-protein test set, paired by protein: "
        "differences A &minus; B in accuracy (percentage points), MCC and membrane/soluble "
        f"accuracy with 95% paired percentile-bootstrap intervals ({n_boot} resamples, seed "
        f"{seed}) and two-sided bootstrap p-values (smallest possible {2 / (n_boot + 1):.3f}); "
        "no correction for multiple comparisons. Model A is the one ranked higher by accuracy."
    )


def redundancy_caption(evalue: float, identity: float) -> str:
    """How test proteins were flagged redundant (``identity`` in percent)."""
    return caption(
        "Test proteins with a significant MMseqs2 alignment (E-value at most "
        f"{evalue:g}) of at least {identity:.0f}% sequence identity to a protein the models "
        "trained or early-stopped on are flagged redundant; accuracy is shown on all test "
        "proteins and on the non-redundant ones only (Q8/Q3 residue-pooled, accuracy per "
        "protein; percent). A large gap means the test set rewards memorised homologues."
    )


def backends_caption(path: str) -> str:
    """What the profile-backend benchmark measured."""
    return caption(
        f"Output of <code>bench/profile_backends.py</code> ({e(path)}): the same chains "
        "searched against the same database by each backend (throughput, and the ratio to "
        "MMseqs2), agreement between their PSSMs (mean per-position Pearson r), and the CB513 "
        "accuracy of one small model trained on each backend's profiles and on one-hot input "
        "alone."
    )


def study_caption(path: str) -> str:
    """Where a benchmark study comes from, and that its models are not this run's."""
    return caption(
        f"From <code>{e(path)}</code> (<code>report.studies</code>): a benchmark run separate "
        "from this workflow run, with its own models; its text names the command, machine, "
        "commit and date. Its numbers are not this run's, and change only when the study is "
        "run again."
    )


PER_CLASS_CAPTION = caption(
    "F1 and one-vs-rest Matthews correlation (MCC) per DSSP class; "
    "macro-F1 is the unweighted mean of per-class F1 over the classes present or predicted, "
    "so rare classes (I, B, G) weigh as much as H or E."
)
CALIBRATION_CAPTION = caption(
    "Expected calibration error (ECE): over scored residues, the "
    "residue-weighted mean gap |accuracy &minus; mean confidence| across 15 equal-width bins "
    "of top-label confidence (percent; lower is better)."
)
RUN_TIMES_CAPTION = caption(
    "From Snakemake benchmark files: wall-clock seconds summed over the "
    "jobs of each stage (a stage is the first folder under benchmarks/; jobs may have run in "
    "parallel, so the total is compute time, not elapsed time), CPU time summed, and the "
    "largest peak resident memory of one job."
)
CV_CAPTION = caption(
    "Cross-validation: each fold trains on all homology partitions but one and "
    "scores the held-out one (and any other test set); mean, standard deviation (n - 1), minimum "
    "and maximum over folds, in percent (MCC x 100)."
)
PROTEIN_SUMMARY_CAPTION = caption(
    "Per-protein test sets (subcellular localization, 10 classes as in DeepLoc 1.0). Accuracy: "
    "fraction of proteins whose most probable location is the annotated one; MCC: Gorodkin's "
    "multi-class Matthews correlation (R<sub>K</sub>); macro-F1: unweighted mean of per-location "
    "F1; membrane/soluble accuracy over proteins with a known membrane label (n). Brackets give "
    "95% percentile-bootstrap intervals over proteins. Own models are sorted by accuracy, best "
    "first. Published rows are copied from the papers, not re-run here: DeepLoc 1.0's 77.97% "
    "was measured on its full test set (2,773 proteins) with profiles, after training on its "
    "own training split; rows of this workflow on a DeepLoc 1.0 test set may cover fewer "
    "proteins (see Proteins and the dataset table), so the numbers are not directly comparable."
)
PARSE_STATS_CAPTION = (
    '<h3>Datasets</h3><p class="caption">Proteins read, dropped (and why) and kept by '
    "each per-protein dataset's parser, before any subsampling.</p>"
)
PROTEIN_PER_CLASS_CAPTION = caption(
    "F1 and one-vs-rest MCC per location; macro-F1 weighs rare "
    "locations (Peroxisome, Golgi apparatus) as much as Nucleus or Cytoplasm."
)

#: Figure captions; ``{ts}`` is the escaped test-set name.
FIGURE_CAPTIONS = {
    "per_class_f1": "Per-class F1 on {ts} (8-state and 3-state heads), over residues with mask 1.",
    "confusion": (
        "8-state confusion on {ts}: each row is a true DSSP "
        "class, cells give the % of that class predicted as each column."
    ),
    "length_bins": (
        "Q8 and Q3 on {ts} by full sequence length, "
        "pooled over the proteins of each bin (protein counts under "
        "the bins); bars are 95% bootstrap intervals over proteins."
    ),
    "calibration": (
        "Reliability diagrams on {ts}: residues "
        "binned by top-label confidence (15 equal-width bins); a "
        "calibrated model lies on the diagonal."
    ),
    "protein_f1": "Per-location F1 on {ts}.",
    "protein_confusion": (
        "Location confusion on {ts}: each row is a true location (protein count "
        "in brackets), cells give the % of its proteins predicted as each column."
    ),
}


def figure_caption(kind: str, test_set: str) -> str:
    """The caption of one per-test-set figure."""
    return FIGURE_CAPTIONS[kind].format(ts=e(test_set))


def test_set_figures(
    test_sets: list[str],
    fig_dir: Path,
    kind: str,
    draw: Callable[[str, Path], Path],
    table: Callable[[str], str] | None = None,
) -> list[str]:
    """Per test set: ``draw(test_set, path)`` into ``{fig_dir}/{kind}_{test set}.png``, then
    the test set's ``table`` HTML (if given) and the embedded figure with its caption."""
    parts = []
    for ts in test_sets:
        path = draw(ts, fig_dir / f"{kind}_{safe_name(ts)}.png")
        if table is not None:
            parts.append(table(ts))
        parts.append(img(path, figure_caption(kind, ts)))
    return parts


def summary_caption(labels: str) -> str:
    """Caption of an experiment's summary figure (``labels``: the scores shown)."""
    return (
        f"{labels[0].upper()}{labels[1:]} of every model of this workflow per test set (points, "
        "best first) with 95% "
        "percentile-bootstrap intervals over proteins (bars); open diamonds and italic labels "
        "are published rows, copied from the papers and computed with other profiles (see the "
        "tables below)."
    )


def learning_curves_caption(task: str, label: str) -> str:
    """Caption of the learning-curve figure of one task."""
    return (
        f"Per-epoch training and validation loss and validation {label} of the "
        f"{task.replace('_', '-')} models (validation split from the training data; "
        "test sets are never used during training)."
    )


# ----------------------------------------------------------------------------- free-form content


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _plain(value: Any) -> Any:
    """Plain Python containers (Snakemake's config wrappers are dict/list subclasses)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if _is_scalar(value) else str(value)


def _dump(value: Any) -> str:
    """Readable YAML text of nested data."""
    return yaml.safe_dump(_plain(value), sort_keys=False, default_flow_style=False)


def _pre(value: Any) -> str:
    return f"<pre>{e(_dump(value))}</pre>"


def _records_table(records: list[dict]) -> str:
    cols = list(dict.fromkeys(k for v in records for k in v))
    head = "".join(f"<th>{e(c)}</th>" for c in cols)
    rows = "".join(
        "<tr>" + "".join(f"<td>{provenance_html(v.get(c))}</td>" for c in cols) + "</tr>"
        for v in records
    )
    return wide(f"<table><tr>{head}</tr>{rows}</table>")


def _mapping_html(value: dict, depth: int) -> str:
    if depth >= 3:
        return _pre(value)
    scalars = {k: v for k, v in value.items() if _is_scalar(v)}
    out = ""
    if scalars:
        rows = "".join(
            f"<tr><th>{e(k)}</th><td>{provenance_html(v)}</td></tr>" for k, v in scalars.items()
        )
        out += wide(f"<table>{rows}</table>")
    level = min(3 + depth, 6)
    for k, v in value.items():
        if k in scalars:
            continue
        inner = _pre(v) if k == "config" else provenance_html(v, depth + 1)
        out += f"<h{level}>{e(k)}</h{level}>{inner}"
    return out


def provenance_html(value: Any, depth: int = 0) -> str:
    """Render nested provenance as tables: scalars in key/value tables, lists of records as
    tables, nested dicts under headings; a ``config`` entry and anything deeper as a text dump."""
    if _is_scalar(value):
        text = "" if value is None else str(value)
        return f"<pre>{e(text)}</pre>" if "\n" in text else e(text)
    if isinstance(value, dict):
        return _mapping_html(value, depth)
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) and all(map(_is_scalar, v.values())) for v in value):
            return _records_table(list(value))
        if all(_is_scalar(v) for v in value):
            return e(", ".join("" if v is None else str(v) for v in value))
    return _pre(value)

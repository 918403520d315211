"""Report sections for per-protein test sets (subcellular localization, membrane/soluble).

:func:`protein_report_sections` is the entry point :func:`protrnn.report.build_report` calls
with the per-protein metrics.json files (:func:`split_eval_files` separates them from the
per-residue ones); it writes the TSV tables and figures and returns HTML sections in
``build_report``'s ``(anchor, heading, html)`` form, the tables and the figure paths. The
pieces (tables, HTML fragments, figures) are public too.

Units follow :mod:`protrnn.report.build`: accuracies (location, membrane) and ECE in percent in the
tables and TSVs; MCC (Gorodkin's multi-class R_K), F1 and macro-F1 as fractions in [0, 1].
metrics.json holds fractions (:mod:`protrnn.evaluation.evaluate`); published rows are given in
percent.

Written to ``out_dir``: ``protein_accuracy.tsv`` (:data:`SUMMARY_COLUMNS`),
``protein_per_class.tsv``, ``protein_confusion.tsv`` (long: test_set, model, true, predicted,
count), ``protein_pairwise.tsv`` (:data:`PAIRWISE_COLUMNS`), and ``figures/protein_*.png``.

Pairwise tests: for every pair of own models on a per-protein test set, paired percentile
bootstraps over proteins (seed 0, 1,000 resamples by default) of the accuracy difference
(:func:`protrnn.evaluation.bootstrap.paired_bootstrap_test`), the MCC difference
(:func:`protrnn.evaluation.protein_metrics.paired_bootstrap_mcc_test`) and the membrane-accuracy
difference (proteins with a known membrane label), paired by protein id. No correction for
multiple comparisons.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from protrnn.core.fileio import atomic_path  # noqa: E402
from protrnn.evaluation.bootstrap import paired_bootstrap_test  # noqa: E402
from protrnn.evaluation.protein_metrics import paired_bootstrap_mcc_test  # noqa: E402
from protrnn.report.common import ALPHA  # noqa: E402
from protrnn.report.common import escape as _e  # noqa: E402
from protrnn.report.common import fmt as _fmt  # noqa: E402
from protrnn.report.common import fmt_ci as _fmt_ci  # noqa: E402
from protrnn.report.common import img as _img  # noqa: E402
from protrnn.report.common import int_or_none as _int_or_none  # noqa: E402
from protrnn.report.common import missing as _missing  # noqa: E402
from protrnn.report.common import pct as _pct  # noqa: E402
from protrnn.report.common import row_normalized as _row_normalized  # noqa: E402
from protrnn.report.common import safe_name as _safe  # noqa: E402
from protrnn.report.common import save_figure as _save  # noqa: E402
from protrnn.report.common import verdict as _verdict  # noqa: E402

OWN_SOURCE = "this workflow"
#: DeepLoc 1.0's published 10-class test accuracy (percent), Almagro Armenteros et al. 2017.
DEEPLOC1_ACCURACY = 77.97
DEEPLOC1_METHOD = "DeepLoc 1.0 (Almagro Armenteros et al. 2017)"
DEEPLOC1_PROFILES = "PSI-BLAST profiles (DeepLoc 1.0's own pipeline)"
DEEPLOC1_NOTE = (
    "on the full DeepLoc 1.0 test set (2,773 proteins), trained on DeepLoc 1.0's own training "
    "split (~9.5k proteins, not available here) with profiles; not re-run here"
)
SUMMARY_COLUMNS = [
    "test_set",
    "model",
    "source",
    "accuracy",
    "accuracy_ci_low",
    "accuracy_ci_high",
    "mcc",
    "mcc_ci_low",
    "mcc_ci_high",
    "macro_f1",
    "membrane_accuracy",
    "membrane_accuracy_ci_low",
    "membrane_accuracy_ci_high",
    "membrane_n",
    "ece",
    "n_proteins",
    "profiles",
    "note",
]
PER_CLASS_COLUMNS = [
    "test_set",
    "model",
    "head",
    "class",
    "support",
    "precision",
    "recall",
    "f1",
    "mcc",
]
CONFUSION_COLUMNS = ["test_set", "model", "true", "predicted", "count"]
PAIRWISE_COLUMNS = [
    "test_set",
    "model_a",
    "model_b",
    "metric",
    "units",
    "a",
    "b",
    "diff",
    "ci_low",
    "ci_high",
    "p_value",
    "n_proteins",
    "n_boot",
    "significant",
    "verdict",
]
#: predictions.npz arrays the pairwise tests need.
PAIRED_KEYS = ("ids", "true", "predicted")


# ----------------------------------------------------------------------------- loading


def is_per_protein_metrics(metrics: Mapping[str, Any]) -> bool:
    """Whether a metrics.json content comes from a per-protein evaluation."""
    return metrics.get("task") == "per_protein"


def is_per_protein_published(row: Mapping[str, Any]) -> bool:
    """Whether a published reference row is per-protein (``accuracy``, no ``q8``/``q3``)."""
    return row.get("accuracy") is not None and row.get("q8") is None and row.get("q3") is None


def split_eval_files(eval_files: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(per-residue, per-protein) metrics.json paths, each in the given order."""
    residue, protein = [], []
    for path in map(Path, eval_files):
        data = json.loads(path.read_text())
        (protein if is_per_protein_metrics(data) else residue).append(path)
    return residue, protein


def load_protein_metrics(path: Path) -> dict:
    """Read a per-protein metrics.json
    (:func:`protrnn.evaluation.evaluate.evaluate_protein_model`)."""
    data = json.loads(Path(path).read_text())
    for key in ("model", "test_set", "accuracy", "classes", "confusion"):
        if key not in data:
            raise ValueError(f"{path}: per-protein metrics.json lacks {key!r}")
    if not is_per_protein_metrics(data):
        raise ValueError(f"{path}: not a per-protein metrics.json (task {data.get('task')!r})")
    return data


def load_protein_predictions(path: Path) -> dict:
    """Per-protein arrays of one per-protein predictions.npz, for the pairwise tests.

    Returns ``model``, ``test_set`` (from the file, else from the layout
    ``results/eval/{model}/{testset}/predictions.npz``), ``ids``, ``true``, ``predicted`` and,
    when present, ``membrane_true``/``membrane_predicted``.
    """
    path = Path(path)
    with np.load(path) as data:
        if not set(PAIRED_KEYS) <= set(data.files):
            raise ValueError(f"{path}: not a per-protein predictions.npz (lacks {PAIRED_KEYS})")
        out = {
            k: np.asarray(data[k])
            for k in ("ids", "true", "predicted", "membrane_true", "membrane_predicted", "classes")
            if k in data.files
        }
        model = str(data["model"]) if "model" in data.files else ""
        test_set = str(data["test_set"]) if "test_set" in data.files else ""
    out["ids"] = np.asarray([str(i) for i in out["ids"]])
    return {
        "model": model or path.parent.parent.name,
        "test_set": test_set or path.parent.name,
        **out,
    }


def _default_predictions(eval_files: Iterable[Path]) -> list[Path]:
    """The per-protein predictions.npz next to each metrics.json, where present."""
    found = []
    for path in (Path(p).parent / "predictions.npz" for p in eval_files):
        if path.exists():
            with np.load(path) as data:
                if set(PAIRED_KEYS) <= set(data.files):
                    found.append(path)
    return found


# ----------------------------------------------------------------------------- tables


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _ci(e: Mapping[str, Any], key: str, scale: float) -> tuple[float, float]:
    ci = e.get(f"{key}_ci")
    if not ci or len(ci) != 2 or any(v is None for v in ci):
        return float("nan"), float("nan")
    return scale * float(ci[0]), scale * float(ci[1])


def deeploc1_published(test_set: str, profiles: str = DEEPLOC1_PROFILES) -> dict:
    """The published DeepLoc 1.0 row (77.97 % accuracy) attached to ``test_set``."""
    return {
        "method": DEEPLOC1_METHOD,
        "test_set": test_set,
        "accuracy": DEEPLOC1_ACCURACY,
        "n_proteins": 2773,
        "profiles": profiles,
        "note": DEEPLOC1_NOTE,
        "source": "published",
    }


def _own_summary_row(e: Mapping[str, Any], profiles: str) -> dict:
    row: dict[str, Any] = {
        "test_set": e["test_set"],
        "model": e["model"],
        "source": OWN_SOURCE,
        "accuracy": _pct(e.get("accuracy")),
        "mcc": _num(e.get("mcc")),
        "macro_f1": _num(e.get("macro_f1")),
        "membrane_accuracy": _pct(e.get("membrane_accuracy")),
        "membrane_n": e.get("membrane_n"),
        "ece": _pct(e.get("ece")),
        "n_proteins": e.get("n_proteins"),
        "profiles": e.get("profiles", profiles),
        "note": "",
    }
    for key, scale in (("accuracy", 100.0), ("mcc", 1.0), ("membrane_accuracy", 100.0)):
        row[f"{key}_ci_low"], row[f"{key}_ci_high"] = _ci(e, key, scale)
    return row


def _published_row(p: Mapping[str, Any]) -> dict:
    for key in ("method", "test_set", "profiles", "accuracy"):
        if p.get(key) is None or p.get(key) == "":
            raise ValueError(f"published row {dict(p)!r} lacks {key!r}")
    acc = float(p["accuracy"])
    if not 1.0 < acc <= 100.0:
        raise ValueError(f"published {p['method']} accuracy={acc}: expected a percentage")
    return {
        "test_set": p["test_set"],
        "model": p["method"],
        "source": p.get("source", "published"),
        "accuracy": acc,
        "mcc": _num(p.get("mcc")),
        "macro_f1": _num(p.get("macro_f1")),
        "membrane_accuracy": _num(p.get("membrane_accuracy")),
        "n_proteins": p.get("n_proteins"),
        "profiles": p["profiles"],
        "note": p.get("note", ""),
    }


def protein_summary_table(
    evals: list[dict], published: list[dict], profiles: str = OWN_SOURCE
) -> pd.DataFrame:
    """Models x per-protein test sets: accuracy (%) with CI, MCC with CI, macro-F1, membrane.

    Test sets keep their first-appearance order (own evaluations first); within one, own
    models are sorted by accuracy (best first) and published rows follow, marked by
    ``source``. Published rows whose test set has no own evaluation are kept.
    """
    own = pd.DataFrame([_own_summary_row(e, profiles) for e in evals], columns=SUMMARY_COLUMNS)
    pub = pd.DataFrame([_published_row(p) for p in published], columns=SUMMARY_COLUMNS)
    order = list(dict.fromkeys([*own["test_set"], *pub["test_set"]]))
    parts = []
    for test_set in order:
        mine = own[own["test_set"] == test_set]
        mine = mine.sort_values("accuracy", ascending=False, kind="stable", na_position="last")
        theirs = pub[pub["test_set"] == test_set].sort_values("accuracy", ascending=False)
        parts.extend(p for p in (mine, theirs) if len(p))
    if not parts:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    numeric = [c for c in SUMMARY_COLUMNS if c not in ("test_set", "model", "source", "profiles")]
    numeric = [c for c in numeric if c not in ("note", "membrane_n", "n_proteins")]
    return table.astype({c: float for c in numeric})


def protein_per_class_long(evals: list[dict]) -> pd.DataFrame:
    """Per-class rows of every evaluation (location head): PER_CLASS_COLUMNS."""
    rows = [
        {"test_set": e["test_set"], "model": e["model"], "head": "location", **r}
        for e in evals
        for r in e.get("per_class", [])
    ]
    return pd.DataFrame(rows, columns=PER_CLASS_COLUMNS).astype(
        {"precision": float, "recall": float, "f1": float, "mcc": float}
    )


def protein_confusion_long(evals: list[dict]) -> pd.DataFrame:
    """Confusion counts of every evaluation, long: test_set, model, true, predicted, count."""
    rows = []
    for e in evals:
        classes = list(e["classes"])
        cm = np.asarray(e["confusion"], dtype=np.int64)
        for i, t in enumerate(classes):
            for j, p in enumerate(classes):
                rows.append(
                    {
                        "test_set": e["test_set"],
                        "model": e["model"],
                        "true": t,
                        "predicted": p,
                        "count": int(cm[i, j]),
                    }
                )
    return pd.DataFrame(rows, columns=CONFUSION_COLUMNS)


def _pair_rows(
    test_set: str, pa: dict, pb: dict, n_classes: int, n_boot: int, seed: int
) -> list[dict]:
    """Accuracy, MCC and membrane-accuracy rows of one model pair, paired by protein id."""
    index_b = {pid: k for k, pid in enumerate(pb["ids"])}
    common = [(k, index_b[pid]) for k, pid in enumerate(pa["ids"]) if pid in index_b]
    ia = np.array([k for k, _ in common], dtype=np.int64)
    ib = np.array([k for _, k in common], dtype=np.int64)
    base = {"test_set": test_set, "model_a": pa["model"], "model_b": pb["model"]}
    t = np.asarray(pa["true"], np.int64)[ia]
    if not np.array_equal(t, np.asarray(pb["true"], np.int64)[ib]):
        return [{**base, "metric": "all", "verdict": "not comparable (true labels differ)"}]
    a = np.asarray(pa["predicted"], np.int64)[ia]
    b = np.asarray(pb["predicted"], np.int64)[ib]
    scored = (t >= 0).astype(np.int64)
    n_scored = int(scored.sum())
    hit_a, hit_b = (a == t) & (t >= 0), (b == t) & (t >= 0)
    tests = [
        (
            "accuracy",
            "%",
            100.0,
            paired_bootstrap_test(hit_a, hit_b, scored, n_boot, seed),
            hit_a.sum() / n_scored if n_scored else np.nan,
            hit_b.sum() / n_scored if n_scored else np.nan,
        )
    ]
    mcc = paired_bootstrap_mcc_test(t, a, b, n_classes, n_boot, seed)
    tests.append(("mcc", "fraction", 1.0, mcc, np.nan, np.nan))
    if "membrane_predicted" in pa and "membrane_predicted" in pb:
        mt = np.asarray(pa["membrane_true"], np.int64)[ia]
        ma = np.asarray(pa["membrane_predicted"], np.int64)[ia]
        mb = np.asarray(pb["membrane_predicted"], np.int64)[ib]
        known = ((mt >= 0) & (ma >= 0) & (mb >= 0)).astype(np.int64)
        if known.any() and np.array_equal(mt, np.asarray(pb["membrane_true"], np.int64)[ib]):
            res = paired_bootstrap_test(
                (ma == mt) & (known > 0), (mb == mt) & (known > 0), known, n_boot, seed
            )
            n_known = known.sum()
            tests.append(
                (
                    "membrane_accuracy",
                    "%",
                    100.0,
                    res,
                    ((ma == mt) & (known > 0)).sum() / n_known,
                    ((mb == mt) & (known > 0)).sum() / n_known,
                )
            )
    rows = []
    for metric, units, scale, res, va, vb in tests:
        if metric == "mcc":
            va, vb = np.nan, np.nan
        p = res["p_value"]
        rows.append(
            {
                **base,
                "metric": metric,
                "units": units,
                "a": scale * float(va),
                "b": scale * float(vb),
                "diff": scale * res["diff"],
                "ci_low": scale * res["ci_low"],
                "ci_high": scale * res["ci_high"],
                "p_value": p,
                "n_proteins": res["n_proteins"],
                "n_boot": res["n_boot"],
                "significant": bool(not np.isnan(p) and p < ALPHA),
                "verdict": _verdict(pa["model"], pb["model"], p, res["diff"]),
            }
        )
    return rows


def protein_pairwise_table(
    evals: list[dict], predictions: list[dict], n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Paired bootstrap of accuracy, MCC and membrane accuracy for every pair of own models.

    ``predictions`` are :func:`load_protein_predictions` dicts. Models of a test set are
    ordered by accuracy (best first); model_a is the higher-ranked one. MCC rows carry the
    models' own MCC values from metrics.json in ``a``/``b``.
    """
    preds = {(p["test_set"], p["model"]): p for p in predictions}
    rows = []
    for test_set in dict.fromkeys(e["test_set"] for e in evals):
        ranked = sorted(
            (e for e in evals if e["test_set"] == test_set),
            key=lambda e: -np.nan_to_num(_pct(e.get("accuracy")), nan=-1.0),
        )
        mccs = {e["model"]: _num(e.get("mcc")) for e in ranked}
        models = [e["model"] for e in ranked if (test_set, e["model"]) in preds]
        n_classes = len(ranked[0]["classes"])
        for i, a in enumerate(models):
            for b in models[i + 1 :]:
                pair = _pair_rows(
                    test_set, preds[(test_set, a)], preds[(test_set, b)], n_classes, n_boot, seed
                )
                for row in pair:
                    if row.get("metric") == "mcc":
                        row["a"], row["b"] = mccs[a], mccs[b]
                rows.extend(pair)
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


# ----------------------------------------------------------------------------- figures


def plot_protein_confusions(evals: list[dict], test_set: str, path: Path) -> Path:
    """Row-normalised location confusion heatmaps (% of each true class), one per model."""
    items = [e for e in evals if e["test_set"] == test_set]
    n = max(len(items), 1)
    cols = min(n, 2)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.4 * cols, 5.8 * rows), squeeze=False)
    for ax, e in zip(axes.flat, items, strict=False):
        classes = list(e["classes"])
        cm = np.asarray(e["confusion"], dtype=np.int64)
        support = cm.sum(axis=1)
        sns.heatmap(
            100 * _row_normalized(cm),
            annot=True,
            fmt=".0f",
            cmap="Blues",
            vmin=0,
            vmax=100,
            cbar=False,
            square=True,
            xticklabels=classes,
            yticklabels=[f"{c} ({s})" for c, s in zip(classes, support, strict=True)],
            ax=ax,
            annot_kws={"size": 7},
        )
        ax.set_title(f"{e['model']} (accuracy {_pct(e['accuracy']):.1f}%)", fontsize=10)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true location (proteins)")
        ax.tick_params(axis="x", labelrotation=60, labelsize=8)
        ax.tick_params(axis="y", labelsize=8)
    for ax in list(axes.flat)[len(items) :]:
        ax.set_visible(False)
    fig.suptitle(f"{test_set}: location confusion, % of each true class")
    fig.tight_layout()
    return _save(fig, path)


def plot_protein_per_class_f1(per_class: pd.DataFrame, test_set: str, path: Path) -> Path:
    """Grouped bars of per-location F1, one colour per model."""
    data = per_class[(per_class["test_set"] == test_set) & (per_class["head"] == "location")]
    n_classes = max(data["class"].nunique(), 1)
    fig, ax = plt.subplots(figsize=(2.5 + 0.9 * n_classes, 4.0))
    sns.barplot(data=data, x="class", y="f1", hue="model", ax=ax)
    ax.set_ylim(0, 1)
    ax.set_xlabel("location")
    ax.set_ylabel("F1")
    ax.tick_params(axis="x", labelrotation=45)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    if ax.get_legend() is not None:
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1), title="model")
    ax.set_title(f"Per-location F1 on {test_set}")
    return _save(fig, path)


# ----------------------------------------------------------------------------- HTML


def protein_summary_html(table: pd.DataFrame) -> str:
    """The per-protein summary table, grouped by test set, published rows marked."""
    head = (
        "<tr><th>Model / method</th><th>Accuracy (%) [95% CI]</th><th>MCC [95% CI]</th>"
        "<th>Macro-F1</th><th>Membrane/soluble accuracy (%) [95% CI]</th>"
        "<th>Proteins</th><th>Profiles</th><th>Note</th></tr>"
    )
    body = []
    for test_set, group in table.groupby("test_set", sort=False):
        body.append(f'<tr class="group"><td colspan="8">Test set: {_e(test_set)}</td></tr>')
        for r in group.itertuples(index=False):
            published = r.source != OWN_SOURCE
            # published values keep the paper's two decimals
            accuracy = _fmt_ci(
                r.accuracy, r.accuracy_ci_low, r.accuracy_ci_high, 2 if published else 1
            )
            name = _e(r.model)
            if published:
                name += f' <span class="badge">{_e(r.source)}</span>'
            membrane = _fmt_ci(
                r.membrane_accuracy, r.membrane_accuracy_ci_low, r.membrane_accuracy_ci_high
            )
            n_mem = _int_or_none(r.membrane_n)
            if n_mem is not None and not _missing(r.membrane_accuracy):
                membrane += f" <small>(n={n_mem:,})</small>"
            cells = [
                f"<td>{name}</td>",
                f'<td class="num">{accuracy}</td>',
                f'<td class="num">{_fmt_ci(r.mcc, r.mcc_ci_low, r.mcc_ci_high, 3)}</td>',
                f'<td class="num">{_fmt(r.macro_f1, 3)}</td>',
                f'<td class="num">{membrane}</td>',
                f'<td class="num">{_fmt(_int_or_none(r.n_proteins))}</td>',
                f"<td>{_e(r.profiles)}</td>",
                f"<td>{_e(r.note) if isinstance(r.note, str) else ''}</td>",
            ]
            cls = ' class="published"' if published else ""
            body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f'<div class="wide"><table>{head}{"".join(body)}</table></div>'


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
            f"<th>{_e(c)}<br><small>n={int(support.get(c, 0)):,}</small></th>" for c in classes
        )
        + "<th>Macro-F1</th></tr>"
    )
    body = []
    for r in own.itertuples(index=False):
        sub = data[data["model"] == r.model].set_index("class")
        for k, score in enumerate(("f1", "mcc")):
            name = f'<td rowspan="2">{_e(r.model)}</td>' if k == 0 else ""
            cells = "".join(
                f'<td class="num">{_fmt(sub[score].get(c, np.nan), 3)}</td>' for c in classes
            )
            macro = f'<td class="num" rowspan="2">{_fmt(r.macro_f1, 3)}</td>' if k == 0 else ""
            body.append(f"<tr>{name}<td>{score.upper()}</td>{cells}{macro}</tr>")
    return f'<h3>{_e(test_set)}</h3><div class="wide"><table>{head}{"".join(body)}</table></div>'


def protein_pairwise_html(pairwise: pd.DataFrame, test_set: str) -> str:
    """The pairwise significance table of one per-protein test set."""
    data = pairwise[pairwise["test_set"] == test_set]
    if data.empty:
        return (
            f"<h3>{_e(test_set)}</h3><p>No pair of models with per-protein predictions on "
            "this test set.</p>"
        )
    head = (
        "<tr><th>Model A</th><th>Model B</th><th>Metric</th><th>A</th><th>B</th>"
        "<th>A &minus; B [95% CI]</th><th>p-value</th><th>Proteins</th><th>Verdict</th></tr>"
    )
    body = []
    for r in data.itertuples(index=False):
        digits = 3 if r.units == "fraction" else 1
        p = r.p_value
        p_text = "&ndash;" if _missing(p) else f"{p:.3f}"
        if not _missing(p) and r.n_boot and p <= 2.0 / (r.n_boot + 1) + 1e-12:
            p_text = f"&le; {p:.3f}"
        metric = {"accuracy": "accuracy (%)", "mcc": "MCC", "membrane_accuracy": "membrane (%)"}
        cls = ' class="sig"' if r.significant is True else ""
        body.append(
            f"<tr><td>{_e(r.model_a)}</td><td>{_e(r.model_b)}</td>"
            f"<td>{_e(metric.get(r.metric, r.metric))}</td>"
            f'<td class="num">{_fmt(r.a, digits)}</td><td class="num">{_fmt(r.b, digits)}</td>'
            f'<td class="num">{_fmt_ci(r.diff, r.ci_low, r.ci_high, digits + 1)}</td>'
            f'<td class="num">{p_text}</td>'
            f'<td class="num">{_fmt(_int_or_none(r.n_proteins))}</td>'
            f"<td{cls}>{_e(r.verdict)}</td></tr>"
        )
    return f"<h3>{_e(test_set)}</h3><table>{head}{''.join(body)}</table>"


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
            f"{_e(k.replace('_', ' '))}: {int(v):,}"
            for k, v in (stats.get("dropped") or {}).items()
        )
        splits = ", ".join(f"{_e(k)}: {int(v):,}" for k, v in (stats.get("splits") or {}).items())
        body.append(
            f'<tr><td>{_e(name)}</td><td class="num">{_fmt(stats.get("records_read"))}</td>'
            f'<td>{dropped or "&ndash;"}</td><td class="num">{_fmt(stats.get("kept"))}</td>'
            f"<td>{splits or '&ndash;'}</td><td>{_e(stats.get('exclusion', ''))}</td></tr>"
        )
    return f'<div class="wide"><table>{head}{"".join(body)}</table></div>'


# ----------------------------------------------------------------------------- entry point


@dataclass
class ProteinReport:
    """What :func:`protein_report_sections` made: HTML sections in build_report's
    ``(anchor, heading, html)`` form, the tables by TSV name, and the figure paths."""

    sections: list[tuple[str, str, str]] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Path] = field(default_factory=list)


SUMMARY_CAPTION = (
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


def protein_report_sections(
    eval_files: list[Path],
    out_dir: Path,
    published: list[dict] | None = None,
    profiles: str = OWN_SOURCE,
    prediction_files: list[Path] | None = None,
    parse_stats: Mapping[str, Mapping[str, Any]] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> ProteinReport:
    """Tables, figures and HTML sections for the per-protein ``eval_files`` (metrics.json).

    ``published``: per-protein reference rows (method, test_set, accuracy in percent, profiles;
    optional mcc, macro_f1, membrane_accuracy, n_proteins, note, source), e.g.
    :func:`deeploc1_published`. ``prediction_files``: per-protein predictions.npz for the
    pairwise tests (None: those next to each metrics.json). ``parse_stats``: dataset name ->
    ``df.attrs["parse_stats"]`` of :mod:`protrnn.data.formats.deeploc`, shown as a dataset table.
    Writes the TSVs and ``figures/protein_*.png`` under ``out_dir`` (see the module
    docstring). With no evaluation and no published row, returns an empty report.
    """
    out_dir = Path(out_dir)
    evals = [load_protein_metrics(Path(p)) for p in eval_files]
    published = list(published or [])
    report = ProteinReport()
    if not evals and not published:
        return report
    if prediction_files is None:
        prediction_files = _default_predictions(eval_files)
    predictions = [load_protein_predictions(Path(p)) for p in prediction_files]
    summary = protein_summary_table(evals, published, profiles)
    per_class = protein_per_class_long(evals)
    confusion = protein_confusion_long(evals)
    pairwise = protein_pairwise_table(evals, predictions, n_boot=n_boot, seed=seed)
    report.tables = {
        "protein_accuracy.tsv": summary,
        "protein_per_class.tsv": per_class,
        "protein_confusion.tsv": confusion,
        "protein_pairwise.tsv": pairwise,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in report.tables.items():
        with atomic_path(out_dir / name) as tmp:
            frame.to_csv(tmp, sep="\t", index=False, float_format="%.6g")

    content = f'<p class="caption">{SUMMARY_CAPTION}</p>' + protein_summary_html(summary)
    if parse_stats:
        content += (
            '<h3>Datasets</h3><p class="caption">Proteins read, dropped (and why) and kept by '
            "each per-protein dataset's parser, before any subsampling.</p>"
            + parse_stats_html(parse_stats)
        )
    report.sections.append(("localization", "Localization (per protein)", content))

    test_sets = list(dict.fromkeys(e["test_set"] for e in evals))
    pair_caption = (
        "Every pair of this workflow's models on a per-protein test set, paired by protein: "
        "differences A &minus; B in accuracy (percentage points), MCC and membrane/soluble "
        f"accuracy with 95% paired percentile-bootstrap intervals ({n_boot} resamples, seed "
        f"{seed}) and two-sided bootstrap p-values (smallest possible {2 / (n_boot + 1):.3f}); "
        "no correction for multiple comparisons. Model A is the one ranked higher by accuracy."
    )
    if test_sets:
        report.sections.append(
            (
                "localization-pairwise",
                "Localization: pairwise significance",
                f'<p class="caption">{pair_caption}</p>'
                + "".join(protein_pairwise_html(pairwise, ts) for ts in test_sets),
            )
        )
    f1_parts, cm_parts = [], []
    fig_dir = out_dir / "figures"
    for ts in test_sets:
        name = _safe(ts)
        f1_path = plot_protein_per_class_f1(per_class, ts, fig_dir / f"protein_f1_{name}.png")
        cm_path = plot_protein_confusions(evals, ts, fig_dir / f"protein_confusion_{name}.png")
        report.figures += [f1_path, cm_path]
        f1_parts.append(protein_per_class_html(per_class, summary, ts))
        f1_parts.append(_img(f1_path, f"Per-location F1 on {_e(ts)}."))
        cm_parts.append(
            _img(
                cm_path,
                f"Location confusion on {_e(ts)}: each row is a true location (protein count "
                "in brackets), cells give the % of its proteins predicted as each column.",
            )
        )
    if f1_parts:
        report.sections.append(
            (
                "localization-per-class",
                "Localization: per-class F1 and MCC",
                '<p class="caption">F1 and one-vs-rest MCC per location; macro-F1 weighs rare '
                "locations (Peroxisome, Golgi apparatus) as much as Nucleus or Cytoplasm.</p>"
                + "".join(f1_parts),
            )
        )
        report.sections.append(
            ("localization-confusion", "Localization: confusion matrices", "".join(cm_parts))
        )
    return report

"""The report's summary, in words: per test set the best model by its headline score, whether its
lead over the runner-up is significant by the paired bootstrap test, and the gap to the published
rows with their profile sources. Sentences are plain text (escaped when rendered); the figure
beside them is :func:`protrnn.report.figures.plot_summary`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from protrnn.report.common import ALPHA, OWN_SOURCE, missing
from protrnn.report.convergence import Convergence, experiment_of


@dataclass(frozen=True)
class Headline:
    """What the summary shows of a task: the ranking score and the scores plotted."""

    task: str
    #: table column that ranks the models, its name, and its metric in the pairwise table
    column: str
    label: str
    pair_metric: str
    #: (table column, name) of every score in the figure
    shown: tuple[tuple[str, str], ...]


RESIDUE_HEADLINE = Headline("per_residue", "q8", "Q8", "Q8", (("q8", "Q8"), ("q3", "Q3")))
PROTEIN_HEADLINE = Headline(
    "per_protein", "accuracy", "accuracy", "accuracy", (("accuracy", "accuracy"),)
)
#: Experiment name used when metrics.json does not tell (no ``model_path``).
DEFAULT_EXPERIMENT = {"per_residue": "secondary structure", "per_protein": "localization"}


def experiment_test_sets(evals: list[dict], task: str) -> dict[str, list[str]]:
    """Experiment -> its test sets (first-appearance order), from the evaluations."""
    groups: dict[str, list[str]] = {}
    for e in evals:
        name = experiment_of(e) or DEFAULT_EXPERIMENT[task]
        if e["test_set"] not in groups.setdefault(name, []):
            groups[name].append(e["test_set"])
    return groups


def ensemble_sentence(evals: list[dict], experiment: str) -> str | None:
    """What the experiment's ensemble holds (None without one)."""
    for e in evals:
        members = e.get("ensemble_members")
        if members and (experiment_of(e) or experiment) == experiment:
            break
    else:
        return None
    if len(members) == 1:
        return (
            f"The ensemble is {members[0]} alone: adding the next-best models lowered the "
            "validation score, so its rows repeat that model's."
        )
    return (
        f"The ensemble averages the probabilities of {_and(members)}: the best models on the "
        "training dataset's validation proteins, as many as raised the validation score."
    )


def _and(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def _value(value: float, ci: tuple[float, float] = (np.nan, np.nan)) -> str:
    """ "36.3 % (95 % CI 23.8-47.7)"; the bare value without an interval."""
    if any(missing(v) for v in ci):
        return f"{value:.1f} %"
    return f"{value:.1f} % (95 % CI {ci[0]:.1f}\u2013{ci[1]:.1f})"


def best_sentence(best: pd.Series, test_set: str, headline: Headline) -> str:
    """Which model scores best, with its interval and the other plotted scores."""
    key = headline.column
    score = _value(best[key], (best.get(f"{key}_ci_low"), best.get(f"{key}_ci_high")))
    text = f"On {test_set}, {best['model']} has the highest {headline.label}: {score}"
    others = [
        f"{label} {best[col]:.1f} %"
        for col, label in headline.shown
        if col != key and not missing(best.get(col))
    ]
    return text + (f"; its {', '.join(others)}." if others else ".")


def _pair(pairwise: pd.DataFrame, test_set: str, metric: str, a: str, b: str) -> pd.Series | None:
    rows = pairwise[(pairwise["test_set"] == test_set) & (pairwise["metric"] == metric)]
    rows = rows[
        ((rows["model_a"] == a) & (rows["model_b"] == b))
        | ((rows["model_a"] == b) & (rows["model_b"] == a))
    ]
    return None if rows.empty else rows.iloc[0]


def _p_text(p: float, n_boot: float) -> str:
    if not missing(n_boot) and p <= 2.0 / (n_boot + 1) + 1e-12:
        return f"p \u2264 {p:.3f}"
    return f"p = {p:.3f}"


def lead_sentence(
    best: pd.Series, runner: pd.Series, pairwise: pd.DataFrame, test_set: str, headline: Headline
) -> str:
    """The best model's lead over the runner-up and what the paired test says about it."""
    lead = best[headline.column] - runner[headline.column]
    text = f"Its lead of {lead:.1f} points over the runner-up, {runner['model']},"
    row = _pair(pairwise, test_set, headline.pair_metric, best["model"], runner["model"])
    if row is None:
        return f"{text} was not tested (no paired per-protein predictions)."
    if missing(row.get("p_value")):
        return f"{text} could not be tested ({row['verdict']})."
    p = _p_text(row["p_value"], row.get("n_boot"))
    diff = row["diff"] if row["model_a"] == best["model"] else -row["diff"]
    if row["p_value"] >= ALPHA:
        return (
            f"{text} is not significant by the paired bootstrap test over proteins ({p}): "
            "on this test set the two cannot be told apart."
        )
    if diff > 0:
        return f"{text} is significant by the paired bootstrap test over proteins ({p})."
    return (
        f"{text} is contradicted by the paired bootstrap test over the proteins both predicted, "
        f"which finds {runner['model']} better ({p}): the ranking is not settled."
    )


def gap_sentences(best: pd.Series, published: pd.DataFrame, headline: Headline) -> list[str]:
    """The gap between the best model and each published row, with both profile sources."""
    key, out = headline.column, []
    for _, pub in published.iterrows():
        if missing(pub[key]):
            continue
        gap = best[key] - pub[key]
        side = "below" if gap < 0 else "above"
        out.append(
            f"{pub['model']} ({pub['source']}; profiles: {pub['profiles']}) reports "
            f"{headline.label} {pub[key]:g} %: {best['model']} is {abs(gap):.1f} points {side} "
            f"it, with profiles from {best['profiles']}."
        )
    return out


def summary_sentences(
    table: pd.DataFrame,
    pairwise: pd.DataFrame,
    test_set: str,
    headline: Headline,
    trained: Mapping[str, Convergence] | None = None,
) -> list[str]:
    """The summary sentences of one test set ([] without a model of this workflow on it).

    ``table``: accuracy.tsv or protein_accuracy.tsv rows (own and published); ``pairwise``:
    the matching pairwise table; ``trained``: model -> its training (convergence marks).
    """
    rows = table[table["test_set"] == test_set]
    own = rows[rows["source"] == OWN_SOURCE].sort_values(
        headline.column, ascending=False, kind="stable"
    )
    if own.empty or missing(own.iloc[0][headline.column]):
        return []
    best = own.iloc[0]
    out = [best_sentence(best, test_set, headline)]
    if len(own) > 1:
        out.append(lead_sentence(best, own.iloc[1], pairwise, test_set, headline))
    else:
        out.append(f"It is the only model of this workflow evaluated on {test_set}.")
    out += gap_sentences(best, rows[rows["source"] != OWN_SOURCE], headline)
    trained = trained or {}
    compared = own["model"].iloc[:2]
    marked = [m for m in compared if m in trained and trained[m].converged is False]
    if marked:
        verb = "is" if len(marked) == 1 else "are"
        out.append(
            f"{' and '.join(marked)} {verb} marked not converged, so this comparison is "
            "provisional."
        )
    return out

"""The report's per-protein tables (subcellular localization, membrane/soluble):
``protein_accuracy.tsv`` (:data:`SUMMARY_COLUMNS`), ``protein_per_class.tsv`` and
``protein_confusion.tsv`` (long: test_set, model, true, predicted, count), and the published
DeepLoc 1.0 reference row.

Units: accuracies (location, membrane) and ECE in percent; MCC (Gorodkin's multi-class R_K),
F1 and macro-F1 as fractions in [0, 1]. Published rows are given in percent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from protrnn.report.common import OWN_SOURCE, ci_pair, num, pct
from protrnn.report.tables import PER_CLASS_COLUMNS as RESIDUE_PER_CLASS_COLUMNS
from protrnn.report.tables import SCORE_TYPES, ranked_by_test_set

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
#: Columns of protein_accuracy.tsv that are not numbers or are counts.
_NOT_FLOAT = ("test_set", "model", "source", "profiles", "note", "membrane_n", "n_proteins")
PER_CLASS_COLUMNS = ["test_set", "model", *RESIDUE_PER_CLASS_COLUMNS[2:]]
CONFUSION_COLUMNS = ["test_set", "model", "true", "predicted", "count"]


def is_per_protein_published(row: Mapping[str, Any]) -> bool:
    """Whether a published reference row is per-protein (``accuracy``, no ``q8``/``q3``)."""
    return row.get("accuracy") is not None and row.get("q8") is None and row.get("q3") is None


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
        "accuracy": pct(e.get("accuracy")),
        "mcc": num(e.get("mcc")),
        "macro_f1": num(e.get("macro_f1")),
        "membrane_accuracy": pct(e.get("membrane_accuracy")),
        "membrane_n": e.get("membrane_n"),
        "ece": pct(e.get("ece")),
        "n_proteins": e.get("n_proteins"),
        "profiles": e.get("profiles", profiles),
        "note": "",
    }
    for key, scale in (("accuracy", 100.0), ("mcc", 1.0), ("membrane_accuracy", 100.0)):
        row[f"{key}_ci_low"], row[f"{key}_ci_high"] = ci_pair(e, key, scale)
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
        "mcc": num(p.get("mcc")),
        "macro_f1": num(p.get("macro_f1")),
        "membrane_accuracy": num(p.get("membrane_accuracy")),
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
    table = ranked_by_test_set(own, pub, "accuracy", SUMMARY_COLUMNS)
    if table.empty:
        return table
    return table.astype({c: float for c in SUMMARY_COLUMNS if c not in _NOT_FLOAT})


def protein_per_class_long(evals: list[dict]) -> pd.DataFrame:
    """Per-class rows of every evaluation (location head): PER_CLASS_COLUMNS."""
    rows = [
        {"test_set": e["test_set"], "model": e["model"], "head": "location", **r}
        for e in evals
        for r in e.get("per_class", [])
    ]
    return pd.DataFrame(rows, columns=PER_CLASS_COLUMNS).astype(SCORE_TYPES)


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

"""Paired bootstrap tests between this workflow's models on each test set: ``pairwise.tsv``
(per-residue Q8 and Q3) and ``protein_pairwise.tsv`` (per-protein accuracy, MCC and
membrane/soluble accuracy).

For every pair of own models on a test set, a paired percentile bootstrap over proteins
(:func:`protrnn.evaluation.bootstrap.paired_bootstrap_test`; MCC through
:func:`protrnn.evaluation.protein_metrics.paired_bootstrap_mcc_test`; seed 0, 1,000 resamples
by default), using the per-protein counts of each model's predictions.npz, paired by protein id
(proteins in both files). Models of a test set are ranked by their headline score (Q8, or
accuracy) and model_a is the higher-ranked one. No correction for multiple comparisons.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from protrnn.evaluation.bootstrap import paired_bootstrap_test
from protrnn.evaluation.protein_metrics import paired_bootstrap_mcc_test
from protrnn.report.common import ALPHA, num, pct, verdict

PAIRWISE_COLUMNS = [
    "test_set",
    "model_a",
    "model_b",
    "metric",
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
PROTEIN_PAIRWISE_COLUMNS = [*PAIRWISE_COLUMNS[:4], "units", *PAIRWISE_COLUMNS[4:]]

#: (metric, units, scale, bootstrap result, value a, value b) of one paired test.
Test = tuple[str, str, float, dict, float, float]


def paired_indices(pa: dict, pb: dict) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``pa`` and ``pb`` of the protein ids both hold, in ``pa``'s order."""
    index_b = {pid: k for k, pid in enumerate(pb["ids"])}
    common = [(k, index_b[pid]) for k, pid in enumerate(pa["ids"]) if pid in index_b]
    ia = np.array([k for k, _ in common], dtype=np.int64)
    ib = np.array([k for _, k in common], dtype=np.int64)
    return ia, ib


def ranked_pairs(
    evals: list[dict], predictions: list[dict], key: str
) -> Iterator[tuple[str, list[dict], dict, dict]]:
    """(test set, its evals ranked by ``key``, predictions a, predictions b) per model pair."""
    preds = {(p["test_set"], p["model"]): p for p in predictions}
    for test_set in dict.fromkeys(e["test_set"] for e in evals):
        ranked = sorted(
            (e for e in evals if e["test_set"] == test_set),
            key=lambda e: -np.nan_to_num(pct(e.get(key)), nan=-1.0),
        )
        models = [e["model"] for e in ranked if (test_set, e["model"]) in preds]
        for i, a in enumerate(models):
            for b in models[i + 1 :]:
                yield test_set, ranked, preds[(test_set, a)], preds[(test_set, b)]


def result_columns(res: dict, model_a: str, model_b: str, scale: float, a: float, b: float) -> dict:
    """The result columns of one paired test (``scale``: 100 for percent, 1 for fractions)."""
    p = res["p_value"]
    return {
        "a": a,
        "b": b,
        "diff": scale * res["diff"],
        "ci_low": scale * res["ci_low"],
        "ci_high": scale * res["ci_high"],
        "p_value": p,
        "n_proteins": res["n_proteins"],
        "n_boot": res["n_boot"],
        "significant": bool(p < ALPHA),
        "verdict": verdict(model_a, model_b, p, res["diff"]),
    }


# ----------------------------------------------------------------------------- per residue


def residue_pair_rows(test_set: str, pa: dict, pb: dict, n_boot: int, seed: int) -> list[dict]:
    """Q8 and Q3 rows of one model pair (see :func:`pairwise_table`)."""
    ia, ib = paired_indices(pa, pb)
    rows = []
    for metric, head in (("Q8", "ss8"), ("Q3", "ss3")):
        ca, ta = pa[f"correct_{head}"][ia], pa[f"total_{head}"][ia]
        cb, tb = pb[f"correct_{head}"][ib], pb[f"total_{head}"][ib]
        row = {
            "test_set": test_set,
            "model_a": pa["model"],
            "model_b": pb["model"],
            "metric": metric,
            "n_proteins": len(ia),
        }
        if not np.array_equal(ta, tb):
            verdict_text = "not comparable: different residues scored"
            rows.append({**row, "significant": False, "verdict": verdict_text})
            continue
        res = paired_bootstrap_test(ca, cb, ta, n_boot=n_boot, seed=seed)
        n_res = ta.sum()
        a = 100.0 * ca.sum() / n_res if n_res else np.nan
        b = 100.0 * cb.sum() / n_res if n_res else np.nan
        rows.append({**row, **result_columns(res, pa["model"], pb["model"], 100.0, a, b)})
    return rows


def pairwise_table(
    evals: list[dict], predictions: list[dict], n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Paired bootstrap of Q8 and Q3 for every pair of own models on each test set.

    ``predictions`` are :func:`protrnn.report.load.load_predictions` dicts. Models of a test
    set are ordered by Q8 (best first) and model_a is always the higher-ranked one, so
    ``diff = a - b`` (percentage points) is usually positive. Proteins are paired by id (those
    in both files); a pair whose models scored different residues on a shared protein is "not
    comparable".
    """
    rows = []
    for test_set, _, pa, pb in ranked_pairs(evals, predictions, "q8"):
        rows.extend(residue_pair_rows(test_set, pa, pb, n_boot, seed))
    return pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)


# ----------------------------------------------------------------------------- per protein


def _location_tests(
    t: np.ndarray, a: np.ndarray, b: np.ndarray, n_classes: int, n_boot: int, seed: int
) -> list[Test]:
    """Accuracy and MCC tests of two location predictions against the truth ``t``."""
    scored = (t >= 0).astype(np.int64)
    n_scored = int(scored.sum())
    hit_a, hit_b = (a == t) & (t >= 0), (b == t) & (t >= 0)
    accuracy = paired_bootstrap_test(hit_a, hit_b, scored, n_boot, seed)
    share_a = hit_a.sum() / n_scored if n_scored else np.nan
    share_b = hit_b.sum() / n_scored if n_scored else np.nan
    mcc = paired_bootstrap_mcc_test(t, a, b, n_classes, n_boot=n_boot, seed=seed)
    return [
        ("accuracy", "%", 100.0, accuracy, share_a, share_b),
        ("mcc", "fraction", 1.0, mcc, np.nan, np.nan),
    ]


def _membrane_test(
    pa: dict, pb: dict, ia: np.ndarray, ib: np.ndarray, n_boot: int, seed: int
) -> Test | None:
    """Membrane/soluble accuracy test over proteins with a known membrane label, if any."""
    if "membrane_predicted" not in pa or "membrane_predicted" not in pb:
        return None
    mt = np.asarray(pa["membrane_true"], np.int64)[ia]
    ma = np.asarray(pa["membrane_predicted"], np.int64)[ia]
    mb = np.asarray(pb["membrane_predicted"], np.int64)[ib]
    known = ((mt >= 0) & (ma >= 0) & (mb >= 0)).astype(np.int64)
    if not known.any() or not np.array_equal(mt, np.asarray(pb["membrane_true"], np.int64)[ib]):
        return None
    hit_a, hit_b = (ma == mt) & (known > 0), (mb == mt) & (known > 0)
    res = paired_bootstrap_test(hit_a, hit_b, known, n_boot, seed)
    n_known = known.sum()
    return ("membrane_accuracy", "%", 100.0, res, hit_a.sum() / n_known, hit_b.sum() / n_known)


def protein_pair_rows(
    test_set: str, pa: dict, pb: dict, n_classes: int, n_boot: int, seed: int
) -> list[dict]:
    """Accuracy, MCC and membrane-accuracy rows of one model pair, paired by protein id."""
    ia, ib = paired_indices(pa, pb)
    base = {"test_set": test_set, "model_a": pa["model"], "model_b": pb["model"]}
    t = np.asarray(pa["true"], np.int64)[ia]
    if not np.array_equal(t, np.asarray(pb["true"], np.int64)[ib]):
        return [{**base, "metric": "all", "verdict": "not comparable (true labels differ)"}]
    a = np.asarray(pa["predicted"], np.int64)[ia]
    b = np.asarray(pb["predicted"], np.int64)[ib]
    tests = _location_tests(t, a, b, n_classes, n_boot, seed)
    membrane = _membrane_test(pa, pb, ia, ib, n_boot, seed)
    if membrane is not None:
        tests.append(membrane)
    names = (pa["model"], pb["model"])
    return [
        {
            **base,
            "metric": metric,
            "units": units,
            **result_columns(res, *names, scale, scale * float(va), scale * float(vb)),
        }
        for metric, units, scale, res, va, vb in tests
    ]


def protein_pairwise_table(
    evals: list[dict], predictions: list[dict], n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """Paired bootstrap of accuracy, MCC and membrane accuracy for every pair of own models.

    ``predictions`` are :func:`protrnn.report.load.load_protein_predictions` dicts. Models of a
    test set are ordered by accuracy (best first); model_a is the higher-ranked one. MCC rows
    carry the models' own MCC values from metrics.json in ``a``/``b``.
    """
    rows = []
    for test_set, ranked, pa, pb in ranked_pairs(evals, predictions, "accuracy"):
        mccs = {e["model"]: num(e.get("mcc")) for e in ranked}
        pair = protein_pair_rows(test_set, pa, pb, len(ranked[0]["classes"]), n_boot, seed)
        for row in pair:
            if row.get("metric") == "mcc":
                row["a"], row["b"] = mccs[pa["model"]], mccs[pb["model"]]
        rows.extend(pair)
    return pd.DataFrame(rows, columns=PROTEIN_PAIRWISE_COLUMNS)

"""Per-protein classification metrics (subcellular localization, membrane/soluble).

Conventions (as :mod:`protrnn.evaluation.residue_metrics` for residues, with the protein as the
unit):

- Labels are integer class indices; ``-1`` means unknown and the protein is not scored for that
  head (location or membrane). Predictions are ``N x C`` probabilities (argmax taken) or ``N``
  label indices.
- Accuracy = fraction of scored proteins whose argmax is the true class.
- Confusion matrices have true classes as rows and predicted classes as columns.
- Per-class precision, recall, F1 and one-vs-rest MCC come from
  :func:`protrnn.evaluation.residue_metrics.per_class_scores` (NaN where undefined); macro-F1 is
  the unweighted mean
  of the defined per-class F1 (:func:`protrnn.evaluation.residue_metrics.macro_f1`).
- MCC is the multi-class Matthews correlation coefficient R_K of Gorodkin (2004), computed from
  the confusion matrix C (s = total, c = trace, t_k = row sums, p_k = column sums)::

      R_K = (c * s - sum_k t_k p_k) / sqrt((s^2 - sum_k p_k^2) * (s^2 - sum_k t_k^2))

  as :func:`sklearn.metrics.matthews_corrcoef` does, including its convention that a zero
  denominator (every true or every predicted label the same class) gives 0.0; NaN only when no
  protein is scored. For two classes it is the usual MCC.
- Membrane head: column 1 of its ``N x 2`` probabilities is ``membrane``, column 0 ``soluble``
  (label 1 membrane, 0 soluble, -1 unknown); its accuracy counts proteins with a known label.
- ECE: top-label calibration error over scored proteins, 15 equal-width bins
  (:func:`protrnn.evaluation.residue_metrics.calibration`).
- 95 % CIs: percentile bootstrap over proteins (:mod:`protrnn.evaluation.bootstrap`, seed 0, 1,000
  resamples by default), for accuracy, MCC and membrane accuracy. Accuracy and MCC use the same
  draws (same seed, same scored proteins), so their intervals describe the same replicates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from protrnn.evaluation.bootstrap import (
    LEVEL,
    N_BOOT,
    SEED,
    Interval,
    bootstrap_ci,
    bootstrap_settings,
    check_settings,
    empty_paired_result,
    index_chunks,
    paired_result,
    percentile_interval,
)
from protrnn.evaluation.residue_metrics import calibration, macro_f1, per_class_scores

#: Class names of the membrane head, in column order.
MEMBRANE_CLASSES = ("soluble", "membrane")

#: Class indices, or N x C probabilities (argmax taken).
Labels = np.ndarray | Sequence


def as_labels(pred: np.ndarray | Sequence, n_classes: int | None = None) -> np.ndarray:
    """Label indices from ``N x C`` probabilities (argmax) or ``N`` labels (as int64)."""
    arr = np.asarray(pred)
    if arr.ndim == 2:
        if n_classes is not None and arr.shape[1] != n_classes:
            raise ValueError(f"expected {n_classes} class columns, got shape {arr.shape}")
        if arr.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        return arr.argmax(axis=1).astype(np.int64)
    if arr.ndim != 1:
        raise ValueError(f"predictions must be N labels or N x C probabilities, got {arr.shape}")
    return arr.astype(np.int64)


def true_labels(y_true: np.ndarray | Sequence, n_classes: int) -> np.ndarray:
    """True labels as int64; NaN (an unlabelled float label) -> -1; checks the range."""
    arr = np.asarray(y_true)
    if arr.dtype.kind == "f":
        arr = np.where(np.isnan(arr), -1, arr)
    out = arr.astype(np.int64)
    if out.ndim != 1:
        raise ValueError(f"true labels must be 1-D, got shape {out.shape}")
    bad = (out < -1) | (out >= n_classes)
    if bad.any():
        raise ValueError(f"true label {out[bad][0]} outside -1..{n_classes - 1}")
    return out


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``n_classes x n_classes`` int64 counts over proteins with ``y_true >= 0``."""
    t, p = np.asarray(y_true, np.int64), np.asarray(y_pred, np.int64)
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} differ in shape")
    keep = t >= 0
    t, p = t[keep], p[keep]
    if p.size and (p.min() < 0 or p.max() >= n_classes):
        raise ValueError(f"predicted labels outside 0..{n_classes - 1}")
    counts = np.bincount(t * n_classes + p, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def _mcc_from_confusions(cms: np.ndarray) -> np.ndarray:
    """R_K of a stack of confusion matrices (..., K, K); 0.0 where the denominator is 0."""
    cms = np.asarray(cms, dtype=np.float64)
    s = cms.sum(axis=(-2, -1))
    c = np.trace(cms, axis1=-2, axis2=-1)
    t = cms.sum(axis=-1)
    p = cms.sum(axis=-2)
    num = c * s - (t * p).sum(axis=-1)
    den = (s**2 - (p**2).sum(axis=-1)) * (s**2 - (t**2).sum(axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.sqrt(np.where(den > 0, den, 1.0)), 0.0)
    return np.where(s > 0, out, np.nan)


def mcc_multiclass(confusion_matrix: np.ndarray) -> float:
    """Gorodkin's multi-class MCC (R_K) of one confusion matrix; see the module docstring."""
    cm = np.asarray(confusion_matrix)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion matrix must be square, got shape {cm.shape}")
    return float(_mcc_from_confusions(cm))


def _replicate_confusions(t: np.ndarray, p: np.ndarray, idx: np.ndarray, k: int) -> np.ndarray:
    """Confusion matrices (chunk, k, k) of the bootstrap replicates drawn in ``idx``."""
    chunk = idx.shape[0]
    codes = t[idx] * k + p[idx] + (np.arange(chunk) * k * k)[:, None]
    return np.bincount(codes.ravel(), minlength=chunk * k * k).reshape(chunk, k, k)


def _mcc_replicates(
    t: np.ndarray, preds: tuple[np.ndarray, ...], k: int, n_boot: int, seed: int
) -> np.ndarray:
    """R_K of each prediction in ``preds`` on each bootstrap replicate (one set of draws of
    :func:`index_chunks` for ``seed``, shared by all of them): len(preds) x n_boot."""
    return np.concatenate(
        [
            np.stack([_mcc_from_confusions(_replicate_confusions(t, p, idx, k)) for p in preds])
            for idx in index_chunks(t.size, n_boot, seed)
        ],
        axis=1,
    )


def bootstrap_mcc_ci(
    true: Labels, pred: Labels, k: int, n_boot: int = N_BOOT, seed: int = SEED, level: float = LEVEL
) -> Interval:
    """R_K over the ``k``-class proteins with ``true >= 0`` and its percentile-bootstrap CI.

    Returns ``(estimate, ci_low, ci_high)``; all NaN if no protein is scored. The draws equal
    those of :func:`protrnn.evaluation.bootstrap.bootstrap_ci` for the same scored proteins and
    seed.
    """
    check_settings(n_boot, level)
    t, p = np.asarray(true, np.int64), as_labels(pred)
    keep = t >= 0
    t, p = t[keep], p[keep]
    if t.size == 0:
        return float("nan"), float("nan"), float("nan")
    lo, hi = percentile_interval(_mcc_replicates(t, (p,), k, n_boot, seed)[0], level)
    return mcc_multiclass(confusion(t, p, k)), lo, hi


def paired_bootstrap_mcc_test(
    y_true: Labels,
    pred_a: Labels,
    pred_b: Labels,
    n_classes: int,
    *,
    n_boot: int = N_BOOT,
    seed: int = SEED,
) -> dict:
    """Paired bootstrap of ``R_K(a) - R_K(b)`` on the same proteins (``y_true >= 0``).

    Intervals at the module's :data:`LEVEL`. Same output and two-sided p-value as
    :func:`protrnn.evaluation.bootstrap.paired_bootstrap_test`.
    """
    check_settings(n_boot, LEVEL)
    t = np.asarray(y_true, np.int64)
    a, b = as_labels(pred_a), as_labels(pred_b)
    if not t.shape == a.shape == b.shape:
        raise ValueError(f"y_true {t.shape}, pred_a {a.shape}, pred_b {b.shape} differ")
    keep = t >= 0
    t, a, b = t[keep], a[keep], b[keep]
    if t.size == 0:
        return empty_paired_result()
    k = n_classes
    mcc_a, mcc_b = _mcc_replicates(t, (a, b), k, n_boot, seed)
    stats = mcc_a - mcc_b
    diff = mcc_multiclass(confusion(t, a, k)) - mcc_multiclass(confusion(t, b, k))
    return paired_result(float(diff), stats, LEVEL, t.size)


def _accuracy_ci(t: np.ndarray, p: np.ndarray, n_boot: int, seed: int, level: float) -> Interval:
    total = (t >= 0).astype(np.int64)
    correct = ((p == t) & (total > 0)).astype(np.int64)
    return bootstrap_ci(correct, total, n_boot=n_boot, seed=seed, level=level)


def _location_metrics(
    t: np.ndarray, probs: np.ndarray, classes: list[str], n_boot: int, seed: int, level: float
) -> dict:
    """Accuracy, MCC (with CIs), macro-F1, ECE, confusion and per-class table of the location."""
    p = as_labels(probs, len(classes))
    cm = confusion(t, p, len(classes))
    scores = per_class_scores(cm, classes)
    acc, acc_lo, acc_hi = _accuracy_ci(t, p, n_boot, seed, level)
    mcc, mcc_lo, mcc_hi = bootstrap_mcc_ci(t, p, len(classes), n_boot, seed, level)
    return {
        "accuracy": acc,
        "accuracy_ci": [acc_lo, acc_hi],
        "mcc": mcc,
        "mcc_ci": [mcc_lo, mcc_hi],
        "macro_f1": macro_f1(scores),
        "ece": calibration(t, probs.astype(np.float64))[0] if probs.ndim == 2 else float("nan"),
        "confusion": cm,
        "per_class": scores,
    }


def _membrane_labels(
    membrane_true: Labels | None, membrane: Labels | None, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) membrane labels, -1 where unknown or without a membrane head."""
    mt = np.full(n, -1, np.int64) if membrane_true is None else true_labels(membrane_true, 2)
    if mt.shape != (n,):
        raise ValueError(f"{mt.size} membrane labels for {n} proteins")
    mp = np.full(n, -1, np.int64) if membrane is None else as_labels(membrane, 2)
    if mp.shape != (n,):
        raise ValueError(f"{mp.size} membrane predictions for {n} proteins")
    return mt, mp


def _membrane_metrics(mt: np.ndarray, mp: np.ndarray, n_boot: int, seed: int, level: float) -> dict:
    """Membrane/soluble accuracy (with CI) and confusion over proteins with both labels known."""
    known = (mt >= 0) & (mp >= 0)
    mt_scored = np.where(known, mt, -1)
    m_acc, m_lo, m_hi = _accuracy_ci(mt_scored, mp, n_boot, seed, level)
    return {
        "membrane_accuracy": m_acc,
        "membrane_accuracy_ci": [m_lo, m_hi],
        "membrane_n": int(known.sum()),
        "membrane_confusion": confusion(mt_scored, np.where(known, mp, 0), 2),
        "membrane_classes": list(MEMBRANE_CLASSES),
    }


def evaluate_proteins(
    y_true: Labels,
    location: Labels,
    classes: Sequence[str],
    membrane_true: Labels | None = None,
    membrane: Labels | None = None,
    n_boot: int = N_BOOT,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict:
    """All per-protein metrics of one (model, test set).

    ``y_true``: N class indices into ``classes`` (-1/NaN unknown); ``location``: N x C
    probabilities (or N labels); ``membrane_true``: N values 1/0/-1 (None: all unknown);
    ``membrane``: N x 2 probabilities (or N labels; None: no membrane head).

    Returned keys: task ("per_protein"), classes, n_proteins, n_proteins_scored, accuracy,
    accuracy_ci, mcc, mcc_ci ([low, high]), macro_f1, ece, confusion (np.ndarray),
    per_class (DataFrame: class, support, precision, recall, f1, mcc), membrane_accuracy,
    membrane_accuracy_ci, membrane_n, membrane_confusion (2 x 2, rows true soluble/membrane),
    membrane_classes, bootstrap (settings); and per protein (np.ndarray, input order):
    per_protein_true, per_protein_pred, per_protein_correct (0/1; 0 where unscored),
    per_protein_membrane_true, per_protein_membrane_pred (-1 without a membrane head),
    per_protein_membrane_correct.
    """
    classes = [str(c) for c in classes]
    t = true_labels(y_true, len(classes))
    probs = np.asarray(location)
    p = as_labels(probs, len(classes))
    if p.shape != t.shape:
        raise ValueError(f"{p.size} location predictions for {t.size} proteins")
    mt, mp = _membrane_labels(membrane_true, membrane, t.size)
    return {
        "task": "per_protein",
        "classes": classes,
        "n_proteins": int(t.size),
        "n_proteins_scored": int((t >= 0).sum()),
        **_location_metrics(t, probs, classes, n_boot, seed, level),
        **_membrane_metrics(mt, mp, n_boot, seed, level),
        "bootstrap": bootstrap_settings(n_boot, seed, level),
        "per_protein_true": t,
        "per_protein_pred": p,
        "per_protein_correct": ((p == t) & (t >= 0)).astype(np.int64),
        "per_protein_membrane_true": mt,
        "per_protein_membrane_pred": mp,
        "per_protein_membrane_correct": ((mp == mt) & (mt >= 0) & (mp >= 0)).astype(np.int64),
    }

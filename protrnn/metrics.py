"""Secondary-structure metrics: Q8/Q3, confusion matrices, per-class precision/recall/F1.

Conventions (DESIGN.md, "Evaluation"):

- A residue counts only where ``mask == 1`` and its true label is known (``y_true >= 0``).
- Q8/Q3 are residue-pooled over all counted residues of the set; the mean of per-protein
  accuracies is reported separately (``*_per_protein_mean``) and never replaces them.
- Accuracies are fractions in [0, 1]; NaN means "no residue counted".
- Confusion matrices have true classes as rows and predicted classes as columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from protrnn.alphabet import SS3, SS8, SS8_TO_SS3

#: Index map ss8 -> ss3 (H, G, I -> H; E, B -> E; T, S, C -> C) as an integer lookup table.
SS8_TO_SS3_INDEX = np.array([SS3.index(SS8_TO_SS3[c]) for c in SS8], dtype=np.int64)


def _as_labels(pred: np.ndarray | Sequence, n_classes: int | None = None) -> np.ndarray:
    """Return label indices: argmax over the last axis for L x C probabilities, else as is."""
    arr = np.asarray(pred)
    if arr.ndim == 2:
        if n_classes is not None and arr.shape[1] != n_classes:
            raise ValueError(f"expected {n_classes} class columns, got shape {arr.shape}")
        return arr.argmax(axis=1).astype(np.int64)
    if arr.ndim != 1:
        raise ValueError(f"predictions must be L labels or L x C probabilities, got {arr.shape}")
    return arr.astype(np.int64)


def _counted(y_true: np.ndarray, y_pred: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Boolean selector of the residues that count (mask == 1 and known true label)."""
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    keep = y_true >= 0
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape != y_true.shape:
            raise ValueError(f"mask {mask.shape} and y_true {y_true.shape} differ in shape")
        keep &= mask == 1
    return keep


def accuracy(
    y_true: np.ndarray | Sequence[int],
    y_pred: np.ndarray | Sequence[int],
    mask: np.ndarray | Sequence[int] | None = None,
) -> float:
    """Residue-pooled accuracy over residues with ``mask == 1`` and ``y_true >= 0``.

    ``y_pred`` may be label indices (L) or probabilities (L x C, argmax is taken).
    Returns NaN when no residue counts.
    """
    t = np.asarray(y_true).astype(np.int64)
    p = _as_labels(y_pred)
    keep = _counted(t, p, None if mask is None else np.asarray(mask))
    n = int(keep.sum())
    if n == 0:
        return float("nan")
    return float((t[keep] == p[keep]).sum() / n)


def confusion_matrix(
    y_true: np.ndarray | Sequence[int],
    y_pred: np.ndarray | Sequence[int],
    n_classes: int,
    mask: np.ndarray | Sequence[int] | None = None,
) -> np.ndarray:
    """``n_classes x n_classes`` int64 counts, rows = true class, columns = predicted class."""
    t = np.asarray(y_true).astype(np.int64)
    p = _as_labels(y_pred)
    keep = _counted(t, p, None if mask is None else np.asarray(mask))
    t, p = t[keep], p[keep]
    if t.size and (t.max() >= n_classes or p.min() < 0 or p.max() >= n_classes):
        raise ValueError(f"labels outside 0..{n_classes - 1}")
    counts = np.bincount(t * n_classes + p, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def per_class_scores(
    confusion: np.ndarray, classes: Sequence[str] | str | None = None
) -> pd.DataFrame:
    """Per-class support, precision, recall and F1 from a confusion matrix.

    Zero division gives NaN ("undefined"): precision is NaN for a class never predicted,
    recall for a class with no support. F1 = 2TP / (2TP + FP + FN), so it is 0 when a class
    is present or predicted but never hit, and NaN only when it is neither present nor predicted.
    """
    cm = np.asarray(confusion, dtype=np.int64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion matrix must be square, got shape {cm.shape}")
    n = cm.shape[0]
    names = list(classes) if classes is not None else [str(i) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"{len(names)} class names for a {n}-class confusion matrix")
    tp = np.diag(cm).astype(float)
    support = cm.sum(axis=1).astype(float)
    predicted = cm.sum(axis=0).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
        recall = np.where(support > 0, tp / support, np.nan)
        denom = support + predicted  # = 2TP + FP + FN
        f1 = np.where(denom > 0, 2 * tp / denom, np.nan)
    return pd.DataFrame(
        {
            "class": names,
            "support": support.astype(np.int64),
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    )


def reduce_ss8_to_ss3(labels: np.ndarray) -> np.ndarray:
    """Map ss8 label indices to ss3 indices; negative (unknown) labels stay -1."""
    arr = np.asarray(labels).astype(np.int64)
    out = np.full(arr.shape, -1, dtype=np.int64)
    known = arr >= 0
    out[known] = SS8_TO_SS3_INDEX[arr[known]]
    return out


def _per_protein_mean(trues: list[np.ndarray], preds: list[np.ndarray], masks: list) -> float:
    """Mean over proteins with at least one counted residue of each protein's accuracy."""
    values = [accuracy(t, p, m) for t, p, m in zip(trues, preds, masks, strict=True)]
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def evaluate_predictions(
    true_ss8: list[np.ndarray],
    pred_ss8_probs: list,
    true_ss3: list[np.ndarray],
    pred_ss3_probs: list,
    masks: list[np.ndarray],
) -> dict:
    """All metrics for one (model, test set): pooled Q8/Q3, per-protein means, matrices, tables.

    Every argument is a per-protein list (same order). Predictions may be L x C probabilities
    or L label indices. ``q3_from_ss8`` reduces the argmax of the 8-state head to 3 states and
    scores it against ``true_ss3``. Returned keys: q8, q3, q3_from_ss8, q8_per_protein_mean,
    q3_per_protein_mean, n_proteins, n_proteins_scored, n_residues (Q8 basis), n_residues_q3,
    confusion_ss8, confusion_ss3, confusion_ss3_from_ss8 (np.ndarray), per_class_ss8,
    per_class_ss3 (pd.DataFrame), per_protein_q8, per_protein_q3 (np.ndarray, NaN = not scored).
    """
    n = len(true_ss8)
    if not (len(pred_ss8_probs) == len(true_ss3) == len(pred_ss3_probs) == len(masks) == n):
        raise ValueError("evaluate_predictions: all per-protein lists must have the same length")
    t8 = [np.asarray(t).astype(np.int64) for t in true_ss8]
    t3 = [np.asarray(t).astype(np.int64) for t in true_ss3]
    p8 = [_as_labels(p, len(SS8)) for p in pred_ss8_probs]
    p3 = [_as_labels(p, len(SS3)) for p in pred_ss3_probs]
    p3_from8 = [reduce_ss8_to_ss3(p) for p in p8]
    m = [np.asarray(x) for x in masks]

    def cat(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)

    all_t8, all_t3, all_p8, all_p3 = cat(t8), cat(t3), cat(p8), cat(p3)
    all_p3_from8, all_m = cat(p3_from8), cat(m)
    per_q8 = np.array([accuracy(a, b, c) for a, b, c in zip(t8, p8, m, strict=True)], float)
    per_q3 = np.array([accuracy(a, b, c) for a, b, c in zip(t3, p3, m, strict=True)], float)
    cm8 = confusion_matrix(all_t8, all_p8, len(SS8), all_m)
    cm3 = confusion_matrix(all_t3, all_p3, len(SS3), all_m)
    cm3_from8 = confusion_matrix(all_t3, all_p3_from8, len(SS3), all_m)
    return {
        "q8": accuracy(all_t8, all_p8, all_m),
        "q3": accuracy(all_t3, all_p3, all_m),
        "q3_from_ss8": accuracy(all_t3, all_p3_from8, all_m),
        "q8_per_protein_mean": _per_protein_mean(t8, p8, m),
        "q3_per_protein_mean": _per_protein_mean(t3, p3, m),
        "n_proteins": n,
        "n_proteins_scored": int((~np.isnan(per_q8)).sum()),
        "n_residues": int(cm8.sum()),
        "n_residues_q3": int(cm3.sum()),
        "confusion_ss8": cm8,
        "confusion_ss3": cm3,
        "confusion_ss3_from_ss8": cm3_from8,
        "per_class_ss8": per_class_scores(cm8, SS8),
        "per_class_ss3": per_class_scores(cm3, SS3),
        "per_protein_q8": per_q8,
        "per_protein_q3": per_q3,
    }

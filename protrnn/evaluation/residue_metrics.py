"""Secondary-structure metrics: Q8/Q3, confusion matrices, per-class scores, SOV, calibration.

Conventions (DESIGN.md, "Evaluation"):

- A residue counts only where ``mask == 1`` and its true label is known (``y_true >= 0``).
- Q8/Q3 are residue-pooled over all counted residues of the set; the mean of per-protein
  accuracies is reported separately (``*_per_protein_mean``) and never replaces them.
- Accuracies (and SOV, ECE) are fractions in [0, 1]; NaN means "no residue counted" or
  "undefined".
- Confusion matrices have true classes as rows and predicted classes as columns.
- Per-class MCC is one-vs-rest (class k against all other classes) over counted residues.
- Macro-F1 is the unweighted mean of per-class F1 over the classes that are present or
  predicted (F1 defined), as scikit-learn's ``f1_score(average="macro")`` does.
- Accuracy by length bin: proteins are binned by their full sequence length (all residues,
  observed or not); Q8/Q3 are pooled over the counted residues of the proteins in a bin.
- Calibration: top-label confidence (the largest class probability, as given, not
  renormalised) of every counted residue, 15 equal-width bins over [0, 1] (bin m holds
  ``m/15 <= confidence < (m+1)/15``, the last bin includes 1). ECE = sum over bins of
  ``n_m / N * |accuracy_m - mean confidence_m|`` (Guo et al. 2017). Needs probabilities;
  with label predictions it is NaN.
- SOV (:mod:`protrnn.evaluation.sov`) is computed per protein over observed segments; the set value
  is
  the mean over proteins (proteins with no observed residue left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from protrnn.core.alphabet import SS3, SS8, SS8_TO_SS3
from protrnn.evaluation.sov import mean_of_scored, sov_per_protein

#: Index map ss8 -> ss3 (H, G, I -> H; E, B -> E; T, S, C -> C) as an integer lookup table.
SS8_TO_SS3_INDEX = np.array([SS3.index(SS8_TO_SS3[c]) for c in SS8], dtype=np.int64)

#: Sequence-length bins: (label, lower inclusive, upper exclusive); lengths are full lengths.
LENGTH_BINS: tuple[tuple[str, int, float], ...] = (
    ("<100", 0, 100),
    ("100-199", 100, 200),
    ("200-299", 200, 300),
    ("300-499", 300, 500),
    (">=500", 500, float("inf")),
)

#: Number of equal-width confidence bins for ECE and reliability diagrams.
N_CALIBRATION_BINS = 15

#: SOV variants computed per protein: result key -> protrnn.evaluation.sov method.
SOV_METHODS = {"sov99": "sov99", "sov_refine": "refine"}

#: How the set-level SOV is formed (written to metrics.json as ``sov_averaging``).
SOV_AVERAGING = (
    "mean over proteins of the per-protein SOV (proteins with no observed residue left out)"
)


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
    """Per-class support, precision, recall, F1 and one-vs-rest MCC from a confusion matrix.

    Zero division gives NaN ("undefined"): precision is NaN for a class never predicted,
    recall for a class with no support. F1 = 2TP / (2TP + FP + FN), so it is 0 when a class
    is present or predicted but never hit, and NaN only when it is neither present nor predicted.
    MCC (class k vs the rest) = (TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)); NaN when
    a factor of the denominator is 0 (class never predicted, absent, or everywhere).
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
        total = float(cm.sum())
        fp, fn = predicted - tp, support - tp
        tn = total - tp - fp - fn
        mcc_den = np.sqrt(predicted * support * (tn + fp) * (tn + fn))
        mcc = np.where(mcc_den > 0, (tp * tn - fp * fn) / mcc_den, np.nan)
    return pd.DataFrame(
        {
            "class": names,
            "support": support.astype(np.int64),
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "mcc": mcc,
        }
    )


def macro_f1(scores: pd.DataFrame) -> float:
    """Unweighted mean of per-class F1 over classes with a defined F1 (present or predicted)."""
    f1 = scores["f1"].to_numpy(dtype=float)
    f1 = f1[~np.isnan(f1)]
    return float(f1.mean()) if f1.size else float("nan")


def calibration(
    y_true: np.ndarray | Sequence[int],
    probs: np.ndarray,
    mask: np.ndarray | Sequence[int] | None = None,
    n_bins: int = N_CALIBRATION_BINS,
) -> tuple[float, pd.DataFrame]:
    """Expected calibration error and reliability-diagram data of top-label confidence.

    ``probs`` is L x C. Returns ``(ece, bins)`` where ``bins`` has one row per bin: ``bin``
    (0-based), ``lower``, ``upper`` (edges), ``n`` (residues), ``confidence`` (mean top-label
    confidence), ``accuracy`` (fraction of argmax predictions that are right); the last two are
    NaN for an empty bin. ECE is NaN when no residue counts. See the module docstring.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    t = np.asarray(y_true).astype(np.int64)
    pr = np.asarray(probs, dtype=np.float64)
    if pr.ndim != 2 or pr.shape[0] != t.shape[0]:
        raise ValueError(f"probabilities {pr.shape} must be L x C for {t.shape[0]} residues")
    pred = pr.argmax(axis=1) if pr.size else np.zeros(0, dtype=np.int64)
    keep = _counted(t, pred, None if mask is None else np.asarray(mask))
    conf = pr.max(axis=1)[keep] if pr.size else np.zeros(0)
    hit = (pred[keep] == t[keep]).astype(np.float64)
    idx = np.clip(np.floor(conf * n_bins).astype(np.int64), 0, n_bins - 1)
    n = np.bincount(idx, minlength=n_bins)
    conf_sum = np.bincount(idx, weights=conf, minlength=n_bins)
    hit_sum = np.bincount(idx, weights=hit, minlength=n_bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_conf = np.where(n > 0, conf_sum / n, np.nan)
        acc = np.where(n > 0, hit_sum / n, np.nan)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "lower": edges[:-1],
            "upper": edges[1:],
            "n": n.astype(np.int64),
            "confidence": mean_conf,
            "accuracy": acc,
        }
    )
    total = int(n.sum())
    if total == 0:
        return float("nan"), bins
    ece = float(np.abs(hit_sum - conf_sum).sum() / total)  # = sum n_m/N |acc_m - conf_m|
    return ece, bins


def length_bin_table(
    lengths: np.ndarray | Sequence[int],
    correct_ss8: np.ndarray | Sequence[int],
    total_ss8: np.ndarray | Sequence[int],
    correct_ss3: np.ndarray | Sequence[int],
    total_ss3: np.ndarray | Sequence[int],
    bins: Sequence[tuple[str, float, float]] = LENGTH_BINS,
) -> pd.DataFrame:
    """Pooled Q8/Q3 per sequence-length bin from per-protein correct/total counts.

    Columns: ``bin`` (label), ``lower`` (inclusive), ``upper`` (exclusive; inf for the last),
    ``n_proteins`` (all proteins in the bin), ``n_residues`` (counted residues, 8-state basis),
    ``q8``, ``q3`` (NaN when the bin has no counted residue).
    """
    length = np.asarray(lengths, dtype=np.int64)
    c8, t8 = np.asarray(correct_ss8, float), np.asarray(total_ss8, float)
    c3, t3 = np.asarray(correct_ss3, float), np.asarray(total_ss3, float)
    if not (length.shape == c8.shape == t8.shape == c3.shape == t3.shape):
        raise ValueError("length_bin_table: all per-protein arrays must have the same length")
    rows = []
    for label, lower, upper in bins:
        sel = (length >= lower) & (length < upper)
        n8, n3 = t8[sel].sum(), t3[sel].sum()
        rows.append(
            {
                "bin": label,
                "lower": lower,
                "upper": int(upper) if np.isfinite(upper) else upper,
                "n_proteins": int(sel.sum()),
                "n_residues": int(n8),
                "q8": float(c8[sel].sum() / n8) if n8 > 0 else float("nan"),
                "q3": float(c3[sel].sum() / n3) if n3 > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def length_bin_of(length: int, bins: Sequence[tuple[str, float, float]] = LENGTH_BINS) -> str:
    """Label of the length bin holding ``length``."""
    for label, lower, upper in bins:
        if lower <= length < upper:
            return label
    raise ValueError(f"length {length} is outside every bin")


def reduce_ss8_to_ss3(labels: np.ndarray) -> np.ndarray:
    """Map ss8 label indices to ss3 indices; negative (unknown) labels stay -1."""
    arr = np.asarray(labels).astype(np.int64)
    out = np.full(arr.shape, -1, dtype=np.int64)
    known = arr >= 0
    out[known] = SS8_TO_SS3_INDEX[arr[known]]
    return out


def _counts(
    trues: list[np.ndarray], preds: list[np.ndarray], masks: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Per-protein (correct, total) counted residues as int64 arrays."""
    correct, total = [], []
    for t, p, m in zip(trues, preds, masks, strict=True):
        keep = _counted(t, p, m)
        total.append(int(keep.sum()))
        correct.append(int((t[keep] == p[keep]).sum()))
    return np.asarray(correct, dtype=np.int64), np.asarray(total, dtype=np.int64)


def _per_protein_mean(trues: list[np.ndarray], preds: list[np.ndarray], masks: list) -> float:
    """Mean over proteins with at least one counted residue of each protein's accuracy."""
    values = [accuracy(t, p, m) for t, p, m in zip(trues, preds, masks, strict=True)]
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def _probabilities(preds: list) -> list[np.ndarray] | None:
    """The per-protein L x C probability arrays, or None when any prediction is labels only."""
    arrays = [np.asarray(p) for p in preds]
    if all(a.ndim == 2 for a in arrays):
        return arrays
    return None


def evaluate_predictions(
    true_ss8: list[np.ndarray],
    pred_ss8_probs: list,
    true_ss3: list[np.ndarray],
    pred_ss3_probs: list,
    masks: list[np.ndarray],
    sov: bool = True,
) -> dict:
    """All metrics for one (model, test set): pooled Q8/Q3, per-protein means, matrices, tables.

    Every argument is a per-protein list (same order). Predictions may be L x C probabilities
    or L label indices (then calibration is NaN). ``q3_from_ss8`` reduces the argmax of the
    8-state head to 3 states and scores it against ``true_ss3``. ``sov=False`` skips SOV.

    Returned keys: q8, q3, q3_from_ss8, q8_per_protein_mean, q3_per_protein_mean, n_proteins,
    n_proteins_scored, n_residues (Q8 basis), n_residues_q3, confusion_ss8, confusion_ss3,
    confusion_ss3_from_ss8 (np.ndarray), per_class_ss8, per_class_ss3 (pd.DataFrame with MCC),
    macro_f1_ss8, macro_f1_ss3, ece_ss8, ece_ss3, calibration_ss8, calibration_ss3
    (pd.DataFrame, see :func:`calibration`), calibration_bins, length_bins (pd.DataFrame, see
    :func:`length_bin_table`), sov99_ss8, sov99_ss3, sov_refine_ss8, sov_refine_ss3 (mean over
    proteins), sov_averaging, sov_n_proteins; and per protein (np.ndarray, same order as the
    input): per_protein_q8, per_protein_q3 (NaN = not scored), per_protein_length,
    per_protein_correct_ss8 / _total_ss8, per_protein_correct_ss3 / _total_ss3,
    per_protein_correct_ss3_from_ss8, per_protein_sov99_ss8, per_protein_sov99_ss3,
    per_protein_sov_refine_ss8, per_protein_sov_refine_ss3 (NaN = nothing observed).
    """
    n = len(true_ss8)
    if not (len(pred_ss8_probs) == len(true_ss3) == len(pred_ss3_probs) == len(masks) == n):
        raise ValueError("evaluate_predictions: all per-protein lists must have the same length")
    labels = _ProteinLabels.of(true_ss8, pred_ss8_probs, true_ss3, pred_ss3_probs, masks)
    result = _pooled_scores(labels)
    result.update(_calibration_scores(labels, pred_ss8_probs, pred_ss3_probs))
    per_protein = _per_protein_scores(labels)
    result["length_bins"] = length_bin_table(
        per_protein["per_protein_length"],
        per_protein["per_protein_correct_ss8"],
        per_protein["per_protein_total_ss8"],
        per_protein["per_protein_correct_ss3"],
        per_protein["per_protein_total_ss3"],
    )
    result.update(per_protein)
    if sov:
        result.update(_sov_scores(labels))
    return result


@dataclass(frozen=True)
class _ProteinLabels:
    """Per-protein label arrays of one (model, test set); :meth:`joined` concatenates one."""

    t8: list[np.ndarray]
    t3: list[np.ndarray]
    p8: list[np.ndarray]
    p3: list[np.ndarray]
    p3_from8: list[np.ndarray]
    m: list[np.ndarray]
    _joined: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(
        cls, true_ss8: list, pred_ss8: list, true_ss3: list, pred_ss3: list, masks: list
    ) -> _ProteinLabels:
        """Label indices (argmax of probabilities) and masks as arrays."""
        p8 = [_as_labels(p, len(SS8)) for p in pred_ss8]
        return cls(
            t8=[np.asarray(t).astype(np.int64) for t in true_ss8],
            t3=[np.asarray(t).astype(np.int64) for t in true_ss3],
            p8=p8,
            p3=[_as_labels(p, len(SS3)) for p in pred_ss3],
            p3_from8=[reduce_ss8_to_ss3(p) for p in p8],
            m=[np.asarray(x) for x in masks],
        )

    def joined(self, name: str) -> np.ndarray:
        """The concatenation over proteins of field ``name`` (computed once)."""
        if name not in self._joined:
            arrays = getattr(self, name)
            self._joined[name] = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
        return self._joined[name]


def _pooled_scores(labels: _ProteinLabels) -> dict:
    """Residue-pooled accuracies, per-protein means, counts, confusions and per-class tables."""
    all_t8, all_t3, all_m = (labels.joined(name) for name in ("t8", "t3", "m"))
    all_p8, all_p3, all_p3_from8 = (labels.joined(name) for name in ("p8", "p3", "p3_from8"))
    cm8 = confusion_matrix(all_t8, all_p8, len(SS8), all_m)
    cm3 = confusion_matrix(all_t3, all_p3, len(SS3), all_m)
    pc8, pc3 = per_class_scores(cm8, SS8), per_class_scores(cm3, SS3)
    per_q8 = _per_protein_accuracy(labels.t8, labels.p8, labels.m)
    return {
        "q8": accuracy(all_t8, all_p8, all_m),
        "q3": accuracy(all_t3, all_p3, all_m),
        "q3_from_ss8": accuracy(all_t3, all_p3_from8, all_m),
        "q8_per_protein_mean": _per_protein_mean(labels.t8, labels.p8, labels.m),
        "q3_per_protein_mean": _per_protein_mean(labels.t3, labels.p3, labels.m),
        "n_proteins": len(labels.t8),
        "n_proteins_scored": int((~np.isnan(per_q8)).sum()),
        "n_residues": int(cm8.sum()),
        "n_residues_q3": int(cm3.sum()),
        "confusion_ss8": cm8,
        "confusion_ss3": cm3,
        "confusion_ss3_from_ss8": confusion_matrix(all_t3, all_p3_from8, len(SS3), all_m),
        "per_class_ss8": pc8,
        "per_class_ss3": pc3,
        "macro_f1_ss8": macro_f1(pc8),
        "macro_f1_ss3": macro_f1(pc3),
    }


def _calibration_scores(labels: _ProteinLabels, pred_ss8: list, pred_ss3: list) -> dict:
    """ECE and reliability bins of both heads (NaN / empty bins for label predictions)."""
    result: dict = {}
    all_m = labels.joined("m")
    for head, trues, preds, k in (
        ("ss8", labels.joined("t8"), pred_ss8, len(SS8)),
        ("ss3", labels.joined("t3"), pred_ss3, len(SS3)),
    ):
        probs = _probabilities(preds)
        if probs is not None:
            stacked = np.concatenate(probs) if probs else np.zeros((0, k))
            ece, bins = calibration(trues, stacked, all_m)
        else:
            ece, bins = calibration(np.zeros(0, np.int64), np.zeros((0, 1)))
        result[f"ece_{head}"] = ece
        result[f"calibration_{head}"] = bins
    result["calibration_bins"] = N_CALIBRATION_BINS
    return result


def _per_protein_accuracy(trues: list, preds: list, masks: list) -> np.ndarray:
    """Accuracy of every protein (NaN where no residue counts)."""
    return np.array([accuracy(t, p, m) for t, p, m in zip(trues, preds, masks, strict=True)], float)


def _per_protein_scores(labels: _ProteinLabels) -> dict:
    """The ``per_protein_*`` arrays of Q8/Q3, lengths and correct/total counts."""
    correct8, total8 = _counts(labels.t8, labels.p8, labels.m)
    correct3, total3 = _counts(labels.t3, labels.p3, labels.m)
    correct3_from8, _ = _counts(labels.t3, labels.p3_from8, labels.m)
    return {
        "per_protein_q8": _per_protein_accuracy(labels.t8, labels.p8, labels.m),
        "per_protein_q3": _per_protein_accuracy(labels.t3, labels.p3, labels.m),
        "per_protein_length": np.array([t.size for t in labels.t8], dtype=np.int64),
        "per_protein_correct_ss8": correct8,
        "per_protein_total_ss8": total8,
        "per_protein_correct_ss3": correct3,
        "per_protein_total_ss3": total3,
        "per_protein_correct_ss3_from_ss8": correct3_from8,
    }


def _sov_scores(labels: _ProteinLabels) -> dict:
    """SOV'99 and SOV_refine of both heads: mean over proteins and the per-protein values."""
    result: dict = {}
    for name, method in SOV_METHODS.items():
        for head, trues, preds in (("ss8", labels.t8, labels.p8), ("ss3", labels.t3, labels.p3)):
            values = sov_per_protein(trues, preds, labels.m, method=method)
            result[f"{name}_{head}"] = mean_of_scored(values)
            result[f"per_protein_{name}_{head}"] = values
    result["sov_averaging"] = SOV_AVERAGING
    result["sov_n_proteins"] = int((~np.isnan(result["per_protein_sov99_ss8"])).sum())
    return result

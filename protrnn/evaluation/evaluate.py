"""Run a trained model on an encoded test set and write predictions + metrics (all atomic).

Outputs in ``out_dir``:

- ``metrics.json``: see :func:`metrics_to_json`; accuracies, SOV and ECE are fractions in
  [0, 1]. Besides the scalars of :func:`protrnn.evaluation.residue_metrics.evaluate_predictions`
  (Q8/Q3, SOV'99 and
  SOV_refine as means over proteins, macro-F1, ECE, per-class tables with MCC, reliability
  bins, length bins) it holds 95% percentile-bootstrap CIs over proteins
  (:mod:`protrnn.evaluation.bootstrap`, seed 0, 1000 resamples; see :func:`add_intervals`):
  ``q8_ci``, ``q3_ci``, ``q3_from_ss8_ci``, ``sov99_ss8_ci``, ``sov99_ss3_ci``,
  ``sov_refine_ss8_ci``, ``sov_refine_ss3_ci`` as ``[low, high]``, ``q8_ci_low`` ...
  ``q3_ci_high`` columns in every ``length_bins`` row, and ``bootstrap`` (the settings).
- ``per_class.tsv``: head (ss8/ss3), class, support, precision, recall, f1, mcc.
- ``predictions.npz``: ``ids``, ``lengths``, ``offsets`` (into the concatenated residue arrays),
  ``pred_ss8`` / ``pred_ss3`` (one string per protein), ``prob_ss8`` (N x 8) / ``prob_ss3``
  (N x 3) float16 concatenated over proteins, ``mask`` (uint8, the residues that were scored),
  ``q8`` / ``q3`` per protein (NaN where no residue was scored); for paired tests between
  models on the same test set, per protein in ``ids`` order: ``correct_ss8``, ``total_ss8``,
  ``correct_ss3``, ``total_ss3``, ``correct_ss3_from_ss8`` (int64 counted residues),
  ``sov99_ss8``, ``sov99_ss3``, ``sov_refine_ss8``, ``sov_refine_ss3`` (float64, NaN = nothing
  observed); and ``model``, ``test_set`` (0-d strings).

Per-protein sets (``encoded.task == "per_protein"``, e.g. subcellular localization; see
:func:`evaluate_protein_model`) write the same three files with per-protein content. Only the
proteins of split ``test`` are scored (a per-protein dataset may hold its train/valid proteins
too); ``mask`` does not apply.

- ``metrics.json``: ``task`` ("per_protein"), ``classes``, ``n_proteins``, ``accuracy`` and
  ``accuracy_ci``, ``mcc`` (Gorodkin's multi-class R_K) and ``mcc_ci``, ``macro_f1``, ``ece``,
  ``confusion`` (rows true, columns predicted), ``per_class`` (rows), ``membrane_accuracy``,
  ``membrane_accuracy_ci``, ``membrane_n`` (proteins with a known membrane label),
  ``membrane_confusion``, ``membrane_classes``, ``bootstrap``, and the run information
  (model, test_set, dataset, paths, device, splits, ``n_not_test`` proteins left out), all from
  :func:`protrnn.evaluation.protein_metrics.evaluate_proteins`.
- ``per_class.tsv``: head (``location`` / ``membrane``), class, support, precision, recall, f1,
  mcc (one-vs-rest).
- ``predictions.npz``: ``ids``, ``true``, ``predicted`` (int64 class indices, -1 unknown),
  ``probabilities`` (N x C float32), ``classes``, ``correct`` (0/1), ``membrane_true``,
  ``membrane_predicted`` (1 membrane, 0 soluble, -1 unknown / no head),
  ``membrane_probabilities`` (N x 2 float32; N x 0 without a membrane head),
  ``membrane_correct``, ``membrane_known`` (0/1), and ``model``, ``test_set``, ``task``
  (0-d strings).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from protrnn.core.alphabet import SS3, SS8
from protrnn.core.fileio import atomic_path, atomic_write_text
from protrnn.encode import load_encoded
from protrnn.evaluation.bootstrap import (
    LEVEL,
    N_BOOT,
    SEED,
    bootstrap_ci,
    bootstrap_mean_ci,
    bootstrap_settings,
)
from protrnn.evaluation.protein_metrics import evaluate_proteins
from protrnn.evaluation.residue_metrics import LENGTH_BINS, evaluate_predictions, per_class_scores
from protrnn.model import inference
from protrnn.model.ensemble import Ensemble

#: Per-protein arrays written to predictions.npz for paired tests (npz key -> result key).
PAIRED_ARRAYS = {
    "correct_ss8": "per_protein_correct_ss8",
    "total_ss8": "per_protein_total_ss8",
    "correct_ss3": "per_protein_correct_ss3",
    "total_ss3": "per_protein_total_ss3",
    "correct_ss3_from_ss8": "per_protein_correct_ss3_from_ss8",
    "sov99_ss8": "per_protein_sov99_ss8",
    "sov99_ss3": "per_protein_sov99_ss3",
    "sov_refine_ss8": "per_protein_sov_refine_ss8",
    "sov_refine_ss3": "per_protein_sov_refine_ss3",
}

#: Mask choices: residues counted for each.
MASKS = {
    "eval_mask": "eval_mask == 1 (observed residues)",
    "cb513_mask": "eval_mask == 1 and cb513_mask == 1 (classic CB513 residue set)",
}

#: Columns of per_class.tsv.
PER_CLASS_COLUMNS = ["head", "class", "support", "precision", "recall", "f1", "mcc"]


def _load_encoded(path: Path) -> Any:
    """The encoded set at ``path``; a file that lacks an array is named with the array."""
    try:
        return load_encoded(path)
    except KeyError as exc:  # numpy: "'eval_mask is not a file in the archive'"
        missing = exc.args[0]
        raise ValueError(f"{path}: incomplete encoded set ({missing}); encode it again") from exc


def _run_model(model_path: Path, encoded: Any, device: str | None) -> tuple[Any, list]:
    """Load the trained model and predict every protein of ``encoded``: (model, predictions)."""
    model = inference.load_model(model_path, device)
    return model, list(inference.predict_proba(model, encoded, device))


def _check_task(preds: list[dict], per_protein: bool, where: str) -> None:
    """Fail when the model answers for the other task (per-residue vs per-protein)."""
    heads = set().union(*(p.keys() for p in preds)) if preds else set()
    if per_protein and "location" not in heads and {"ss8", "ss3"} <= heads:
        raise ValueError(
            f"{where}: the model predicts per-residue ss8/ss3, the test set is per-protein "
            "(a model of another task?)"
        )
    if not per_protein and "location" in heads:
        raise ValueError(
            f"{where}: the model predicts per-protein location classes, the test set is "
            "per-residue (a model of another task?)"
        )


def _check_probabilities(values: np.ndarray, shape: tuple, pid: str, head: str, where: str) -> None:
    """Fail unless one protein's ``head`` probabilities have ``shape`` and are finite."""
    if values.shape != shape:
        raise ValueError(
            f"{where}: protein {pid}: {head} probabilities have shape {values.shape}, "
            f"expected {shape}"
        )
    if not np.isfinite(values).all():
        raise ValueError(f"{where}: protein {pid}: {head} probabilities are not finite (NaN/inf)")


def _check_mask_name(mask: str) -> None:
    if mask not in MASKS:
        raise ValueError(f"unknown mask {mask!r}; choose one of {sorted(MASKS)}")


def select_mask(encoded: Any, mask: str, source: str = "the encoded set") -> np.ndarray:
    """Concatenated uint8 residue mask for ``mask`` (``eval_mask`` or ``cb513_mask``).

    ``source`` names the encoded set in errors (its path).
    """
    _check_mask_name(mask)
    selected = np.asarray(encoded.eval_mask).astype(np.uint8)
    if mask == "cb513_mask":
        cb = np.asarray(encoded.cb513_mask).astype(np.uint8)
        if not cb.any():
            raise ValueError(f"{source}: mask 'cb513_mask' requested but the set has no cb513_mask")
        selected = selected & cb
    return selected


def _split(array: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """Cut a concatenated residue array into per-protein views."""
    return [array[int(o) : int(o) + int(n)] for o, n in zip(offsets, lengths, strict=True)]


def _residue_predictions(
    raw: list[dict], lengths: np.ndarray, ids: list[str], where: str
) -> list[dict]:
    """ss8/ss3 probabilities per protein as float32 arrays; fail when they do not fit the set."""
    if len(raw) != len(lengths):
        raise ValueError(
            f"{where}: predict_proba returned {len(raw)} proteins, expected {len(lengths)}"
        )
    _check_task(raw, per_protein=False, where=where)
    preds = []
    for pid, pred, n in zip(ids, raw, lengths, strict=True):
        arrays = {}
        for head, k in (("ss8", len(SS8)), ("ss3", len(SS3))):
            if pred.get(head) is None:
                raise ValueError(f"{where}: protein {pid}: predict_proba gave no {head!r}")
            arrays[head] = _to_numpy(pred[head])
            _check_probabilities(arrays[head], (int(n), k), pid, head, where)
        preds.append(arrays)
    return preds


def json_safe(value: Any) -> Any:
    """JSON-safe copy: numpy -> Python, NaN/inf -> None, DataFrames -> row dicts."""
    if isinstance(value, pd.DataFrame):
        return [json_safe(r) for r in value.to_dict(orient="records")]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def add_intervals(
    result: dict, n_boot: int = N_BOOT, seed: int = SEED, level: float = LEVEL
) -> dict:
    """Copy of ``result`` with percentile-bootstrap CIs over proteins (see the module docstring).

    Pooled accuracies (Q8, Q3, Q3 from the 8-state head, and Q8/Q3 of every length bin) use
    :func:`protrnn.evaluation.bootstrap.bootstrap_ci` on the per-protein correct/total counts;
    SOVs use :func:`protrnn.evaluation.bootstrap.bootstrap_mean_ci` on the per-protein values.
    Macro-F1 and ECE get no interval.
    """
    out = dict(result)
    c8, t8 = result["per_protein_correct_ss8"], result["per_protein_total_ss8"]
    c3, t3 = result["per_protein_correct_ss3"], result["per_protein_total_ss3"]
    c3_from8 = result["per_protein_correct_ss3_from_ss8"]
    kw = {"n_boot": n_boot, "seed": seed, "level": level}
    for key, correct, total in (("q8", c8, t8), ("q3", c3, t3), ("q3_from_ss8", c3_from8, t3)):
        out[f"{key}_ci"] = list(bootstrap_ci(correct, total, **kw)[1:])
    for key in ("sov99_ss8", "sov99_ss3", "sov_refine_ss8", "sov_refine_ss3"):
        if f"per_protein_{key}" in result:
            out[f"{key}_ci"] = list(bootstrap_mean_ci(result[f"per_protein_{key}"], **kw)[1:])
    if "length_bins" in result:
        out["length_bins"] = _length_bin_intervals(result, kw)
    out["bootstrap"] = bootstrap_settings(n_boot, seed, level)
    return out


def _length_bin_intervals(result: dict, kw: dict) -> pd.DataFrame:
    """``length_bins`` with ``q8_ci_low`` ... ``q3_ci_high`` columns (bootstrap per bin)."""
    bins = result["length_bins"].copy()
    lengths = np.asarray(result["per_protein_length"])
    cols: dict[str, list[float]] = {
        c: [] for c in ("q8_ci_low", "q8_ci_high", "q3_ci_low", "q3_ci_high")
    }
    for _, lower, upper in LENGTH_BINS:
        sel = (lengths >= lower) & (lengths < upper)
        for key, head in (("q8", "ss8"), ("q3", "ss3")):
            correct = np.asarray(result[f"per_protein_correct_{head}"])
            total = np.asarray(result[f"per_protein_total_{head}"])
            _, lo, hi = bootstrap_ci(correct[sel], total[sel], **kw)
            cols[f"{key}_ci_low"].append(lo)
            cols[f"{key}_ci_high"].append(hi)
    for c, values in cols.items():
        bins[c] = values
    return bins


def _metrics_content(result: dict, info: dict, extra: dict) -> dict:
    """metrics.json content: ``info``, the result without per-protein arrays, ``extra``, units."""
    scalars = {k: v for k, v in result.items() if not k.startswith("per_protein_")}
    return json_safe({**info, **scalars, **extra, "accuracy_units": "fraction"})


def metrics_to_json(result: dict, **info: Any) -> dict:
    """metrics.json content: scalar metrics, matrices as lists, tables as row lists, ``info``.

    Per-protein arrays (keys ``per_protein_*``) are left out; they go to predictions.npz.
    """
    return _metrics_content(result, info, {"classes_ss8": SS8, "classes_ss3": SS3})


def _per_class_rows(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """per_class.tsv rows: the per-head tables (each with a ``head`` column) one below the other."""
    return pd.concat(frames, ignore_index=True)[PER_CLASS_COLUMNS]


def per_class_table(result: dict) -> pd.DataFrame:
    """Long per-class table of both heads: head, class, support, precision, recall, f1, mcc."""
    return _per_class_rows([result[f"per_class_{h}"].assign(head=h) for h in ("ss8", "ss3")])


def _write_outputs(
    out_dir: Path, write_predictions: Callable[[Path], None], per_class: pd.DataFrame, content: dict
) -> None:
    """predictions.npz, per_class.tsv and metrics.json of one evaluation, each atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_predictions(out_dir / "predictions.npz")
    with atomic_path(out_dir / "per_class.tsv") as tmp:
        per_class.to_csv(tmp, sep="\t", index=False, float_format="%.6g")
    atomic_write_text(out_dir / "metrics.json", json.dumps(content, indent=2) + "\n")


def _run_names(model_path: Path, encoded_path: Path, out_dir: Path) -> dict:
    """Model (the model file's folder), test set (``out_dir``'s name), dataset (encoded stem)."""
    return {
        "model": model_path.parent.name,
        "test_set": out_dir.name,
        "dataset": encoded_path.name.removesuffix(".npz"),
    }


def _run_paths(model_path: Path, encoded_path: Path, model: Any) -> dict:
    """Where model and data came from (an ensemble adds its members' names)."""
    members = {"ensemble_members": list(model.names)} if isinstance(model, Ensemble) else {}
    return {
        "model_path": str(model_path),
        "encoded_path": str(encoded_path),
        "device": _device_of(model),
        **members,
    }


def _write_predictions(
    path: Path,
    ids: list[str],
    lengths: np.ndarray,
    preds: list[dict],
    mask: np.ndarray,
    result: dict,
    model: str = "",
    test_set: str = "",
) -> None:
    """predictions.npz (compressed, atomic); see the module docstring for the keys."""
    paired = {
        key: np.asarray(
            result[src], dtype=np.int64 if key.startswith(("correct", "total")) else float
        )
        for key, src in PAIRED_ARRAYS.items()
        if src in result
    }
    prob8 = [np.asarray(p["ss8"], dtype=np.float32) for p in preds]
    prob3 = [np.asarray(p["ss3"], dtype=np.float32) for p in preds]
    alpha8, alpha3 = np.array(list(SS8)), np.array(list(SS3))
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    with atomic_path(path) as tmp:
        np.savez_compressed(
            tmp,
            ids=np.array(ids, dtype=str),
            lengths=np.asarray(lengths, dtype=np.int32),
            offsets=offsets if len(ids) else np.zeros(0, np.int64),
            pred_ss8=np.array(["".join(alpha8[p.argmax(1)]) for p in prob8], dtype=str),
            pred_ss3=np.array(["".join(alpha3[p.argmax(1)]) for p in prob3], dtype=str),
            prob_ss8=np.concatenate(prob8).astype(np.float16) if prob8 else np.zeros((0, 8)),
            prob_ss3=np.concatenate(prob3).astype(np.float16) if prob3 else np.zeros((0, 3)),
            mask=mask.astype(np.uint8),
            q8=result["per_protein_q8"],
            q3=result["per_protein_q3"],
            model=np.array(model),
            test_set=np.array(test_set),
            **paired,
        )


def _residue_test_set(encoded: Any, encoded_path: Path) -> Any:
    """The proteins of split ``test`` (all of them when the set has no other split)."""
    if (np.asarray(encoded.split) != "test").any():
        # a dataset with its own held-out split: only its test proteins are scored
        encoded = encoded.subset("test")
        if len(encoded) == 0:
            raise ValueError(f"{encoded_path}: no proteins with split 'test' to evaluate")
    return encoded


def _score_residues(encoded: Any, preds: list[dict], masks: list[np.ndarray]) -> dict:
    """:func:`evaluate_predictions` of both heads with bootstrap intervals added."""
    lengths = np.asarray(encoded.lengths, dtype=np.int64)
    offsets = np.asarray(encoded.offsets, dtype=np.int64)
    result = evaluate_predictions(
        _split(np.asarray(encoded.ss8), offsets, lengths),
        [p["ss8"] for p in preds],
        _split(np.asarray(encoded.ss3), offsets, lengths),
        [p["ss3"] for p in preds],
        masks,
    )
    return add_intervals(result)


def evaluate_model(
    model_path: Path,
    encoded_path: Path,
    out_dir: Path,
    mask: str = "eval_mask",
    device: str | None = None,
) -> dict:
    """Predict every protein of ``encoded_path`` with ``model_path``; score and write outputs.

    Names follow the workflow layout: the model is the model file's folder
    (``results/models/{model}/model.pt``), the test set is ``out_dir``'s name
    (``results/eval/{model}/{testset}``), the dataset the encoded file's stem. ``device``
    None lets :func:`protrnn.model.device.resolve_device` pick (CUDA when available). Returns the
    metrics.json content.
    """
    model_path, encoded_path, out_dir = Path(model_path), Path(encoded_path), Path(out_dir)
    _check_mask_name(mask)
    encoded = _load_encoded(encoded_path)
    if is_per_protein(encoded):
        return evaluate_protein_model(model_path, encoded_path, out_dir, device, encoded=encoded)
    encoded = _residue_test_set(encoded, encoded_path)
    selected = select_mask(encoded, mask, str(encoded_path))
    ids = [str(i) for i in encoded.ids]
    lengths = np.asarray(encoded.lengths, dtype=np.int64)
    model, raw = _run_model(model_path, encoded, device)
    preds = _residue_predictions(raw, lengths, ids, f"{model_path} on {encoded_path}")
    masks = _split(selected, np.asarray(encoded.offsets, dtype=np.int64), lengths)
    result = _score_residues(encoded, preds, masks)
    splits = pd.Series([str(s) for s in np.asarray(encoded.split)]).value_counts()
    info = {
        **_run_names(model_path, encoded_path, out_dir),
        "mask": mask,
        "mask_description": MASKS[mask],
        **_run_paths(model_path, encoded_path, model),
        "splits": {str(k): int(v) for k, v in splits.items()},
    }
    content = metrics_to_json(result, **info)
    mask_used = np.concatenate(masks) if masks else selected
    _write_outputs(
        out_dir,
        lambda path: _write_predictions(
            path, ids, lengths, preds, mask_used, result, info["model"], info["test_set"]
        ),
        per_class_table(result),
        content,
    )
    return content


def _to_numpy(x: Any) -> np.ndarray:
    """Accept numpy arrays or torch tensors from predict_proba."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def _device_of(model: Any) -> str:
    """Device of the model's parameters ("cpu" for a parameter-free model)."""
    params = getattr(model, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    return str(first.device) if first is not None else "cpu"


# ---------------------------------------------------------------------------------------------
# per-protein tasks


def is_per_protein(encoded: Any) -> bool:
    """Whether an encoded set is per-protein: ``task == "per_protein"``, or (without a task
    attribute) non-empty ``classes``."""
    task = getattr(encoded, "task", None)
    if task is not None and str(task):
        return str(task) == "per_protein"
    classes = getattr(encoded, "classes", None)
    return classes is not None and len(classes) > 0


def _protein_predictions(
    preds: list[dict], ids: list[str], n_classes: int, where: str = "predict_proba"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Stack predict_proba's per-protein dicts: (N x C location, N x 2 membrane or None).

    The membrane head is optional, but all proteins or none must have it. ``where`` names the
    model and test set in errors.
    """
    if len(preds) != len(ids):
        raise ValueError(
            f"{where}: predict_proba returned {len(preds)} proteins, expected {len(ids)}"
        )
    _check_task(preds, per_protein=True, where=where)
    has_membrane = {p.get("membrane") is not None for p in preds}
    if len(has_membrane) > 1:
        raise ValueError(f"{where}: membrane probabilities for some proteins only")
    heads = {"location": n_classes}
    if has_membrane == {True}:
        heads["membrane"] = 2
    stacked: dict[str, list[np.ndarray]] = {h: [] for h in heads}
    for pid, pred in zip(ids, preds, strict=True):
        for head, k in heads.items():
            if pred.get(head) is None:
                raise ValueError(f"{where}: protein {pid}: predict_proba gave no {head!r}")
            arr = _to_numpy(pred[head])
            _check_probabilities(arr, (k,), pid, head, where)
            stacked[head].append(arr)
    location = (
        np.stack(stacked["location"]) if preds else np.zeros((0, n_classes), dtype=np.float32)
    )
    membrane = np.stack(stacked["membrane"]) if "membrane" in heads else None
    return location, membrane


def protein_per_class_table(result: dict) -> pd.DataFrame:
    """per_class.tsv of a per-protein set: head (location/membrane), class, support, ..., mcc."""
    frames = [result["per_class"].assign(head="location")]
    if result["membrane_n"] > 0:
        membrane = per_class_scores(result["membrane_confusion"], result["membrane_classes"])
        frames.append(membrane.assign(head="membrane"))
    return _per_class_rows(frames)


def write_protein_predictions(
    path: Path,
    ids: list[str],
    location: np.ndarray,
    membrane: np.ndarray | None,
    result: dict,
    model: str,
    test_set: str,
) -> None:
    """predictions.npz of a per-protein set (compressed, atomic); see the module docstring."""
    n = len(ids)
    with atomic_path(path) as tmp:
        np.savez_compressed(
            tmp,
            ids=np.array(ids, dtype=str),
            true=np.asarray(result["per_protein_true"], dtype=np.int64),
            predicted=np.asarray(result["per_protein_pred"], dtype=np.int64),
            probabilities=np.asarray(location, dtype=np.float32),
            classes=np.array(result["classes"], dtype=str),
            correct=np.asarray(result["per_protein_correct"], dtype=np.int64),
            membrane_true=np.asarray(result["per_protein_membrane_true"], dtype=np.int64),
            membrane_predicted=np.asarray(result["per_protein_membrane_pred"], dtype=np.int64),
            membrane_probabilities=(
                np.asarray(membrane, dtype=np.float32)
                if membrane is not None
                else np.zeros((n, 0), np.float32)
            ),
            membrane_correct=np.asarray(result["per_protein_membrane_correct"], dtype=np.int64),
            membrane_known=(
                (np.asarray(result["per_protein_membrane_true"]) >= 0)
                & (np.asarray(result["per_protein_membrane_pred"]) >= 0)
            ).astype(np.int64),
            model=np.array(model),
            test_set=np.array(test_set),
            task=np.array("per_protein"),
        )


def _protein_test_set(encoded: Any, encoded_path: Path) -> tuple[Any, list[str], int]:
    """(the ``test`` proteins, class names, number of proteins left out) of a per-protein set."""
    classes = [str(c) for c in getattr(encoded, "classes", ())]
    if not classes:
        raise ValueError(f"{encoded_path}: per-protein set without class names")
    splits = np.asarray([str(s) for s in np.asarray(encoded.split)])
    test = np.flatnonzero(splits == "test")
    if test.size == 0:
        raise ValueError(
            f"{encoded_path}: no protein of split 'test' "
            f"(splits: {sorted(set(splits.tolist()))}); per-protein sets are scored on test only"
        )
    if test.size < splits.size:
        encoded = encoded.select(test)
    return encoded, classes, int(splits.size - test.size)


def evaluate_protein_model(
    model_path: Path,
    encoded_path: Path,
    out_dir: Path,
    device: str | None = None,
    encoded: Any = None,
) -> dict:
    """Score a per-protein model on the ``test`` proteins of ``encoded_path``; write outputs.

    ``encoded`` may pass the already loaded set. Uses ``protrnn.model.inference.load_model`` and
    ``predict_proba`` (per protein ``{"location": (C,), "membrane": (2,)}`` probabilities; the
    membrane head is optional) and :func:`protrnn.evaluation.protein_metrics.evaluate_proteins`.
    Names follow :func:`evaluate_model`. Returns the metrics.json content.
    """
    model_path, encoded_path, out_dir = Path(model_path), Path(encoded_path), Path(out_dir)
    if encoded is None:
        encoded = _load_encoded(encoded_path)
    encoded, classes, n_not_test = _protein_test_set(encoded, encoded_path)
    ids = [str(i) for i in encoded.ids]
    model, preds = _run_model(model_path, encoded, device)
    where = f"{model_path} on {encoded_path}"
    location, membrane = _protein_predictions(preds, ids, len(classes), where)
    membrane_true = getattr(encoded, "membrane", None)
    result = evaluate_proteins(
        np.asarray(encoded.label),
        location,
        classes,
        None if membrane_true is None else np.asarray(membrane_true),
        membrane,
        n_boot=N_BOOT,
        seed=SEED,
        level=LEVEL,
    )
    info = {
        **_run_names(model_path, encoded_path, out_dir),
        **_run_paths(model_path, encoded_path, model),
        "splits": {"test": len(ids)},
        "n_not_test": n_not_test,
        "mask": "",
        "mask_description": "per-protein task: every test protein with a known label counts",
    }
    content = _metrics_content(result, info, {})
    _write_outputs(
        out_dir,
        lambda path: write_protein_predictions(
            path, ids, location, membrane, result, info["model"], info["test_set"]
        ),
        protein_per_class_table(result),
        content,
    )
    return content

"""A trained model at work: load ``model.pt`` and predict probabilities for an encoded set (what
evaluation and ``protrnn predict`` use; nothing here trains)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from protrnn.encode import N_FEATURES, EncodedSet, encoding_spec, features_of_encoding
from protrnn.model.batching import collate, make_batches, resolve_buckets
from protrnn.model.checkpoint import load_torch_file
from protrnn.model.device import autocast, resolve_device
from protrnn.model.ensemble import Ensemble
from protrnn.model.zoo import build_model


def load_model(path: Path, device: str | torch.device | None = None) -> nn.Module:
    """The model saved in ``model.pt`` (``train``'s output, or an ensemble of such models from
    :func:`protrnn.model.ensemble.write_ensemble`), in eval mode on ``device``.

    Its ``classes`` attribute holds the location class names (empty for per-residue models).
    """
    dev = resolve_device(device)
    saved = load_torch_file(Path(path), dev)
    if "ensemble" in saved:
        members = [model_from_content(m, path) for m in saved["member_models"]]
        model: nn.Module = Ensemble(members, [m["name"] for m in saved["member_models"]])
        model.feature_blocks = members[0].feature_blocks
    else:
        model = model_from_content(saved, path)
    return model.to(dev).eval()


def model_from_content(saved: dict, path: Path) -> nn.Module:
    """A model built from the content of a saved ``model.pt`` (``path`` names it in errors).

    Its ``feature_blocks`` attribute holds the features it was trained on (from its recorded
    encoding; the default for a model written before it was recorded)."""
    encoding = (saved.get("provenance") or {}).get("encoding")
    features = features_of_encoding(encoding, path, "retrain the model with this version")
    width = encoding_spec(features)["n_features"]
    if saved.get("features", N_FEATURES) != width:
        raise ValueError(
            f"{path}: model expects {saved['features']} features, its encoding has {width}"
        )
    classes = tuple(saved.get("classes", ()))
    model = build_model(
        saved["spec"], width, n_classes=len(classes) or None, rsa=saved.get("rsa", False)
    )
    model.load_state_dict(saved["state_dict"])
    model.classes = classes
    model.feature_blocks = features
    return model


def check_model_features(model: nn.Module, encoded: EncodedSet) -> None:
    """A model meets only the features it was trained on (models built here without a
    ``feature_blocks`` attribute must match in width)."""
    trained = getattr(model, "feature_blocks", None)
    if trained is not None and tuple(trained) != tuple(encoded.feature_blocks):
        raise ValueError(
            f"the model was trained on features {list(trained)}, the encoded set has "
            f"{list(encoded.feature_blocks)}: encode it with the model's encode.features"
        )


def _check_classes(model: nn.Module, encoded: EncodedSet) -> None:
    """A per-protein model and set must name the same classes in the same order."""
    classes = tuple(getattr(model, "classes", ()) or ())
    if classes and encoded.classes and classes != tuple(encoded.classes):
        raise ValueError(
            f"the model predicts classes {list(classes)}, the encoded set has "
            f"{list(encoded.classes)}: encode it with the training set's classes"
        )


def _residue_predictions(
    out: dict[str, torch.Tensor], lengths: np.ndarray
) -> list[dict[str, np.ndarray]]:
    """Per protein of a batch: ss8/ss3 probabilities and rsa (NaN without an RSA head)."""
    probs = {k: torch.softmax(out[k].float(), -1).cpu().numpy() for k in ("ss8", "ss3")}
    rsa = out["rsa"].float().cpu().numpy() if "rsa" in out else None
    results = []
    for b, length in enumerate(int(n) for n in lengths):
        pred = {k: p[b, :length] for k, p in probs.items()}
        pred["rsa"] = rsa[b, :length] if rsa is not None else np.full(length, np.nan, np.float32)
        results.append(pred)
    return results


@torch.no_grad()
def predict_proba(
    model: nn.Module,
    encoded: EncodedSet,
    device: str | torch.device | None = None,
    batch_size: int = 32,
    buckets: str | Sequence[int] | None = "auto",
    amp: bool = True,
) -> list[dict[str, np.ndarray]]:
    """Per protein, in ``encoded`` order.

    Per-residue models: ``{"ss8": L x 8, "ss3": L x 3}`` probabilities and ``"rsa"`` (L,) in
    [0, 1], all NaN when the model has no RSA head. Per-protein models: ``{"location":
    (n_classes,), "membrane": (2,)}`` probabilities (membrane columns: soluble, membrane).
    ``buckets`` as the preset key (:func:`resolve_buckets`); ``amp``: bf16 autocast on CUDA.
    """
    dev = resolve_device(device)
    model.eval()
    _check_classes(model, encoded)
    check_model_features(model, encoded)
    padded_to = resolve_buckets(buckets, dev)
    results: list[dict[str, np.ndarray] | None] = [None] * len(encoded)
    for idx in make_batches(encoded.lengths, batch_size, buckets=padded_to):
        batch = collate(encoded, idx, dev, padded_to)
        with autocast(dev, amp):
            out = model(batch["x"], batch["lengths"])
        if "location" in out:
            probs = {k: torch.softmax(out[k].float(), -1).cpu().numpy() for k in out}
            preds = [{k: p[b] for k, p in probs.items()} for b in range(len(idx))]
        else:
            preds = _residue_predictions(out, encoded.lengths[idx])
        for i, pred in zip(idx, preds, strict=True):
            results[i] = pred
    return results  # type: ignore[return-value]

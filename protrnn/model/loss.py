"""The masked multi-task objective: per-head losses over counted residues or labelled proteins,
and the validation pass that reports the loss with accuracies (and RSA correlation)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from protrnn.encode import EncodedSet
from protrnn.model.batching import collate, make_batches
from protrnn.model.device import autocast

#: Output heads per task: the keys of the preset's ``loss_weights``.
HEADS = {"per_residue": ("ss8", "ss3", "rsa"), "per_protein": ("location", "membrane")}
#: Heads scored by accuracy in :func:`evaluate`.
CLASS_HEADS = ("ss8", "ss3", "location", "membrane")
#: The validation metric that picks the best epoch and drives early stopping, per task.
SELECTION = {"per_residue": "q8", "per_protein": "accuracy"}


def loss_weights(task: str, weights: dict[str, float] | None) -> dict[str, float]:
    """The task's heads (:data:`HEADS`) with the preset's weights: a missing head gets 1.0, the
    other task's heads are ignored (presets are shared), unknown names are errors."""
    weights = dict(weights or {})
    known = {h for heads in HEADS.values() for h in heads}
    unknown = set(weights) - known
    if unknown:
        raise ValueError(f"preset loss_weights: unknown head(s) {sorted(unknown)}; {sorted(known)}")
    return {h: float(weights.get(h, 1.0)) for h in HEADS[task]}


def masked_targets(batch: dict[str, torch.Tensor], task: str) -> torch.Tensor:
    """Targets with -1 wherever the residue does not count (padding, eval_mask 0, unknown label)."""
    target = batch[task]
    return torch.where(batch["mask"] & (target >= 0), target, torch.full_like(target, -1))


def _head_targets(batch: dict[str, torch.Tensor], head: str) -> torch.Tensor:
    """The targets a class head is scored on: masked per residue, as given per protein."""
    return masked_targets(batch, head) if head in ("ss8", "ss3") else batch[head]


def _mean(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` where ``keep``; 0 (with a graph) when nothing is kept. No host sync."""
    keep = keep.to(values.dtype)
    return (values * keep).sum() / keep.sum().clamp(min=1.0)


def head_loss(head: str, output: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """float32 loss of one head: mean cross-entropy over counted residues (ss8, ss3) or labelled
    proteins (location, membrane); mean squared error over counted residues with known RSA."""
    output = output.float()
    if head == "rsa":
        target = batch["rsa"]
        keep = batch["mask"] & ~torch.isnan(target)
        return _mean((output - torch.nan_to_num(target)) ** 2, keep)
    target = _head_targets(batch, head)
    ce = F.cross_entropy(
        output.reshape(-1, output.shape[-1]), target.reshape(-1), ignore_index=-1, reduction="none"
    )
    return _mean(ce, target.reshape(-1) >= 0)


def masked_loss(
    out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], weights: dict[str, float]
) -> torch.Tensor:
    """Weighted sum of :func:`head_loss` over the weighted heads the model outputs (rsa only
    when the batch carries RSA)."""
    total: torch.Tensor | None = None
    for head, w in weights.items():
        if head not in out or head not in batch:
            continue
        term = w * head_loss(head, out[head], batch)
        total = term if total is None else total + term
    if total is None:
        raise ValueError(f"no loss weight ({sorted(weights)}) matches the outputs {sorted(out)}")
    return total


def _count(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], acc: dict) -> None:
    """Add a batch's correct/counted predictions (and RSA sums) to ``acc``."""
    for head in CLASS_HEADS:
        if head in out and head in batch:
            target = _head_targets(batch, head)
            keep = target >= 0
            acc[f"{head}_correct"] += int((out[head].argmax(-1)[keep] == target[keep]).sum())
            acc[f"{head}_total"] += int(keep.sum())
    if "rsa" in out and "rsa" in batch:
        keep = batch["mask"] & ~torch.isnan(batch["rsa"])
        x, y = out["rsa"][keep].double(), batch["rsa"][keep].double()
        acc["rsa_n"] += x.numel()
        acc["rsa_x"] += float(x.sum())
        acc["rsa_y"] += float(y.sum())
        acc["rsa_xx"] += float((x * x).sum())
        acc["rsa_yy"] += float((y * y).sum())
        acc["rsa_xy"] += float((x * y).sum())


def _pearson(acc: dict) -> float:
    """Pearson correlation from the RSA sums of :func:`_count` (NaN without variance)."""
    n = acc["rsa_n"]
    cov = acc["rsa_xy"] - acc["rsa_x"] * acc["rsa_y"] / max(n, 1)
    var_x = acc["rsa_xx"] - acc["rsa_x"] ** 2 / max(n, 1)
    var_y = acc["rsa_yy"] - acc["rsa_y"] ** 2 / max(n, 1)
    return cov / math.sqrt(var_x * var_y) if var_x > 0 and var_y > 0 else math.nan


def _metrics(acc: dict, task: str) -> dict[str, float]:
    """Percent accuracies from :func:`_count` sums (NaN when nothing counted) and, when RSA was
    predicted, its Pearson correlation over residues (``rsa_pcc``)."""

    def pct(head: str) -> float:
        total = acc[f"{head}_total"]
        return 100.0 * acc[f"{head}_correct"] / total if total else math.nan

    if task == "per_protein":
        return {"accuracy": pct("location"), "membrane_accuracy": pct("membrane")}
    out = {"q8": pct("ss8"), "q3": pct("ss3")}
    if "rsa_n" in acc:
        out["rsa_pcc"] = _pearson(acc)
    return out


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: EncodedSet,
    device: torch.device,
    weights: dict[str, float],
    batch_size: int,
    buckets: Sequence[int] = (),
    amp: bool = False,
) -> dict[str, float]:
    """Loss (mean over batches) and metrics in percent: per residue Q8 and Q3 (residue-pooled
    over counted residues) and, for a set with RSA and a model with the head, ``rsa_pcc``; per
    protein location ``accuracy`` and ``membrane_accuracy`` over labelled proteins."""
    model.eval()
    loss_sum, n_batches = 0.0, 0
    acc: dict[str, float] = defaultdict(float)
    for idx in make_batches(data.lengths, batch_size, buckets=buckets):
        batch = collate(data, idx, device, buckets)
        with autocast(device, amp):
            out = model(batch["x"], batch["lengths"])
            loss_sum += float(masked_loss(out, batch, weights))
        n_batches += 1
        _count(out, batch, acc)
    return {"loss": loss_sum / max(n_batches, 1), **_metrics(acc, data.task)}

"""The training loop: preset merge, device choice, train/validation split, :func:`run_epoch`,
:class:`EarlyStopping`, history and log lines, and :func:`train`, which ties them together, for
per-residue (ss8/ss3, optional RSA) and per-protein (location/membrane) models.

Validation: proteins with split 'valid' in the training dataset. When there are none, a fixed 10%
of the 'train' proteins (drawn with :data:`VALID_SEED`, independent of the training seed, so every
model and seed sees the same split) is held out instead. The best epoch is the one with the
highest validation Q8 (per residue) or location accuracy (per protein).

Precision: on CUDA forward + loss run under bf16 autocast (preset ``amp``, default on; losses in
float32) with a GradScaler (see :mod:`protrnn.model.device`). CPU always trains in float32.

Batching lives in :mod:`protrnn.model.batching`, the loss and validation metrics in
:mod:`protrnn.model.loss`, checkpoints and ``model.pt`` in :mod:`protrnn.model.checkpoint`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from protrnn.core.fileio import atomic_write_text
from protrnn.data.table import subsample
from protrnn.encode import EncodedSet, load_encoded
from protrnn.model.batching import collate, make_batches, resolve_buckets
from protrnn.model.checkpoint import (
    TrainState,
    checkpoint_path,
    resume_or_start,
    save_checkpoint,
    save_model,
)
from protrnn.model.device import autocast, resolve_device
from protrnn.model.fingerprint import Fingerprint, training_fingerprint
from protrnn.model.loss import SELECTION, evaluate, loss_weights, masked_loss
from protrnn.model.zoo import build_model, count_parameters, model_task

VALID_SEED = 12345
VALID_FRACTION = 0.10
PROGRESS_SECONDS = 60.0
#: history.tsv columns per task; a per-residue set with RSA adds ``valid_rsa_pcc`` before seconds.
HISTORY_COLUMNS = {
    "per_residue": ("epoch", "train_loss", "valid_loss", "valid_q8", "valid_q3", "seconds"),
    "per_protein": (
        "epoch",
        "train_loss",
        "valid_loss",
        "valid_accuracy",
        "valid_membrane_accuracy",
        "seconds",
    ),
}
PRESET_DEFAULTS = {
    "epochs": 10,
    "batch_size": 32,
    "lr": 1e-3,
    "lr_decay": 1.0,
    "lr_schedule": "exp",
    "warmup": 0.0,
    "weight_decay": 0.01,
    "patience": 3,
    "clip": 1.0,
    "threads": None,
    "max_residues_per_batch": None,
    "amp": True,
    "buckets": "auto",
    "loss_weights": {"ss8": 1.0, "ss3": 1.0},
}
#: Validation metrics as log lines name them.
METRIC_NAMES = {
    "q8": "Q8",
    "q3": "Q3",
    "rsa_pcc": "RSA PCC",
    "accuracy": "accuracy",
    "membrane_accuracy": "membrane accuracy",
}


# ---------------------------------------------------------------- setup
@dataclass(frozen=True)
class Settings:
    """The merged preset as the loop reads it, for one task on one device."""

    epochs: int
    batch_size: int
    max_residues: int | None
    lr: float
    lr_decay: float
    lr_schedule: str  # exp | cosine | onecycle (see lr_at)
    warmup: float  # fraction of all steps with a linear warm-up (cosine, onecycle)
    weight_decay: float
    patience: int
    clip: float | None
    amp: bool  # bf16 autocast (CUDA only)
    buckets: tuple[int, ...]
    weights: dict[str, float]
    device: torch.device

    def lr_at(self, epoch: int, fraction: float = 0.0) -> float:
        """Learning rate at ``fraction`` (0 <= f < 1) of ``epoch`` (1-based).

        ``exp``: lr * lr_decay ** (epoch - 1), constant within an epoch. ``cosine``: linear
        warm-up from 0 over the first ``warmup`` of all steps, then a cosine from lr to 0 at the
        last step of ``epochs``. ``onecycle``: the same from lr / 25 (Smith's one-cycle policy as
        torch's OneCycleLR shapes it, with a cosine anneal to lr / 1e4).
        """
        if self.lr_schedule == "exp":
            return self.lr * self.lr_decay ** (epoch - 1)
        progress = (epoch - 1 + fraction) / self.epochs
        start, end = (self.lr / 25, self.lr / 1e4) if self.lr_schedule == "onecycle" else (0, 0)
        if progress < self.warmup:
            return start + (self.lr - start) * progress / self.warmup
        rest = (progress - self.warmup) / max(1.0 - self.warmup, 1e-12)
        return end + (self.lr - end) * 0.5 * (1.0 + math.cos(math.pi * min(rest, 1.0)))


def settings(cfg: dict, device: torch.device, task: str) -> Settings:
    """:class:`Settings` from the merged preset ``cfg`` (errors name the preset key)."""
    weights = loss_weights(task, cfg["loss_weights"])
    return Settings(
        epochs=int(cfg["epochs"]),
        batch_size=int(cfg["batch_size"]),
        max_residues=cfg["max_residues_per_batch"],
        lr=float(cfg["lr"]),
        lr_decay=float(cfg["lr_decay"]),
        lr_schedule=str(cfg["lr_schedule"]),
        warmup=float(cfg["warmup"]),
        weight_decay=cfg["weight_decay"],
        patience=int(cfg["patience"]),
        clip=cfg["clip"],
        amp=bool(cfg["amp"]) and device.type == "cuda",
        buckets=resolve_buckets(cfg["buckets"], device),
        weights=weights,
        device=device,
    )


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_training_set(path: Path, model_spec: dict) -> EncodedSet:
    """The encoded training set at ``path``; its task must be the model type's."""
    data = load_encoded(path)
    if model_task(model_spec) != data.task:
        raise ValueError(
            f"model type {model_spec.get('type')!r} predicts {model_task(model_spec)}, "
            f"but {path} is a {data.task} dataset"
        )
    return data


def cap_training_set(data: EncodedSet, max_train_proteins: int | None, seed: int) -> EncodedSet:
    """At most ``max_train_proteins`` train + valid proteins (test proteins go), drawn from
    ``data`` as parse_dataset's cap (:func:`protrnn.data.table.cap_training`) draws them from a
    table. ``data`` is the encoded training set, itself capped at the largest cap among the
    dataset's models, so a smaller-capped model's proteins change when that largest cap does."""
    if not max_train_proteins:
        return data
    trainable = np.flatnonzero(data.split != "test")
    frame = pd.DataFrame({"split": data.split[trainable], "position": trainable})
    kept = subsample(frame, int(max_train_proteins), seed)["position"].to_numpy()
    return data.select(np.sort(kept))


def split_train_valid(
    data: EncodedSet, source: str | Path = "the training dataset"
) -> tuple[EncodedSet, EncodedSet]:
    """'train' and 'valid' proteins; without 'valid' ones, a fixed 10% of 'train' (module doc)."""
    train_set, valid_set = data.subset("train"), data.subset("valid")
    if len(train_set) == 0:
        found = sorted(set(data.split.tolist()))
        raise ValueError(f"{source}: no proteins with split 'train' (splits: {found})")
    if len(valid_set) == 0:
        n_valid = max(1, int(round(VALID_FRACTION * len(train_set))))
        if n_valid >= len(train_set):
            raise ValueError(
                f"{source}: too few 'train' proteins to carve a validation split; add 'valid' ones"
            )
        perm = np.random.default_rng(VALID_SEED).permutation(len(train_set))
        valid_set = train_set.select(np.sort(perm[:n_valid]))
        train_set = train_set.select(np.sort(perm[n_valid:]))
    return train_set, valid_set


# ---------------------------------------------------------------- one epoch
def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    weights: dict[str, float],
    clip: float | None,
    forward_context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
    scaler: torch.amp.GradScaler | None = None,
) -> float:
    """One optimisation step on a collated batch; returns the loss. ``forward_context`` wraps the
    forward pass and the loss (e.g. :func:`autocast`); ``scaler`` scales the loss for float16
    gradients (clipping sees the unscaled gradients)."""
    with forward_context():
        loss = masked_loss(model(batch["x"], batch["lengths"]), batch, weights)
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), float(clip))
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), float(clip))
        scaler.step(optimizer)
        scaler.update()
    return float(loss.detach())


@dataclass(frozen=True)
class EpochResult:
    """What one pass over the training set did."""

    loss: float  # mean over batches
    residues: int
    seconds: float


def run_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    data: EncodedSet,
    s: Settings,
    epoch: int,
    seed: int,
    log: Callable[[str], None],
) -> EpochResult:
    """One pass over ``data`` in batches shuffled by ``[seed, epoch]``, each step at the learning
    rate of :meth:`Settings.lr_at`;
    a progress line every :data:`PROGRESS_SECONDS`."""
    model.train()
    t0 = last_report = time.perf_counter()
    rng = np.random.default_rng([seed, epoch])
    batches = make_batches(data.lengths, s.batch_size, s.max_residues, rng, s.buckets)
    loss_sum, residues = 0.0, 0
    forward = functools.partial(autocast, s.device, s.amp)
    for step, idx in enumerate(batches, 1):
        for group in optimizer.param_groups:
            group["lr"] = s.lr_at(epoch, (step - 1) / len(batches))
        batch = collate(data, idx, s.device, s.buckets)
        loss_sum += train_step(model, optimizer, batch, s.weights, s.clip, forward, scaler)
        residues += int(data.lengths[idx].sum())
        now = time.perf_counter()
        if now - last_report >= PROGRESS_SECONDS:
            log(
                f"  epoch {epoch} batch {step}/{len(batches)} loss {loss_sum / step:.4f} "
                f"{residues / (now - t0):,.0f} residues/s"
            )
            last_report = now
    return EpochResult(loss_sum / max(len(batches), 1), residues, time.perf_counter() - t0)


# ---------------------------------------------------------------- early stopping
@dataclass(frozen=True)
class EarlyStopping:
    """Keep the epoch with the highest validation ``metric``; stop after ``patience`` epochs
    without a gain, counted from the best epoch but never from before ``warm_epochs`` (the
    epoch in which the learning-rate warm-up ends): a model still flat while its learning rate
    climbs is not stopped for it."""

    metric: str
    patience: int
    warm_epochs: int = 0

    def update(self, state: TrainState, epoch: int, valid: dict, model: nn.Module) -> None:
        """Record ``epoch`` (validation metrics ``valid``) as best, or set ``state.stopped``."""
        if state.best is None or valid[self.metric] > state.best[self.metric]:
            state.best_epoch = epoch
            state.best = {k: v for k, v in valid.items() if k != "loss"}
            state.best_state_dict = {
                k: v.detach().cpu().clone() for k, v in model.state_dict().items()
            }
        elif epoch - max(state.best_epoch, self.warm_epochs) >= self.patience:
            state.stopped = True


def warm_epochs(s: Settings) -> int:
    """The epoch in which the warm-up of a cosine / one-cycle schedule ends (0: no warm-up)."""
    if s.lr_schedule == "exp" or s.warmup <= 0:
        return 0
    return math.ceil(s.warmup * s.epochs)


# ---------------------------------------------------------------- history and log lines
def history_columns(task: str, rsa: bool = False) -> tuple[str, ...]:
    """history.tsv columns (:data:`HISTORY_COLUMNS`; ``valid_rsa_pcc`` added with RSA)."""
    columns = HISTORY_COLUMNS[task]
    return columns[:-1] + ("valid_rsa_pcc", "seconds") if rsa else columns


def history_row(epoch: int, result: EpochResult, valid: dict, seconds: float) -> dict:
    """One history.tsv row."""
    return {
        "epoch": epoch,
        "train_loss": result.loss,
        "valid_loss": valid["loss"],
        **{f"valid_{k}": v for k, v in valid.items() if k != "loss"},
        "seconds": seconds,
    }


def write_history(rows: list[dict], path: Path, columns: Sequence[str]) -> None:
    """history.tsv (atomically): one line per epoch, values to 6 significant digits."""
    lines = ["\t".join(columns)]
    for row in rows:
        lines.append("\t".join(str(row[c]) if c == "epoch" else f"{row[c]:.6g}" for c in columns))
    atomic_write_text(path, "\n".join(lines) + "\n")


def run_line(
    model_spec: dict, model: nn.Module, data: EncodedSet, rsa: bool, s: Settings, n: tuple
) -> str:
    """The log line that opens training; ``n`` = (train proteins, valid proteins)."""
    return (
        f"training {model_spec.get('type')} ({count_parameters(model):,} parameters, {data.task}"
        + (f", {len(data.classes)} classes" if data.classes else "")
        + (", RSA head" if rsa else "")
        + f") on {s.device}{' with bf16 autocast' if s.amp else ''}, "
        f"{n[0]} train / {n[1]} valid proteins, "
        f"{torch.get_num_threads()} CPU threads"
    )


def epoch_line(
    row: dict, valid: dict, result: EpochResult, state: TrainState, s: Settings, metric: str
) -> str:
    """The log line of a finished epoch (``*`` marks a new best; early stop said)."""
    epoch = row["epoch"]
    shown = " ".join(f"{METRIC_NAMES[k]} {v:.2f}" for k, v in valid.items() if k != "loss")
    stop = f" - early stop, no {METRIC_NAMES[metric]} gain for {s.patience} epochs"
    return (
        f"epoch {epoch}: train_loss {row['train_loss']:.4f} valid_loss {valid['loss']:.4f} "
        f"{shown} lr {s.lr_at(epoch):.2g} ({row['seconds']:.0f} s, "
        f"{result.residues / max(result.seconds, 1e-9):,.0f} residues/s)"
        + (" *" if state.best_epoch == epoch else "")
        + (stop if state.stopped else "")
    )


# ---------------------------------------------------------------- outputs
def model_provenance(data: EncodedSet, fingerprint: Fingerprint) -> dict:
    """``model.pt``'s provenance: the training set's encoding and profile provenance (encoding:
    this code's for a set written before provenance existed, which loads only if it matches)."""
    recorded = data.provenance or {}
    return {
        "encoding": recorded.get("encoding", data.encoding()),
        "profiles": recorded.get("profiles"),
        "training_data": fingerprint.parts["data"],
        "training_fingerprint": fingerprint.digest,
    }


def write_model(
    path: Path,
    model_spec: dict,
    data: EncodedSet,
    rsa: bool,
    state: TrainState,
    s: Settings,
    provenance: dict,
) -> dict:
    """Save the best epoch as ``model.pt``; return its validation metrics as ``valid_*``."""
    if state.best_state_dict is None:
        raise ValueError(f"no epoch was trained (epochs={s.epochs})")
    best = {f"valid_{k}": v for k, v in state.best.items()}
    content = {
        "spec": model_spec,
        "state_dict": state.best_state_dict,
        "epoch": state.best_epoch,
        "task": data.task,
        "classes": list(data.classes),
        "rsa": rsa,
        "features": data.n_features,
        **best,
    }
    save_model(path, content, provenance)
    return best


# ---------------------------------------------------------------- the run
def train(
    model_spec: dict,
    preset: dict,
    train_path: Path,
    out_dir: Path,
    seed: int,
    device: str | None = None,
    log: Callable[[str], None] = print,
    threads: int | None = None,
) -> dict:
    """Train ``model_spec`` on the encoded dataset at ``train_path``; outputs go to ``out_dir``.

    The dataset's task (per_residue / per_protein) must be the model type's. Writes ``model.pt``
    (best epoch by valid Q8, or valid location accuracy per protein), ``history.tsv`` and
    ``checkpoints/last.pt`` (every epoch; a rerun resumes after the last finished epoch when its
    inputs are the same, see :mod:`protrnn.model.fingerprint`, and else trains afresh).
    ``device`` None uses ``preset["device"]`` if set, else CUDA when available, else CPU.
    ``threads`` (or ``preset["threads"]``) sets torch's CPU threads. Preset keys (defaults in
    :data:`PRESET_DEFAULTS`; others are ignored): epochs, batch_size, max_residues_per_batch
    (padded residues per batch), lr, lr_schedule (exp, cosine, onecycle) with lr_decay (exp:
    epoch e uses lr * lr_decay ** (e - 1)) or warmup (fraction of steps; see
    :meth:`Settings.lr_at`),
    weight_decay, patience (epochs without a gain of the selection metric, counted from the end
    of the warm-up at the earliest, see :class:`EarlyStopping`), clip (max gradient
    norm; 0 = off), threads, amp (bf16 autocast on CUDA), buckets (batch lengths, see
    :func:`~protrnn.model.batching.resolve_buckets`), loss_weights {ss8, ss3, rsa, location,
    membrane} (see :func:`~protrnn.model.loss.loss_weights`), device. Per-residue sets with RSA
    train an RSA head unless loss_weights.rsa is 0. Returns a summary dict.
    """
    cfg = {**PRESET_DEFAULTS, **preset}
    out_dir = Path(out_dir)
    dev = resolve_device(device if device is not None else cfg.get("device"))
    n_threads = threads if threads is not None else cfg["threads"]
    if n_threads:
        torch.set_num_threads(int(n_threads))
    seed_everything(seed)

    data = cap_training_set(
        load_training_set(train_path, model_spec), cfg.get("max_train_proteins"), seed
    )
    s = settings(cfg, dev, data.task)
    rsa = data.task == "per_residue" and data.has_rsa and s.weights["rsa"] > 0
    train_set, valid_set = split_train_valid(data, train_path)
    model = build_model(model_spec, data.n_features, n_classes=len(data.classes) or None, rsa=rsa)
    model = model.to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    scaler = torch.amp.GradScaler("cuda") if s.amp else None
    fingerprint = training_fingerprint(model_spec, cfg, seed, data, train_set, valid_set)
    state = resume_or_start(out_dir, fingerprint, model, optimizer, scaler, log)
    log(run_line(model_spec, model, data, rsa, s, (len(train_set), len(valid_set))))

    stopping = EarlyStopping(SELECTION[data.task], s.patience, warm_epochs(s))
    columns = history_columns(data.task, rsa)
    residues, train_seconds = 0, 0.0
    for epoch in range(state.epoch + 1, s.epochs + 1):
        if state.stopped:
            break
        result = run_epoch(model, optimizer, scaler, train_set, s, epoch, seed, log)
        t0 = time.perf_counter()
        valid = evaluate(model, valid_set, dev, s.weights, s.batch_size, s.buckets, s.amp)
        row = history_row(epoch, result, valid, result.seconds + time.perf_counter() - t0)
        residues, train_seconds = residues + result.residues, train_seconds + result.seconds
        state.history.append(row)
        state.epoch = epoch
        stopping.update(state, epoch, valid, model)
        save_checkpoint(checkpoint_path(out_dir), fingerprint, model, optimizer, scaler, state)
        write_history(state.history, out_dir / "history.tsv", columns)
        log(epoch_line(row, valid, result, state, s, stopping.metric))

    provenance = model_provenance(data, fingerprint)
    best = write_model(out_dir / "model.pt", model_spec, data, rsa, state, s, provenance)
    write_history(state.history, out_dir / "history.tsv", columns)
    return {
        "best_epoch": state.best_epoch,
        **best,
        "epochs_run": state.epoch,
        "early_stopped": state.stopped,
        "residues_per_s": residues / train_seconds if train_seconds else math.nan,
        "n_parameters": count_parameters(model),
        "device": str(dev),
    }

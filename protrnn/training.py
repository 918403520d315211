"""Training loop: length-bucketed batches, masked multi-task loss, early stopping, resumable
checkpoints.

Read top to bottom: batching -> loss -> evaluation -> checkpoint I/O -> :func:`train` ->
:func:`load_model` / :func:`predict_proba`.

Validation: proteins with split 'valid' in the training dataset. When there are none, a fixed 10%
of the 'train' proteins (drawn with :data:`VALID_SEED`, independent of the training seed, so every
model and seed sees the same split) is held out instead.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from protrnn.features import N_FEATURES, EncodedSet, load_encoded
from protrnn.fileio import atomic_path, atomic_write_text
from protrnn.models import build_model, count_parameters

VALID_SEED = 12345
VALID_FRACTION = 0.10
PROGRESS_SECONDS = 60.0
HISTORY_COLUMNS = ("epoch", "train_loss", "valid_loss", "valid_q8", "valid_q3", "seconds")
PRESET_DEFAULTS = {
    "epochs": 10,
    "batch_size": 32,
    "lr": 1e-3,
    "lr_decay": 1.0,
    "weight_decay": 0.01,
    "patience": 3,
    "clip": 1.0,
    "threads": None,
    "max_residues_per_batch": None,
    "loss_weights": {"ss8": 1.0, "ss3": 1.0},
}


# ---------------------------------------------------------------- batching
def make_batches(
    lengths: np.ndarray,
    batch_size: int,
    max_residues: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[np.ndarray]:
    """Group protein indices into batches of similar length.

    Without ``rng``: sorted by length (deterministic, for evaluation). With ``rng``: shuffled, then
    sorted by length inside pools of 50 batches, and the batch order shuffled ("sortish" buckets).
    A batch holds at most ``batch_size`` proteins and, if given, ``max_residues`` padded residues.
    """
    n = len(lengths)
    if rng is None:
        pools = [np.argsort(lengths, kind="stable")]
    else:
        perm = rng.permutation(n)
        pool = 50 * batch_size
        pools = [
            p[np.argsort(lengths[p], kind="stable")] for p in np.split(perm, range(pool, n, pool))
        ]
    batches: list[np.ndarray] = []
    for order in pools:
        current: list[int] = []
        longest = 0
        for i in order:
            length = int(lengths[i])
            padded = max(longest, length) * (len(current) + 1)
            if current and (len(current) >= batch_size or (max_residues and padded > max_residues)):
                batches.append(np.array(current))
                current, longest = [], 0
            current.append(int(i))
            longest = max(longest, length)
        if current:
            batches.append(np.array(current))
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def collate(data: EncodedSet, indices: np.ndarray, device: torch.device) -> dict[str, torch.Tensor]:
    """Right-padded batch: x (B x T x 41), lengths (B), ss8/ss3 targets (-1 = ignore), mask."""
    lengths = data.lengths[indices]
    n, t = len(indices), int(lengths.max())
    x = np.zeros((n, t, N_FEATURES), dtype=np.float32)
    ss8 = np.full((n, t), -1, dtype=np.int64)
    ss3 = np.full((n, t), -1, dtype=np.int64)
    mask = np.zeros((n, t), dtype=bool)
    for b, i in enumerate(indices):
        length = int(lengths[b])
        x[b, :length] = data.features(i)
        tg = data.targets(i)
        ss8[b, :length] = tg["ss8"]
        ss3[b, :length] = tg["ss3"]
        mask[b, :length] = tg["eval_mask"] == 1
    pin = device.type == "cuda"

    def put(a: np.ndarray) -> torch.Tensor:
        t_ = torch.from_numpy(a)
        return (t_.pin_memory() if pin else t_).to(device, non_blocking=pin)

    return {
        "x": put(x),
        "lengths": torch.from_numpy(lengths.astype(np.int64)).to(device),
        "ss8": put(ss8),
        "ss3": put(ss3),
        "mask": put(mask),
    }


# ---------------------------------------------------------------- loss and metrics
def masked_targets(batch: dict[str, torch.Tensor], task: str) -> torch.Tensor:
    """Targets with -1 wherever the residue does not count (padding, eval_mask 0, unknown label)."""
    target = batch[task]
    return torch.where(batch["mask"] & (target >= 0), target, torch.full_like(target, -1))


def masked_loss(
    out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor], weights: dict[str, float]
) -> torch.Tensor:
    """Weighted sum over tasks of the mean cross-entropy over counted residues."""
    total = out["ss8"].new_zeros(())
    for task, w in weights.items():
        target = masked_targets(batch, task)
        if (target >= 0).any():
            logits = out[task]
            total = total + w * F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-1
            )
        else:
            total = total + 0.0 * out[task].sum()  # keeps the graph when nothing counts
    return total


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: EncodedSet,
    device: torch.device,
    weights: dict[str, float],
    batch_size: int,
) -> dict[str, float]:
    """Residue-pooled loss, Q8 and Q3 over counted residues."""
    model.eval()
    loss_sum, n_batches = 0.0, 0
    correct = {"ss8": 0, "ss3": 0}
    counted = {"ss8": 0, "ss3": 0}
    for idx in make_batches(data.lengths, batch_size):
        batch = collate(data, idx, device)
        out = model(batch["x"], batch["lengths"])
        loss_sum += float(masked_loss(out, batch, weights))
        n_batches += 1
        for task in correct:
            target = masked_targets(batch, task)
            keep = target >= 0
            correct[task] += int((out[task].argmax(-1)[keep] == target[keep]).sum())
            counted[task] += int(keep.sum())
    return {
        "loss": loss_sum / max(n_batches, 1),
        "q8": 100.0 * correct["ss8"] / max(counted["ss8"], 1),
        "q3": 100.0 * correct["ss3"] / max(counted["ss3"], 1),
    }


# ---------------------------------------------------------------- seeds, devices, checkpoints
def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: dict[str, torch.Tensor],
    weights: dict[str, float],
    clip: float | None,
    forward_context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> float:
    """One optimisation step on a collated batch; returns the loss. ``forward_context`` wraps the
    forward pass and the loss (e.g. autocast)."""
    with forward_context():
        loss = masked_loss(model(batch["x"], batch["lengths"]), batch, weights)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if clip:
        nn.utils.clip_grad_norm_(model.parameters(), float(clip))
    optimizer.step()
    return float(loss.detach())


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """None/'auto' -> CUDA when available else CPU; asking for CUDA without one is an error."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available on this machine")
    return dev


def _rng_state() -> dict:
    np_state = np.random.get_state(legacy=False)
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            **np_state,
            "state": {
                "key": torch.from_numpy(np_state["state"]["key"].astype(np.int64)),
                "pos": np_state["state"]["pos"],
            },
        },
        "python": random.getstate(),
    }


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    np_state = dict(state["numpy"])
    np_state["state"] = {
        "key": np_state["state"]["key"].numpy().astype(np.uint32),
        "pos": np_state["state"]["pos"],
    }
    np.random.set_state(np_state)
    random.setstate(state["python"])


def _save(obj: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _load(path: Path, device: torch.device | str = "cpu") -> dict:
    return torch.load(path, map_location=device, weights_only=True)


def _write_history(rows: list[dict], path: Path) -> None:
    lines = ["\t".join(HISTORY_COLUMNS)]
    for row in rows:
        lines.append(
            "\t".join(str(row[c]) if c == "epoch" else f"{row[c]:.6g}" for c in HISTORY_COLUMNS)
        )
    atomic_write_text(path, "\n".join(lines) + "\n")


def split_train_valid(data: EncodedSet) -> tuple[EncodedSet, EncodedSet]:
    """'train' and 'valid' proteins; without 'valid' ones, a fixed 10% of 'train' (module doc)."""
    train_set, valid_set = data.subset("train"), data.subset("valid")
    if len(train_set) == 0:
        raise ValueError("the training dataset holds no proteins with split 'train'")
    if len(valid_set) == 0:
        n_valid = max(1, int(round(VALID_FRACTION * len(train_set))))
        if n_valid >= len(train_set):
            raise ValueError(
                "too few 'train' proteins to carve a validation split; add 'valid' ones"
            )
        perm = np.random.default_rng(VALID_SEED).permutation(len(train_set))
        valid_set = train_set.select(np.sort(perm[:n_valid]))
        train_set = train_set.select(np.sort(perm[n_valid:]))
    return train_set, valid_set


# ---------------------------------------------------------------- training
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

    Writes ``model.pt`` (best epoch by valid Q8), ``history.tsv`` and ``checkpoints/last.pt``
    (every epoch; a rerun resumes after the last finished epoch). ``device`` None uses
    ``preset["device"]`` if set, else CUDA when available, else CPU. ``threads`` (or
    ``preset["threads"]``) sets torch's CPU threads. Preset keys (defaults in
    :data:`PRESET_DEFAULTS`; others are ignored): epochs, batch_size, max_residues_per_batch
    (padded residues per batch), lr, lr_decay (epoch e uses lr * lr_decay ** (e - 1)),
    weight_decay, patience (epochs without a valid Q8 gain), clip (max gradient norm; 0 = off),
    threads, loss_weights {ss8, ss3}, device. Returns a summary dict.
    """
    cfg = {**PRESET_DEFAULTS, **preset}
    weights = {**PRESET_DEFAULTS["loss_weights"], **(cfg["loss_weights"] or {})}
    out_dir = Path(out_dir)
    ckpt_path = out_dir / "checkpoints" / "last.pt"
    dev = resolve_device(device if device is not None else cfg.get("device"))
    n_threads = threads if threads is not None else cfg["threads"]
    if n_threads:
        torch.set_num_threads(int(n_threads))
    seed_everything(seed)

    train_set, valid_set = split_train_valid(load_encoded(train_path))
    model = build_model(model_spec, N_FEATURES).to(dev)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"]
    )
    state = {
        "epoch": 0,
        "best_epoch": 0,
        "best_q8": -1.0,
        "best_q3": 0.0,
        "best_state_dict": None,
        "history": [],
        "stopped": False,
    }
    if ckpt_path.exists():
        ckpt = _load(ckpt_path, dev)
        if ckpt["spec"] != model_spec or ckpt["seed"] != seed:
            raise ValueError(
                f"{ckpt_path} was written for another model spec or seed; "
                "delete the output folder to start over"
            )
        model.load_state_dict(ckpt["state_dict"])
        optimizer.load_state_dict(ckpt["optimizer"])
        for group in optimizer.param_groups:  # the preset may have changed between runs
            group["weight_decay"] = cfg["weight_decay"]
        state = ckpt["state"]
        _set_rng_state(ckpt["rng"])
        log(f"resuming from {ckpt_path} after epoch {state['epoch']}")

    log(
        f"training {model_spec.get('type')} ({count_parameters(model):,} parameters) on {dev}, "
        f"{len(train_set)} train / {len(valid_set)} valid proteins, "
        f"{torch.get_num_threads()} CPU threads"
    )
    residues = 0
    train_seconds = 0.0
    for epoch in range(state["epoch"] + 1, int(cfg["epochs"]) + 1):
        if state["stopped"]:
            break
        lr = float(cfg["lr"]) * float(cfg["lr_decay"]) ** (epoch - 1)  # a function of epoch only
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        t0 = last_report = time.perf_counter()
        batches = make_batches(
            train_set.lengths,
            int(cfg["batch_size"]),
            cfg["max_residues_per_batch"],
            np.random.default_rng([seed, epoch]),
        )
        loss_sum, epoch_residues = 0.0, 0
        for step, idx in enumerate(batches, 1):
            batch = collate(train_set, idx, dev)
            loss_sum += train_step(model, optimizer, batch, weights, cfg["clip"])
            epoch_residues += int(train_set.lengths[idx].sum())
            now = time.perf_counter()
            if now - last_report >= PROGRESS_SECONDS:
                log(
                    f"  epoch {epoch} batch {step}/{len(batches)} loss {loss_sum / step:.4f} "
                    f"{epoch_residues / (now - t0):,.0f} residues/s"
                )
                last_report = now
        epoch_train_seconds = time.perf_counter() - t0
        residues += epoch_residues
        train_seconds += epoch_train_seconds
        valid = evaluate(model, valid_set, dev, weights, int(cfg["batch_size"]))
        seconds = time.perf_counter() - t0
        row = {
            "epoch": epoch,
            "train_loss": loss_sum / max(len(batches), 1),
            "valid_loss": valid["loss"],
            "valid_q8": valid["q8"],
            "valid_q3": valid["q3"],
            "seconds": seconds,
        }
        state["history"].append(row)
        state["epoch"] = epoch
        if valid["q8"] > state["best_q8"]:
            state.update(
                best_epoch=epoch,
                best_q8=valid["q8"],
                best_q3=valid["q3"],
                best_state_dict={
                    k: v.detach().cpu().clone() for k, v in model.state_dict().items()
                },
            )
        elif epoch - state["best_epoch"] >= int(cfg["patience"]):
            state["stopped"] = True
        _save(
            {
                "spec": model_spec,
                "seed": seed,
                "state_dict": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "state": state,
                "rng": _rng_state(),
            },
            ckpt_path,
        )
        _write_history(state["history"], out_dir / "history.tsv")
        log(
            f"epoch {epoch}: train_loss {row['train_loss']:.4f} valid_loss {valid['loss']:.4f} "
            f"Q8 {valid['q8']:.2f} Q3 {valid['q3']:.2f} lr {lr:.2g} ({seconds:.0f} s, "
            f"{epoch_residues / max(epoch_train_seconds, 1e-9):,.0f} residues/s)"
            + (" *" if state["best_epoch"] == epoch else "")
            + (
                f" - early stop, no Q8 gain for {cfg['patience']} epochs"
                if state["stopped"]
                else ""
            )
        )

    if state["best_state_dict"] is None:
        raise ValueError(f"no epoch was trained (epochs={cfg['epochs']})")
    _save(
        {
            "spec": model_spec,
            "state_dict": state["best_state_dict"],
            "epoch": state["best_epoch"],
            "valid_q8": state["best_q8"],
            "valid_q3": state["best_q3"],
            "features": N_FEATURES,
        },
        out_dir / "model.pt",
    )
    _write_history(state["history"], out_dir / "history.tsv")
    return {
        "best_epoch": state["best_epoch"],
        "valid_q8": state["best_q8"],
        "valid_q3": state["best_q3"],
        "epochs_run": state["epoch"],
        "early_stopped": state["stopped"],
        "residues_per_s": residues / train_seconds if train_seconds else math.nan,
        "n_parameters": count_parameters(model),
        "device": str(dev),
    }


# ---------------------------------------------------------------- inference
def load_model(path: Path, device: str | torch.device | None = None) -> nn.Module:
    """The model saved in ``model.pt`` (``train``'s output), in eval mode on ``device``."""
    dev = resolve_device(device)
    saved = _load(Path(path), dev)
    if saved.get("features", N_FEATURES) != N_FEATURES:
        raise ValueError(
            f"{path}: model expects {saved['features']} features, this code encodes {N_FEATURES}"
        )
    model = build_model(saved["spec"], N_FEATURES)
    model.load_state_dict(saved["state_dict"])
    return model.to(dev).eval()


@torch.no_grad()
def predict_proba(
    model: nn.Module,
    encoded: EncodedSet,
    device: str | torch.device | None = None,
    batch_size: int = 32,
) -> list[dict[str, np.ndarray]]:
    """Per protein, in ``encoded`` order: ``{"ss8": L x 8, "ss3": L x 3}`` probabilities."""
    dev = resolve_device(device)
    model.eval()
    results: list[dict[str, np.ndarray] | None] = [None] * len(encoded)
    for idx in make_batches(encoded.lengths, batch_size):
        batch = collate(encoded, idx, dev)
        out = model(batch["x"], batch["lengths"])
        probs = {k: torch.softmax(v.float(), dim=-1).cpu().numpy() for k, v in out.items()}
        for b, i in enumerate(idx):
            length = int(encoded.lengths[i])
            results[i] = {k: p[b, :length] for k, p in probs.items()}
    return results  # type: ignore[return-value]

"""Training loop: length-bucketed batches, masked multi-task loss, early stopping, resumable
checkpoints, for per-residue (ss8/ss3, optional RSA) and per-protein (location/membrane) models.

Read top to bottom: batching -> loss -> evaluation -> precision, seeds, checkpoint I/O ->
:func:`train` -> :func:`load_model` / :func:`predict_proba`.

Validation: proteins with split 'valid' in the training dataset. When there are none, a fixed 10%
of the 'train' proteins (drawn with :data:`VALID_SEED`, independent of the training seed, so every
model and seed sees the same split) is held out instead. The best epoch is the one with the
highest validation Q8 (per residue) or location accuracy (per protein).

Precision: on CUDA forward + loss run under bf16 autocast (preset ``amp``, default on; losses in
float32). PyTorch's autocast runs cuDNN RNNs in float16 whatever the autocast dtype
(aten/src/ATen/cudnn/AutocastRNN.cpp), so a GradScaler guards against float16 gradient underflow.
CPU always trains in float32.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from protrnn.core.fileio import atomic_path, atomic_write_text
from protrnn.encode import N_FEATURES, EncodedSet, load_encoded
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
#: Output heads per task: the keys of the preset's ``loss_weights``.
HEADS = {"per_residue": ("ss8", "ss3", "rsa"), "per_protein": ("location", "membrane")}
#: The validation metric that picks the best epoch and drives early stopping.
SELECTION = {"per_residue": "q8", "per_protein": "accuracy"}
#: Batch lengths with ``buckets: auto`` on CUDA; past the largest, multiples of the largest.
DEFAULT_BUCKETS = (64, 128, 256, 512, 1024)
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
    "amp": True,
    "buckets": "auto",
    "loss_weights": {"ss8": 1.0, "ss3": 1.0},
}


# ---------------------------------------------------------------- batching
def resolve_buckets(buckets: str | Sequence[int] | None, device: torch.device) -> tuple[int, ...]:
    """Preset ``buckets`` as sorted lengths: 'auto' -> :data:`DEFAULT_BUCKETS` on CUDA and none on
    CPU (where the RNN runs over the padding, so padding costs time); None or [] -> none."""
    if isinstance(buckets, str):
        if buckets != "auto":
            raise ValueError(f"preset buckets: a list of lengths, null or 'auto', got {buckets!r}")
        return DEFAULT_BUCKETS if device.type == "cuda" else ()
    out = tuple(sorted({int(b) for b in buckets or ()}))
    if out and out[0] < 1:
        raise ValueError(f"preset buckets: lengths must be positive, got {list(buckets or ())}")
    return out


def bucket_length(length: int, buckets: Sequence[int] = ()) -> int:
    """The padded length of a batch whose longest protein has ``length`` residues: the smallest
    of the (sorted) ``buckets`` that holds it, past the largest the next multiple of the largest;
    without buckets ``length`` itself."""
    for b in buckets:
        if b >= length:
            return b
    return -(-length // buckets[-1]) * buckets[-1] if buckets else length


def make_batches(
    lengths: np.ndarray,
    batch_size: int,
    max_residues: int | None = None,
    rng: np.random.Generator | None = None,
    buckets: Sequence[int] = (),
) -> list[np.ndarray]:
    """Group protein indices into batches of similar length.

    Without ``rng``: sorted by length (deterministic, for evaluation). With ``rng``: shuffled, then
    sorted by length inside pools of 50 batches, and the batch order shuffled ("sortish" buckets).
    A batch holds at most ``batch_size`` proteins and, if given, ``max_residues`` padded residues
    (padded to :func:`bucket_length`); a longer protein forms a batch alone.
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
            padded = bucket_length(max(longest, length), buckets) * (len(current) + 1)
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


def collate(
    data: EncodedSet, indices: np.ndarray, device: torch.device, buckets: Sequence[int] = ()
) -> dict[str, torch.Tensor]:
    """Right-padded batch (to :func:`bucket_length`): x (B x T x 41), lengths (B), mask (B x T,
    real residues with eval_mask 1). Per-residue sets: ss8/ss3 targets (-1 = ignore) and, when the
    set has RSA, rsa (NaN = unknown). Per-protein sets: location (the class index ``label``) and
    membrane (B, -1 = unknown). Targets are named after the model output they score."""
    lengths = data.lengths[indices]
    n, t = len(indices), bucket_length(int(lengths.max()), buckets)
    per_residue = data.task != "per_protein"
    x = np.zeros((n, t, N_FEATURES), dtype=np.float32)
    mask = np.zeros((n, t), dtype=bool)
    ss8 = np.full((n, t), -1, dtype=np.int64)
    ss3 = np.full((n, t), -1, dtype=np.int64)
    rsa = np.full((n, t), np.nan, dtype=np.float32) if per_residue and data.has_rsa else None
    for b, i in enumerate(indices):
        length = int(lengths[b])
        x[b, :length] = data.features(i)
        tg = data.targets(i)
        mask[b, :length] = tg["eval_mask"] == 1
        if per_residue:
            ss8[b, :length] = tg["ss8"]
            ss3[b, :length] = tg["ss3"]
        if rsa is not None:
            rsa[b, :length] = tg["rsa"]
    pin = device.type == "cuda"

    def put(a: np.ndarray) -> torch.Tensor:
        t_ = torch.from_numpy(a)
        return (t_.pin_memory() if pin else t_).to(device, non_blocking=pin)

    batch = {
        "x": put(x),
        "lengths": torch.from_numpy(lengths.astype(np.int64)).to(device),
        "mask": put(mask),
    }
    if per_residue:
        batch.update(ss8=put(ss8), ss3=put(ss3))
        if rsa is not None:
            batch["rsa"] = put(rsa)
    else:
        batch["location"] = put(np.asarray(data.label[indices], dtype=np.int64))
        batch["membrane"] = put(np.asarray(data.membrane[indices], dtype=np.int64))
    return batch


# ---------------------------------------------------------------- loss and metrics
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
    target = masked_targets(batch, head) if head in ("ss8", "ss3") else batch[head]
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
    for head in ("ss8", "ss3", "location", "membrane"):
        if head in out and head in batch:
            target = masked_targets(batch, head) if head in ("ss8", "ss3") else batch[head]
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
        n = acc["rsa_n"]
        cov = acc["rsa_xy"] - acc["rsa_x"] * acc["rsa_y"] / max(n, 1)
        var_x = acc["rsa_xx"] - acc["rsa_x"] ** 2 / max(n, 1)
        var_y = acc["rsa_yy"] - acc["rsa_y"] ** 2 / max(n, 1)
        out["rsa_pcc"] = cov / math.sqrt(var_x * var_y) if var_x > 0 and var_y > 0 else math.nan
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


# ---------------------------------------------------------------- precision, seeds, devices
def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA when ``enabled``; a no-op on any other device (float32)."""
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


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


# ---------------------------------------------------------------- checkpoints and history
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


def history_columns(task: str, rsa: bool = False) -> tuple[str, ...]:
    """history.tsv columns (:data:`HISTORY_COLUMNS`; ``valid_rsa_pcc`` added with RSA)."""
    columns = HISTORY_COLUMNS[task]
    return columns[:-1] + ("valid_rsa_pcc", "seconds") if rsa else columns


def _write_history(rows: list[dict], path: Path, columns: Sequence[str]) -> None:
    lines = ["\t".join(columns)]
    for row in rows:
        lines.append("\t".join(str(row[c]) if c == "epoch" else f"{row[c]:.6g}" for c in columns))
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


_NAMES = {
    "q8": "Q8",
    "q3": "Q3",
    "rsa_pcc": "RSA PCC",
    "accuracy": "accuracy",
    "membrane_accuracy": "membrane accuracy",
}


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

    The dataset's task (per_residue / per_protein) must be the model type's. Writes ``model.pt``
    (best epoch by valid Q8, or valid location accuracy per protein), ``history.tsv`` and
    ``checkpoints/last.pt`` (every epoch; a rerun resumes after the last finished epoch).
    ``device`` None uses ``preset["device"]`` if set, else CUDA when available, else CPU.
    ``threads`` (or ``preset["threads"]``) sets torch's CPU threads. Preset keys (defaults in
    :data:`PRESET_DEFAULTS`; others are ignored): epochs, batch_size, max_residues_per_batch
    (padded residues per batch), lr, lr_decay (epoch e uses lr * lr_decay ** (e - 1)),
    weight_decay, patience (epochs without a gain of the selection metric), clip (max gradient
    norm; 0 = off), threads, amp (bf16 autocast on CUDA), buckets (batch lengths, see
    :func:`resolve_buckets`), loss_weights {ss8, ss3, rsa, location, membrane} (see
    :func:`loss_weights`), device. Per-residue sets with RSA train an RSA head unless
    loss_weights.rsa is 0. Returns a summary dict.
    """
    cfg = {**PRESET_DEFAULTS, **preset}
    out_dir = Path(out_dir)
    ckpt_path = out_dir / "checkpoints" / "last.pt"
    dev = resolve_device(device if device is not None else cfg.get("device"))
    n_threads = threads if threads is not None else cfg["threads"]
    if n_threads:
        torch.set_num_threads(int(n_threads))
    seed_everything(seed)

    data = load_encoded(train_path)
    task = data.task
    if model_task(model_spec) != task:
        raise ValueError(
            f"model type {model_spec.get('type')!r} predicts {model_task(model_spec)}, "
            f"but {train_path} is a {task} dataset"
        )
    weights = loss_weights(task, cfg["loss_weights"])
    rsa = task == "per_residue" and data.has_rsa and weights["rsa"] > 0
    classes = list(data.classes)
    metric = SELECTION[task]
    columns = history_columns(task, rsa)
    use_amp = bool(cfg["amp"]) and dev.type == "cuda"
    buckets = resolve_buckets(cfg["buckets"], dev)
    train_set, valid_set = split_train_valid(data)
    model = build_model(model_spec, N_FEATURES, n_classes=len(classes) or None, rsa=rsa).to(dev)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"]
    )
    scaler = torch.amp.GradScaler("cuda") if use_amp else None
    identity = {"spec": model_spec, "seed": seed, "classes": classes, "rsa": rsa}
    state = {
        "epoch": 0,
        "best_epoch": 0,
        "best": None,  # validation metrics of the best epoch
        "best_state_dict": None,
        "history": [],
        "stopped": False,
    }
    if ckpt_path.exists():
        ckpt = _load(ckpt_path, dev)
        saved = {"classes": [], "rsa": False, **{k: ckpt[k] for k in identity if k in ckpt}}
        if saved != identity:
            raise ValueError(
                f"{ckpt_path} was written for another model spec, seed, class list or RSA "
                "setting; delete the output folder to start over"
            )
        model.load_state_dict(ckpt["state_dict"])
        optimizer.load_state_dict(ckpt["optimizer"])
        for group in optimizer.param_groups:  # the preset may have changed between runs
            group["weight_decay"] = cfg["weight_decay"]
        if scaler is not None and ckpt.get("scaler"):
            scaler.load_state_dict(ckpt["scaler"])
        state = ckpt["state"]
        if "best" not in state:  # checkpoint of an older protrnn
            best = {"q8": state.pop("best_q8"), "q3": state.pop("best_q3")}
            state["best"] = best if state["best_epoch"] else None
        _set_rng_state(ckpt["rng"])
        log(f"resuming from {ckpt_path} after epoch {state['epoch']}")

    log(
        f"training {model_spec.get('type')} ({count_parameters(model):,} parameters, {task}"
        + (f", {len(classes)} classes" if classes else "")
        + (", RSA head" if rsa else "")
        + f") on {dev}{' with bf16 autocast' if use_amp else ''}, "
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
            buckets,
        )
        loss_sum, epoch_residues = 0.0, 0
        for step, idx in enumerate(batches, 1):
            batch = collate(train_set, idx, dev, buckets)
            loss_sum += train_step(
                model,
                optimizer,
                batch,
                weights,
                cfg["clip"],
                lambda: autocast(dev, use_amp),
                scaler,
            )
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
        valid = evaluate(model, valid_set, dev, weights, int(cfg["batch_size"]), buckets, use_amp)
        seconds = time.perf_counter() - t0
        row = {
            "epoch": epoch,
            "train_loss": loss_sum / max(len(batches), 1),
            "valid_loss": valid["loss"],
            **{f"valid_{k}": v for k, v in valid.items() if k != "loss"},
            "seconds": seconds,
        }
        state["history"].append(row)
        state["epoch"] = epoch
        if state["best"] is None or valid[metric] > state["best"][metric]:
            state.update(
                best_epoch=epoch,
                best={k: v for k, v in valid.items() if k != "loss"},
                best_state_dict={
                    k: v.detach().cpu().clone() for k, v in model.state_dict().items()
                },
            )
        elif epoch - state["best_epoch"] >= int(cfg["patience"]):
            state["stopped"] = True
        _save(
            {
                **identity,
                "state_dict": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict() if scaler is not None else None,
                "state": state,
                "rng": _rng_state(),
            },
            ckpt_path,
        )
        _write_history(state["history"], out_dir / "history.tsv", columns)
        shown = " ".join(f"{_NAMES[k]} {v:.2f}" for k, v in valid.items() if k != "loss")
        log(
            f"epoch {epoch}: train_loss {row['train_loss']:.4f} valid_loss {valid['loss']:.4f} "
            f"{shown} lr {lr:.2g} ({seconds:.0f} s, "
            f"{epoch_residues / max(epoch_train_seconds, 1e-9):,.0f} residues/s)"
            + (" *" if state["best_epoch"] == epoch else "")
            + (
                f" - early stop, no {_NAMES[metric]} gain for {cfg['patience']} epochs"
                if state["stopped"]
                else ""
            )
        )

    if state["best_state_dict"] is None:
        raise ValueError(f"no epoch was trained (epochs={cfg['epochs']})")
    best = {f"valid_{k}": v for k, v in state["best"].items()}
    _save(
        {
            "spec": model_spec,
            "state_dict": state["best_state_dict"],
            "epoch": state["best_epoch"],
            "task": task,
            "classes": classes,
            "rsa": rsa,
            "features": N_FEATURES,
            **best,
        },
        out_dir / "model.pt",
    )
    _write_history(state["history"], out_dir / "history.tsv", columns)
    return {
        "best_epoch": state["best_epoch"],
        **best,
        "epochs_run": state["epoch"],
        "early_stopped": state["stopped"],
        "residues_per_s": residues / train_seconds if train_seconds else math.nan,
        "n_parameters": count_parameters(model),
        "device": str(dev),
    }


# ---------------------------------------------------------------- inference
def load_model(path: Path, device: str | torch.device | None = None) -> nn.Module:
    """The model saved in ``model.pt`` (``train``'s output), in eval mode on ``device``.

    Its ``classes`` attribute holds the location class names (empty for per-residue models).
    """
    dev = resolve_device(device)
    saved = _load(Path(path), dev)
    if saved.get("features", N_FEATURES) != N_FEATURES:
        raise ValueError(
            f"{path}: model expects {saved['features']} features, this code encodes {N_FEATURES}"
        )
    classes = tuple(saved.get("classes", ()))
    model = build_model(
        saved["spec"], N_FEATURES, n_classes=len(classes) or None, rsa=saved.get("rsa", False)
    )
    model.load_state_dict(saved["state_dict"])
    model.classes = classes
    return model.to(dev).eval()


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
    classes = tuple(getattr(model, "classes", ()) or ())
    if classes and encoded.classes and classes != tuple(encoded.classes):
        raise ValueError(
            f"the model predicts classes {list(classes)}, the encoded set has "
            f"{list(encoded.classes)}: encode it with the training set's classes"
        )
    padded_to = resolve_buckets(buckets, dev)
    results: list[dict[str, np.ndarray] | None] = [None] * len(encoded)
    for idx in make_batches(encoded.lengths, batch_size, buckets=padded_to):
        batch = collate(encoded, idx, dev, padded_to)
        with autocast(dev, amp):
            out = model(batch["x"], batch["lengths"])
        if "location" in out:
            probs = {k: torch.softmax(out[k].float(), -1).cpu().numpy() for k in out}
            for b, i in enumerate(idx):
                results[i] = {k: p[b] for k, p in probs.items()}
            continue
        probs = {k: torch.softmax(out[k].float(), -1).cpu().numpy() for k in ("ss8", "ss3")}
        rsa = out["rsa"].float().cpu().numpy() if "rsa" in out else None
        for b, i in enumerate(idx):
            length = int(encoded.lengths[i])
            results[i] = {k: p[b, :length] for k, p in probs.items()}
            results[i]["rsa"] = (
                rsa[b, :length] if rsa is not None else np.full(length, np.nan, np.float32)
            )
    return results  # type: ignore[return-value]

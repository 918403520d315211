"""What training leaves on disk and reads back.

- :class:`TrainState`: the progress of a run (epochs done, best epoch, its metrics and weights,
  history, early stop), saved in every checkpoint.
- ``checkpoints/last.pt`` (:func:`save_checkpoint`, :func:`resume_or_start`): model, optimizer,
  grad scaler and RNG states plus the :class:`TrainState`, written after every epoch, and the
  run's :class:`~protrnn.model.fingerprint.Fingerprint`. A rerun resumes only under an equal
  fingerprint; otherwise (or when the file is unreadable or has no fingerprint) it trains afresh
  and logs why.
- ``model.pt`` (:func:`save_model`, :func:`read_model_provenance`): the best epoch's weights, the
  model spec, task, classes, RSA head, feature count, validation metrics and ``provenance``
  (feature encoding, profile provenance, training data digests and fingerprint). Files written
  before ``provenance`` existed still load (:mod:`protrnn.model.inference`).
"""

from __future__ import annotations

import json
import pickle
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from protrnn.core.fileio import atomic_path
from protrnn.model.fingerprint import Fingerprint

#: Errors torch.load raises for a truncated, foreign or corrupt file.
_UNREADABLE = (
    EOFError,
    OSError,
    RuntimeError,
    ValueError,
    KeyError,
    pickle.UnpicklingError,
    zipfile.BadZipFile,
)


@dataclass
class TrainState:
    """Progress of a training run; ``best`` holds the best epoch's validation metrics."""

    epoch: int = 0
    best_epoch: int = 0
    best: dict | None = None
    best_state_dict: dict | None = None
    history: list[dict] = field(default_factory=list)
    stopped: bool = False

    def as_dict(self) -> dict:
        """The fields as a plain dict (what a checkpoint stores)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


# ---------------------------------------------------------------- torch files
def save_torch_file(obj: dict, path: Path) -> None:
    """``torch.save`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_torch_file(path: Path, device: torch.device | str = "cpu") -> dict:
    """A dict saved by :func:`save_torch_file` (tensors only, no code); an unreadable file is a
    ValueError naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        obj = torch.load(path, map_location=device, weights_only=True)
    except _UNREADABLE as err:
        msg = f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
        raise ValueError(f"{path}: not a readable torch file ({msg})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: holds a {type(obj).__name__}, not a protrnn dict")
    return obj


# ---------------------------------------------------------------- RNG states
def rng_state() -> dict:
    """The python, numpy and torch (CPU and CUDA) RNG states, as tensors and plain types."""
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


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
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


# ---------------------------------------------------------------- checkpoints
def checkpoint_path(out_dir: Path) -> Path:
    """The resumable checkpoint of the run writing to ``out_dir``."""
    return Path(out_dir) / "checkpoints" / "last.pt"


def save_checkpoint(
    path: Path,
    fingerprint: Fingerprint,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    state: TrainState,
) -> None:
    """Write everything a rerun needs to continue after ``state.epoch`` (atomically)."""
    save_torch_file(
        {
            "fingerprint": fingerprint.digest,
            "fingerprint_parts": json.dumps(fingerprint.parts, sort_keys=True, default=str),
            "state_dict": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "state": state.as_dict(),
            "rng": rng_state(),
        },
        path,
    )


def _stale_reason(ckpt: dict, fingerprint: Fingerprint) -> str | None:
    """Why ``ckpt`` may not be resumed under ``fingerprint`` (None: it may)."""
    if "fingerprint" not in ckpt:
        return "it has no input fingerprint (written by an older protrnn)"
    if ckpt["fingerprint"] == fingerprint.digest:
        return None
    try:
        saved = json.loads(ckpt.get("fingerprint_parts") or "{}")
    except (TypeError, json.JSONDecodeError):
        saved = {}
    differ = fingerprint.differences(saved) or ["inputs"]
    return f"it was trained on other inputs: {', '.join(differ)} differ"


def resume_or_start(
    out_dir: Path,
    fingerprint: Fingerprint,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    log: Callable[[str], None],
) -> TrainState:
    """The state to continue from: the checkpoint's (model, optimizer, scaler and RNGs restored)
    when it exists and its fingerprint equals ``fingerprint``, else a fresh one, after one log
    line saying why and the removal of the stale checkpoint, ``model.pt`` and ``history.tsv``."""
    path = checkpoint_path(out_dir)
    if not path.exists():
        return TrainState()
    try:  # on the CPU: RNG states must be CPU tensors; weights are copied to the model's device
        ckpt = load_torch_file(path, "cpu")
        reason = _stale_reason(ckpt, fingerprint)
    except ValueError as err:
        reason = f"it cannot be read ({err})"
    if reason is not None:
        log(f"not resuming from {path}: {reason}; training afresh")
        for stale in (path, Path(out_dir) / "model.pt", Path(out_dir) / "history.tsv"):
            stale.unlink(missing_ok=True)
        return TrainState()
    model.load_state_dict(ckpt["state_dict"])
    optimizer.load_state_dict(ckpt["optimizer"])
    if scaler is not None and ckpt.get("scaler"):
        scaler.load_state_dict(ckpt["scaler"])
    set_rng_state(ckpt["rng"])
    state = TrainState(**ckpt["state"])
    log(f"resuming from {path} after epoch {state.epoch}")
    return state


# ---------------------------------------------------------------- model.pt
def save_model(path: Path, content: dict, provenance: dict) -> None:
    """Write ``model.pt``: ``content`` (spec, state_dict, epoch, task, classes, rsa, features,
    validation metrics) and ``provenance``."""
    save_torch_file({**content, "provenance": provenance}, path)


def read_model_provenance(path: Path) -> dict | None:
    """The ``provenance`` of a ``model.pt``: ``{"encoding": ..., "profiles": ...,
    "training_data": ..., "training_fingerprint": ...}``; None for files written before it
    existed."""
    return load_torch_file(Path(path)).get("provenance")

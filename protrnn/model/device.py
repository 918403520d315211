"""Where and in which precision a model runs: device choice and bf16 autocast on CUDA.

PyTorch's autocast runs cuDNN RNNs in float16 whatever the autocast dtype
(aten/src/ATen/cudnn/AutocastRNN.cpp), so training guards it with a GradScaler; CPU always runs in
float32.
"""

from __future__ import annotations

import contextlib

import torch


def resolve_device(device: str | torch.device | None) -> torch.device:
    """None/'auto' -> CUDA when available else CPU; asking for CUDA without one is an error."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available on this machine")
    return dev


def autocast(device: torch.device, enabled: bool = True) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA when ``enabled``; a no-op on any other device (float32)."""
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()

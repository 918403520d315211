"""Batches of proteins: length buckets, length-sorted (or "sortish" shuffled) batches, and the
right-padded tensors a model reads (:func:`collate`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from protrnn.encode import EncodedSet

#: Batch lengths with ``buckets: auto`` on CUDA; past the largest, multiples of the largest.
DEFAULT_BUCKETS = (64, 128, 256, 512, 1024)
#: Batches per pool of similar lengths when batches are shuffled (:func:`make_batches`).
POOL_BATCHES = 50


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


def _length_pools(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Protein indices in batching order: all sorted by length (no ``rng``), or shuffled and then
    sorted by length inside pools of :data:`POOL_BATCHES` batches."""
    n = len(lengths)
    if rng is None:
        return [np.argsort(lengths, kind="stable")]
    perm = rng.permutation(n)
    pool = POOL_BATCHES * batch_size
    return [p[np.argsort(lengths[p], kind="stable")] for p in np.split(perm, range(pool, n, pool))]


def _fill_batches(
    order: np.ndarray,
    lengths: np.ndarray,
    batch_size: int,
    max_residues: int | None,
    buckets: Sequence[int],
) -> list[np.ndarray]:
    """Cut ``order`` into consecutive batches within the protein and padded-residue budgets."""
    batches: list[np.ndarray] = []
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
    return batches


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
    batches: list[np.ndarray] = []
    for order in _length_pools(lengths, batch_size, rng):
        batches += _fill_batches(order, lengths, batch_size, max_residues, buckets)
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _to_device(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A host array on ``device`` (through pinned memory, asynchronously, on CUDA)."""
    pin = device.type == "cuda"
    tensor = torch.from_numpy(array)
    return (tensor.pin_memory() if pin else tensor).to(device, non_blocking=pin)


def _padded_residue_arrays(
    data: EncodedSet, indices: np.ndarray, padded_length: int
) -> dict[str, np.ndarray]:
    """x, mask and (per residue) ss8/ss3 and rsa of the proteins at ``indices``, right-padded."""
    n, t = len(indices), padded_length
    per_residue = data.task != "per_protein"
    arrays = {
        "x": np.zeros((n, t, data.n_features), dtype=np.float32),
        "mask": np.zeros((n, t), dtype=bool),
        "ss8": np.full((n, t), -1, dtype=np.int64),
        "ss3": np.full((n, t), -1, dtype=np.int64),
    }
    if per_residue and data.has_rsa:
        arrays["rsa"] = np.full((n, t), np.nan, dtype=np.float32)
    for b, i in enumerate(indices):
        length = int(data.lengths[i])
        arrays["x"][b, :length] = data.features(i)
        tg = data.targets(i)
        arrays["mask"][b, :length] = tg["eval_mask"] == 1
        if per_residue:
            arrays["ss8"][b, :length] = tg["ss8"]
            arrays["ss3"][b, :length] = tg["ss3"]
        if "rsa" in arrays:
            arrays["rsa"][b, :length] = tg["rsa"]
    if not per_residue:
        del arrays["ss8"], arrays["ss3"]
    return arrays


def collate(
    data: EncodedSet, indices: np.ndarray, device: torch.device, buckets: Sequence[int] = ()
) -> dict[str, torch.Tensor]:
    """Right-padded batch (to :func:`bucket_length`): x (B x T x 41), lengths (B), mask (B x T,
    real residues with eval_mask 1). Per-residue sets: ss8/ss3 targets (-1 = ignore) and, when the
    set has RSA, rsa (NaN = unknown). Per-protein sets: location (the class index ``label``) and
    membrane (B, -1 = unknown). Targets are named after the model output they score."""
    lengths = data.lengths[indices]
    arrays = _padded_residue_arrays(data, indices, bucket_length(int(lengths.max()), buckets))
    batch = {
        "x": _to_device(arrays.pop("x"), device),
        "lengths": torch.from_numpy(lengths.astype(np.int64)).to(device),
        "mask": _to_device(arrays.pop("mask"), device),
    }
    if data.task == "per_protein":
        arrays["location"] = np.asarray(data.label[indices], dtype=np.int64)
        arrays["membrane"] = np.asarray(data.membrane[indices], dtype=np.int64)
    batch.update({name: _to_device(a, device) for name, a in arrays.items()})
    return batch

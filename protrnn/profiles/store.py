"""Profile shards: compressed npz (key = sequence hash, value = L x 20 raw PSSM) + JSON provenance.

Both files are written atomically; the provenance sits next to the shard as ``{shard}.json``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from protrnn.core.alphabet import N_AA
from protrnn.core.fileio import atomic_path, atomic_write_text


def provenance_path(path: Path) -> Path:
    """The provenance JSON of a shard: the shard path with suffix ``.json``."""
    return Path(path).with_suffix(".json")


def _check_profile(path: Path, key: str, pssm: np.ndarray) -> np.ndarray:
    """Validate one profile (2-D, 20 columns, finite, float) before it is written."""
    array = np.asarray(pssm)
    if array.ndim != 2 or array.shape[1] != N_AA:
        raise ValueError(f"{path}: profile {key!r} has shape {array.shape}, expected (L, {N_AA})")
    if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
        raise ValueError(f"{path}: profile {key!r} has non-numeric or non-finite values")
    return array


def write_shard(path: Path, profiles: dict[str, np.ndarray], provenance: dict) -> None:
    """Write ``path`` (compressed npz, one array per sequence hash) and its provenance JSON."""
    path = Path(path)
    arrays = {key: _check_profile(path, key, pssm) for key, pssm in profiles.items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    record = {**provenance, "n_proteins": len(arrays), "shard": path.name}
    atomic_write_text(provenance_path(path), json.dumps(record, indent=2, default=str) + "\n")


def read_shard(path: Path) -> dict[str, np.ndarray]:
    """All profiles of a shard as sequence hash -> L x 20 array."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"profile shard {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as shard:
            return {key: shard[key] for key in shard.files}
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise ValueError(f"profile shard {path} is not a readable npz file: {err}") from err


def read_provenance(path: Path) -> dict:
    """The provenance dict written next to shard ``path``."""
    json_path = provenance_path(path)
    if not json_path.is_file():
        raise FileNotFoundError(f"provenance {json_path} of profile shard {path} does not exist")
    try:
        return json.loads(json_path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"provenance {json_path} is not valid JSON: {err}") from err

"""Content-addressed profile cache shared by every dataset of a run.

A protein's profile is stored once per *search setting*: the setting key is the sha256 of the
database checksum, the backend name and its parameters (canonical JSON), so a second dataset that
shares proteins with a finished one reuses their profiles, and a change of database, backend or
parameter never reuses a stale one. Layout::

    {root}/{backend}-{key[:16]}/setting.json          what the key stands for
    {root}/{backend}-{key[:16]}/{hash[:2]}/{hash}.npy one raw L x 20 PSSM per sequence hash

Every file is written atomically (temporary sibling, then rename), so a killed job leaves either
a whole profile or none, and concurrent jobs that compute the same protein write the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from protrnn.core.alphabet import N_AA
from protrnn.core.fileio import atomic_path, atomic_write_text

DEFAULT_ROOT = Path("resources/profile_cache")


def setting_key(database_checksum: str, backend: str, params: dict) -> str:
    """sha256 hex of the database checksum, backend and parameters (order-independent)."""
    blob = json.dumps(
        {"database": database_checksum, "backend": backend, "params": params},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


class ProfileCache:
    """Profiles of one search setting under ``root`` (see the module docstring)."""

    def __init__(self, root: str | Path, database_checksum: str, backend: str, params: dict):
        self.key = setting_key(database_checksum, backend, params)
        self.folder = Path(root) / f"{backend}-{self.key[:16]}"
        setting = self.folder / "setting.json"
        if not setting.is_file():
            record = {
                "key": self.key,
                "database_checksum": database_checksum,
                "backend": backend,
                "params": params,
            }
            atomic_write_text(setting, json.dumps(record, indent=2, default=str) + "\n")

    def path(self, sequence_hash: str) -> Path:
        if len(sequence_hash) < 3 or not sequence_hash.isalnum():
            raise ValueError(f"profile cache: bad sequence hash {sequence_hash!r}")
        return self.folder / sequence_hash[:2] / f"{sequence_hash}.npy"

    def has(self, sequence_hash: str) -> bool:
        return self.path(sequence_hash).is_file()

    def missing(self, hashes: Iterable[str]) -> list[str]:
        """The hashes without a cached profile, in input order."""
        return [h for h in hashes if not self.has(h)]

    def get(self, sequence_hash: str, length: int | None = None) -> np.ndarray:
        """The cached profile; ValueError when it is unreadable or has the wrong shape."""
        path = self.path(sequence_hash)
        try:
            pssm = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ValueError(
                f"profile cache entry {path} is unreadable ({err}); remove it"
            ) from err
        if pssm.ndim != 2 or pssm.shape[1] != N_AA or (length is not None and len(pssm) != length):
            raise ValueError(
                f"profile cache entry {path} has shape {pssm.shape}, expected ({length}, {N_AA}); "
                "delete it"
            )
        return pssm

    def put(self, sequence_hash: str, pssm: np.ndarray) -> None:
        array = np.asarray(pssm, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != N_AA or not np.all(np.isfinite(array)):
            raise ValueError(f"profile of {sequence_hash} has shape {array.shape} or bad values")
        with atomic_path(self.path(sequence_hash)) as tmp, open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)

    def put_many(self, profiles: dict[str, np.ndarray]) -> None:
        for sequence_hash, pssm in profiles.items():
            self.put(sequence_hash, pssm)

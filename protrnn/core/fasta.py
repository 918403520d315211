"""FASTA reading and writing with validation.

Sequences are returned exactly as written (case kept; callers upper-case where the domain asks for
it), except that one trailing ``*`` (stop marker) is dropped. Every error names the file, the line
and the record.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from protrnn.core.fileio import atomic_path


class FastaRecord(NamedTuple):
    """One FASTA record: ``id`` is the first whitespace token of the header."""

    id: str
    description: str  # the header after the id ('' when none)
    sequence: str


def _check_sequence(seq: str, where: str) -> str:
    """Return ``seq`` without a trailing '*'; raise if it holds anything but letters."""
    body = seq[:-1] if seq.endswith("*") else seq
    if not body:
        raise ValueError(f"{where}: empty sequence")
    if not body.isascii() or not body.isalpha():
        bad = next(c for c in body if not (c.isascii() and c.isalpha()))
        pos = body.index(bad) + 1
        raise ValueError(
            f"{where}: character {bad!r} at residue {pos} is not a letter "
            "('*' is allowed only at the very end)"
        )
    return body


def _split_header(line: str, where: str) -> tuple[str, str]:
    """Split a '>' header line into (id, description)."""
    parts = line[1:].strip().split(None, 1)
    if not parts:
        raise ValueError(f"{where}: empty id in header")
    return parts[0], parts[1] if len(parts) > 1 else ""


def iter_fasta(lines: Iterable[str], source: str) -> Iterator[FastaRecord]:
    """Parse FASTA text lines from ``source`` (a name used in error messages)."""
    header: tuple[str, str] | None = None
    header_line = 0
    chunks: list[str] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(">"):
            if header is not None:
                yield _finish(header, chunks, f"{source} line {header_line}")
            header = _split_header(line, f"{source} line {number}")
            if header[0] in seen:
                raise ValueError(f"{source} line {number}: duplicate id {header[0]!r}")
            seen.add(header[0])
            header_line, chunks = number, []
        elif header is None:
            raise ValueError(f"{source} line {number}: sequence data before the first '>' header")
        else:
            chunks.append(line)
    if header is None:
        raise ValueError(f"{source}: empty file (no FASTA records)")
    yield _finish(header, chunks, f"{source} line {header_line}")


def _finish(header: tuple[str, str], chunks: list[str], where: str) -> FastaRecord:
    """Build a validated record from its header and sequence lines."""
    seq = _check_sequence("".join(chunks), f"{where}, record {header[0]!r}")
    return FastaRecord(header[0], header[1], seq)


def _open_text(path: Path) -> Iterator[str]:
    """Yield the lines of a plain or gzip-compressed text file."""
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rt", encoding="utf-8") as handle:
        yield from handle


def read_fasta_records(path: str | os.PathLike[str]) -> list[FastaRecord]:
    """Read all records (with header descriptions) of a plain or gzipped FASTA file."""
    p = Path(path)
    return list(iter_fasta(_open_text(p), p.name))


def read_fasta(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Read a plain or gzipped FASTA file into ``[(id, sequence), ...]``."""
    return [(r.id, r.sequence) for r in read_fasta_records(path)]


def format_fasta(records: Iterable[tuple[str, str]], width: int = 60) -> str:
    """Format ``(header, sequence)`` pairs as FASTA text, wrapping sequences at ``width``."""
    if width < 1:
        raise ValueError(f"FASTA line width must be positive, got {width}")
    out: list[str] = []
    for header, seq in records:
        if not header or header != header.strip() or "\n" in header:
            raise ValueError(f"invalid FASTA header {header!r}")
        if not seq:
            raise ValueError(f"FASTA record {header!r} has an empty sequence")
        out.append(f">{header}\n")
        out.extend(f"{seq[i : i + width]}\n" for i in range(0, len(seq), width))
    return "".join(out)


def write_fasta(
    records: Iterable[tuple[str, str]], path: str | os.PathLike[str], width: int = 60
) -> None:
    """Write ``(header, sequence)`` pairs to ``path`` atomically (gzip if it ends in .gz)."""
    text = format_fasta(records, width)
    with atomic_path(path) as tmp:
        if str(path).endswith(".gz"):
            with gzip.open(tmp, "wt", encoding="utf-8") as handle:
                handle.write(text)
        else:
            tmp.write_text(text, encoding="utf-8")

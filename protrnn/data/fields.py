"""What the format parsers share: reading source files and checking their per-residue fields.

Readers: the text of a plain or gzip file (recognized by content, not by name) or of a zip member,
its lines, its CSV rows. Checks: residue letters, ss8/ss3 label strings, 0/1 masks. Every error
is a ValueError whose message starts with the ``where`` it is given (file, line, record), so a
parser's error names the file and the record. The format modules of :mod:`protrnn.data.formats`
use these; the canonical table itself is :mod:`protrnn.data.table`.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from protrnn.core.alphabet import SS3, normalize_ss8, ss8_to_ss3

GZIP_MAGIC = b"\x1f\x8b"
#: Coil spellings accepted in 3-state labels (as normalize_ss8 does for 8 states, less ``P``).
SS3_ALIASES = {"L": "C", "-": "C", " ": "C", "_": "C"}
#: 0/1 tokens of the NetSurfP mask columns.
MASK_TOKENS = {"1": "1", "1.0": "1", "0": "0", "0.0": "0"}
_SS3_SET = frozenset(SS3)


# ---------------------------------------------------------------------------------------------
# reading


def _decode(data: bytes, source: str) -> str:
    """UTF-8 text (BOM dropped) of ``data``, gunzipped first when it is gzip."""
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise ValueError(f"{source}: corrupt gzip file ({err})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{source}: not UTF-8 text ({err})") from None


def read_text(path: str | Path, member: str | None = None) -> str:
    """Text of a plain or gzip file, or of ``member`` inside the zip archive ``path``."""
    path = Path(path)
    if member is None:
        return _decode(path.read_bytes(), path.name)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if member not in names:
                raise ValueError(f"{path.name}: no member {member!r} (members: {', '.join(names)})")
            data = archive.read(member)
    except (zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"{path.name}: not a readable zip archive ({err})") from None
    return _decode(data, f"{path.name}:{member}")


def read_lines(path: str | Path) -> list[str]:
    """Lines of a plain or gzip text file, without line ends (``\\r\\n`` or ``\\n``)."""
    text = read_text(path)
    if text.endswith("\n"):
        text = text[:-1]
    return [line.removesuffix("\r") for line in text.split("\n")] if text else []


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for every non-blank CSV line, header included."""
    reader = csv.reader(io.StringIO(text))
    for fields in reader:
        if any(f.strip() for f in fields):
            yield reader.line_num, fields


def csv_with_header(text: str, source: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """(header fields, the :func:`csv_rows` after it); an empty file is an error."""
    rows = csv_rows(text)
    header = next(rows, None)
    if header is None:
        raise ValueError(f"{source}: empty file")
    return header[1], rows


# ---------------------------------------------------------------------------------------------
# residues and labels


def sequence(raw: str, where: str) -> str:
    """Upper-cased residue letters of one sequence line/cell; raise on anything else."""
    seq = raw.strip()
    if not seq:
        raise ValueError(f"{where}: empty sequence")
    for pos, char in enumerate(seq, start=1):
        if not (char.isascii() and char.isalpha()):
            raise ValueError(
                f"{where}: sequence character {char!r} at residue {pos} is not a letter"
            )
    return seq.upper()


def residue_tokens(tokens: list[str], where: str) -> str:
    """Join single-letter residue tokens, upper-cased; raise on anything but letters."""
    seq = "".join(tokens).upper()
    if not seq:
        raise ValueError(f"{where}: empty sequence")
    if any(len(t) != 1 for t in tokens) or not seq.isascii() or not seq.isalpha():
        bad = next(t for t in tokens if len(t) != 1 or not (t.isascii() and t.isalpha()))
        raise ValueError(f"{where}: residue token {bad!r} is not a single letter")
    return seq


def ss8_labels(raw: str, length: int, where: str) -> str:
    """Canonical ss8 (coil spellings -> C) of ``length`` letters."""
    if len(raw) != length:
        raise ValueError(f"{where}: ss8 has {len(raw)} labels for {length} residues")
    try:
        return normalize_ss8(raw)
    except ValueError as err:
        raise ValueError(f"{where}: ss8: {err}") from None


def ss3_labels(raw: str, length: int, where: str) -> str:
    """Canonical ss3 (coil spellings :data:`SS3_ALIASES` -> C) of ``length`` letters."""
    if len(raw) != length:
        raise ValueError(f"{where}: ss3 has {len(raw)} labels for {length} residues")
    out = []
    for pos, char in enumerate(raw, start=1):
        char = SS3_ALIASES.get(char, char)
        if char not in SS3:
            raise ValueError(f"{where}: ss3: unknown ss3 letter {raw[pos - 1]!r} at position {pos}")
        out.append(char)
    return "".join(out)


def check_reduction(ss8: str, ss3: str, where: str) -> None:
    """Raise unless ``ss3`` is the DSSP 8->3 reduction of ``ss8`` (same length)."""
    expected = ss8_to_ss3(ss8)
    if ss3 != expected:
        pos = next(i for i, (a, b) in enumerate(zip(ss3, expected, strict=True)) if a != b)
        raise ValueError(
            f"{where}: ss3 {ss3[pos]!r} at residue {pos + 1} is not the reduction of ss8 "
            f"{ss8[pos]!r} (expected {expected[pos]!r})"
        )


def paired_labels(ss8_raw: str, ss3_raw: str, length: int, where: str) -> tuple[str, str]:
    """(ss8, ss3) of a source that gives both: ss8 normalized, ss3 exactly its reduction."""
    ss8 = ss8_labels(ss8_raw, length, where)
    if len(ss3_raw) != length:
        raise ValueError(f"{where}: ss3 has {len(ss3_raw)} labels for {length} residues")
    ss3 = ss3_raw.upper()
    if not set(ss3) <= _SS3_SET:
        raise ValueError(f"{where}: ss3 letters {sorted(set(ss3) - _SS3_SET)} not in {SS3}")
    check_reduction(ss8, ss3, where)
    return ss8, ss3


# ---------------------------------------------------------------------------------------------
# masks


def mask_tokens(tokens: list[str], what: str, length: int, where: str) -> str:
    """Turn 0/1 tokens ('1', '1.0', ...) into a '0'/'1' string of ``length``."""
    try:
        mask = "".join(MASK_TOKENS[t] for t in tokens)
    except KeyError as err:
        raise ValueError(f"{where}: {what} token {err.args[0]!r} is not 0 or 1") from None
    if len(mask) != length:
        raise ValueError(f"{where}: {what} has {len(mask)} values for {length} residues")
    return mask


def binary(raw: str, what: str, length: int, where: str) -> str:
    """A '0'/'1' string of ``length`` characters."""
    if len(raw) != length:
        raise ValueError(f"{where}: {what} has {len(raw)} values for {length} residues")
    if not set(raw) <= {"0", "1"}:
        raise ValueError(f"{where}: {what} must hold only '0' and '1'")
    return raw

"""Text formats that users bring their own datasets in: 3-line FASTA-like files and TSV tables.

Both are read by :func:`protrnn.data.table.load_dataset` (formats ``three_line`` and ``tsv``), may
be gzip-compressed (recognized by content, not by name) and become the canonical table. Any error
is a ValueError naming the file, the line and, where known, the record id.

``three_line``: records of three lines, blank lines between records ignored::

    >1abc_A any description
    MKVLAAGIVGHHE
    CCHHHHHHCCEEC

- id: the first word after ``>``; ids must be unique and non-empty.
- sequence: letters only, upper-cased (non-standard letters kept, as in the other formats).
- labels: one letter per residue, 8-state DSSP letters (``HGIEBTSC``) or 3-state (``HEC``). Coil
  may be written ``C``, ``L``, ``-``, ``_`` or blank (a space), and DSSP >= 4's ``P`` (PPII) is
  coil too, as in :func:`protrnn.core.alphabet.normalize_ss8`. Option ``labels`` says which:
  ``ss8``,
  ``ss3`` or ``auto`` (default: ``ss8`` when any letter of ``G I B T S P`` occurs anywhere in the
  file, else ``ss3``; so an 8-state file that happens to use only H, E and coil is read as 3-state:
  say ``labels: ss8`` to keep its ss8 column). ss3 is derived from ss8; a 3-state file leaves
  ss8 empty (unknown) in the table.
- Every residue is evaluated (eval_mask all 1); option ``split`` gives every record's split
  (default ``test``). Blank coil at the end of a label line must not be stripped by an editor: a
  label line shorter than its sequence is an error.

``tsv``: a header line, then one protein per line, tab-separated, no quoting. Columns (header
names are case-insensitive): ``id`` and ``sequence`` (required), and any of ``ss8``, ``ss3``,
``eval_mask``, ``cb513_mask``, ``split``, ``label``, ``membrane``, ``rsa`` with the meaning of
the canonical table (see :mod:`protrnn.data.table`); any other column is an error naming it.

- ss8/ss3 cells are not stripped (a blank is coil); the other cells are.
- ss3 is derived from ss8 when the column is missing or the cell empty; when both are given,
  ss3 must be ss8's reduction. ss3 alone is allowed (ss8 stays empty).
- eval_mask defaults to all 1 for rows with per-residue labels; split defaults to option
  ``split`` (default ``test``); rows without per-residue labels need a per-protein ``label``.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from protrnn.core.alphabet import SS3, normalize_ss8, ss8_to_ss3
from protrnn.data.table import COLUMNS, SPLITS, _check_rsa, _frame, _row

#: Label alphabets of the ``labels`` option of three_line.
LABEL_KINDS = ("auto", "ss8", "ss3")
#: Coil spellings accepted in 3-state labels (as normalize_ss8 does for 8 states, less ``P``).
SS3_ALIASES = {"L": "C", "-": "C", " ": "C", "_": "C"}
#: Letters that only 8-state labels use: their presence makes ``labels: auto`` read ss8.
SS8_ONLY = frozenset("GIBTSP")
TSV_REQUIRED = ("id", "sequence")
TSV_COLUMNS = tuple(COLUMNS)
_GZIP_MAGIC = b"\x1f\x8b"


def read_lines(path: Path) -> list[str]:
    """Lines of a text file, plain or gzip (by content), without line ends; UTF-8 (BOM ok)."""
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise ValueError(f"{path.name}: corrupt gzip file ({err})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path.name}: not UTF-8 text ({err})") from None
    if text.endswith("\n"):
        text = text[:-1]
    return [line.removesuffix("\r") for line in text.split("\n")] if text else []


def _sequence(raw: str, where: str) -> str:
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


def _ss8(raw: str, length: int, where: str) -> str:
    """Canonical ss8 (coil spellings -> C) of ``length`` letters."""
    if len(raw) != length:
        raise ValueError(f"{where}: ss8 has {len(raw)} labels for {length} residues")
    try:
        return normalize_ss8(raw)
    except ValueError as err:
        raise ValueError(f"{where}: ss8: {err}") from None


def _ss3(raw: str, length: int, where: str) -> str:
    """Canonical ss3 (coil spellings -> C) of ``length`` letters."""
    if len(raw) != length:
        raise ValueError(f"{where}: ss3 has {len(raw)} labels for {length} residues")
    out = []
    for pos, char in enumerate(raw, start=1):
        char = SS3_ALIASES.get(char, char)
        if char not in SS3:
            raise ValueError(f"{where}: ss3: unknown ss3 letter {raw[pos - 1]!r} at position {pos}")
        out.append(char)
    return "".join(out)


def _check_split(split: str, where: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"{where}: split must be one of {SPLITS}, got {split!r}")
    return split


def _binary(raw: str, what: str, length: int, where: str) -> str:
    """A '0'/'1' string of ``length`` characters."""
    if len(raw) != length:
        raise ValueError(f"{where}: {what} has {len(raw)} values for {length} residues")
    if not set(raw) <= {"0", "1"}:
        raise ValueError(f"{where}: {what} must hold only '0' and '1'")
    return raw


# ---------------------------------------------------------------------------------------------
# three_line


def _three_line_records(lines: list[str], source: str) -> Iterator[tuple[int, str, str, str]]:
    """(header line number, id, sequence line, label line) per record."""
    i, seen = 0, {}
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        number = i + 1
        if not line.startswith(">"):
            raise ValueError(
                f"{source} line {number}: expected a '>id' header line, got {line[:40]!r} "
                "(records are exactly 3 lines: >id, sequence, labels)"
            )
        words = line[1:].split(maxsplit=1)
        if not words:
            raise ValueError(f"{source} line {number}: empty id in header")
        rid = words[0]
        if rid in seen:
            raise ValueError(
                f"{source} line {number}: duplicate id {rid!r} (first at line {seen[rid]})"
            )
        seen[rid] = number
        if i + 2 >= len(lines):
            raise ValueError(
                f"{source} line {number} (record {rid!r}): incomplete record, a sequence line "
                "and a label line must follow the header"
            )
        for offset, what in ((1, "sequence"), (2, "label")):
            if lines[i + offset].startswith(">"):
                raise ValueError(
                    f"{source} line {number + offset} (record {rid!r}): a header where the "
                    f"{what} line was expected (records are exactly 3 lines)"
                )
        yield number, rid, lines[i + 1], lines[i + 2]
        i += 3


def parse_three_line(path: Path, labels: str = "auto", split: str = "test") -> pd.DataFrame:
    """Parse a 3-line file (``>id`` / sequence / labels; plain or gzip) to the canonical table."""
    path = Path(path)
    source = path.name
    if labels not in LABEL_KINDS:
        raise ValueError(f"{source}: option labels must be one of {LABEL_KINDS}, got {labels!r}")
    _check_split(split, source)
    records = list(_three_line_records(read_lines(path), source))
    if not records:
        raise ValueError(f"{source}: no records")
    kind = labels
    if kind == "auto":
        letters = set().union(*(set(rec[3]) for rec in records))
        kind = "ss8" if letters & SS8_ONLY else "ss3"
    rows = []
    for number, rid, seq_line, label_line in records:
        seq = _sequence(seq_line, f"{source} line {number + 1} (record {rid!r})")
        where = f"{source} line {number + 2} (record {rid!r})"
        if len(label_line) != len(seq):
            raise ValueError(
                f"{where}: {len(label_line)} labels for {len(seq)} residues (if trailing blank "
                "coil was stripped, write coil as C)"
            )
        if kind == "ss8":
            ss8 = _ss8(label_line, len(seq), where)
            ss3 = ss8_to_ss3(ss8)
        else:
            ss8, ss3 = "", _ss3(label_line, len(seq), where)
        rows.append(_row(rid, seq, ss8, ss3, "1" * len(seq), "", split))
    df = _frame(rows, source)
    df.attrs["parse_stats"] = {"records_read": len(rows), "labels": kind}
    return df


# ---------------------------------------------------------------------------------------------
# tsv


def _tsv_header(fields: list[str], source: str) -> list[str]:
    """Canonical column names of the header; raise on unknown, duplicate or missing columns."""
    names = [f.strip().lower() for f in fields]
    unknown = [f.strip() for f, n in zip(fields, names, strict=True) if n not in TSV_COLUMNS]
    if unknown:
        raise ValueError(
            f"{source} line 1: unknown column(s) {unknown}; allowed: {', '.join(TSV_COLUMNS)}"
        )
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{source} line 1: duplicate column(s) {dup}")
    missing = [c for c in TSV_REQUIRED if c not in names]
    if missing:
        raise ValueError(f"{source} line 1: missing column(s) {missing}")
    return names


def _tsv_record(cells: dict[str, str], split: str, where: str) -> dict[str, str]:
    """One canonical row from the cells of a TSV line."""
    get = {k: v.strip() for k, v in cells.items()}
    seq = _sequence(cells["sequence"], where)
    n = len(seq)
    ss8_raw, ss3_raw = cells.get("ss8", ""), cells.get("ss3", "")
    ss8 = _ss8(ss8_raw, n, where) if ss8_raw else ""
    ss3 = _ss3(ss3_raw, n, where) if ss3_raw else ""
    if ss8:
        expected = ss8_to_ss3(ss8)
        if ss3 and ss3 != expected:
            pos = next(i for i, (a, b) in enumerate(zip(ss3, expected, strict=True)) if a != b)
            raise ValueError(
                f"{where}: ss3 {ss3[pos]!r} at residue {pos + 1} is not the reduction of ss8 "
                f"{ss8[pos]!r} (expected {expected[pos]!r})"
            )
        ss3 = expected
    eval_mask = get.get("eval_mask", "")
    eval_mask = _binary(eval_mask, "eval_mask", n, where) if eval_mask else ("1" * n if ss3 else "")
    cb513 = get.get("cb513_mask", "")
    cb513 = _binary(cb513, "cb513_mask", n, where) if cb513 else ""
    row = _row(
        get["id"], seq, ss8, ss3, eval_mask, cb513, _check_split(get.get("split") or split, where)
    )
    row.update(label=get.get("label", ""), membrane=get.get("membrane", ""))
    if get.get("rsa"):
        _check_rsa(get["rsa"], n, where)
        row["rsa"] = get["rsa"]
    return row


def parse_tsv(path: Path, split: str = "test") -> pd.DataFrame:
    """Parse a TSV table (header with id, sequence, ...; plain or gzip) to the canonical table."""
    path = Path(path)
    source = path.name
    _check_split(split, source)
    lines = read_lines(path)
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter="\t", quoting=csv.QUOTE_NONE)
    header: list[str] | None = None
    rows: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for fields in reader:
        number = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if header is None:
            header = _tsv_header(fields, source)
            continue
        if len(fields) != len(header):
            raise ValueError(
                f"{source} line {number}: {len(fields)} fields, header has {len(header)}"
            )
        cells = dict(zip(header, fields, strict=True))
        rid = cells["id"].strip()
        if not rid:
            raise ValueError(f"{source} line {number}: empty id")
        if rid in seen:
            raise ValueError(
                f"{source} line {number}: duplicate id {rid!r} (first at line {seen[rid]})"
            )
        seen[rid] = number
        rows.append(_tsv_record(cells, split, f"{source} line {number} (record {rid!r})"))
    if header is None:
        raise ValueError(f"{source}: empty file")
    df = _frame(rows, source)
    df.attrs["parse_stats"] = {"records_read": len(rows), "columns": header}
    return df

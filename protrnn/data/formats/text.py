"""Text formats that users bring their own datasets in: 3-line FASTA-like files and TSV tables.

Both are read through :func:`protrnn.data.registry.load_dataset` (formats ``three_line`` and
``tsv``), may be gzip-compressed (recognized by content, not by name) and become the canonical
table. Any error is a ValueError naming the file, the line and, where known, the record id.

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
- ``X`` in the label line marks a residue without coordinates (unobserved, as several published
  test sets write it): its eval_mask is 0 and its stored label is coil (``C``), which nothing
  scores. Every other residue is evaluated (eval_mask 1); option ``split`` gives every record's
  split (default ``test``). Blank coil at the end of a label line must not be stripped by an
  editor: a label line shorter than its sequence is an error.

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
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from protrnn.core.alphabet import ss8_to_ss3
from protrnn.data.fields import (
    binary,
    check_reduction,
    read_lines,
    sequence,
    ss3_labels,
    ss8_labels,
)
from protrnn.data.formats.options import main_file
from protrnn.data.table import COLUMNS, check_rsa, check_split, make_row, make_table

#: Label alphabets of the ``labels`` option of three_line.
LABEL_KINDS = ("auto", "ss8", "ss3")
#: Letters that only 8-state labels use: their presence makes ``labels: auto`` read ss8.
SS8_ONLY = frozenset("GIBTSP")
#: Label letter of an unobserved residue in a three_line file (evaluation mask 0).
UNOBSERVED = "X"
TSV_REQUIRED = ("id", "sequence")
TSV_COLUMNS = tuple(COLUMNS)


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
    check_split(split, source)
    records = list(_three_line_records(read_lines(path), source))
    if not records:
        raise ValueError(f"{source}: no records")
    kind = labels
    if kind == "auto":
        letters = set().union(*(set(rec[3]) for rec in records))
        kind = "ss8" if letters & SS8_ONLY else "ss3"
    rows = [_three_line_row(record, kind, split, source) for record in records]
    df = make_table(rows, source)
    df.attrs["parse_stats"] = {"records_read": len(rows), "labels": kind}
    unobserved = sum(row["eval_mask"].count("0") for row in rows)
    if unobserved:
        df.attrs["parse_stats"]["unobserved_residues"] = unobserved
    return df


def _three_line_row(
    record: tuple[int, str, str, str], kind: str, split: str, source: str
) -> dict[str, str]:
    """The canonical row of one record; ``kind`` is ss8 or ss3; label X = unobserved residue."""
    number, rid, seq_line, label_line = record
    seq = sequence(seq_line, f"{source} line {number + 1} (record {rid!r})")
    where = f"{source} line {number + 2} (record {rid!r})"
    if len(label_line) != len(seq):
        raise ValueError(
            f"{where}: {len(label_line)} labels for {len(seq)} residues (if trailing blank "
            "coil was stripped, write coil as C)"
        )
    eval_mask = "".join("0" if c == UNOBSERVED else "1" for c in label_line)
    known = label_line.replace(UNOBSERVED, "C")
    if kind == "ss8":
        ss8 = ss8_labels(known, len(seq), where)
        ss3 = ss8_to_ss3(ss8)
    else:
        ss8, ss3 = "", ss3_labels(known, len(seq), where)
    return make_row(rid, seq, ss8, ss3, eval_mask, "", split)


def load_three_line(files: Mapping[str, Path], options: Mapping[str, Any]) -> pd.DataFrame:
    """``files``: the file (key ``data``, or the only key); ``options``: ``split``, ``labels``."""
    return parse_three_line(
        main_file("three_line", files),
        labels=options.get("labels", "auto"),
        split=options.get("split", "test"),
    )


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
    seq = sequence(cells["sequence"], where)
    n = len(seq)
    ss8_raw, ss3_raw = cells.get("ss8", ""), cells.get("ss3", "")
    ss8 = ss8_labels(ss8_raw, n, where) if ss8_raw else ""
    ss3 = ss3_labels(ss3_raw, n, where) if ss3_raw else ""
    if ss8:
        if ss3:
            check_reduction(ss8, ss3, where)
        ss3 = ss8_to_ss3(ss8)
    eval_mask = get.get("eval_mask", "")
    eval_mask = binary(eval_mask, "eval_mask", n, where) if eval_mask else ("1" * n if ss3 else "")
    cb513 = get.get("cb513_mask", "")
    cb513 = binary(cb513, "cb513_mask", n, where) if cb513 else ""
    split = check_split(get.get("split") or split, where)
    rsa = get.get("rsa", "")
    if rsa:
        check_rsa(rsa, n, where)
    return make_row(
        get["id"],
        seq,
        ss8,
        ss3,
        eval_mask,
        cb513,
        split,
        label=get.get("label", ""),
        membrane=get.get("membrane", ""),
        rsa=rsa,
    )


def parse_tsv(path: Path, split: str = "test") -> pd.DataFrame:
    """Parse a TSV table (header with id, sequence, ...; plain or gzip) to the canonical table."""
    path = Path(path)
    source = path.name
    check_split(split, source)
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
    df = make_table(rows, source)
    df.attrs["parse_stats"] = {"records_read": len(rows), "columns": header}
    return df


def load_tsv(files: Mapping[str, Path], options: Mapping[str, Any]) -> pd.DataFrame:
    """``files``: the table (key ``data``, or the only key); ``options``: ``split``."""
    return parse_tsv(main_file("tsv", files), split=options.get("split", "test"))

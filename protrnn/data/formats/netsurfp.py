"""Format ``netsurfp_csv``: NetSurfP-2.0 / ProtTrans CSV files, optionally with FLIP's splits.

Choices made here:

- Sequences are upper-cased; non-standard letters (X, U, O, B, Z) are kept as in the source.
- ss8 goes through :func:`protrnn.core.alphabet.normalize_ss8` (coil ``L``/``-`` -> ``C``).
- The source's ss3 must equal the DSSP 8->3 reduction of its ss8. All published files checked
  (NetSurfP train 10,792 chains, CB513, TS115, CASP12) agree on every residue, so a
  disagreement means a corrupt or different file and is an error, not a silent fix.
- NetSurfP ``disorder`` (1 = residue observed) becomes ``eval_mask``; ``cb513_mask`` is kept as is.
- With FLIP's ``splits.zip``, rows are matched to FLIP records by identical sequence: id = FLIP's
  PDB chain id, split = ``valid`` for ``VALIDATION=True``, else FLIP's ``SET``. Rows matching no
  FLIP record keep ``{prefix}_{row:05d}`` and split ``train``; their number is logged and kept in
  ``df.attrs["flip_unmatched"]`` (0 for the published train file).
"""

from __future__ import annotations

import logging
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from protrnn.core.fasta import FastaRecord, iter_fasta
from protrnn.data.fields import (
    csv_with_header,
    mask_tokens,
    paired_labels,
    read_text,
    residue_tokens,
)
from protrnn.data.formats.options import FLIP_ROLE, main_file
from protrnn.data.table import check_split, make_row, make_table

log = logging.getLogger(__name__)

#: NetSurfP/ProtTrans header names (lower-cased, stripped) -> canonical field.
NETSURFP_HEADERS = {
    "input": "sequence",
    "seq": "sequence",
    "sequence": "sequence",
    "dssp3": "dssp3",
    "dssp8": "dssp8",
    "disorder": "disorder",
    "cb513_mask": "cb513_mask",
}
NETSURFP_REQUIRED = ("sequence", "dssp3", "dssp8", "disorder")


def _netsurfp_columns(header: list[str], source: str) -> dict[str, list[int]]:
    """Map canonical field -> column indices (a name may repeat, as in Validation_HHblits)."""
    cols: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        key = NETSURFP_HEADERS.get(name.strip().lower())
        if key is None:
            raise ValueError(f"{source} line 1: unknown column {name.strip()!r}")
        cols.setdefault(key, []).append(i)
    missing = [c for c in NETSURFP_REQUIRED if c not in cols]
    if missing:
        raise ValueError(f"{source} line 1: missing column(s) {missing} in header {header}")
    return cols


def _field_tokens(fields: list[str], idxs: list[int], name: str, where: str) -> list[str] | None:
    """Tokens of field ``name``: the one non-empty column among ``idxs`` (None if all empty)."""
    values = [fields[i].split() for i in idxs if fields[i].strip()]
    if len(values) > 1 and any(v != values[0] for v in values[1:]):
        raise ValueError(f"{where}: the {len(values)} '{name}' columns disagree")
    return values[0] if values else None


def _netsurfp_record(
    fields: list[str], cols: dict[str, list[int]], width: int, rid: str, split: str, where: str
) -> dict[str, str]:
    """Parse one data line of a NetSurfP CSV into a canonical row."""
    if len(fields) != width:
        raise ValueError(f"{where}: {len(fields)} fields, header has {width}")
    tok = {k: _field_tokens(fields, idx, k, where) for k, idx in cols.items()}
    for key in NETSURFP_REQUIRED:
        if tok[key] is None:
            raise ValueError(f"{where}: empty {key} field")
    seq = residue_tokens(tok["sequence"], where)
    ss8, ss3 = paired_labels("".join(tok["dssp8"]), "".join(tok["dssp3"]), len(seq), where)
    eval_mask = mask_tokens(tok["disorder"], "disorder", len(seq), where)
    cb_tokens = tok.get("cb513_mask")
    cb513 = "" if cb_tokens is None else mask_tokens(cb_tokens, "cb513_mask", len(seq), where)
    return make_row(rid, seq, ss8, ss3, eval_mask, cb513, split)


def parse_netsurfp_csv(
    path: Path,
    member: str | None = None,
    *,
    prefix: str,
    split: str = "test",
    flip_splits: Path | None = None,
) -> pd.DataFrame:
    """Parse a NetSurfP-2.0/ProtTrans CSV (plain, gzip, or ``member`` of a zip) to the table.

    Ids are ``{prefix}_{row:05d}`` (row = 0-based data row); with ``flip_splits`` (FLIP's
    ``splits.zip``) ids and train/valid splits come from FLIP, see the module docstring.
    """
    path = Path(path)
    source = f"{path.name}:{member}" if member else path.name
    check_split(split, source)
    header, rows_iter = csv_with_header(read_text(path, member), source)
    cols = _netsurfp_columns(header, source)
    rows = [
        _netsurfp_record(
            fields, cols, len(header), f"{prefix}_{n:05d}", split, f"{source} line {line}"
        )
        for n, (line, fields) in enumerate(rows_iter)
    ]
    if flip_splits is not None:
        return _apply_flip(rows, Path(flip_splits), source)
    return make_table(rows, source)


# ---------------------------------------------------------------------------------------------
# FLIP splits


def _flip_member(archive: zipfile.ZipFile, basename: str) -> list[FastaRecord]:
    """Records of the archive member whose file name is ``basename``."""
    names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == basename]
    if len(names) != 1:
        raise ValueError(f"{archive.filename}: expected one {basename}, found {names}")
    text = archive.read(names[0]).decode("utf-8")
    return list(iter_fasta(text.splitlines(), f"{Path(str(archive.filename)).name}:{names[0]}"))


def _flip_split(description: str, where: str) -> str:
    """train / valid / test from a sampled.fasta header ('SET=train VALIDATION=False')."""
    attrs = dict(a.split("=", 1) for a in description.split() if "=" in a)
    kind, valid = attrs.get("SET"), attrs.get("VALIDATION")
    if kind not in {"train", "test"} or valid not in {"True", "False"}:
        raise ValueError(f"{where}: cannot read SET/VALIDATION from header {description!r}")
    return "valid" if valid == "True" else kind


def read_flip_splits(path: Path) -> dict[str, tuple[str, str, str]]:
    """FLIP ``splits.zip`` -> {sequence: (pdb chain id, split, ss3 labels)}."""
    try:
        with zipfile.ZipFile(path) as archive:
            sequences = _flip_member(archive, "sequences.fasta")
            sampled = {r.id: r for r in _flip_member(archive, "sampled.fasta")}
    except (zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"{Path(path).name}: not a readable zip archive ({err})") from None
    out: dict[str, tuple[str, str, str]] = {}
    for rec in sequences:
        lab = sampled.get(rec.id)
        if lab is None:
            raise ValueError(f"{path.name}: {rec.id!r} is in sequences.fasta, not sampled.fasta")
        split = _flip_split(lab.description, f"{path.name}: sampled.fasta record {rec.id!r}")
        seq = rec.sequence.upper()
        if seq in out and out[seq][1] != split:
            raise ValueError(
                f"{path.name}: {rec.id!r} and {out[seq][0]!r} share a sequence but not a split"
            )
        out.setdefault(seq, (rec.id, split, lab.sequence.upper()))
    return out


def _apply_flip(rows: list[dict[str, str]], flip_path: Path, source: str) -> pd.DataFrame:
    """Replace ids/splits of ``rows`` by FLIP's, matched by identical sequence."""
    flip = read_flip_splits(flip_path)
    used: dict[str, int] = {}
    unmatched = mismatched = 0
    for row in rows:
        hit = flip.get(row["sequence"])
        if hit is None:
            unmatched += 1
            row["split"] = "train"
            continue
        chain, split, ss3 = hit
        used[chain] = used.get(chain, 0) + 1
        row["id"] = chain if used[chain] == 1 else f"{chain}_{used[chain]}"
        row["split"] = split
        mismatched += ss3 != row["ss3"]
    if unmatched or mismatched:
        log.warning(
            "%s: %d rows match no FLIP record (kept as train); %d rows' ss3 differ from FLIP's",
            source,
            unmatched,
            mismatched,
        )
    df = make_table(rows, source)
    df.attrs.update(flip_unmatched=unmatched, flip_label_mismatches=mismatched)
    return df


def load(files: Mapping[str, Path], options: Mapping[str, Any]) -> pd.DataFrame:
    """``files``: the CSV (key ``data``, or the only key besides ``flip_splits``) and optionally
    ``flip_splits``; ``options``: ``member``, ``prefix`` (default: the file stem), ``split``."""
    path = main_file("netsurfp_csv", files, side=(FLIP_ROLE,))
    member = options.get("member")
    flip = files.get(FLIP_ROLE)
    return parse_netsurfp_csv(
        path,
        member,
        prefix=options.get("prefix") or Path(member or path.name).name.split(".")[0],
        split=options.get("split", "test"),
        flip_splits=Path(flip) if flip is not None else None,
    )

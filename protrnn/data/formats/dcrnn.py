"""Format ``dcrnn_cb513_csv``: the CB513 CSV of DCRNN / ICML 2014 (``CB513_preprocessed.csv``).

Columns ``id,length,residue,dssp8,dssp3``; ids become ``{prefix}_{row:05d}`` (in the published
file the id column equals the row number); every residue is evaluated; ``cb513_mask`` is empty
(the whole set is the CB513 residue set). ss3 must be the reduction of ss8, as for NetSurfP.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from protrnn.data.fields import csv_with_header, paired_labels, read_text, sequence
from protrnn.data.formats.options import main_file
from protrnn.data.table import check_split, make_row, make_table

DCRNN_COLUMNS = ("id", "length", "residue", "dssp8", "dssp3")


def _dcrnn_record(fields: dict[str, str], rid: str, split: str, where: str) -> dict[str, str]:
    """Parse one row of CB513_preprocessed.csv."""
    seq = sequence(fields["residue"], where)
    length = fields["length"].strip()
    if not length.isdigit() or int(length) != len(seq):
        raise ValueError(
            f"{where}: length column says {length!r} but residue has {len(seq)} letters"
        )
    ss8, ss3 = paired_labels(fields["dssp8"].strip(), fields["dssp3"].strip(), len(seq), where)
    return make_row(rid, seq, ss8, ss3, "1" * len(seq), "", split)


def parse_dcrnn_cb513(path: Path, prefix: str = "cb513dcrnn", split: str = "test") -> pd.DataFrame:
    """Parse ``CB513_preprocessed.csv`` (id,length,residue,dssp8,dssp3) to the canonical table."""
    path = Path(path)
    source = path.name
    check_split(split, source)
    header, rows_iter = csv_with_header(read_text(path), source)
    names = [h.strip().lower() for h in header]
    missing = [c for c in DCRNN_COLUMNS if c not in names]
    if missing:
        raise ValueError(f"{source} line 1: missing column(s) {missing}")
    rows = []
    for n, (line, fields) in enumerate(rows_iter):
        where = f"{source} line {line}"
        if len(fields) != len(names):
            raise ValueError(f"{where}: {len(fields)} fields, header has {len(names)}")
        record = dict(zip(names, fields, strict=True))
        rid = f"{prefix}_{n:05d}"
        rows.append(_dcrnn_record(record, rid, split, f"{where} (id {record['id']})"))
    return make_table(rows, source)


def load(files: Mapping[str, Path], options: Mapping[str, Any]) -> pd.DataFrame:
    """``files``: the CSV (key ``data``, or the only key); ``options``: ``prefix``, ``split``."""
    return parse_dcrnn_cb513(main_file("dcrnn_cb513_csv", files), **options)

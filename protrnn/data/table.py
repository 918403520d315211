"""Parsers from the published secondary-structure files to the canonical dataset table.

Canonical table (docs/architecture.md): one row per protein with the string columns ``id``,
``sequence``, ``ss8`` (``HGIEBTSC``), ``ss3`` (``HEC``), ``eval_mask`` (``0``/``1`` per residue),
``cb513_mask`` (``0``/``1`` per residue, or empty when the source has none), ``split``
(``train``/``valid``/``test``), ``label`` (per-protein tasks only, else empty), ``membrane``
(per-protein ``membrane``/``soluble``/``unknown``, else empty) and ``rsa`` (relative solvent
accessibility per residue, comma-separated decimals in [0, 1] or ``nan``; empty when the source
has none). Per-residue columns may be empty in a per-protein dataset; a per-residue row needs ss3
and eval_mask, while ss8 may be empty (unknown) when the source has only 3-state labels. More
formats: :mod:`protrnn.data.formats.text` (three_line, tsv) and
:mod:`protrnn.data.formats.pdb_chains` (pdb_chains).

Choices made here:

- Sequences are upper-cased; non-standard letters (X, U, O, B, Z) are kept as in the source.
- ss8 goes through :func:`protrnn.core.alphabet.normalize_ss8` (coil ``L``/``-`` -> ``C``).
- The source's ss3 must equal the DSSP 8->3 reduction of its ss8. All published files checked
  (NetSurfP train 10,792 chains, CB513, TS115, CASP12, DCRNN CB513) agree on every residue, so a
  disagreement means a corrupt or different file and is an error, not a silent fix.
- NetSurfP ``disorder`` (1 = residue observed) becomes ``eval_mask``; ``cb513_mask`` is kept as is.
- With FLIP's ``splits.zip``, rows are matched to FLIP records by identical sequence: id = FLIP's
  PDB chain id, split = ``valid`` for ``VALIDATION=True``, else FLIP's ``SET``. Rows matching no
  FLIP record keep ``{prefix}_{row:05d}`` and split ``train``; their number is logged and kept in
  ``df.attrs["flip_unmatched"]`` (0 for the published train file).
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from protrnn.core.alphabet import SS3, SS8, normalize_ss8, ss8_to_ss3
from protrnn.core.fasta import FastaRecord, iter_fasta
from protrnn.core.fileio import atomic_path

log = logging.getLogger(__name__)

COLUMNS = [
    "id",
    "sequence",
    "ss8",
    "ss3",
    "eval_mask",
    "cb513_mask",
    "split",
    "label",
    "membrane",
    "rsa",
]
#: Values of the per-protein ``membrane`` column ('' = the dataset has none).
MEMBRANE_VALUES = ("", "membrane", "soluble", "unknown")
SPLITS = ("train", "valid", "test")
FORMATS = (
    "netsurfp_csv",
    "dcrnn_cb513_csv",
    "three_line",
    "tsv",
    "pdb_chains",
    "deeploc2_csv",
    "deeploc1_fasta",
)
#: Options each format takes (``prefix`` everywhere: the workflow passes the dataset name).
FORMAT_OPTIONS = {
    "netsurfp_csv": frozenset({"member", "prefix", "split"}),
    "dcrnn_cb513_csv": frozenset({"prefix", "split"}),
    "three_line": frozenset({"prefix", "split", "labels"}),
    "tsv": frozenset({"prefix", "split"}),
    "pdb_chains": frozenset({"prefix", "split", "chains"}),
}
#: Per-protein localization formats: parsed (and their options checked) by
#: protrnn.data.formats.deeploc.
LOCALIZATION_FORMATS = ("deeploc2_csv", "deeploc1_fasta")

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
_MASK_TOKENS = {"1": "1", "1.0": "1", "0": "0", "0.0": "0"}
_SS8_SET = frozenset(SS8)
_SS3_SET = frozenset(SS3)
_BINARY = frozenset("01")


# ---------------------------------------------------------------------------------------------
# shared checks


def _residues(tokens: list[str], where: str) -> str:
    """Join single-letter residue tokens, upper-cased; raise on anything but letters."""
    seq = "".join(tokens).upper()
    if not seq:
        raise ValueError(f"{where}: empty sequence")
    if any(len(t) != 1 for t in tokens) or not seq.isascii() or not seq.isalpha():
        bad = next(t for t in tokens if len(t) != 1 or not (t.isascii() and t.isalpha()))
        raise ValueError(f"{where}: residue token {bad!r} is not a single letter")
    return seq


def _labels(ss8_raw: str, ss3_raw: str, length: int, where: str) -> tuple[str, str]:
    """Normalize ss8, check ss3 and both lengths; return (ss8, ss3)."""
    for what, value in (("ss8", ss8_raw), ("ss3", ss3_raw)):
        if len(value) != length:
            raise ValueError(f"{where}: {what} has {len(value)} labels for {length} residues")
    try:
        ss8 = normalize_ss8(ss8_raw)
    except ValueError as err:
        raise ValueError(f"{where}: ss8: {err}") from None
    ss3 = ss3_raw.upper()
    if not set(ss3) <= _SS3_SET:
        raise ValueError(f"{where}: ss3 letters {sorted(set(ss3) - _SS3_SET)} not in {SS3}")
    expected = ss8_to_ss3(ss8)
    if ss3 != expected:
        pos = next(i for i, (a, b) in enumerate(zip(ss3, expected, strict=True)) if a != b)
        raise ValueError(
            f"{where}: ss3 {ss3[pos]!r} at residue {pos + 1} is not the reduction of ss8 "
            f"{ss8[pos]!r} (expected {expected[pos]!r})"
        )
    return ss8, ss3


def _mask(tokens: list[str], what: str, length: int, where: str) -> str:
    """Turn 0/1 tokens ('1', '1.0', ...) into a '0'/'1' string of ``length``."""
    try:
        mask = "".join(_MASK_TOKENS[t] for t in tokens)
    except KeyError as err:
        raise ValueError(f"{where}: {what} token {err.args[0]!r} is not 0 or 1") from None
    if len(mask) != length:
        raise ValueError(f"{where}: {what} has {len(mask)} values for {length} residues")
    return mask


def _row(
    rid: str, seq: str, ss8: str, ss3: str, eval_mask: str, cb513: str, split: str
) -> dict[str, str]:
    """One canonical table row."""
    return {
        "id": rid,
        "sequence": seq,
        "ss8": ss8,
        "ss3": ss3,
        "eval_mask": eval_mask,
        "cb513_mask": cb513,
        "split": split,
        "label": "",
        "membrane": "",
        "rsa": "",
    }


def _frame(rows: list[dict[str, str]], source: str) -> pd.DataFrame:
    """Build and validate the canonical table."""
    if not rows:
        raise ValueError(f"{source}: no records")
    df = pd.DataFrame(rows, columns=COLUMNS)
    validate_table(df, source)
    return df


def _read_text(path: Path, member: str | None) -> str:
    """Text of a plain file, or of ``member`` inside the zip archive ``path``."""
    if member is None:
        return path.read_text(encoding="utf-8-sig")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if member not in names:
            raise ValueError(f"{path.name}: no member {member!r} (members: {', '.join(names)})")
        return archive.read(member).decode("utf-8-sig")


def _csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for every non-blank CSV line, header included."""
    reader = csv.reader(io.StringIO(text))
    for fields in reader:
        if any(f.strip() for f in fields):
            yield reader.line_num, fields


# ---------------------------------------------------------------------------------------------
# NetSurfP-2.0 / ProtTrans CSV


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
    seq = _residues(tok["sequence"], where)
    ss8, ss3 = _labels("".join(tok["dssp8"]), "".join(tok["dssp3"]), len(seq), where)
    eval_mask = _mask(tok["disorder"], "disorder", len(seq), where)
    cb_tokens = tok.get("cb513_mask")
    cb513 = "" if cb_tokens is None else _mask(cb_tokens, "cb513_mask", len(seq), where)
    return _row(rid, seq, ss8, ss3, eval_mask, cb513, split)


def parse_netsurfp_csv(
    path: Path,
    member: str | None = None,
    *,
    prefix: str,
    split: str = "test",
    flip_splits: Path | None = None,
) -> pd.DataFrame:
    """Parse a NetSurfP-2.0/ProtTrans CSV (plain, or ``member`` of a zip) to the canonical table.

    Ids are ``{prefix}_{row:05d}`` (row = 0-based data row); with ``flip_splits`` (FLIP's
    ``splits.zip``) ids and train/valid splits come from FLIP, see the module docstring.
    """
    path = Path(path)
    source = f"{path.name}:{member}" if member else path.name
    if split not in SPLITS:
        raise ValueError(f"{source}: split must be one of {SPLITS}, got {split!r}")
    rows_iter = _csv_rows(_read_text(path, member))
    header = next(rows_iter, None)
    if header is None:
        raise ValueError(f"{source}: empty file")
    cols = _netsurfp_columns(header[1], source)
    rows = [
        _netsurfp_record(
            fields, cols, len(header[1]), f"{prefix}_{n:05d}", split, f"{source} line {line}"
        )
        for n, (line, fields) in enumerate(rows_iter)
    ]
    if flip_splits is not None:
        return _apply_flip(rows, Path(flip_splits), source)
    return _frame(rows, source)


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
    with zipfile.ZipFile(path) as archive:
        sequences = _flip_member(archive, "sequences.fasta")
        sampled = {r.id: r for r in _flip_member(archive, "sampled.fasta")}
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
    df = _frame(rows, source)
    df.attrs.update(flip_unmatched=unmatched, flip_label_mismatches=mismatched)
    return df


# ---------------------------------------------------------------------------------------------
# DCRNN / ICML-2014 CB513 CSV


DCRNN_COLUMNS = ("id", "length", "residue", "dssp8", "dssp3")


def _dcrnn_record(fields: dict[str, str], rid: str, split: str, where: str) -> dict[str, str]:
    """Parse one row of CB513_preprocessed.csv."""
    seq = _residues(list(fields["residue"].strip()), where)
    length = fields["length"].strip()
    if not length.isdigit() or int(length) != len(seq):
        raise ValueError(
            f"{where}: length column says {length!r} but residue has {len(seq)} letters"
        )
    ss8, ss3 = _labels(fields["dssp8"].strip(), fields["dssp3"].strip(), len(seq), where)
    return _row(rid, seq, ss8, ss3, "1" * len(seq), "", split)


def parse_dcrnn_cb513(path: Path, prefix: str = "cb513dcrnn", split: str = "test") -> pd.DataFrame:
    """Parse ``CB513_preprocessed.csv`` (id,length,residue,dssp8,dssp3) to the canonical table.

    Ids are ``{prefix}_{row:05d}`` (in the published file the id column equals the row number);
    every residue is evaluated; ``cb513_mask`` is empty (the whole set is the CB513 residue set).
    """
    path = Path(path)
    source = path.name
    if split not in SPLITS:
        raise ValueError(f"{source}: split must be one of {SPLITS}, got {split!r}")
    rows_iter = _csv_rows(_read_text(path, None))
    header = next(rows_iter, None)
    if header is None:
        raise ValueError(f"{source}: empty file")
    names = [h.strip().lower() for h in header[1]]
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
    return _frame(rows, source)


# ---------------------------------------------------------------------------------------------
# dispatch, subsampling, validation, I/O


def _main_file(files: Mapping[str, Path], fmt: str) -> Path:
    """The data file among ``files``: key 'data', or the only key besides 'flip_splits'."""
    if "data" in files:
        return Path(files["data"])
    others = [k for k in files if k != "flip_splits"]
    if len(others) != 1:
        raise ValueError(f"{fmt}: cannot tell the data file among {sorted(files)}; name it 'data'")
    return Path(files[others[0]])


def load_dataset(fmt: str, files: Mapping[str, Path], options: Mapping[str, Any]) -> pd.DataFrame:
    """Parse a dataset declared with format ``fmt`` into the canonical table.

    ``files``: the raw file (key ``data``, or the only key besides ``flip_splits``, e.g. ``csv``)
    and, for netsurfp_csv, optionally ``flip_splits`` (FLIP's splits.zip); for pdb_chains one
    mmCIF file per PDB entry, keyed by the PDB id (see
    :func:`protrnn.data.formats.pdb_chains.cif_files_by_pdb`).
    ``options`` (:data:`FORMAT_OPTIONS`): netsurfp_csv takes ``member``, ``prefix`` (default: the
    file stem), ``split``; dcrnn_cb513_csv takes ``prefix`` and ``split``; three_line takes
    ``split`` and ``labels`` (ss8 | ss3 | auto); tsv takes ``split``; pdb_chains takes ``chains``
    (list of PDB chain ids) and ``split``. three_line, tsv and pdb_chains take their ids from the
    data and ignore ``prefix``.
    """
    if fmt in LOCALIZATION_FORMATS:
        from protrnn.data.formats.deeploc import load

        return load(fmt, files, options)
    if fmt not in FORMAT_OPTIONS:
        raise ValueError(f"unknown dataset format {fmt!r}; expected one of {FORMATS}")
    allowed = FORMAT_OPTIONS[fmt]
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"{fmt}: unknown option(s) {sorted(unknown)}; allowed {sorted(allowed)}")
    split = options.get("split", "test")
    if fmt == "pdb_chains":
        from protrnn.data.formats.pdb_chains import cif_files_by_pdb, load_structure_dataset

        chains = options.get("chains")
        if not chains or isinstance(chains, str):
            raise ValueError("pdb_chains: option 'chains' must be a non-empty list of chain ids")
        return load_structure_dataset(list(chains), cif_files_by_pdb(files), split)
    path = _main_file(files, fmt)
    if fmt in ("three_line", "tsv"):
        from protrnn.data.formats.text import parse_three_line, parse_tsv

        if fmt == "tsv":
            return parse_tsv(path, split=split)
        return parse_three_line(path, labels=options.get("labels", "auto"), split=split)
    if fmt == "dcrnn_cb513_csv":
        return parse_dcrnn_cb513(path, **options)
    member = options.get("member")
    flip = files.get("flip_splits")
    return parse_netsurfp_csv(
        path,
        member,
        prefix=options.get("prefix") or Path(member or path.name).name.split(".")[0],
        split=split,
        flip_splits=Path(flip) if flip is not None else None,
    )


def _allocate(sizes: pd.Series, total: int) -> dict[str, int]:
    """Largest-remainder allocation of ``total`` rows over groups proportional to ``sizes``."""
    quota = sizes * total / sizes.sum()
    base = np.floor(quota).astype(int)
    rest = total - int(base.sum())
    order = (quota - base).sort_values(ascending=False, kind="stable").index[:rest]
    base[order] += 1
    return {str(k): int(v) for k, v in base.items()}


def subsample(df: pd.DataFrame, max_proteins: int | None, seed: int) -> pd.DataFrame:
    """Deterministic random subset of at most ``max_proteins`` rows, split proportions kept.

    Rows keep their original order; ``None`` or a limit >= len(df) returns ``df`` unchanged.
    """
    if max_proteins is None or max_proteins >= len(df):
        return df
    if max_proteins < 0:
        raise ValueError(f"max_proteins must be >= 0, got {max_proteins}")
    sizes = df["split"].value_counts().sort_index()
    counts = _allocate(sizes, max_proteins)
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for split in sizes.index:
        positions = np.flatnonzero((df["split"] == split).to_numpy())
        keep.extend(rng.choice(positions, size=counts[str(split)], replace=False).tolist())
    out = df.iloc[sorted(keep)].reset_index(drop=True)
    out.attrs = dict(df.attrs)
    return out


def _check_row(row: tuple[str, ...], source: str) -> None:
    """Validate one canonical row (tuple in COLUMNS order)."""
    rid, seq, ss8, ss3, eval_mask, cb513, split, label, membrane, rsa = row
    where = f"{source}: id {rid!r}"
    if not seq or not seq.isascii() or not seq.isalpha() or not seq.isupper():
        raise ValueError(f"{where}: sequence must be non-empty upper-case letters")
    n = len(seq)
    if not label and not (ss3 and eval_mask):
        raise ValueError(f"{where}: no per-residue labels (ss3 and eval_mask) and no label")
    residue_columns = {"ss8": ss8, "ss3": ss3, "eval_mask": eval_mask, "cb513_mask": cb513}
    for name, value in residue_columns.items():
        if value and len(value) != n:
            raise ValueError(f"{where}: {name} has {len(value)} values for {n} residues")
    if not set(ss8) <= _SS8_SET or not set(ss3) <= _SS3_SET:
        raise ValueError(f"{where}: ss8/ss3 letters outside {SS8}/{SS3}")
    if ss8 and ss3 and ss8_to_ss3(ss8) != ss3:
        raise ValueError(f"{where}: ss3 is not the reduction of ss8")
    if not set(eval_mask) <= _BINARY or not set(cb513) <= _BINARY:
        raise ValueError(f"{where}: masks must hold only '0' and '1'")
    if split not in SPLITS:
        raise ValueError(f"{where}: split {split!r} not in {SPLITS}")
    if membrane not in MEMBRANE_VALUES:
        raise ValueError(f"{where}: membrane {membrane!r} not in {MEMBRANE_VALUES[1:]}")
    if rsa:
        _check_rsa(rsa, n, where)


def _check_rsa(rsa: str, n: int, where: str) -> None:
    """RSA: ``n`` comma-separated decimals in [0, 1] (or ``nan`` for unknown residues)."""
    values = rsa.split(",")
    if len(values) != n:
        raise ValueError(f"{where}: rsa has {len(values)} values for {n} residues")
    try:
        parsed = np.array(values, dtype=float)
    except ValueError as error:
        raise ValueError(f"{where}: rsa values must be decimals or nan ({error})") from None
    known = parsed[~np.isnan(parsed)]
    if ((known < 0) | (known > 1)).any():
        raise ValueError(f"{where}: rsa values must lie in [0, 1]")


def validate_table(df: pd.DataFrame, source: str) -> None:
    """Check a canonical table; raise ValueError naming ``source`` and the offending id."""
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}")
    for column in COLUMNS:
        bad = df[column].map(lambda v: not isinstance(v, str))
        if bad.any():
            rid = df["id"][bad].iloc[0]
            raise ValueError(f"{source}: id {rid!r}: column {column} is not a string")
    if (df["id"].str.strip() != df["id"]).any() or (df["id"] == "").any():
        raise ValueError(f"{source}: empty id or id with surrounding whitespace")
    dup = df["id"][df["id"].duplicated()]
    if not dup.empty:
        raise ValueError(f"{source}: duplicate id {dup.iloc[0]!r}")
    for row in df[COLUMNS].itertuples(index=False, name=None):
        _check_row(row, source)


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Validate and write a canonical table as gzip TSV, atomically and reproducibly."""
    validate_table(df, str(path))
    with atomic_path(path) as tmp:
        df[COLUMNS].to_csv(
            tmp,
            sep="\t",
            index=False,
            quoting=csv.QUOTE_NONE,
            compression={"method": "gzip", "mtime": 0, "compresslevel": 6},
        )


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a canonical table; every column is str and empty fields stay ''."""
    df = pd.read_csv(
        path, sep="\t", dtype=str, keep_default_na=False, na_filter=False, quoting=csv.QUOTE_NONE
    )
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{Path(path).name}: missing column(s) {missing}")
    return df

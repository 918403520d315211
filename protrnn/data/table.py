"""The canonical dataset table: columns, row builders, validation, subsampling, cropping, I/O.

Canonical table (docs/architecture.md): one row per protein with the string columns ``id``,
``sequence``, ``ss8`` (``HGIEBTSC``), ``ss3`` (``HEC``), ``eval_mask`` (``0``/``1`` per residue),
``cb513_mask`` (``0``/``1`` per residue, or empty when the source has none), ``split``
(``train``/``valid``/``test``), ``label`` (per-protein tasks only, else empty), ``membrane``
(per-protein ``membrane``/``soluble``/``unknown``, else empty) and ``rsa`` (relative solvent
accessibility per residue, comma-separated decimals in [0, 1] or ``nan``; empty when the source
has none). Per-residue columns may be empty in a per-protein dataset; a per-residue row needs ss3
and eval_mask, while ss8 may be empty (unknown) when the source has only 3-state labels.

The parsers that produce it live in :mod:`protrnn.data.formats` (one module per format, listed
in :mod:`protrnn.data.formats.options`) and are reached through
:func:`protrnn.data.registry.load_dataset`; this module imports none of them.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from protrnn.core.alphabet import SS3, SS8, ss8_to_ss3
from protrnn.core.fileio import atomic_path

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
_SS8_SET = frozenset(SS8)
_SS3_SET = frozenset(SS3)
_BINARY = frozenset("01")


def make_row(
    rid: str,
    sequence: str,
    ss8: str,
    ss3: str,
    eval_mask: str,
    cb513_mask: str,
    split: str,
    *,
    label: str = "",
    membrane: str = "",
    rsa: str = "",
) -> dict[str, str]:
    """One canonical table row (a dict in :data:`COLUMNS` order)."""
    return {
        "id": rid,
        "sequence": sequence,
        "ss8": ss8,
        "ss3": ss3,
        "eval_mask": eval_mask,
        "cb513_mask": cb513_mask,
        "split": split,
        "label": label,
        "membrane": membrane,
        "rsa": rsa,
    }


def make_table(rows: list[dict[str, str]], source: str) -> pd.DataFrame:
    """Build and validate the canonical table from rows of :func:`make_row`."""
    if not rows:
        raise ValueError(f"{source}: no records")
    df = pd.DataFrame(rows, columns=COLUMNS)
    validate_table(df, source)
    return df


def check_split(split: str, where: str) -> str:
    """``split`` when it is one of :data:`SPLITS`; raise ValueError naming ``where`` otherwise."""
    if split not in SPLITS:
        raise ValueError(f"{where}: split must be one of {SPLITS}, got {split!r}")
    return split


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


def cap_training(table: pd.DataFrame, max_train_proteins: int | None, seed: int) -> pd.DataFrame:
    """At most ``max_train_proteins`` train + valid rows (:func:`subsample`); test rows stay whole.

    The kept rows come first, then the test rows, each in their original order.
    """
    if not max_train_proteins:
        return table
    is_test = table["split"] == "test"
    kept = subsample(table[~is_test].reset_index(drop=True), max_train_proteins, seed)
    return pd.concat([kept, table[is_test]], ignore_index=True)


#: Per-residue columns: a protein's crop must not leave them behind.
_RESIDUE_COLUMNS = ("ss8", "ss3", "eval_mask", "cb513_mask", "rsa")


def crop_termini(table: pd.DataFrame, max_length: int | None) -> tuple[pd.DataFrame, dict]:
    """Proteins longer than ``max_length`` keep their first ceil(m/2) and last floor(m/2) residues.

    DeepLoc 1.0's recipe for long proteins: the sorting signals sit at the termini, so the
    middle is dropped. Per-protein tables only (a per-residue label column would lose its
    alignment to the sequence). Returns the table (``table`` itself when nothing is cut) and
    counts for the dataset's stats.
    """
    if max_length is None:
        return table, {}
    if max_length < 2:
        raise ValueError(f"max_length must be >= 2, got {max_length}")
    lengths = table["sequence"].str.len()
    long = lengths > max_length
    stats = {
        "max_length": int(max_length),
        "n_cropped": int(long.sum()),
        "residues_removed": int((lengths[long] - max_length).sum()),
        "residues_before": int(lengths.sum()),
    }
    if not long.any():
        return table, stats
    labelled = [c for c in _RESIDUE_COLUMNS if (table.loc[long, c] != "").any()]
    if labelled:
        raise ValueError(
            f"max_length cuts proteins with per-residue columns {labelled} "
            f"(first: id {table.loc[long, 'id'].iloc[0]!r}); it is for per-protein datasets"
        )
    head, tail = (max_length + 1) // 2, max_length // 2
    out = table.copy()
    out.loc[long, "sequence"] = [s[:head] + s[-tail:] for s in table.loc[long, "sequence"]]
    out.attrs = dict(table.attrs)
    return out, stats


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
        check_rsa(rsa, n, where)


def check_rsa(rsa: str, n: int, where: str) -> None:
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
    """Validate and write a canonical table as gzip TSV, atomically and reproducibly.

    The gzip header holds neither a time nor a file name (the temporary file's name would differ
    on every run), so equal tables give equal bytes.
    """
    validate_table(df, str(path))
    text = df[COLUMNS].to_csv(sep="\t", index=False, quoting=csv.QUOTE_NONE, lineterminator="\n")
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz,
    ):
        gz.write(text.encode("utf-8"))


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a canonical table; every column is str and empty fields stay ''."""
    df = pd.read_csv(
        path, sep="\t", dtype=str, keep_default_na=False, na_filter=False, quoting=csv.QUOTE_NONE
    )
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{Path(path).name}: missing column(s) {missing}")
    return df

"""Parsers from the DeepLoc subcellular-localization files to the canonical dataset table.

Two formats, loaded by :func:`load_deeploc2` and :func:`load_deeploc1` (``(files, options)``,
through :func:`protrnn.data.registry.load_dataset`; their options are listed in
:mod:`protrnn.data.formats.options`):

``deeploc2_csv``: the DeepLoc 2.0 Swiss-Prot set (Thumuluri et al. 2022) as five CSV manifests
    ``accession,sequence,label,partition,kingdom,membrane`` (plain or gzip), one per homology
    partition: ``files`` keys ``partition1`` .. ``partition5``, where key ``partition{k}`` must
    hold exactly DL2 partition ``k-1`` (checked against the ``partition`` column; the published
    files ``Outer_Fold_{k}_Inner_Fold_1_valid_manifest.csv`` do). Only single-label proteins are
    kept for the 10-class task; multi-label rows (labels joined by ``|``) are dropped and counted.
    Options: ``test_partition`` (0-4, default 4) becomes split ``test``; the other partitions are
    ``train``, except ``valid``: by default a deterministic ``valid_fraction`` (default 0.1) of
    them, drawn per location class (seeded by ``valid_seed``, default 0, over the accessions in
    sorted order, so the draw does not depend on file order), or with ``valid_partition`` (0-4,
    default none) one whole partition instead (homology-separated from train, as in DeepLoc 2.0's
    inner folds). The random draw is not homology-separated from train: it is meant for early
    stopping only. Membrane ``1``/``0`` (``1.0``/``0.0`` in the files) -> ``membrane``/``soluble``.

``deeploc1_fasta``: a DeepLoc 1.0 FASTA file (``files`` key ``data``, or the only key besides the
    exclusion files) with headers ``>ACC Location-M/S/U [test]``. Dots in the location stand for
    spaces (``Cell.membrane`` -> ``Cell membrane``); the suffix after the last ``-`` is the
    membrane flag (M membrane, S soluble, U unknown). Proteins labelled ``Cytoplasm-Nucleus``
    (23 in the published validation file; not one of DeepLoc 1.0's 10 classes) are dropped and
    counted. Every row gets the split of option ``split`` (default ``test``).

Exclusion (both formats): ``files`` keys starting with ``exclude`` (``exclude1`` .. ``exclude5``
for the five DL2 manifests) name files whose proteins are removed when they share the accession
(``in_exclude_accession``) or, failing that, the identical sequence (``in_exclude_sequence``).
A file starting with ``>`` is read as FASTA (id = accession), anything else as a DL2 manifest
(all rows, multi-label included). Homologues are not removed. With the published files, the
DeepLoc 1.0 test set minus DeepLoc 2.0 keeps only 123 of 2,768 proteins (2,637 share an
accession, 8 more a sequence) and the validation file 100 of 1,678; the other direction
(``deeploc2_csv`` with the DL1 test FASTA as ``exclude1``) keeps the whole DL1 test set.

Both formats accept and ignore option ``prefix`` (ids are UniProt accessions; the workflow's
parse script passes the dataset name). Sequences are upper-cased; non-standard letters (U, B,
X, Z) are kept as in the source, as the other formats do. Table columns: ``label`` =
the location class name (one of :data:`CLASSES`), ``membrane`` = membrane/soluble/unknown,
the per-residue columns empty.

Parse statistics go to ``df.attrs["parse_stats"]`` (JSON-able): ``format``, ``files``
(key -> file name), ``records_read`` (and ``records_read_per_file``), ``kept``, ``dropped``
(reason -> count), ``splits`` (split -> count), ``classes`` (split -> class -> count),
``membrane`` (split -> membrane value -> count), ``exclude_files`` (file -> records read),
``exclusion`` (in words) and format-specific entries (see the parsers). They describe the parse
before any subsampling.

Errors (bad header, unknown class, duplicate accession, empty sequence, a file holding the wrong
partition) raise ``ValueError`` naming the file and the line or record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from protrnn.core.fasta import iter_fasta
from protrnn.data.fields import csv_with_header, read_text, sequence
from protrnn.data.formats.options import FORMAT_INFO, main_file
from protrnn.data.table import check_split, make_row, make_table

#: The 10 DeepLoc locations, in the canonical class order (alphabetical, as DeepLoc 2.0 lists
#: them); the class index of an encoded set is the position in this tuple unless the config says
#: otherwise.
CLASSES: tuple[str, ...] = (
    "Cell membrane",
    "Cytoplasm",
    "Endoplasmic reticulum",
    "Extracellular",
    "Golgi apparatus",
    "Lysosome/Vacuole",
    "Mitochondrion",
    "Nucleus",
    "Peroxisome",
    "Plastid",
)
#: DeepLoc 2.0 homology partitions (the fold option of :mod:`protrnn.data.formats.options`).
N_PARTITIONS = FORMAT_INFO["deeploc2_csv"].fold_option[1]
#: ``files`` keys of the DL2 manifests: key ``partition{k}`` holds DL2 partition ``k-1``.
DL2_KEYS: tuple[str, ...] = tuple(f"partition{k}" for k in range(1, N_PARTITIONS + 1))
#: ``files`` keys starting with this name hold proteins to remove (FASTA or DL2 manifest).
EXCLUDE_PREFIX = "exclude"
DL2_COLUMNS = ("accession", "sequence", "label", "partition", "kingdom", "membrane")
DL1_MEMBRANE = {"M": "membrane", "S": "soluble", "U": "unknown"}
DL2_MEMBRANE = {"1": "membrane", "1.0": "membrane", "0": "soluble", "0.0": "soluble"}
#: DeepLoc 1.0 label outside the 10 classes, dropped for 10-class work.
DL1_DROPPED_LABEL = "Cytoplasm-Nucleus"
_CLASS_SET = frozenset(CLASSES)


class Dl2Record(NamedTuple):
    """One row of a DeepLoc 2.0 manifest; ``locations`` split at ``|``."""

    accession: str
    sequence: str
    locations: tuple[str, ...]
    partition: int
    kingdom: str
    membrane: str
    where: str  # file and line, for messages


class Dl1Record(NamedTuple):
    """One DeepLoc 1.0 FASTA record (location with spaces; may be ``Cytoplasm-Nucleus``)."""

    accession: str
    sequence: str
    location: str
    membrane: str
    test_flag: bool
    where: str


# ---------------------------------------------------------------------------------------------
# shared helpers


def _row(acc: str, seq: str, location: str, membrane: str, split: str) -> dict[str, str]:
    return make_row(acc, seq, "", "", "", "", split, label=location, membrane=membrane)


def _summary(df: pd.DataFrame) -> dict[str, Any]:
    """Counts per split, per split x class and per split x membrane value."""

    def nested(column: str) -> dict[str, dict[str, int]]:
        return {
            str(s): {str(k): int(v) for k, v in sorted(g[column].value_counts().items())}
            for s, g in df.groupby("split", sort=True)
        }

    return {
        "splits": {str(k): int(v) for k, v in sorted(df["split"].value_counts().items())},
        "classes": nested("label"),
        "membrane": nested("membrane"),
    }


def _frame(rows: list[dict[str, str]], source: str, stats: dict[str, Any]) -> pd.DataFrame:
    """Validated canonical table with ``stats`` (plus split/class counts) in attrs."""
    if not rows:
        raise ValueError(f"{source}: no protein left after filtering ({stats['dropped']})")
    df = make_table(rows, source)
    stats["kept"] = len(df)
    stats.update(_summary(df))
    df.attrs["parse_stats"] = stats
    return df


def _int_option(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        else:
            raise ValueError(f"option {name} must be an integer in {low}..{high}, got {value!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"option {name} must be in {low}..{high}, got {value}")
    return int(value)


def _is_exclude_key(key: str) -> bool:
    return key.startswith(EXCLUDE_PREFIX)


def _exclude_files(files: Mapping[str, Path]) -> list[Path]:
    """The exclusion files among ``files`` (keys starting with 'exclude'), in key order."""
    return [Path(files[k]) for k in sorted(files) if _is_exclude_key(k)]


def _exclusion_index(paths: Iterable[Path]) -> tuple[set[str], set[str], dict[str, int]]:
    """Accessions (ids) and sequences of the proteins in exclusion files.

    A file whose first non-blank character is ``>`` is read as FASTA (id = first header token,
    e.g. a DeepLoc 1.0 file); anything else as a DeepLoc 2.0 manifest (all rows, multi-label
    included). Returns (accessions, upper-cased sequences, {file name: records read}).
    """
    accessions: set[str] = set()
    sequences: set[str] = set()
    per_file: dict[str, int] = {}
    for path in map(Path, paths):
        text = read_text(path)
        if text.lstrip().startswith(">"):
            recs = [(r.id, r.sequence.upper()) for r in iter_fasta(text.splitlines(), path.name)]
        else:
            recs = [(r.accession, r.sequence) for r in read_deeploc2_records(path)]
        per_file[path.name] = len(recs)
        accessions.update(a for a, _ in recs)
        sequences.update(s for _, s in recs)
    return accessions, sequences, per_file


def _exclusion_reason(acc: str, seq: str, accessions: set[str], sequences: set[str]) -> str:
    """'in_exclude_accession', 'in_exclude_sequence' (sequence-only match) or ''."""
    if acc in accessions:
        return "in_exclude_accession"
    if seq in sequences:
        return "in_exclude_sequence"
    return ""


def _exclusion_text(exclude_files: Mapping[str, int]) -> str:
    if not exclude_files:
        return "none"
    return (
        f"proteins also in {', '.join(exclude_files)} (same accession, or identical sequence) "
        "removed; homologues not removed"
    )


# ---------------------------------------------------------------------------------------------
# DeepLoc 2.0: reading the manifests


def _dl2_columns(header: list[str], source: str) -> dict[str, int]:
    """Column index of every :data:`DL2_COLUMNS` name; raise when one is missing."""
    names = [h.strip().lower() for h in header]
    missing = [c for c in DL2_COLUMNS if c not in names]
    if missing:
        raise ValueError(f"{source} line 1: missing column(s) {missing} in header {header}")
    return {c: names.index(c) for c in DL2_COLUMNS}


def _dl2_record(fields: list[str], col: dict[str, int], acc: str, where: str) -> Dl2Record:
    """One checked manifest row (accession ``acc`` already read)."""
    seq = sequence(fields[col["sequence"]], where)
    locations = tuple(p.strip() for p in fields[col["label"]].split("|"))
    unknown = [p for p in locations if p not in _CLASS_SET]
    if unknown:
        raise ValueError(f"{where}: unknown location(s) {unknown}; expected {list(CLASSES)}")
    if len(set(locations)) != len(locations):
        raise ValueError(f"{where}: location repeated in {fields[col['label']]!r}")
    part = fields[col["partition"]].strip()
    if part not in {str(k) for k in range(N_PARTITIONS)}:
        raise ValueError(f"{where}: partition {part!r} is not 0-{N_PARTITIONS - 1}")
    flag = fields[col["membrane"]].strip()
    if flag not in DL2_MEMBRANE:
        raise ValueError(f"{where}: membrane flag {flag!r} is not 1 or 0")
    kingdom = fields[col["kingdom"]].strip()
    return Dl2Record(acc, seq, locations, int(part), kingdom, DL2_MEMBRANE[flag], where)


def read_deeploc2_records(path: Path) -> list[Dl2Record]:
    """All rows of one DeepLoc 2.0 manifest (multi-label included), validated.

    Checks the header, the field count, the sequence, every location name (each ``|`` part must
    be one of :data:`CLASSES`), the partition (0-4) and the membrane flag, and that no accession
    repeats within the file.
    """
    path = Path(path)
    header, rows = csv_with_header(read_text(path), path.name)
    col = _dl2_columns(header, path.name)
    records: list[Dl2Record] = []
    seen: dict[str, int] = {}
    for line, fields in rows:
        where = f"{path.name} line {line}"
        if len(fields) != len(header):
            raise ValueError(f"{where}: {len(fields)} fields, header has {len(header)}")
        acc = fields[col["accession"]].strip()
        if not acc:
            raise ValueError(f"{where}: empty accession")
        where = f"{where} (accession {acc})"
        if acc in seen:
            raise ValueError(f"{where}: duplicate accession (first on line {seen[acc]})")
        seen[acc] = line
        records.append(_dl2_record(fields, col, acc, where))
    if not records:
        raise ValueError(f"{path.name}: no records")
    return records


def _dl2_partition_files(files: Mapping[str, Path]) -> dict[int, Path]:
    """{partition: path} from ``partition1..partition5`` keys (at least one)."""
    unknown = sorted(k for k in files if k not in DL2_KEYS and not _is_exclude_key(k))
    if unknown:
        raise ValueError(
            f"deeploc2_csv: unknown files key(s) {unknown}; expected {DL2_KEYS} and optionally "
            "exclude* files"
        )
    parts = {DL2_KEYS.index(k): Path(p) for k, p in sorted(files.items()) if k in DL2_KEYS}
    if not parts:
        raise ValueError(f"deeploc2_csv: no manifest given; expected files keys {DL2_KEYS}")
    return parts


def _read_partitions(
    partition_files: Mapping[int, Path],
) -> tuple[list[Dl2Record], dict[str, int]]:
    """Records of every manifest; check partitions and cross-file accessions."""
    records: list[Dl2Record] = []
    per_file: dict[str, int] = {}
    first: dict[str, str] = {}
    for part, path in sorted(partition_files.items()):
        recs = read_deeploc2_records(path)
        wrong = next((r for r in recs if r.partition != part), None)
        if wrong is not None:
            raise ValueError(
                f"{wrong.where}: partition {wrong.partition}, but the file is given as "
                f"{DL2_KEYS[part]!r}, which must hold DL2 partition {part} only"
            )
        for r in recs:
            if r.accession in first:
                raise ValueError(f"{r.where}: duplicate accession, also in {first[r.accession]}")
            first[r.accession] = r.where
        per_file[path.name] = len(recs)
        records.extend(recs)
    return records, per_file


# ---------------------------------------------------------------------------------------------
# DeepLoc 2.0: splits and the table


class Dl2Splits(NamedTuple):
    """The checked split options of :func:`parse_deeploc2`."""

    test_partition: int
    valid_partition: int | None
    valid_fraction: float
    valid_seed: int

    def method(self) -> str:
        """How ``valid`` is chosen, in words."""
        if self.valid_partition is not None:
            return f"whole partition {self.valid_partition}"
        return (
            f"random {self.valid_fraction:g} of each location class of the training partitions "
            f"(seed {self.valid_seed}; not homology-separated from train)"
        )


def _dl2_splits(
    test_partition: Any, valid_fraction: Any, valid_seed: Any, valid_partition: Any
) -> Dl2Splits:
    """Check the split options (see :func:`parse_deeploc2`)."""
    test_partition = _int_option(test_partition, "test_partition", 0, N_PARTITIONS - 1)
    if valid_partition is not None:
        valid_partition = _int_option(valid_partition, "valid_partition", 0, N_PARTITIONS - 1)
        if valid_partition == test_partition:
            raise ValueError(f"valid_partition and test_partition are both {test_partition}")
    try:
        fraction = float(valid_fraction)
    except (TypeError, ValueError):
        fraction = float("nan")
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"option valid_fraction must be in [0, 1), got {valid_fraction!r}")
    seed = _int_option(valid_seed, "valid_seed", 0, 2**32 - 1)
    return Dl2Splits(test_partition, valid_partition, fraction, seed)


def _valid_draw(
    accessions: Sequence[str], locations: Sequence[str], fraction: float, seed: int
) -> set[str]:
    """Accessions drawn for ``valid``: round(fraction * n) of each class, seeded, order-free."""
    rng = np.random.default_rng(seed)
    chosen: set[str] = set()
    by_class: dict[str, list[str]] = {}
    for acc, loc in zip(accessions, locations, strict=True):
        by_class.setdefault(loc, []).append(acc)
    for loc in sorted(by_class):
        members = sorted(by_class[loc])
        k = int(np.floor(fraction * len(members) + 0.5))
        if k:
            chosen.update(members[i] for i in rng.choice(len(members), size=k, replace=False))
    return chosen


def _valid_accessions(kept: list[Dl2Record], splits: Dl2Splits) -> set[str]:
    """Accessions of split ``valid``: a whole partition, or the seeded draw."""
    if splits.valid_partition is not None:
        return {r.accession for r in kept if r.partition == splits.valid_partition}
    pool = [r for r in kept if r.partition != splits.test_partition]
    return _valid_draw(
        [r.accession for r in pool],
        [r.locations[0] for r in pool],
        splits.valid_fraction,
        splits.valid_seed,
    )


def _dl2_filter(
    records: list[Dl2Record], partitions: Iterable[int], exclude: Sequence[Path]
) -> tuple[list[Dl2Record], Counter[str], dict[int, Counter[str]], dict[str, int]]:
    """(kept single-label records, dropped per reason, counts per partition, exclude files)."""
    accessions, sequences, exclude_files = _exclusion_index(exclude)
    dropped: Counter[str] = Counter()
    kept: list[Dl2Record] = []
    per_part: dict[int, Counter[str]] = {p: Counter() for p in sorted(partitions)}
    for r in records:
        per_part[r.partition]["read"] += 1
        if len(r.locations) > 1:
            reason = "multi_label"
        else:
            reason = _exclusion_reason(r.accession, r.sequence, accessions, sequences)
        if reason:
            dropped[reason] += 1
            per_part[r.partition]["multi_label" if reason == "multi_label" else "excluded"] += 1
            continue
        per_part[r.partition]["kept"] += 1
        kept.append(r)
    return kept, dropped, per_part, exclude_files


def parse_deeploc2(
    partition_files: Mapping[int, Path],
    *,
    test_partition: int = 4,
    valid_fraction: float = 0.1,
    valid_seed: int = 0,
    valid_partition: int | None = None,
    exclude: Sequence[Path] = (),
) -> pd.DataFrame:
    """DeepLoc 2.0 manifests ``{partition (0-4): path}`` -> canonical table (single-label rows).

    See the module docstring for the splits. ``exclude``: FASTA files (e.g. the DeepLoc 1.0
    test set) or DL2 manifests whose proteins are removed, by accession or identical sequence,
    before the valid draw. ``parse_stats`` holds, besides the common keys, ``partitions``
    (partition -> {read, multi_label, excluded, kept}), ``test_partition``, ``valid_partition``,
    ``valid_fraction``, ``valid_seed``, ``valid_method``, ``exclude_files`` and ``exclusion``.
    """
    splits = _dl2_splits(test_partition, valid_fraction, valid_seed, valid_partition)
    for part in partition_files:
        _int_option(part, "partition", 0, N_PARTITIONS - 1)
    source = ", ".join(Path(p).name for _, p in sorted(partition_files.items()))
    records, per_file = _read_partitions(partition_files)
    kept, dropped, per_part, exclude_files = _dl2_filter(records, partition_files, exclude)
    valid = _valid_accessions(kept, splits)

    def split_of(r: Dl2Record) -> str:
        if r.partition == splits.test_partition:
            return "test"
        return "valid" if r.accession in valid else "train"

    rows = [_row(r.accession, r.sequence, r.locations[0], r.membrane, split_of(r)) for r in kept]
    keys = ("read", "multi_label", "excluded", "kept")
    by_partition = splits.valid_partition is not None
    stats: dict[str, Any] = {
        "format": "deeploc2_csv",
        "records_read": len(records),
        "records_read_per_file": per_file,
        "dropped": {
            k: int(dropped[k])
            for k in ("multi_label", "in_exclude_accession", "in_exclude_sequence")
        },
        "partitions": {str(p): {k: int(c[k]) for k in keys} for p, c in per_part.items()},
        "test_partition": splits.test_partition,
        "valid_partition": splits.valid_partition,
        "valid_fraction": None if by_partition else splits.valid_fraction,
        "valid_seed": None if by_partition else splits.valid_seed,
        "valid_method": splits.method(),
        "exclude_files": exclude_files,
        "exclusion": _exclusion_text(exclude_files),
    }
    return _frame(rows, source, stats)


# ---------------------------------------------------------------------------------------------
# DeepLoc 1.0


def parse_deeploc1_header(description: str, where: str) -> tuple[str, str, bool]:
    """``'Cell.membrane-M test'`` -> ``('Cell membrane', 'membrane', True)``.

    The location may be ``Cytoplasm-Nucleus`` (returned as is); any other location outside
    :data:`CLASSES`, a flag other than M/S/U or a third token other than ``test`` is an error.
    """
    tokens = description.split()
    if not 1 <= len(tokens) <= 2 or (len(tokens) == 2 and tokens[1] != "test"):
        raise ValueError(
            f"{where}: header {description!r} is not 'Location-M|S|U' optionally followed by 'test'"
        )
    loc_raw, sep, flag = tokens[0].rpartition("-")
    if not sep or flag not in DL1_MEMBRANE:
        raise ValueError(f"{where}: header {description!r} lacks a -M, -S or -U membrane flag")
    location = loc_raw.replace(".", " ")
    if location not in _CLASS_SET and location != DL1_DROPPED_LABEL:
        raise ValueError(f"{where}: unknown location {location!r}; expected {list(CLASSES)}")
    return location, DL1_MEMBRANE[flag], len(tokens) == 2


def read_deeploc1_records(path: Path) -> list[Dl1Record]:
    """All records of a DeepLoc 1.0 FASTA file (plain or gzip), headers parsed and checked.

    Duplicate accessions and empty sequences are errors (naming the file, line and record).
    """
    path = Path(path)
    records = []
    for number, rec in enumerate(iter_fasta(read_text(path).splitlines(), path.name), start=1):
        where = f"{path.name} record {number} ({rec.id})"
        location, membrane, test_flag = parse_deeploc1_header(rec.description, where)
        seq = sequence(rec.sequence, where)
        records.append(Dl1Record(rec.id, seq, location, membrane, test_flag, where))
    return records


def parse_deeploc1(
    path: Path, *, exclude: Sequence[Path] = (), split: str = "test"
) -> pd.DataFrame:
    """A DeepLoc 1.0 FASTA -> canonical table with ``split``, minus the overlap with ``exclude``.

    ``exclude``: DeepLoc 2.0 manifests (or FASTA files); proteins found there by accession or
    identical sequence are removed. ``parse_stats`` holds, besides the common keys,
    ``test_flagged`` (records whose header carries ``test``), ``dropped_by_class`` (reason ->
    location -> count), ``exclude_files`` (file -> records read) and ``exclusion``.
    """
    path = Path(path)
    check_split(split, path.name)
    records = read_deeploc1_records(path)
    accessions, sequences, exclude_files = _exclusion_index(exclude)
    dropped: Counter[str] = Counter()
    dropped_by_class: dict[str, Counter[str]] = {}
    rows = []
    for r in records:
        if r.location == DL1_DROPPED_LABEL:
            reason = "cytoplasm_nucleus"
        else:
            reason = _exclusion_reason(r.accession, r.sequence, accessions, sequences)
        if not reason:
            rows.append(_row(r.accession, r.sequence, r.location, r.membrane, split))
            continue
        dropped[reason] += 1
        dropped_by_class.setdefault(reason, Counter())[r.location] += 1
    stats: dict[str, Any] = {
        "format": "deeploc1_fasta",
        "records_read": len(records),
        "records_read_per_file": {path.name: len(records)},
        "test_flagged": sum(r.test_flag for r in records),
        "dropped": {
            k: int(dropped[k])
            for k in ("cytoplasm_nucleus", "in_exclude_accession", "in_exclude_sequence")
        },
        "dropped_by_class": {
            k: {c: int(n) for c, n in sorted(v.items())}
            for k, v in sorted(dropped_by_class.items())
        },
        "exclude_files": exclude_files,
        "exclusion": _exclusion_text(exclude_files),
    }
    return _frame(rows, path.name, stats)


# ---------------------------------------------------------------------------------------------
# loading (options already checked by protrnn.data.registry)


def _with_files(df: pd.DataFrame, files: Mapping[str, Path]) -> pd.DataFrame:
    """``df`` with ``parse_stats["files"]`` (key -> file name) added."""
    df.attrs["parse_stats"]["files"] = {k: Path(v).name for k, v in sorted(files.items())}
    return df


def load_deeploc2(files: Mapping[str, Path], options: Mapping[str, Any]) -> pd.DataFrame:
    """``files``: ``partition1``..``partition5`` (DL2 partitions 0..4) and optionally
    ``exclude*``; ``options``: ``test_partition``, ``valid_fraction``, ``valid_seed``,
    ``valid_partition`` (``prefix`` ignored)."""
    opts = {k: v for k, v in options.items() if k != "prefix"}
    partitions = _dl2_partition_files(files)
    return _with_files(parse_deeploc2(partitions, exclude=_exclude_files(files), **opts), files)


def load_deeploc1(files: Mapping[str, Path], options: Mapping[str, Any]) -> pd.DataFrame:
    """``files``: the FASTA (``data``, or the only key besides ``exclude*``) and optionally
    ``exclude*``; ``options``: ``split`` (``prefix`` ignored)."""
    opts = {k: v for k, v in options.items() if k != "prefix"}
    path = main_file("deeploc1_fasta", files, side=[k for k in files if _is_exclude_key(k)])
    return _with_files(parse_deeploc1(path, exclude=_exclude_files(files), **opts), files)

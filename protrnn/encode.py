"""Encode a canonical dataset table + raw profiles into one compressed npz, and read it back.

Model input per residue: the concatenation of the chosen feature blocks (:data:`FEATURE_BLOCKS`,
config ``encode.features``, whose default is all six blocks; a file that records none has
:data:`BASE_FEATURES`: one-hot(residue, 21) ++ scaled PSSM (20) = 41 float32 features), built
per protein on demand (:meth:`EncodedSet.features`) so that a whole dataset is never expanded
at once. Blocks from the profiles' extra columns
(:mod:`protrnn.profiles.extras`) are stored scaled, as float16 ``extra`` (only when chosen).

Targets: per residue ``ss8``/``ss3`` (int8, -1 unknown), ``eval_mask``/``cb513_mask`` and ``rsa``
(float32 relative solvent accessibility, NaN unknown; ``has_rsa`` says whether any residue has
one); per protein ``label`` (int64 index into ``classes``, -1 unknown; always -1 for per-residue
sets) and ``membrane`` (int64: 1 membrane, 0 soluble, -1 unknown).

Provenance: the npz's ``provenance`` (a JSON string) records :func:`encoding_spec` and what the
profiles were made of (:func:`shard_provenance`: backend, database, its checksum, search
parameters), so that training and prediction can check their inputs instead of trusting them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from protrnn.config.encoding import BASE_FEATURES
from protrnn.core.alphabet import (
    AA_ALPHABET,
    AMINO_ACIDS,
    N_AA,
    N_AA_TOKENS,
    SS3,
    SS8,
    encode_sequence,
    sequence_hash,
)
from protrnn.core.fileio import atomic_path
from protrnn.profiles import extras as extra_columns
from protrnn.profiles.store import provenance_path, read_provenance

#: PSSM scaling applied at encoding: logistic ``1 / (1 + exp(-x))`` of the raw log-odds score x,
#: stored as float16 in [0, 1] (raw 0 -> 0.5).
SCALING = "logistic"
#: The width of :data:`BASE_FEATURES`' encoding; a set's own is
#: :attr:`EncodedSet.n_features`.
N_FEATURES = N_AA_TOKENS + N_AA  # 41
TASKS = ("per_residue", "per_protein")
_RESIDUE_COLUMNS = ("ss8", "ss3", "eval_mask", "cb513_mask", "rsa")
_DIGESTED_RESIDUE_ARRAYS = ("aa", "pssm", "ss8", "ss3", "eval_mask", "cb513_mask", "rsa")
#: Canonical ``membrane`` values -> encoded value.
MEMBRANE = {"membrane": 1, "soluble": 0, "unknown": -1, "": -1}
#: Bump when :meth:`EncodedSet.features` changes meaning (a model then needs new inputs).
ENCODING_VERSION = 1
#: The keys of a profile provenance (:func:`shard_provenance`) that shape the features.
PROFILE_KEYS = ("backend", "database", "database_checksum", "parameters")


@dataclass(frozen=True)
class FeatureBlock:
    """Columns of the model input: ``width`` values per residue taken from ``source`` (``aa``:
    one-hot residue, ``pssm``: the scaled PSSM, ``extra``: the profile's extra columns
    ``columns`` scaled by ``scaling``), named ``spec`` in :func:`encoding_spec`."""

    spec: str
    width: int
    source: str
    columns: slice | None = None
    scaling: str = "identity"


def _one(column: int) -> slice:
    return slice(column, column + 1)


#: The feature blocks of ``encode.features`` (docs/architecture.md, "Profile columns and feature
#: blocks"). Scalings: ``identity``; ``saturating`` 1 - 2^-x (bits: 0 -> 0, 1 -> 0.5, 2 -> 0.75);
#: ``log`` min(1, log2(1 + n) / 10) (n = 0 -> 0, 1023 or more -> 1).
FEATURE_BLOCKS: dict[str, FeatureBlock] = {
    "onehot": FeatureBlock(f"onehot{N_AA_TOKENS}", N_AA_TOKENS, "aa"),
    "pssm": FeatureBlock(f"pssm_{SCALING}{N_AA}", N_AA, "pssm", scaling=SCALING),
    "profile_probs": FeatureBlock("profile_probs_identity20", N_AA, "extra", extra_columns.PROBS),
    "information": FeatureBlock(
        "information_saturating1", 1, "extra", _one(extra_columns.INFORMATION), "saturating"
    ),
    "depth": FeatureBlock("depth_log1", 1, "extra", _one(extra_columns.DEPTH), "log"),
    "gap_fraction": FeatureBlock(
        "gap_fraction_identity1", 1, "extra", _one(extra_columns.GAP_FRACTION)
    ),
}
_SCALINGS = {
    "identity": lambda x: x,
    "saturating": lambda x: 1.0 - np.exp2(-np.maximum(x, 0.0)),
    "log": lambda x: np.minimum(np.log2(1.0 + np.maximum(x, 0.0)) / 10.0, 1.0),
}


def check_features(features: Sequence[str]) -> tuple[str, ...]:
    """``features`` as a tuple; ValueError naming ``encode.features`` when empty, repeated or
    unknown."""
    chosen = tuple(str(f) for f in features)
    unknown = [f for f in chosen if f not in FEATURE_BLOCKS]
    if not chosen or unknown or len(set(chosen)) != len(chosen):
        raise ValueError(
            f"encode.features {list(chosen)}: needs distinct names from {list(FEATURE_BLOCKS)}"
            + (f" (unknown: {unknown})" if unknown else "")
        )
    return chosen


def needs_extras(features: Sequence[str]) -> bool:
    """Whether ``features`` use the profiles' extra columns."""
    return any(FEATURE_BLOCKS[f].source == "extra" for f in check_features(features))


def _extra_width(features: Sequence[str]) -> int:
    return sum(FEATURE_BLOCKS[f].width for f in features if FEATURE_BLOCKS[f].source == "extra")


def encoding_spec(features: Sequence[str] = BASE_FEATURES) -> dict:
    """The feature encoding of :meth:`EncodedSet.features` as data (stored with encoded sets
    and models; equal dicts mean interchangeable features). The default is the encoding of
    every release before ``encode.features`` existed, key for key."""
    chosen = check_features(features)
    spec = {
        "version": ENCODING_VERSION,
        "features": [FEATURE_BLOCKS[f].spec for f in chosen],
        "n_features": sum(FEATURE_BLOCKS[f].width for f in chosen),
        "aa_alphabet": AA_ALPHABET,
        "pssm_columns": AMINO_ACIDS,
    }
    if needs_extras(chosen):
        spec["extras_version"] = extra_columns.EXTRAS_VERSION
    return spec


def features_of_encoding(
    encoding: dict | None, source: object, remedy: str = "delete it and encode it again"
) -> tuple[str, ...]:
    """The feature blocks of a recorded :func:`encoding_spec` (None: written before it was
    recorded: :data:`BASE_FEATURES`); ValueError naming ``source`` (and ending with ``remedy``)
    when this code cannot build exactly those features."""
    if encoding is None:
        return BASE_FEATURES
    by_spec = {block.spec: name for name, block in FEATURE_BLOCKS.items()}
    names = encoding.get("features") if isinstance(encoding, dict) else None
    if not isinstance(names, list) or not names:
        raise ValueError(f"{source}: feature encoding {encoding!r} names no features; {remedy}")
    unknown = [n for n in names if n not in by_spec]
    if unknown:
        raise ValueError(
            f"{source}: feature encoding names block(s) {unknown} unknown to this protrnn (it "
            f"builds {sorted(by_spec)}); {remedy}"
        )
    features = tuple(by_spec[n] for n in names)
    if encoding != encoding_spec(features):
        raise ValueError(
            f"{source}: encoded as {encoding}, this code encodes {encoding_spec(features)} "
            f"(the feature encoding differs); {remedy}"
        )
    return features


def _profile_record(record: dict, source: Path) -> dict:
    """The :data:`PROFILE_KEYS` of one shard's provenance ``record`` (read from ``source``)."""
    try:
        database = record["database"]
        return {
            "backend": record["backend"],
            "database": database,
            "database_checksum": database["checksum"],
            "parameters": record["parameters"],
        }
    except (KeyError, TypeError) as err:
        raise ValueError(
            f"{source}: profile provenance lacks {err}; rerun rule profile_search for this shard"
        ) from None


def shard_provenance(shards: Sequence[Path]) -> dict:
    """What the profiles of ``shards`` were made of (:data:`PROFILE_KEYS`, from the provenance
    JSON next to each shard); shards that disagree on any of them are an error naming both."""
    if not shards:
        raise ValueError("no profile shards given")
    first, first_source = None, None
    for shard in shards:
        source = provenance_path(Path(shard))
        record = _profile_record(read_provenance(Path(shard)), source)
        if first is None:
            first, first_source = record, source
            continue
        for key in PROFILE_KEYS:
            if record[key] != first[key]:
                raise ValueError(
                    f"profile shards disagree on {key}: {first_source} has {first[key]!r}, "
                    f"{source} has {record[key]!r}; rerun rule profile_search for the dataset"
                )
    return first


def scale_pssm(raw: np.ndarray) -> np.ndarray:
    """Logistic scaling of raw log-odds (see :data:`SCALING`), float32."""
    return (1.0 / (1.0 + np.exp(-np.asarray(raw, dtype=np.float64)))).astype(np.float32)


def _text(value: object) -> str:
    """A table cell as a string; NaN/None (empty cell) -> ''."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _labels(text: str, alphabet: str, length: int) -> np.ndarray:
    """Label indices (int8); letters outside ``alphabet`` and an empty string -> -1 (unknown)."""
    if not text:
        return np.full(length, -1, dtype=np.int8)
    lookup = np.full(256, -1, dtype=np.int8)
    for i, c in enumerate(alphabet):
        lookup[ord(c)] = i
    return lookup[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]


def _mask(text: str, length: int, default: int) -> np.ndarray:
    """A '0'/'1' string as uint8; empty -> all ``default``."""
    if not text:
        return np.full(length, default, dtype=np.uint8)
    arr = np.frombuffer(text.encode("ascii"), dtype=np.uint8) - ord("0")
    if arr.size and arr.max() > 1:
        raise ValueError("mask strings may only hold '0' and '1'")
    return arr.astype(np.uint8)


def _rsa(text: str, length: int) -> np.ndarray:
    """Comma-separated RSA values in [0, 1] or ``nan`` as float32; empty -> all NaN."""
    if not text:
        return np.full(length, np.nan, dtype=np.float32)
    try:
        values = np.asarray(text.split(","), dtype=np.float32)
    except ValueError:
        raise ValueError("rsa values must be decimals or 'nan'") from None
    if len(values) != length:
        raise ValueError(f"rsa has {len(values)} values, sequence has {length}")
    if ((values < 0) | (values > 1)).any():  # NaN compares False
        raise ValueError("rsa values must lie in [0, 1]")
    return values


def _protein_classes(table: pd.DataFrame, task: str, classes: list[str] | None) -> list[str]:
    """The class names of a per-protein set: ``classes``, else the sorted labels of ``table``."""
    if task != "per_protein":
        if classes:
            raise ValueError("classes apply to per_protein datasets only")
        return []
    if classes is None:
        labels = table["label"] if "label" in table.columns else []
        return sorted({_text(v) for v in labels} - {""})
    classes = [str(c) for c in classes]
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes must be unique, got {classes}")
    return classes


def _check_table(table: pd.DataFrame, task: str) -> None:
    """The task is known and the table has the columns every dataset needs."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    missing = {"id", "sequence", "split"} - set(table.columns)
    if missing:
        raise ValueError(f"dataset table lacks column(s) {sorted(missing)}")


def _empty_arrays(lengths: np.ndarray, n_extra: int) -> dict[str, np.ndarray]:
    """Offsets and uninitialised residue arrays (filled per protein; ``extra`` only when
    ``n_extra`` > 0), unknown protein labels."""
    n, total = len(lengths), int(lengths.sum())
    offsets = np.zeros(n, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths, dtype=np.int64)[:-1]
    extra = {"extra": np.empty((total, n_extra), dtype=np.float16)} if n_extra else {}
    return {
        **extra,
        "lengths": lengths,
        "offsets": offsets,
        "aa": np.empty(total, dtype=np.uint8),
        "pssm": np.empty((total, N_AA), dtype=np.float16),
        "ss8": np.empty(total, dtype=np.int8),
        "ss3": np.empty(total, dtype=np.int8),
        "eval_mask": np.empty(total, dtype=np.uint8),
        "cb513_mask": np.empty(total, dtype=np.uint8),
        "rsa": np.empty(total, dtype=np.float32),
        "label": np.full(n, -1, dtype=np.int64),
        "membrane": np.full(n, -1, dtype=np.int64),
    }


def _profile(pid: str, seq: str, profiles: dict[str, np.ndarray]) -> np.ndarray:
    """The raw L x 20 profile of ``seq`` (looked up by sequence hash), shape-checked."""
    key = sequence_hash(seq)
    if key not in profiles:
        raise KeyError(f"protein {pid!r}: no profile for sequence hash {key}")
    prof = np.asarray(profiles[key])
    if prof.shape != (len(seq), N_AA):
        raise ValueError(
            f"protein {pid!r}: profile shape {prof.shape} does not match length {len(seq)} x {N_AA}"
        )
    return prof


def scaled_extras(features: Sequence[str], extras: np.ndarray) -> np.ndarray:
    """The extra-column blocks of ``features`` (in order) from raw L x 23 ``extras``, scaled."""
    raw = np.asarray(extras, dtype=np.float64)
    parts = [
        _SCALINGS[block.scaling](raw[:, block.columns])
        for block in (FEATURE_BLOCKS[f] for f in features)
        if block.source == "extra"
    ]
    return np.concatenate(parts, axis=1).astype(np.float32)


def _extras_of(
    pid: str, seq: str, extras: dict[str, np.ndarray] | None, features: Sequence[str]
) -> np.ndarray:
    """The scaled extra blocks of ``seq`` (its raw extra columns looked up by sequence hash)."""
    key = sequence_hash(seq)
    if extras is None or key not in extras:
        raise KeyError(
            f"protein {pid!r}: no extra profile columns for sequence hash {key} "
            f"(encode.features {list(features)} need them)"
        )
    try:
        extra_columns.check_extras("encode", key, extras[key], len(seq))
    except ValueError as err:
        raise ValueError(f"protein {pid!r}: {err}") from None
    return scaled_extras(features, extras[key])


def _encode_residues(
    arrays: dict[str, np.ndarray],
    start: int,
    pid: str,
    seq: str,
    profiles: dict[str, np.ndarray],
    texts: dict[str, str],
) -> None:
    """Fill one protein's residue block (from ``start``) with residues, PSSM, labels and masks
    (the extra blocks are filled by the caller)."""
    length = len(seq)
    if length == 0:
        raise ValueError(f"protein {pid!r}: empty sequence")
    prof = _profile(pid, seq, profiles)
    for column, text in texts.items():
        if text and column != "rsa" and len(text) != length:
            raise ValueError(
                f"protein {pid!r}: {column} has length {len(text)}, sequence has {length} "
                "(read the table with dtype=str so that masks keep leading zeros)"
            )
    s = slice(start, start + length)
    arrays["aa"][s] = encode_sequence(seq)
    arrays["pssm"][s] = scale_pssm(prof)
    arrays["ss8"][s] = _labels(texts["ss8"], SS8, length)
    arrays["ss3"][s] = _labels(texts["ss3"], SS3, length)
    try:
        arrays["eval_mask"][s] = _mask(texts["eval_mask"], length, default=1)
        arrays["cb513_mask"][s] = _mask(texts["cb513_mask"], length, default=0)
        arrays["rsa"][s] = _rsa(texts["rsa"], length)
    except ValueError as err:
        raise ValueError(f"protein {pid!r}: {err}") from None


def _protein_targets(
    pid: str, name: str, flag: str, task: str, class_index: dict[str, int]
) -> tuple[int, int]:
    """(label index, membrane value) of one protein from its ``label`` and ``membrane`` cells."""
    label = -1
    if task == "per_protein" and name:
        if name not in class_index:
            raise ValueError(f"protein {pid!r}: label {name!r} is not one of {list(class_index)}")
        label = class_index[name]
    if flag not in MEMBRANE:
        raise ValueError(f"protein {pid!r}: membrane {flag!r} not in {sorted(MEMBRANE)[1:]}")
    return label, MEMBRANE[flag]


def _column(table: pd.DataFrame, name: str) -> list:
    """A table column as a list; an absent column reads as empty cells."""
    return table[name].tolist() if name in table.columns else [""] * len(table)


def _encode_proteins(
    table: pd.DataFrame,
    profiles: dict[str, np.ndarray],
    task: str,
    classes: list[str],
    extras: tuple[Sequence[str], dict[str, np.ndarray] | None],
) -> dict[str, np.ndarray]:
    """Residue and per-protein arrays of every protein of ``table``, in table order
    (``extras``: the chosen features and the raw extra columns by sequence hash)."""
    features, extra_by_hash = extras
    lengths = np.array([len(_text(s)) for s in table["sequence"]], dtype=np.int32)
    arrays = _empty_arrays(lengths, _extra_width(features))
    class_index = {c: k for k, c in enumerate(classes)}
    cells = {c: _column(table, c) for c in (*_RESIDUE_COLUMNS, "label", "membrane")}
    ids = table["id"].astype(str)
    for i, (pid, seq) in enumerate(zip(ids, table["sequence"], strict=True)):
        texts = {c: _text(cells[c][i]) for c in _RESIDUE_COLUMNS}
        start = int(arrays["offsets"][i])
        _encode_residues(arrays, start, pid, _text(seq), profiles, texts)
        if "extra" in arrays:
            block = _extras_of(pid, _text(seq), extra_by_hash, features)
            arrays["extra"][start : start + len(block)] = block
        arrays["label"][i], arrays["membrane"][i] = _protein_targets(
            pid, _text(cells["label"][i]), _text(cells["membrane"][i]), task, class_index
        )
    return arrays


def encode_dataset(
    table: pd.DataFrame,
    profiles: dict[str, np.ndarray],
    out_path: Path,
    task: str = "per_residue",
    classes: list[str] | None = None,
    profile_provenance: dict | None = None,
    features: Sequence[str] = BASE_FEATURES,
    extras: dict[str, np.ndarray] | None = None,
) -> dict:
    """Write the encoded dataset npz (docs/architecture.md) for ``table``; return a summary.

    ``features``: the feature blocks (:data:`FEATURE_BLOCKS`); blocks of the profiles' extra
    columns need ``extras`` (sequence hash -> raw L x 23 columns,
    :func:`protrnn.profiles.store.read_shard` with ``extras=True``).

    Per-protein sets (``task="per_protein"``): ``label`` becomes the index of the protein's class
    name in ``classes`` (default: the table's labels, sorted; pass the dataset's declared classes
    so that training and test sets agree), -1 when empty; a label outside ``classes`` is an error
    naming the protein. ``classes`` are stored with the arrays. ``profile_provenance`` (what
    :func:`shard_provenance` returns; None: unknown) is stored with :func:`encoding_spec` as the
    JSON string ``provenance``.
    """
    _check_table(table, task)
    features = check_features(features)
    classes = _protein_classes(table, task, classes)
    encoded = _encode_proteins(table, profiles, task, classes, (features, extras))
    provenance = {"encoding": encoding_spec(features), "profiles": profile_provenance}
    arrays = {
        "ids": np.array(table["id"].astype(str).tolist(), dtype=str),
        "split": np.array(table["split"].astype(str).tolist(), dtype=str),
        **{k: encoded[k] for k in ("lengths", "offsets", "aa", "pssm", "ss8", "ss3")},
        **{k: encoded[k] for k in ("eval_mask", "cb513_mask", "rsa")},
        "has_rsa": np.array(bool(np.isfinite(encoded["rsa"]).any())),
        "label": encoded["label"],
        "membrane": encoded["membrane"],
        "classes": np.array(classes, dtype=str),
        "scaling": np.array(SCALING),
        "aa_alphabet": np.array(AA_ALPHABET),
        "task": np.array(task),
        "provenance": np.array(json.dumps(provenance, sort_keys=True)),
    }
    if "extra" in encoded:
        arrays["extra"] = encoded["extra"]
    with atomic_path(out_path) as tmp:
        np.savez_compressed(tmp, **arrays)
    return {"n_proteins": len(table), "n_residues": int(encoded["lengths"].sum())}


@dataclass(frozen=True)
class EncodedSet:
    """Proteins of an encoded dataset. Residue arrays are shared; proteins index into them.

    ``label`` and ``membrane`` are per protein (-1 unknown); ``rsa`` is per residue (NaN unknown).
    Fields after ``cb513_mask`` have defaults (a per-residue set without RSA, default features).
    ``extra`` holds the scaled extra-column blocks of ``feature_blocks`` (None when none).
    """

    ids: np.ndarray
    split: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    label: np.ndarray
    aa: np.ndarray
    pssm: np.ndarray
    ss8: np.ndarray
    ss3: np.ndarray
    eval_mask: np.ndarray
    cb513_mask: np.ndarray
    scaling: str = SCALING
    task: str = "per_residue"
    classes: tuple[str, ...] = ()
    membrane: np.ndarray | None = None
    rsa: np.ndarray | None = None
    has_rsa: bool = False
    provenance: dict | None = None
    feature_blocks: tuple[str, ...] = BASE_FEATURES
    extra: np.ndarray | None = None

    def __post_init__(self) -> None:
        if (self.extra is None) != (_extra_width(self.feature_blocks) == 0):
            raise ValueError(f"features {list(self.feature_blocks)} and extra columns disagree")
        if self.membrane is None:
            object.__setattr__(self, "membrane", np.full(len(self.ids), -1, dtype=np.int64))
        if self.rsa is None:
            object.__setattr__(self, "rsa", np.full(len(self.aa), np.nan, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_features(self) -> int:
        """Model inputs per residue."""
        return sum(FEATURE_BLOCKS[f].width for f in self.feature_blocks)

    def encoding(self) -> dict:
        """:func:`encoding_spec` of this set's features."""
        return encoding_spec(self.feature_blocks)

    def select(self, indices: np.ndarray | list[int]) -> EncodedSet:
        """The proteins at ``indices`` (residue arrays are not copied)."""
        idx = np.asarray(indices, dtype=np.int64)
        return replace(
            self,
            ids=self.ids[idx],
            split=self.split[idx],
            lengths=self.lengths[idx],
            offsets=self.offsets[idx],
            label=self.label[idx],
            membrane=self.membrane[idx],
        )

    def subset(self, split: str) -> EncodedSet:
        """The proteins whose split is ``split`` (train, valid or test)."""
        return self.select(np.flatnonzero(self.split == split))

    def digest(self) -> str:
        """sha256 of what these proteins are, in order: task, classes, ids, splits, labels and
        every residue array (features and targets)."""
        names = [self.task, self.scaling, list(self.classes), self.ids.tolist()]
        if self.feature_blocks != BASE_FEATURES:  # the base encoding's digest is the older one
            names.append(list(self.feature_blocks))
        h = hashlib.sha256(json.dumps([*names, self.split.tolist()]).encode())
        for array in (self.lengths, self.label, self.membrane):
            h.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
        arrays = _DIGESTED_RESIDUE_ARRAYS + (("extra",) if self.extra is not None else ())
        for i in range(len(self)):
            s = self._slice(i)
            for name in arrays:
                h.update(np.ascontiguousarray(getattr(self, name)[s]).tobytes())
        return h.hexdigest()

    def _slice(self, i: int) -> slice:
        start = int(self.offsets[i])
        return slice(start, start + int(self.lengths[i]))

    def features(self, i: int) -> np.ndarray:
        """L x :attr:`n_features` float32: the blocks of :attr:`feature_blocks` side by side
        (default: one-hot(residue, 21) ++ scaled PSSM (20))."""
        s = self._slice(i)
        out = np.zeros((int(self.lengths[i]), self.n_features), dtype=np.float32)
        column, extra_column = 0, 0
        for block in (FEATURE_BLOCKS[f] for f in self.feature_blocks):
            if block.source == "aa":
                out[np.arange(out.shape[0]), column + self.aa[s]] = 1.0
            elif block.source == "pssm":
                out[:, column : column + block.width] = self.pssm[s]
            else:
                stop = extra_column + block.width
                out[:, column : column + block.width] = self.extra[s, extra_column:stop]
                extra_column = stop
            column += block.width
        return out

    def targets(self, i: int) -> dict[str, np.ndarray]:
        """Per-residue ss8/ss3 (int8, -1 unknown), eval_mask/cb513_mask (uint8), rsa (float32,
        NaN unknown)."""
        s = self._slice(i)
        return {
            "ss8": self.ss8[s],
            "ss3": self.ss3[s],
            "eval_mask": self.eval_mask[s],
            "cb513_mask": self.cb513_mask[s],
            "rsa": self.rsa[s],
        }


def _read_provenance(path: Path, data: np.lib.npyio.NpzFile) -> dict | None:
    """The npz's provenance (None in files written before it existed); its encoding must be
    one this code builds (:func:`features_of_encoding`)."""
    if "provenance" not in data:
        return None
    try:
        provenance = json.loads(str(data["provenance"]))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: provenance is not valid JSON ({err})") from None
    encoding = provenance.get("encoding") if isinstance(provenance, dict) else None
    if not isinstance(encoding, dict):
        raise ValueError(f"{path}: provenance records no feature encoding; encode it again")
    features_of_encoding(encoding, path)
    return provenance


def _extra_of(
    path: Path, data: np.lib.npyio.NpzFile, features: tuple[str, ...]
) -> np.ndarray | None:
    """The ``extra`` array the features need (checked against them), or None."""
    width = _extra_width(features)
    if not width:
        return None
    if "extra" not in data or data["extra"].shape != (len(data["aa"]), width):
        shape = data["extra"].shape if "extra" in data else None
        raise ValueError(
            f"{path}: features {list(features)} need an extra array of {width} columns per "
            f"residue, found {shape}; encode it again"
        )
    return data["extra"]


def load_encoded(path: Path) -> EncodedSet:
    """Read an encoded dataset npz written by :func:`encode_dataset`.

    Files written before RSA and per-protein classes existed load as per-residue sets without
    RSA; an old per-protein file (numeric labels, no classes) is an error: encode it again.
    Files written before provenance existed load with ``provenance`` None.
    """
    with np.load(path, allow_pickle=False) as data:
        scaling = str(data["scaling"]) if "scaling" in data else SCALING
        if scaling != SCALING:
            raise ValueError(f"{path}: PSSM scaling {scaling!r}, this code expects {SCALING!r}")
        task = str(data["task"]) if "task" in data else "per_residue"
        n = len(data["ids"])
        if "classes" in data:
            label, classes = data["label"], tuple(str(c) for c in data["classes"])
        elif task == "per_residue":  # older layout: float labels, NaN for per-residue sets
            label, classes = np.full(n, -1, dtype=np.int64), ()
        else:
            raise ValueError(
                f"{path}: per-protein set written by an older protrnn (no class names); "
                "delete it and encode it again"
            )
        provenance = _read_provenance(Path(path), data)
        features = features_of_encoding((provenance or {}).get("encoding"), path)
        return EncodedSet(
            ids=data["ids"],
            split=data["split"],
            lengths=data["lengths"],
            offsets=data["offsets"],
            label=label,
            aa=data["aa"],
            pssm=data["pssm"],
            ss8=data["ss8"],
            ss3=data["ss3"],
            eval_mask=data["eval_mask"],
            cb513_mask=data["cb513_mask"],
            scaling=scaling,
            task=task,
            classes=classes,
            membrane=data.get("membrane"),
            rsa=data.get("rsa"),
            has_rsa=bool(data["has_rsa"]) if "has_rsa" in data else False,
            provenance=provenance,
            feature_blocks=features,
            extra=_extra_of(Path(path), data, features),
        )

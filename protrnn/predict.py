"""Secondary structure of new sequences: FASTA in -> profiles -> trained model -> predictions.

Profiles are built exactly as for training (:func:`protrnn.profiles.service.profiles_for`, the
service rule profile_search uses: the configured backend, copies of the query in the database
removed, BLOSUM62 rows when nothing is found, the workflow's profile cache when given) and
encoded with :func:`protrnn.encode.encode_dataset` (unknown labels, so the features are byte for
byte those the model would see in evaluation). The model predicts whole sequences (no
truncation); proteins are batched by padded residues (:data:`MAX_RESIDUES_PER_BATCH`), so a very
long protein runs alone and memory grows linearly with its length.

Input (:func:`read_query_fasta`): plain or gzipped FASTA. The id is the first whitespace token of
the header (the rest is dropped). Sequences are upper-cased; one trailing ``*`` is dropped; any
other character that is not an ASCII letter (digits, gaps ``-``, ``.``) is an error naming the file,
line and record, as are an empty file, an empty sequence and a repeated id. Letters outside the 20
standard amino acids are mapped for encoding as in :mod:`protrnn.core.alphabet` (U->C, O->K,
others->X) but are written unchanged to the outputs. Records that cannot be proteins (only ``X``,
or only the nucleotide letters ``ACGTUN``) are predicted with a one-line warning.

Checked before any search (each a one-line error naming the input): the FASTA, ``out_dir`` (not
an existing file), the model (exists, is a protrnn model, predicts per residue, was trained on
features this code builds: :func:`check_model_provenance`; the queries are encoded with exactly
the model's recorded ``encode.features``), the backend, its parameters and
the database. A model trained on profiles of another backend, database or search parameters is
used with a warning; so is a model file that records no provenance (written by an older
protrnn). Warnings go to ``warn`` and to ``summary.json`` (``warnings``).

The run is built in a temporary sibling of ``out_dir`` and moved in when complete, so a failed
run (a full disk is the error ``no space left on <out_dir>``) leaves ``out_dir`` as it was: the
earlier complete run, or nothing. Replacing ``ss2/`` and ``svg/`` removes only the files the
earlier run wrote (named by its ``ids.tsv``); other files there are kept. ``predictions.fasta`` is
moved in last: its presence marks a complete run.

Outputs in ``out_dir``:

- ``predictions.fasta``: four lines per protein, in input order, never wrapped::

      >{id}
      {sequence}          the input sequence, upper-cased
      {ss8}               predicted 8-state string over HGIEBTSC (argmax of the 8-state head)
      {ss3}               predicted 3-state string over HEC (argmax of the 3-state head)

  The two heads are predicted separately (as in evaluation), so ss3 is not always the
  reduction of ss8.
- ``ss2/{safe_id}.ss2``: PSIPRED VFORMAT, ``# PSIPRED VFORMAT (PSIPRED V4.0)``, a blank line, then
  per residue ``"%4d %c %c  %6.3f %6.3f %6.3f"``: 1-based index, residue, predicted 3-state letter
  (C, H or E) and the probabilities of C, H and E (PSIPRED's column order).
- ``ss2/{safe_id}.ss8``: the same layout for 8 states: header
  ``# protrnn SS8 VFORMAT: columns H G I E B T S C``, a blank line, then per residue
  ``"%4d %c %c  %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f %6.3f"``: index, residue, predicted
  8-state letter and the probabilities in ``HGIEBTSC`` order.

  In both files the probabilities are rounded to 3 decimals with largest-remainder rounding, so
  every row sums to exactly 1.000 and the predicted letter's column holds the row's maximum.
- ``svg/{safe_id}.svg``: the picture of one protein (:func:`protrnn.core.tracks.track_svg`): its
  sequence, the predicted 8-state track and the confidence along the chain (the largest of the
  8-state probabilities per residue).
- ``index.html``: every protein in input order with its id, length, mean confidence and picture
  (linked from ``svg/``, so the page stays small for many proteins).
- ``ids.tsv``: ``id``, ``safe_id``, ``length`` (header line, input order): the mapping from ids to
  the file names under ``ss2/`` and ``svg/``.
- ``encoded.npz``: the model input (:func:`protrnn.encode.encode_dataset` layout, labels -1,
  split ``test``); :func:`protrnn.model.inference.predict_proba` on it reproduces the predictions.
- ``summary.json``: counts, profile search statistics and the provenance of the run:
  ``profiles`` (this run's backend, database, checksum and parameters), ``model_profiles`` (the
  model's training profiles; null when its file does not record them) and ``warnings``.

Safe ids (:func:`safe_ids`): every character outside ``A-Z a-z 0-9 . _ -`` becomes ``_``; a
leading ``.`` or ``-`` becomes ``_``; the result is cut to :data:`MAX_SAFE_ID` characters (an empty
result becomes ``_``). Ids that then collide, ignoring case (case-insensitive file systems), get
``_2``, ``_3``, ... in input order. Example: ``sp|P69905|HBA_HUMAN`` -> ``sp_P69905_HBA_HUMAN``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from torch import nn

from protrnn.core.alphabet import SS3, SS8, sequence_hash
from protrnn.core.diskspace import no_space_left_on
from protrnn.core.fasta import iter_fasta
from protrnn.core.fileio import replace_dir
from protrnn.core.tracks import IndexRow, index_html, track_svg
from protrnn.encode import (
    BASE_FEATURES,
    EncodedSet,
    encode_dataset,
    features_of_encoding,
    load_encoded,
)
from protrnn.model.batching import make_batches
from protrnn.model.checkpoint import read_model_provenance
from protrnn.model.inference import load_model, predict_proba
from protrnn.profiles.database import DB_NAME
from protrnn.profiles.service import ProfileSearch, SearchSetting, search_setting, search_with

#: Padded residues per forward pass (a longer protein runs alone in its own batch).
MAX_RESIDUES_PER_BATCH = 32_768
#: Proteins per forward pass at most.
BATCH_SIZE = 32
#: Longest safe id (file names under ss2/ get a 4-character suffix).
MAX_SAFE_ID = 100
SS2_HEADER = "# PSIPRED VFORMAT (PSIPRED V4.0)"
SS8_HEADER = "# protrnn SS8 VFORMAT: columns " + " ".join(SS8)
#: PSIPRED's column order C, H, E as indices into :data:`protrnn.core.alphabet.SS3` (``HEC``).
SS2_COLUMNS = np.array([SS3.index(c) for c in "CHE"], dtype=np.intp)

#: The run's folders in ``out_dir`` -> the suffixes of the files it writes there per protein.
RUN_FOLDERS = {"ss2": ("ss2", "ss8"), "svg": ("svg",)}
#: The run's files in ``out_dir`` besides its folders, in the order they are moved in (the last
#: one marks a complete run).
RUN_FILES = ("ids.tsv", "encoded.npz", "summary.json", "index.html", "predictions.fasta")
#: Letters of sequences that cannot be proteins: nucleotides (with N), or nothing but X.
NUCLEOTIDES = frozenset("ACGTUN")
#: Records named in the not-a-protein warning at most.
MAX_NAMED = 5

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
log = logging.getLogger(__name__)


# ---------------------------------------------------------------- input
def _lines(path: Path) -> Iterator[str]:
    """Text lines of a plain or gzipped file; a binary file is a ValueError naming it."""
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            yield from handle
    except (UnicodeDecodeError, OSError, EOFError) as err:
        raise ValueError(f"{path}: not a readable FASTA text file ({err})") from None


def read_query_fasta(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """``[(id, SEQUENCE), ...]`` of a query FASTA file, validated (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"query FASTA {p} does not exist or is not a file")
    records = [(r.id, r.sequence.upper()) for r in iter_fasta(_lines(p), str(p))]
    return records


def not_protein_warning(fasta: Path, records: list[tuple[str, str]]) -> list[str]:
    """One warning line naming the records that cannot be proteins (only X, or only ACGTUN);
    none when every record can be one."""
    odd = []
    for pid, seq in records:
        if set(seq) <= {"X"}:
            odd.append(f"{pid!r} (only X)")
        elif set(seq) <= NUCLEOTIDES:
            odd.append(f"{pid!r} (only nucleotide letters A/C/G/T/U/N)")
    if not odd:
        return []
    named = ", ".join(odd[:MAX_NAMED]) + (
        f" and {len(odd) - MAX_NAMED} more" if len(odd) > MAX_NAMED else ""
    )
    return [
        f"{fasta}: {len(odd)} record(s) cannot be proteins: {named}; predicted anyway "
        "(their predicted structure is meaningless)"
    ]


def safe_ids(ids: list[str]) -> list[str]:
    """File-name-safe, unique (ignoring case) versions of ``ids`` (module docstring)."""
    out: list[str] = []
    taken: set[str] = set()
    for pid in ids:
        base = _UNSAFE.sub("_", pid)
        if base[:1] in (".", "-"):
            base = "_" + base[1:]
        base = base[:MAX_SAFE_ID] or "_"
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name.lower())
        out.append(name)
    return out


# ---------------------------------------------------------------- output formats
def round_rows(prob: np.ndarray, decimals: int = 3) -> np.ndarray:
    """Rows of ``prob`` (N x K) rounded to ``decimals`` so that each sums to exactly 1.

    Largest-remainder rounding of the row-normalized values, in units of 10**-decimals
    (returned as int64 units). Order-preserving: a larger value never gets a smaller rounded one.
    """
    scale = 10**decimals
    p = np.asarray(prob, dtype=np.float64)
    total = p.sum(axis=1, keepdims=True)
    if p.size and (not np.all(np.isfinite(p)) or np.any(total <= 0)):
        raise ValueError("probabilities must be finite with a positive sum per row")
    x = p / total * scale
    units = np.floor(x).astype(np.int64)
    deficit = scale - units.sum(axis=1)  # 0 .. K-1
    order = np.argsort(-(x - units), axis=1, kind="stable")
    rank = np.argsort(order, axis=1)  # rank of each column's remainder, largest first
    return units + (rank < deficit[:, None])


def _vformat(header: str, sequence: str, letters: str, prob: np.ndarray) -> str:
    """Header, blank line, then ``%4d %c %c  %6.3f ...`` per residue (probabilities rounded)."""
    units = round_rows(prob)
    lines = [header, ""]
    for i, (aa, ss, row) in enumerate(zip(sequence, letters, units.tolist(), strict=True), 1):
        values = " ".join(f"{u / 1000:6.3f}" for u in row)
        lines.append(f"{i:4d} {aa} {ss}  {values}")
    return "\n".join(lines) + "\n"


def format_ss2(sequence: str, prob_ss3: np.ndarray) -> str:
    """PSIPRED VFORMAT text for one protein; ``prob_ss3`` is L x 3 in :data:`SS3` (HEC) order."""
    prob_ss3 = np.asarray(prob_ss3)
    letters = "".join(np.array(list(SS3))[prob_ss3.argmax(axis=1)])
    return _vformat(SS2_HEADER, sequence, letters, prob_ss3[:, SS2_COLUMNS])


def format_ss8(sequence: str, prob_ss8: np.ndarray) -> str:
    """8-state companion of :func:`format_ss2`; ``prob_ss8`` is L x 8 in HGIEBTSC order."""
    prob_ss8 = np.asarray(prob_ss8)
    letters = "".join(np.array(list(SS8))[prob_ss8.argmax(axis=1)])
    return _vformat(SS8_HEADER, sequence, letters, prob_ss8)


def predicted_strings(pred: dict[str, np.ndarray]) -> tuple[str, str]:
    """(ss8, ss3) argmax strings of one protein's probabilities (as evaluate's predictions.npz)."""
    ss8 = "".join(np.array(list(SS8))[np.asarray(pred["ss8"]).argmax(axis=1)])
    ss3 = "".join(np.array(list(SS3))[np.asarray(pred["ss3"]).argmax(axis=1)])
    return ss8, ss3


# ---------------------------------------------------------------- model
def predict_encoded(
    model: nn.Module,
    encoded: EncodedSet,
    device: str = "cpu",
    max_residues: int = MAX_RESIDUES_PER_BATCH,
    batch_size: int = BATCH_SIZE,
) -> list[dict[str, np.ndarray]]:
    """:func:`protrnn.model.inference.predict_proba` in batches of at most ``max_residues`` padded
    residues (a longer protein alone), so that one very long protein is never padded into a
    batch of others. Returns, in ``encoded`` order, ``{"ss8": L x 8, "ss3": L x 3}`` per protein."""
    results: list[dict[str, np.ndarray] | None] = [None] * len(encoded)
    for idx in make_batches(np.asarray(encoded.lengths), batch_size, max_residues):
        preds = predict_proba(model, encoded.select(idx), device, batch_size=len(idx))
        for i, pred in zip(idx, preds, strict=True):
            results[int(i)] = {k: np.asarray(v, dtype=np.float32) for k, v in pred.items()}
    return results  # type: ignore[return-value]


def load_residue_model(model_path: Path, device: str) -> nn.Module:
    """The per-residue model at ``model_path``; one-line errors for a missing, foreign or
    per-protein (localization) model file."""
    if not model_path.is_file():
        raise FileNotFoundError(f"model file {model_path} does not exist (train it first)")
    try:
        model = load_model(model_path, device)
    except Exception as err:  # noqa: BLE001 - any failure here means "not a usable model file"
        msg = " ".join(str(err).split())[:300]
        raise ValueError(f"{model_path}: not a usable protrnn model file ({msg})") from err
    classes = tuple(getattr(model, "classes", ()) or ())
    if classes:
        raise ValueError(
            f"{model_path}: a per-protein (localization) model (classes {', '.join(classes)}); "
            "secondary-structure prediction needs a model of a per_residue experiment"
        )
    return model


def _changed_parameters(trained: dict, setting: SearchSetting) -> str:
    """``key a -> b`` for every search parameter that differs from the model's ('' when none)."""
    theirs = trained.get("parameters")
    if trained.get("backend") == setting.backend and isinstance(theirs, dict):
        with contextlib.suppress(ValueError):  # unknown to this version: compare as they are
            theirs = setting.engine.check_params(dict(theirs))
    if not isinstance(theirs, dict):
        return f"parameters {theirs!r} -> {setting.params!r}"
    keys = sorted(set(theirs) | set(setting.params))
    changed = [
        f"{k} {theirs.get(k)!r} -> {setting.params.get(k)!r}"
        for k in keys
        if theirs.get(k) != setting.params.get(k)
    ]
    return ", ".join(changed)


def check_model_provenance(
    model_path: Path, provenance: dict | None, setting: SearchSetting
) -> list[str]:
    """Compare a model's provenance with this run: ValueError when its feature encoding differs
    (its predictions would be meaningless); a warning line when the profiles' backend, database
    or search parameters differ, or when the model records no provenance."""
    if provenance is None or provenance.get("encoding") is None:
        return [
            f"{model_path} records no provenance (written by an older protrnn): its feature "
            "encoding and training profiles cannot be checked against this run"
        ]
    features_of_encoding(provenance["encoding"], model_path, "retrain the model with this version")
    trained = provenance.get("profiles")
    if not isinstance(trained, dict):
        return [f"{model_path} does not record its training profiles: they cannot be checked"]
    differences = []
    if trained.get("backend") != setting.backend:
        differences.append(f"backend {trained.get('backend')!r} -> {setting.backend!r}")
    if trained.get("database_checksum") != setting.checksum:
        theirs = str(trained.get("database_checksum"))[:12]
        differences.append(f"database checksum {theirs}... -> {setting.checksum[:12]}...")
    if changed := _changed_parameters(trained, setting):
        differences.append(f"search parameters {changed}")
    if not differences:
        return []
    return [
        f"{model_path}: profiles differ from the model's training profiles "
        f"({'; '.join(differences)}): predictions may be less accurate"
    ]


# ---------------------------------------------------------------- the run folder
def check_out_dir(out_dir: Path) -> None:
    """``out_dir`` and its ``ss2`` and ``svg`` must be folders (or absent)."""
    for path in (out_dir, *(out_dir / name for name in RUN_FOLDERS)):
        if path.exists() and not path.is_dir():
            raise ValueError(
                f"output folder {path} is an existing file, not a folder: give another --out"
            )


@contextlib.contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    """A fresh hidden sibling of ``out_dir`` for the new run, removed on every exit path."""
    parent = out_dir.resolve().parent
    with no_space_left_on(parent):
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{out_dir.resolve().name}.", suffix=".tmp", dir=parent)
        )
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def previous_run_files(out_dir: Path) -> dict[str, set[str]]:
    """Folder -> the files the earlier run in ``out_dir`` wrote there (from its ``ids.tsv``)."""
    ids = out_dir / "ids.tsv"
    lines = ids.read_text(encoding="utf-8", errors="replace").splitlines() if ids.is_file() else []
    if not lines or lines[0].split("\t")[:2] != ["id", "safe_id"]:
        return {folder: set() for folder in RUN_FOLDERS}
    names = [line.split("\t")[1] for line in lines[1:] if line.count("\t") >= 2]
    return {
        folder: {f"{name}.{ext}" for name in names for ext in suffixes}
        for folder, suffixes in RUN_FOLDERS.items()
    }


def _keep(entry: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Hard-link (copy where links fail) a file or folder the user put in ``ss2/``."""
    if os.path.isdir(entry) and not os.path.islink(entry):
        shutil.copytree(entry, target, symlinks=True, copy_function=_keep)
        return
    try:
        os.link(entry, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(entry, target, follow_symlinks=False)


def _replace_folder(old: Path, new: Path, ours: set[str]) -> None:
    """Put ``new`` in the place of ``old``, keeping the entries of ``old`` not in ``ours``
    (unless ``new`` has one of the same name)."""
    if old.is_dir():
        for entry in old.iterdir():
            if entry.name not in ours and not (new / entry.name).exists():
                _keep(entry, new / entry.name)
    replace_dir(new, old)


def commit_run(staging: Path, out_dir: Path) -> None:
    """Move the complete run in ``staging`` into ``out_dir``: the earlier run's files are replaced,
    files protrnn did not write (in ``out_dir``, ``ss2/`` and ``svg/``) are kept."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ours = previous_run_files(out_dir)
    (out_dir / RUN_FILES[-1]).unlink(missing_ok=True)  # from here on, the old run is incomplete
    for folder in RUN_FOLDERS:
        _replace_folder(out_dir / folder, staging / folder, ours[folder])
    for name in RUN_FILES:
        os.replace(staging / name, out_dir / name)


def write_pictures(
    staging: Path, records: list[tuple[str, str]], names: list[str], preds: list[dict]
) -> None:
    """``svg/{name}.svg`` per protein and ``index.html`` listing them, into ``staging``."""
    (staging / "svg").mkdir()
    rows = []
    for name, (pid, seq), pred in zip(names, records, preds, strict=True):
        confidence = np.asarray(pred["ss8"], dtype=np.float64).max(axis=1)
        svg = track_svg(pid, seq, predicted_strings(pred)[0], confidence.tolist())
        (staging / "svg" / f"{name}.svg").write_text(svg, encoding="utf-8")
        mean = float(confidence.mean()) if len(seq) else float("nan")
        rows.append(IndexRow(pid, len(seq), mean, f"svg/{name}.svg"))
    intro = (
        f"{len(rows)} protein(s), in input order. Mean confidence: the mean over the residues of "
        "the largest 8-state probability. Each picture shows the sequence, the predicted 8-state "
        "track and the confidence along the chain; click it to open the SVG."
    )
    page = index_html("protrnn predictions", rows, intro)
    (staging / "index.html").write_text(page, encoding="utf-8")


def _write_run(
    staging: Path,
    records: list[tuple[str, str]],
    names: list[str],
    preds: list[dict],
    summary: dict,
) -> None:
    """Every output file of the run into ``staging`` (besides ``encoded.npz``, already there)."""
    (staging / "ss2").mkdir()
    for name, (_, seq), pred in zip(names, records, preds, strict=True):
        (staging / "ss2" / f"{name}.ss2").write_text(format_ss2(seq, pred["ss3"]))
        (staging / "ss2" / f"{name}.ss8").write_text(format_ss8(seq, pred["ss8"]))
    write_pictures(staging, records, names, preds)
    with open(staging / "ids.tsv", "w", encoding="utf-8") as fh:
        fh.write("id\tsafe_id\tlength\n")
        for (pid, seq), name in zip(records, names, strict=True):
            fh.write(f"{pid}\t{name}\t{len(seq)}\n")
    text = json.dumps(summary, indent=2, default=str) + "\n"
    (staging / "summary.json").write_text(text)
    with open(staging / "predictions.fasta", "w", encoding="utf-8") as fh:
        for (pid, seq), pred in zip(records, preds, strict=True):
            ss8, ss3 = predicted_strings(pred)
            fh.write(f">{pid}\n{seq}\n{ss8}\n{ss3}\n")


# ---------------------------------------------------------------- the whole run
@dataclass
class _Run:
    """What :func:`predict_fasta` knows of its run."""

    fasta: Path
    model_path: Path
    out_dir: Path
    device: str
    max_residues: int
    records: list[tuple[str, str]] = field(default_factory=list)
    provenance: dict | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def _check_inputs(
    run: _Run, database: str | os.PathLike[str], backend: str, params: dict
) -> tuple[nn.Module, SearchSetting]:
    """Everything that can be checked before the search; fills ``run`` (records, provenance,
    warnings) and returns the model and the search setting."""
    run.records = read_query_fasta(run.fasta)
    check_out_dir(run.out_dir)
    model = load_residue_model(run.model_path, run.device)
    setting = search_setting(backend, database, params)
    run.provenance = read_model_provenance(run.model_path)
    run.warnings = [
        *check_model_provenance(run.model_path, run.provenance, setting),
        *not_protein_warning(run.fasta, run.records),
    ]
    return model, setting


def _encode_and_predict(
    run: _Run, staging: Path, found: ProfileSearch, model: nn.Module
) -> tuple[EncodedSet, list[dict]]:
    """Encode the queries into ``staging/encoded.npz`` and predict them."""
    ids = [pid for pid, _ in run.records]
    table = pd.DataFrame({"id": ids, "sequence": [s for _, s in run.records], "split": "test"})
    provenance = found.setting.describe()
    encode_dataset(
        table,
        found.profiles,
        staging / "encoded.npz",
        "per_residue",
        profile_provenance=provenance,
        features=getattr(model, "feature_blocks", BASE_FEATURES),  # those it was trained on
        extras=found.profiles.extras,
    )
    encoded = load_encoded(staging / "encoded.npz")
    preds = predict_encoded(model, encoded, run.device, max_residues=run.max_residues)
    for pid, (_, seq), pred in zip(ids, run.records, preds, strict=True):
        for head, k in (("ss8", len(SS8)), ("ss3", len(SS3))):
            if pred[head].shape != (len(seq), k):
                raise RuntimeError(f"{pid}: {head} prediction has shape {pred[head].shape}")
    return encoded, preds


def _summary(run: _Run, found: ProfileSearch, encoded: EncodedSet) -> dict:
    """The content of ``summary.json``."""
    setting, out_dir = found.setting, run.out_dir
    info = {k: setting.database_info.get(k) for k in ("checksum", "n_sequences", "n_residues")}
    info["version"] = setting.database_info.get("version")
    stats = found.runs[0] if found.runs else {"n_no_hits": 0}
    stats = {**stats, "n_from_cache": found.n_from_cache, "n_searched": found.n_searched}
    return {
        "n_proteins": len(run.records),
        "n_residues": int(sum(len(s) for _, s in run.records)),
        "n_unique_sequences": len(found.profiles),
        "n_no_hits": int(stats.get("n_no_hits", 0)),
        "fasta": str(run.fasta),
        "model": str(run.model_path),
        "model_name": run.model_path.parent.name,
        "device": run.device,
        "database": str(setting.database_dir / DB_NAME),
        "database_info": {
            k: info.get(k) for k in ("checksum", "n_sequences", "n_residues", "version")
        },
        "backend": setting.backend,
        "tool_version": found.tool_version,
        "profile_stats": stats,
        "profiles": setting.describe(),
        "model_profiles": (run.provenance or {}).get("profiles"),
        "warnings": run.warnings,
        "pssm_scaling": encoded.scaling,
        "max_residues_per_batch": run.max_residues,
        "seconds": run.seconds,
        "outputs": {
            "predictions": str(out_dir / "predictions.fasta"),
            "ss2_dir": str(out_dir / "ss2"),
            "svg_dir": str(out_dir / "svg"),
            "index": str(out_dir / "index.html"),
            "ids": str(out_dir / "ids.tsv"),
            "encoded": str(out_dir / "encoded.npz"),
        },
    }


def predict_fasta(
    fasta: str | os.PathLike[str],
    model_path: str | os.PathLike[str],
    database_prefix: str | os.PathLike[str],
    search_params: dict,
    out_dir: str | os.PathLike[str],
    threads: int = 1,
    *,
    device: str = "cpu",
    max_residues: int = MAX_RESIDUES_PER_BATCH,
    backend: str = "mmseqs2",
    cache_dir: str | os.PathLike[str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict:
    """Predict every protein of ``fasta`` with the model at ``model_path``; write ``out_dir``.

    ``database_prefix``: the folder rule profile_database built for ``backend`` (or its ``db``
    prefix), the database of the model's training profiles; ``search_params``: the config's
    ``profiles.{backend}`` section (same as training); ``cache_dir``: the workflow's profile
    cache, reused and filled (None: no cache); ``warn``: called with each warning line (default:
    logged). Inputs are checked before the search starts (module docstring). Returns the summary
    (also written to ``summary.json``).
    """
    t0 = time.perf_counter()
    run = _Run(Path(fasta), Path(model_path), Path(out_dir), device, max_residues)
    model, setting = _check_inputs(run, database_prefix, backend, search_params)
    for line in run.warnings:
        (warn or log.warning)(line)
    queries = {sequence_hash(seq): seq for _, seq in run.records}
    found = search_with(setting, queries, cache_dir, threads, label=str(run.fasta))
    t_search = time.perf_counter()
    with staging_dir(run.out_dir) as staging, no_space_left_on(run.out_dir):
        encoded, preds = _encode_and_predict(run, staging, found, model)
        run.seconds = {
            "profiles": round(t_search - t0, 2),
            "predict": round(time.perf_counter() - t_search, 2),
            "total": round(time.perf_counter() - t0, 2),
        }
        summary = _summary(run, found, encoded)
        names = safe_ids([pid for pid, _ in run.records])
        _write_run(staging, run.records, names, preds, summary)
        commit_run(staging, run.out_dir)
    return summary


def read_predictions(path: str | os.PathLike[str]) -> list[tuple[str, str, str, str]]:
    """``[(id, sequence, ss8, ss3), ...]`` of a ``predictions.fasta`` written here."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if len(lines) % 4:
        raise ValueError(f"{path}: expected 4 lines per record, got {len(lines)} lines")
    out = []
    for i in range(0, len(lines), 4):
        header, seq, ss8, ss3 = lines[i : i + 4]
        if not header.startswith(">") or not len(seq) == len(ss8) == len(ss3):
            raise ValueError(f"{path} line {i + 1}: malformed record")
        out.append((header[1:], seq, ss8, ss3))
    return out

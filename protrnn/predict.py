"""Secondary structure of new sequences: FASTA in -> profiles -> trained model -> predictions.

Profiles are built exactly as for training
(:func:`protrnn.profiles.backends.mmseqs2.search_profiles`:
iterative MMseqs2 search, copies of the query in the database removed, BLOSUM62 rows when nothing
is found) and encoded with :func:`protrnn.encode.encode_dataset` (unknown labels, so the features
are byte for byte those the model would see in evaluation). The model predicts whole sequences (no
truncation); proteins are batched by padded residues (:data:`MAX_RESIDUES_PER_BATCH`), so a very
long protein runs alone and memory grows linearly with its length.

Input (:func:`read_query_fasta`): plain or gzipped FASTA. The id is the first whitespace token of
the header (the rest is dropped). Sequences are upper-cased; one trailing ``*`` is dropped; any
other character that is not an ASCII letter (digits, gaps ``-``, ``.``) is an error naming the file,
line and record, as are an empty file, an empty sequence and a repeated id. Letters outside the 20
standard amino acids are mapped for encoding as in :mod:`protrnn.core.alphabet` (U->C, O->K,
others->X)
but are written unchanged to the outputs.

Outputs in ``out_dir`` (every file written atomically):

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
- ``ids.tsv``: ``id``, ``safe_id``, ``length`` (header line, input order): the mapping from ids to
  the file names under ``ss2/``.
- ``encoded.npz``: the model input (:func:`protrnn.encode.encode_dataset` layout, labels -1,
  split ``test``); :func:`protrnn.model.train.predict_proba` on it reproduces the predictions.
- ``summary.json``: counts, profile search statistics and the provenance of the run.

Safe ids (:func:`safe_ids`): every character outside ``A-Z a-z 0-9 . _ -`` becomes ``_``; a
leading ``.`` or ``-`` becomes ``_``; the result is cut to :data:`MAX_SAFE_ID` characters (an empty
result becomes ``_``). Ids that then collide, ignoring case (case-insensitive file systems), get
``_2``, ``_3``, ... in input order. Example: ``sp|P69905|HBA_HUMAN`` -> ``sp_P69905_HBA_HUMAN``.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from protrnn.core.alphabet import SS3, SS8, sequence_hash
from protrnn.core.fasta import iter_fasta
from protrnn.core.fileio import atomic_dir, atomic_path, atomic_write_text

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

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


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
    model: object,
    encoded: object,
    device: str = "cpu",
    max_residues: int = MAX_RESIDUES_PER_BATCH,
    batch_size: int = BATCH_SIZE,
) -> list[dict[str, np.ndarray]]:
    """:func:`protrnn.model.train.predict_proba` in batches of at most ``max_residues`` padded
    residues (a longer protein alone), so that one very long protein is never padded into a
    batch of others. Returns, in ``encoded`` order, ``{"ss8": L x 8, "ss3": L x 3}`` per protein."""
    from protrnn.model.train import make_batches, predict_proba

    results: list[dict[str, np.ndarray] | None] = [None] * len(encoded)
    for idx in make_batches(np.asarray(encoded.lengths), batch_size, max_residues):
        preds = predict_proba(model, encoded.select(idx), device, batch_size=len(idx))
        for i, pred in zip(idx, preds, strict=True):
            results[int(i)] = {k: np.asarray(v, dtype=np.float32) for k, v in pred.items()}
    return results  # type: ignore[return-value]


def _load_model(model_path: Path, device: str) -> object:
    """training.load_model with user errors (missing or foreign file) as clear exceptions."""
    from protrnn.model.train import load_model

    if not model_path.is_file():
        raise FileNotFoundError(f"model file {model_path} does not exist (train it first)")
    try:
        return load_model(model_path, device)
    except Exception as err:  # noqa: BLE001 - any failure here means "not a usable model file"
        msg = " ".join(str(err).split())[:300]
        raise ValueError(f"{model_path}: not a usable protrnn model file ({msg})") from err


def resolve_database(path: str | os.PathLike[str]) -> Path:
    """The MMseqs2 DB prefix: ``path`` itself, or ``path/db`` when ``path`` is the DB folder."""
    p = Path(path)
    if p.is_dir() and Path(f"{p / 'db'}.dbtype").is_file():
        return p / "db"
    if not Path(f"{p}.dbtype").is_file():
        raise FileNotFoundError(
            f"profile database {p} not found: give the prefix of an MMseqs2 database built by "
            "rule profile_database (e.g. resources/profile_db/seqdb/mmseqs2/db) or its folder"
        )
    if not Path(f"{p}.hashes.tsv").is_file():
        raise FileNotFoundError(
            f"{p}.hashes.tsv is missing: build the database with rule profile_database "
            "(protrnn.profiles.database.build_database), which records the hashes used for "
            "self-hit removal"
        )
    return p


# ---------------------------------------------------------------- writing
def _write_ss2_dir(
    target: Path, names: list[str], records: list[tuple[str, str]], preds: list[dict]
) -> None:
    """Write every .ss2/.ss8 into a fresh sibling folder, then swap it in for ``target``."""
    with atomic_dir(target) as staging:
        for name, (_, seq), pred in zip(names, records, preds, strict=True):
            (staging / f"{name}.ss2").write_text(format_ss2(seq, pred["ss3"]))
            (staging / f"{name}.ss8").write_text(format_ss8(seq, pred["ss8"]))


def _database_info(db_prefix: Path) -> dict:
    """The database description written by build_database (``{prefix}.json``), if present."""
    path = Path(f"{db_prefix}.json")
    if not path.is_file():
        return {}
    info = json.loads(path.read_text())
    return {k: info.get(k) for k in ("checksum", "n_sequences", "n_residues", "version")}


# ---------------------------------------------------------------- the whole run
def predict_fasta(
    fasta: str | os.PathLike[str],
    model_path: str | os.PathLike[str],
    database_prefix: str | os.PathLike[str],
    search_params: dict,
    out_dir: str | os.PathLike[str],
    threads: int = 1,
    mmseqs: str | None = None,
    *,
    device: str = "cpu",
    max_residues: int = MAX_RESIDUES_PER_BATCH,
    backend: str = "mmseqs2",
    cache_dir: str | os.PathLike[str] | None = None,
) -> dict:
    """Predict every protein of ``fasta`` with the model at ``model_path``; write ``out_dir``.

    ``database_prefix``: the MMseqs2 DB (prefix or its folder) the model's training profiles came
    from (for ``backend`` psiblast or jackhmmer: the folder rule profile_database built);
    ``search_params``: the config's ``profiles.{backend}`` section (same as training);
    ``mmseqs``: the binary (default :func:`protrnn.profiles.database.find_mmseqs`);
    ``cache_dir``: the workflow's profile cache, reused and filled (None: no cache). Inputs are
    checked (FASTA, model, database) before the search starts. Returns the summary (also written
    to ``summary.json``).
    """
    from protrnn.encode import encode_dataset, load_encoded
    from protrnn.profiles.backends import get_backend
    from protrnn.profiles.cache import ProfileCache
    from protrnn.profiles.database import find_mmseqs, mmseqs_version

    t0 = time.perf_counter()
    fasta, model_path, out_dir = Path(fasta), Path(model_path), Path(out_dir)
    records = read_query_fasta(fasta)
    model = _load_model(model_path, device)
    engine = get_backend(backend)
    params = engine.check_params(dict(search_params))
    if backend == "mmseqs2":
        db_prefix = resolve_database(database_prefix)
        db_dir = db_prefix.parent
        mmseqs = mmseqs or find_mmseqs()
        tool_version = mmseqs_version(mmseqs)
    else:
        db_dir = Path(database_prefix)
        db_dir = db_dir if db_dir.is_dir() else db_dir.parent
        if not (db_dir / "db.json").is_file():
            raise FileNotFoundError(
                f"profile database {database_prefix} not found: give the folder rule "
                f"profile_database built for {backend} (e.g. resources/profile_db/seqdb/{backend})"
            )
        db_prefix = db_dir / "db"
        tool_version = None
    ids = [pid for pid, _ in records]
    names = safe_ids(ids)
    out_dir.mkdir(parents=True, exist_ok=True)

    queries = {sequence_hash(seq): seq for _, seq in records}
    cache = None
    if cache_dir is not None:
        checksum = json.loads((db_dir / "db.json").read_text())["checksum"]
        cache = ProfileCache(cache_dir, checksum, backend, params)
    todo = cache.missing(queries) if cache else list(queries)
    stats: dict = {"n_no_hits": 0}
    with tempfile.TemporaryDirectory(prefix=".predict_work_", dir=out_dir) as work:
        if todo:
            found, stats = engine.search_profiles(
                {k: queries[k] for k in todo}, db_dir, params, threads, Path(work)
            )
            if cache:
                cache.put_many(found)
    profiles = {k: (cache.get(k, len(seq)) if cache else found[k]) for k, seq in queries.items()}
    stats = {**stats, "n_from_cache": len(queries) - len(todo), "n_searched": len(todo)}
    tool_version = tool_version or stats.get("version")
    t_search = time.perf_counter()

    table = pd.DataFrame({"id": ids, "sequence": [s for _, s in records], "split": "test"})
    encoded_path = out_dir / "encoded.npz"
    encode_dataset(table, profiles, encoded_path, task="per_residue")
    encoded = load_encoded(encoded_path)
    preds = predict_encoded(model, encoded, device, max_residues=max_residues)
    for pid, (_, seq), pred in zip(ids, records, preds, strict=True):
        for head, k in (("ss8", len(SS8)), ("ss3", len(SS3))):
            if pred[head].shape != (len(seq), k):
                raise RuntimeError(f"{pid}: {head} prediction has shape {pred[head].shape}")
    t_predict = time.perf_counter()

    _write_ss2_dir(out_dir / "ss2", names, records, preds)
    with atomic_path(out_dir / "ids.tsv") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write("id\tsafe_id\tlength\n")
        for pid, name, (_, seq) in zip(ids, names, records, strict=True):
            fh.write(f"{pid}\t{name}\t{len(seq)}\n")
    summary = {
        "n_proteins": len(records),
        "n_residues": int(sum(len(s) for _, s in records)),
        "n_unique_sequences": len(queries),
        "n_no_hits": int(stats.get("n_no_hits", 0)),
        "fasta": str(fasta),
        "model": str(model_path),
        "model_name": model_path.parent.name,
        "device": device,
        "database": str(db_prefix),
        "database_info": _database_info(db_prefix),
        "backend": backend,
        "tool_version": tool_version,
        "profile_stats": stats,
        "pssm_scaling": encoded.scaling,
        "max_residues_per_batch": max_residues,
        "seconds": {
            "profiles": round(t_search - t0, 2),
            "predict": round(t_predict - t_search, 2),
            "total": round(time.perf_counter() - t0, 2),
        },
        "outputs": {
            "predictions": str(out_dir / "predictions.fasta"),
            "ss2_dir": str(out_dir / "ss2"),
            "ids": str(out_dir / "ids.tsv"),
            "encoded": str(encoded_path),
        },
    }
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")
    # written last: its presence marks a complete run
    with atomic_path(out_dir / "predictions.fasta") as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for pid, (_, seq), pred in zip(ids, records, preds, strict=True):
            ss8, ss3 = predicted_strings(pred)
            fh.write(f">{pid}\n{seq}\n{ss8}\n{ss3}\n")
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

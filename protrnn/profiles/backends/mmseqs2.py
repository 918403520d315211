"""MMseqs2 backend: the indexed MMseqs2 sequence DB, and an iterative profile search (PSI-BLAST
like) with self-hits removed in every iteration.

Database (:func:`build_database`, :func:`build_mmseqs_db`): ``createdb --shuffle 0`` of the
sources at ``{out_dir}/db`` (keys 0..N-1 in input order), its k-mer index, ``db.hashes.tsv`` and,
written last, ``db.json`` (:mod:`protrnn.profiles.database`).

Search: MMseqs2's ``search --num-iterations`` cannot drop hits between iterations, so the loop
of its own iterative workflow (``blastpgp.sh``: prefilter -> subtract known hits -> align ->
merge -> result2profile -> next iteration with the profile as query) runs here, and after every
prefilter the DB sequences identical to the query (by
:func:`protrnn.core.alphabet.sequence_hash`) are removed before anything is aligned. Features
therefore do not depend on whether the DB holds the query. (E-values still scale with the DB's
size, as in any search.)

Output: per query an L x 20 float32 PSSM, ``mmseqs profile2pssm`` scores (integers, half-bit
log-odds 2*log2(p/p_bg), the unit of NCBI BLOSUM62), converted from MMseqs2's column order
``ACDEFGHIKLMNPQRSTVWY`` (alphabetical) to BLAST's ``ARNDCQEGHILKMFPSTWYV``. A query without
hits after the last iteration gets exactly :func:`protrnn.profiles.blosum.blosum_profile`.

Extra columns (:mod:`protrnn.profiles.extras`): the probabilities are those of a second final
``result2profile`` with ``--profile-output-mode 1`` (the same MSA, filter and pseudocounts as the
PSSM's), information their relative entropy against BLOSUM62's background; depth and gap fraction
come from the backtraces of the merged alignments of all rounds (the included hits).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from protrnn.core.alphabet import AMINO_ACIDS, normalize_sequence, sequence_hash
from protrnn.core.fileio import atomic_path, atomic_write_text
from protrnn.core.tools import find_mmseqs, mmseqs_version, run_mmseqs
from protrnn.profiles import database, search
from protrnn.profiles import extras as extra_columns

TOOL = "mmseqs2"
#: The files of a finished database folder (``db.json`` is written last).
DATABASE_FILES = (database.DB_INFO, f"{database.DB_NAME}.dbtype", database.DB_HASHES)
_DBTYPE_AMINO_ACIDS = "1"

#: MMseqs2's profile column order (its amino-acid alphabet, alphabetical by one-letter code).
MMSEQS_ORDER = "ACDEFGHIKLMNPQRSTVWY"
#: Column permutation: pssm_blast = pssm_mmseqs[:, MMSEQS_TO_BLAST].
MMSEQS_TO_BLAST = np.array([MMSEQS_ORDER.index(a) for a in AMINO_ACIDS], dtype=np.intp)
_PSSM_HEADER = ("Pos\tCns\t" + "\t".join(MMSEQS_ORDER) + "\n").encode()

#: Defaults: PSIPRED's recipe (3 iterations, inclusion E-value 0.001) at MMseqs2's default -s.
DEFAULT_PARAMS: dict = {
    "num_iterations": 3,  # search rounds; round n > 1 searches with the profile of round n-1
    "sensitivity": 5.7,  # mmseqs -s (prefilter k-mer threshold; 7.5 = most sensitive)
    "evalue": 1e-3,  # reporting and inclusion E-value in every round (PSIPRED: 0.001)
    "max_seqs": 300,  # prefilter hits per query and round (self-hits do not count)
    "max_seq_id": 0.9,  # result2profile: redundancy filter of the MSA
    "mask_profile": True,  # tantan-mask low complexity in the profiles used as search queries
}


def check_params(params: dict) -> dict:
    """Merge ``params`` over the defaults; reject unknown keys and bad values."""
    merged = search.merge_params(TOOL, params, DEFAULT_PARAMS)
    if int(merged["num_iterations"]) < 1:
        raise ValueError(f"num_iterations must be >= 1, got {merged['num_iterations']}")
    if int(merged["max_seqs"]) < 1:
        raise ValueError(f"max_seqs must be >= 1, got {merged['max_seqs']}")
    if float(merged["evalue"]) <= 0:
        raise ValueError(f"evalue must be > 0, got {merged['evalue']}")
    return merged


def tool_version() -> str:
    """The MMseqs2 version of :func:`protrnn.core.tools.find_mmseqs`' binary."""
    return mmseqs_version(find_mmseqs())


# --- MMseqs2 DB files: data (entries each ending in NUL), index (key, offset, length) -----------


def read_index(prefix: Path) -> list[tuple[int, int, int]]:
    """(key, offset, length) rows of ``{prefix}.index``."""
    index_path = Path(f"{prefix}.index")
    rows = []
    with open(index_path) as fh:
        for n, line in enumerate(fh, 1):
            parts = line.split("\t")
            if len(parts) != 3:
                raise ValueError(f"{index_path}:{n}: expected key, offset, length")
            rows.append((int(parts[0]), int(parts[1]), int(parts[2])))
    return rows


def read_entries(prefix: Path) -> dict[int, bytes]:
    """All entries of an MMseqs2 DB as key -> bytes (trailing NUL removed)."""
    data = Path(prefix).read_bytes()
    entries = {}
    for key, offset, length in read_index(prefix):
        if offset + length > len(data):
            raise ValueError(f"{prefix}: entry {key} lies beyond the end of the data file")
        entries[key] = data[offset : offset + length].rstrip(b"\0")
    return entries


def write_entries(prefix: Path, entries: dict[int, bytes], dbtype_from: Path) -> None:
    """Write an MMseqs2 DB (data, sorted index, dbtype copied from ``dbtype_from``)."""
    offset = 0
    index_lines = []
    with open(prefix, "wb") as fh:
        for key in sorted(entries):
            blob = entries[key] + b"\0"
            fh.write(blob)
            index_lines.append(f"{key}\t{offset}\t{len(blob)}\n")
            offset += len(blob)
    Path(f"{prefix}.index").write_text("".join(index_lines))
    shutil.copyfile(f"{dbtype_from}.dbtype", f"{prefix}.dbtype")


def iter_sequences(prefix: Path) -> Iterable[tuple[int, str]]:
    """(key, sequence) of an MMseqs2 sequence DB (entries are ``sequence\\n\\0``)."""
    for key, entry in read_entries(prefix).items():
        yield key, entry.rstrip(b"\n").decode("ascii")


# --- building the search database ------------------------------------------------------------


def _write_hashes(db: Path, out: Path) -> database.SequenceCounts:
    """Write key<TAB>sequence_hash for every DB sequence; return the counts."""
    counts = database.SequenceCounts()
    with open(out, "w") as fh:
        for key, seq in iter_sequences(db):
            fh.write(f"{key}\t{sequence_hash(seq)}\n")
            counts.add(seq)
    return counts


def _stage_database(
    sources: database.Sources,
    tmp_dir: Path,
    name: str,
    threads: int,
    mmseqs: str,
    create_index: bool,
) -> database.SequenceCounts:
    """createdb (+ createindex) of the sources as ``tmp_dir/name``, and its hashes file."""
    staged, log, fasta = tmp_dir / name, tmp_dir / "mmseqs.log", tmp_dir / "input.fasta"
    database.concatenate_fasta(sources.paths, fasta)
    createdb = ["createdb", fasta, staged, "--shuffle", "0", "--dbtype", _DBTYPE_AMINO_ACIDS]
    run_mmseqs(mmseqs, [*createdb, "-v", "2"], log)
    fasta.unlink()
    if create_index:
        index_tmp = tmp_dir / "index_tmp"
        run_mmseqs(mmseqs, ["createindex", staged, index_tmp, "--threads", threads, "-v", "2"], log)
        shutil.rmtree(index_tmp, ignore_errors=True)
    counts = _write_hashes(staged, tmp_dir / "hashes.tsv")
    counts.require_some(sources)
    return counts


def build_mmseqs_db(
    fasta_paths: list[Path],
    out_prefix: Path,
    threads: int,
    mmseqs: str,
    create_index: bool = True,
) -> dict:
    """Build the MMseqs2 search DB of ``fasta_paths`` at ``out_prefix``; return its description.

    Writes, next to ``out_prefix``: the MMseqs2 sequence DB (``{prefix}``, ``.index``,
    ``.dbtype``, ``_h*``, ``.lookup``, ...), keys 0..N-1 in input order (``--shuffle 0``);
    ``{prefix}.idx*``, the precomputed k-mer index (``createindex``; on the full seqdb, 74M
    residues, ~1.5 GB on disk, but it saves ~14 s of index building per prefilter call);
    ``{prefix}.hashes.tsv``; and, last (it marks completion), ``{prefix}.json``.
    """
    sources = database.read_sources(fasta_paths)
    out_prefix = Path(out_prefix)
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build_", dir=out_prefix.parent) as tmp:
        tmp_dir = Path(tmp)
        counts = _stage_database(sources, tmp_dir, out_prefix.name, threads, mmseqs, create_index)
        for produced in sorted(tmp_dir.glob(out_prefix.name + "*")):
            os.replace(produced, out_prefix.parent / produced.name)
        with atomic_path(f"{out_prefix}.hashes.tsv") as target:
            shutil.move(tmp_dir / "hashes.tsv", target)
    version = mmseqs_version(mmseqs)
    info = database.describe_database(TOOL, version, sources, counts, indexed=create_index)
    atomic_write_text(f"{out_prefix}.json", json.dumps(info, indent=2) + "\n")
    return info


def build_database(fasta_paths: list[Path], out_dir: Path, threads: int) -> dict:
    """The common backend interface: :func:`build_mmseqs_db` at ``out_dir/db``, indexed."""
    return build_mmseqs_db(fasta_paths, Path(out_dir) / database.DB_NAME, threads, find_mmseqs())


# --- search ---------------------------------------------------------------------------------


def _target_lines(entry: bytes) -> list[tuple[int, bytes]]:
    """(target key, full line) of each hit in a prefilter/alignment result entry."""
    return [(int(line.split(b"\t", 1)[0]), line) for line in entry.split(b"\n") if line]


def _filter_prefilter(
    pref: dict[int, bytes],
    self_keys: dict[int, set[int]],
    found: dict[int, set[int]],
    max_seqs: int,
) -> tuple[dict[int, bytes], int]:
    """Drop self-hits, keep the first ``max_seqs`` (as prefilter would), then drop known hits.

    Truncating after self-hit removal but before subtracting earlier rounds' hits keeps the
    candidate lists identical whether or not the DB holds the query (prefilter ran with
    ``max_seqs`` + the number of self copies). Returns the entries and the self-hits removed.
    """
    out = {}
    n_self = 0
    for key, entry in pref.items():
        hits = _target_lines(entry)
        own = self_keys.get(key, set())
        kept = [(t, line) for t, line in hits if t not in own]
        n_self += len(hits) - len(kept)
        known = found.get(key, set())
        out[key] = b"".join(line + b"\n" for t, line in kept[:max_seqs] if t not in known)
    return out, n_self


class _Runner:
    """The mmseqs binary, thread count, work directory and parameters of one search."""

    def __init__(self, mmseqs: str, threads: int, tmp: Path, max_len: int, p: dict) -> None:
        self.mmseqs = mmseqs
        self.tmp = tmp
        self.p = p
        self.common = ["--threads", str(max(1, int(threads))), "-v", "2"]
        self.common += ["--max-seq-len", str(max(65535, max_len + 1))]
        self.log = tmp / "mmseqs.log"

    def __call__(self, module: str, *args: object, common: bool = True) -> None:
        """Run ``mmseqs module args`` (plus threads, verbosity and maximum length)."""
        extra = self.common if common else self.common[:4]
        run_mmseqs(self.mmseqs, [module, *map(str, args), *extra], self.log)

    def path(self, name: str) -> Path:
        """A DB prefix inside the work directory."""
        return self.tmp / name

    def prefilter(self, query: Path, target: Path, out: Path, n_self: int) -> None:
        """k-mer prefilter, keeping room for the self-hits removed afterwards."""
        max_seqs = int(self.p["max_seqs"]) + n_self
        self("prefilter", query, target, out, "-s", self.p["sensitivity"], "--max-seqs", max_seqs)

    def align(self, query: Path, target: Path, pref: Path, out: Path, first: bool) -> None:
        """Gapped alignment with backtraces; round 1 realigns conservatively (as blastpgp.sh)."""
        realign = "1" if first else "0"
        self("align", query, target, pref, out, "-a", "1", "--alignment-mode", "2",
             "-e", self.p["evalue"], "--realign", realign)  # fmt: skip

    def profile(
        self, qdb: Path, db: Path, aln: Path, out: Path, mask: bool, *extra: object
    ) -> None:
        """result2profile: MSA of the included hits -> profile (probabilities) of each query."""
        e, seq_id = self.p["evalue"], self.p["max_seq_id"]
        self("result2profile", qdb, db, aln, out, "-e", e, "--e-profile", e,
             "--max-seq-id", seq_id, "--mask-profile", int(mask), *extra, common=False)  # fmt: skip


def _write_queries(queries: dict[int, str], path: Path) -> None:
    """FASTA of the normalized queries, headers = key (U->C, O->K, other letters -> X)."""
    with open(path, "w") as fh:
        for key, seq in queries.items():
            fh.write(f">{key}\n{normalize_sequence(seq)}\n")


def _check_query_db(qdb: Path, queries: dict[int, str]) -> None:
    """createdb with --shuffle 0 numbers entries in input order; verify it against the lookup."""
    with open(f"{qdb}.lookup") as fh:
        for line in fh:
            key, name, _ = line.split("\t", 2)
            if int(key) != int(name):
                raise RuntimeError(f"{qdb}: mmseqs key {key} holds query {name}; expected equal")
    lengths = {k: len(e.rstrip(b"\n")) for k, e in read_entries(qdb).items()}
    for key, seq in queries.items():
        if lengths.get(key) != len(seq):
            got = lengths.get(key)
            raise RuntimeError(f"{qdb}: query {key} has {got} residues instead of {len(seq)}")


def _parse_pssms(prefix: Path, lengths: dict[int, int]) -> dict[int, np.ndarray]:
    """Parse ``profile2pssm --db-output`` text into L x 20 float32 arrays in BLAST order."""
    index = sorted((offset, key) for key, offset, _ in read_index(prefix))
    data = Path(prefix).read_bytes()
    if data.count(_PSSM_HEADER) != len(index):
        raise RuntimeError(f"{prefix}: unexpected profile2pssm format (column header)")
    body = data.replace(b"\0", b"").replace(_PSSM_HEADER, b"")
    if not body.strip():
        return {}
    columns = [0, *range(2, 22)]
    frame = pd.read_csv(io.BytesIO(body), sep="\t", header=None, usecols=columns, dtype=np.int32)
    table = frame.to_numpy()
    out = {}
    start = 0
    for _, key in index:
        length = lengths[key]
        rows = table[start : start + length]
        if len(rows) != length or not np.array_equal(rows[:, 0], np.arange(length)):
            raise RuntimeError(f"{prefix}: profile of query {key} does not have {length} rows")
        out[key] = rows[:, 1:][:, MMSEQS_TO_BLAST].astype(np.float32)
        start += length
    if start != len(table):
        raise RuntimeError(f"{prefix}: {len(table) - start} profile rows left over")
    return out


def parse_frequencies(path: Path, lengths: dict[int, int]) -> dict[int, np.ndarray]:
    """``result2profile --profile-output-mode 1`` text (per query ``Query profile of sequence
    {key}``, a header of the 20 letters, one row of probabilities per position) -> key -> L x 20
    float64 in BLAST order."""
    text = Path(path).read_bytes().replace(b"\0", b"").decode("ascii")
    out: dict[int, np.ndarray] = {}
    for block in text.split("Query profile of sequence ")[1:]:
        head, _, rest = block.partition("\n")
        letters, _, body = rest.partition("\n")
        key = int(head.strip())
        if letters.split() != list(MMSEQS_ORDER) or key not in lengths:
            raise RuntimeError(f"{path}: unexpected profile of query {head.strip()!r}")
        values = np.array(body.split(), dtype=np.float64)
        if values.size != lengths[key] * len(MMSEQS_ORDER):
            raise RuntimeError(f"{path}: frequencies of query {key} lack {lengths[key]} rows")
        out[key] = values.reshape(lengths[key], -1)[:, MMSEQS_TO_BLAST]
    return out


def alignment_coverage(entry: bytes, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(depth, gaps) per query position from one query's alignment lines (``align -a``: query
    start in column 5, 0-based, backtrace in column 11)."""
    coverage = extra_columns.Coverage(length)
    for line in entry.split(b"\n"):
        if line:
            fields = line.split(b"\t")
            coverage.add_cigar(int(fields[4]), fields[10].decode("ascii"))
    return coverage.arrays()


def _extras(
    merged: dict[int, bytes], frequencies: dict[int, np.ndarray], lengths: dict[int, int]
) -> dict[int, np.ndarray]:
    """The extra columns of every query with frequencies."""
    out = {}
    for key, probs in frequencies.items():
        depth, gaps = alignment_coverage(merged.get(key, b""), lengths[key])
        information = extra_columns.relative_entropy(extra_columns.normalized(probs))
        out[key] = extra_columns.assemble(probs, information, depth, gaps)
    return out


def _merge_round(
    merged: dict[int, bytes], found: dict[int, set[int]], aln: dict[int, bytes]
) -> int:
    """Append a round's new alignments to the merged results (as mergedbs); return their number."""
    new_hits = 0
    for key, entry in aln.items():
        hits = _target_lines(entry)
        new_hits += len(hits)
        found.setdefault(key, set()).update(t for t, _ in hits)
        merged[key] = merged.get(key, b"") + b"".join(line + b"\n" for _, line in hits)
    return new_hits


def _iterate(
    run: _Runner, qdb: Path, target: Path, db: Path, self_keys: dict[int, set[int]]
) -> tuple[dict[int, bytes], list[dict]]:
    """The search rounds; return the merged alignments (key -> hit lines) and per-round stats."""
    n_rounds = int(run.p["num_iterations"])
    n_self_max = max((len(v) for v in self_keys.values()), default=0)
    query = qdb
    merged: dict[int, bytes] = {}
    found: dict[int, set[int]] = {}
    rounds = []
    for it in range(n_rounds):
        t0 = time.perf_counter()
        pref_raw, pref, aln = run.path(f"pref_raw{it}"), run.path(f"pref{it}"), run.path(f"aln{it}")
        run.prefilter(query, target, pref_raw, n_self_max)
        max_seqs = int(run.p["max_seqs"])
        entries, n_self = _filter_prefilter(read_entries(pref_raw), self_keys, found, max_seqs)
        write_entries(pref, entries, pref_raw)
        run.align(query, target, pref, aln, first=it == 0)
        new_hits = _merge_round(merged, found, read_entries(aln))
        rounds.append({
            "iteration": it + 1,
            "new_hits": new_hits,
            "self_hits_removed": n_self,
            "total_hits": sum(v.count(b"\n") for v in merged.values()),
            "queries_with_hits": sum(1 for v in merged.values() if v),
            "seconds": round(time.perf_counter() - t0, 2),
        })  # fmt: skip
        if it + 1 < n_rounds:
            write_entries(run.path(f"merged{it}"), merged, aln)
            query = run.path(f"profile{it}")
            run.profile(qdb, db, run.path(f"merged{it}"), query, bool(run.p["mask_profile"]))
    return merged, rounds


def _final_profiles(
    run: _Runner, qdb: Path, db: Path, merged: dict[int, bytes], lengths: dict[int, int]
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """PSSMs (BLAST order, half bits) and extra columns of the queries with hits, from the merged
    alignments."""
    with_hits = {k for k, v in merged.items() if v}
    if not with_hits:
        return {}, {}
    aln, profile, pssm = run.path("final_aln"), run.path("final_profile"), run.path("final_pssm")
    write_entries(aln, merged, run.path("aln0"))
    # the reported profile is not masked: masking is a search heuristic, not conservation
    run.profile(qdb, db, aln, profile, mask=False)
    run("profile2pssm", profile, pssm, "--db-output", "1", "--comp-bias-corr", "0", common=False)
    parsed = _parse_pssms(pssm, lengths)
    frequencies = run.path("final_frequencies")
    run.profile(qdb, db, aln, frequencies, False, "--profile-output-mode", 1)
    found = {k: v for k, v in parse_frequencies(frequencies, lengths).items() if k in with_hits}
    return {k: v for k, v in parsed.items() if k in with_hits}, _extras(merged, found, lengths)


def _run_search(
    todo: dict[int, str], db_prefix: Path, p: dict, threads: int, workdir: Path, mmseqs: str
) -> tuple[search.Outcome, list[dict]]:
    """createdb + rounds + final profiles in a fresh temporary directory under ``workdir``."""
    db_hashes = database.read_db_hashes(db_prefix)
    self_keys = {i: set(db_hashes.get(sequence_hash(s), ())) for i, s in todo.items()}
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="mmseqs2_", dir=workdir))
    try:
        run = _Runner(mmseqs, threads, tmp, max(len(s) for s in todo.values()), p)
        _write_queries(todo, tmp / "queries.fasta")
        qdb = run.path("qdb")
        run("createdb", tmp / "queries.fasta", qdb, "--shuffle", "0", "--dbtype", "1", common=False)
        _check_query_db(qdb, todo)
        indexed = Path(f"{db_prefix}.idx")
        target = indexed if Path(f"{indexed}.dbtype").is_file() else db_prefix
        merged, rounds = _iterate(run, qdb, target, db_prefix, self_keys)
        lengths = {k: len(s) for k, s in todo.items()}
        pssms, extras = _final_profiles(run, qdb, db_prefix, merged, lengths)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    outcome = search.Outcome(
        pssms,
        {i: merged.get(i, b"").count(b"\n") for i in todo},
        [r["new_hits"] for r in rounds],
        sum(1 for v in self_keys.values() if v),
        extras,
    )
    return outcome, rounds


def search_mmseqs_db(
    queries: dict[str, str],
    db_prefix: Path,
    params: dict,
    threads: int,
    workdir: Path,
    mmseqs: str,
) -> tuple[search.Profiles, dict]:
    """Iterative MMseqs2 search of ``queries`` (hash -> sequence) against ``db_prefix``.

    Returns hash -> L x 20 float32 PSSM (BLAST column order, half-bit log-odds; BLOSUM62 rows
    when no hit survives self-hit removal), with the extra columns in ``.extras``, and a stats
    dict.
    """
    t0 = time.perf_counter()
    p = check_params(dict(params))
    db_prefix = Path(db_prefix)
    if not Path(f"{db_prefix}.dbtype").is_file():
        raise FileNotFoundError(f"MMseqs2 database {db_prefix} not found ({db_prefix}.dbtype)")
    todo = search.searchable(queries)
    outcome, rounds = search.Outcome(), []
    if todo:  # createdb numbers its entries 0, 1, ...: search them so, then map back
        dense = dict(enumerate(todo.values()))
        outcome, rounds = _run_search(dense, db_prefix, p, threads, Path(workdir), mmseqs)
        outcome = outcome.renumbered(list(todo))
    return search.finish(queries, outcome, t0, p, {"iterations": rounds})


def search_profiles(
    queries: dict[str, str], db_dir: Path, params: dict, threads: int, workdir: Path
) -> tuple[search.Profiles, dict]:
    """The common backend interface: :func:`search_mmseqs_db` against ``db_dir/db`` with
    :func:`protrnn.core.tools.find_mmseqs`' binary; the stats also name the tool and version."""
    database.require_database_files(Path(db_dir), DATABASE_FILES, TOOL)
    mmseqs = find_mmseqs()
    db_prefix = Path(db_dir) / database.DB_NAME
    profiles, stats = search_mmseqs_db(queries, db_prefix, params, threads, workdir, mmseqs)
    stats.update(tool=TOOL, version=mmseqs_version(mmseqs))
    return profiles, stats

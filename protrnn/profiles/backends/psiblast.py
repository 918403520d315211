"""PSI-BLAST profiles (NCBI BLAST+, PSIPRED's recipe) with identical copies of the query excluded.

Database (:func:`build_database`): the sources concatenated and normalised
(:func:`protrnn.core.alphabet.normalize_sequence`: upper case, U->C, O->K, other letters -> X), each
sequence named ``lcl|s{key}`` (key = 0..N-1 in input order; the explicit local-id prefix stops
BLAST from reading ids as accessions), ``makeblastdb -dbtype prot -parse_seqids
-blastdb_version 5`` at ``{out_dir}/db``, plus ``db.hashes.tsv`` (``key<TAB>sequence_hash`` of the
raw sequence, the same hashes as every backend: :mod:`protrnn.profiles.database`) and, written
last, ``db.json``.

Search: one ``psiblast`` process per query (``-num_threads 1``), ``threads`` of them side by side:
``-num_iterations 3 -inclusion_ethresh 0.001`` (PSIPRED), ASCII PSSM from ``-out_ascii_pssm``.

- Self-hits: the database entries identical to the query (same sequence hash) go to
  ``-negative_seqidlist``: BLAST skips them in every iteration *and* computes the database length
  and the effective search space without them (BLAST+ >= 2.10 with v5 databases), so E-values,
  hits and the PSSM are exactly those of a database that never held the query (tested).
- ``pssm_after_last_round`` (default true) adds ``-save_pssm_after_last_round``: the PSSM then
  holds the hits of all 3 rounds like the mmseqs2 and jackhmmer backends; false writes what
  PSIPRED's ``runpsipred`` gets (the PSSM that the last round searched with).
- No homologue: psiblast writes no PSSM (no hit at all) or one whose "weighted observed
  percentages" are all zero (hits, none included); both give exactly
  :func:`protrnn.profiles.blosum.blosum_profile` (psiblast's own no-hit PSSM differs from
  BLOSUM62 in a few entries).

Output: per query an L x 20 float32 PSSM, psiblast's integer scores (half-bit log-odds, the
unit of BLOSUM62), columns mapped by the letters of the PSSM header onto BLAST's
``ARNDCQEGHILKMFPSTWYV`` (they already are in that order). Extra columns
(:mod:`protrnn.profiles.extras`): the ASCII PSSM's weighted observed percentages / 100 and its
"information per position" (bits; the -0.01 it prints at times is read as 0); depth and gap
fraction from the aligned rows (``qseq``, ``sseq`` of ``-outfmt 7``) of the last round's included
HSPs (with ``pssm_after_last_round`` false the PSSM is the previous round's; depth and gap
fraction still count the last round).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from protrnn.core.alphabet import AMINO_ACIDS, N_AA, normalize_sequence, sequence_hash
from protrnn.core.fileio import atomic_write_text
from protrnn.core.tools import blast_version, find_blast
from protrnn.profiles import database, search
from protrnn.profiles import extras as extra_columns

TOOL = "psiblast"
#: The files of a finished database folder (``db.json`` is written last).
DATABASE_FILES = (database.DB_INFO, f"{database.DB_NAME}.pin", database.DB_HASHES)

#: Defaults: PSIPRED's recipe (3 iterations, inclusion E-value 0.001), BLAST+'s other defaults.
DEFAULT_PARAMS: dict = {
    "num_iterations": 3,  # psiblast -num_iterations (stops earlier when converged)
    "inclusion_ethresh": 1e-3,  # E-value for inclusion in the PSSM (PSIPRED: 0.001)
    "evalue": 10.0,  # reporting E-value (-evalue; BLAST's default)
    "max_target_seqs": 500,  # aligned sequences kept per round (-max_target_seqs; default)
    "comp_based_stats": "2",  # -comp_based_stats (psiblast's default; later rounds use 1)
    "pssm_after_last_round": True,  # -save_pssm_after_last_round (see the module doc)
}
_COMP_BASED_STATS = {"0", "1", "2", "3", "D", "d", "F", "f", "T", "t"}


def check_params(params: dict) -> dict:
    """Merge ``params`` over :data:`DEFAULT_PARAMS`; reject unknown keys and bad values."""
    merged = search.merge_params(TOOL, params, DEFAULT_PARAMS)
    for key in ("num_iterations", "max_target_seqs"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be an integer >= 1, got {value!r}")
    for key in ("inclusion_ethresh", "evalue"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{key} must be a number > 0, got {value!r}")
        merged[key] = float(value)
    merged["comp_based_stats"] = str(merged["comp_based_stats"])
    if merged["comp_based_stats"] not in _COMP_BASED_STATS:
        raise ValueError(
            f"comp_based_stats must be one of {sorted(_COMP_BASED_STATS)}, "
            f"got {merged['comp_based_stats']!r}"
        )
    if not isinstance(merged["pssm_after_last_round"], bool):
        raise ValueError(
            f"pssm_after_last_round must be true or false, got {merged['pssm_after_last_round']!r}"
        )
    return merged


# --- binaries -------------------------------------------------------------------------------


#: psiblast's error for a query without statistics (e.g. all X): no search, so no homologue.
_NO_STATISTICS = "Could not calculate ungapped Karlin-Altschul parameters"


def _run(
    cmd: list[str], cwd: Path | None = None, tolerate: str | None = None
) -> subprocess.CompletedProcess:
    """Run a BLAST+ program; RuntimeError with the output tail when it fails (unless its output
    holds ``tolerate``)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, check=False)
    if proc.returncode != 0 and not (tolerate and tolerate in proc.stdout + proc.stderr):
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError(f"{Path(cmd[0]).name} failed (exit {proc.returncode}): {cmd}\n{tail}")
    return proc


def tool_version() -> str:
    """The BLAST+ version of :func:`find_blast`'s psiblast."""
    return blast_version(find_blast()[0])


# --- database -------------------------------------------------------------------------------


def build_database(fasta_paths: list[Path], out_dir: Path, threads: int) -> dict:
    """Build the BLAST database ``out_dir/db`` (+ ``db.hashes.tsv``, then ``db.json``); return its
    description. ``threads`` is unused (makeblastdb runs on one core)."""
    del threads
    psiblast, makeblastdb = find_blast()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build_", dir=out_dir) as tmp:
        staging = Path(tmp)
        fasta, hashes = staging / "input.fasta", staging / "hashes.tsv"
        sources, counts = database.write_fasta_database(
            fasta_paths, fasta, hashes, lambda key, _digest: f"lcl|s{key}", staging
        )
        # relative names and cwd: BLAST splits -db/-out at spaces
        _run(
            [makeblastdb, "-in", fasta.name, "-dbtype", "prot", "-parse_seqids",
             "-blastdb_version", "5", "-title", "protrnn", "-out", database.DB_NAME],
            cwd=staging,
        )  # fmt: skip
        fasta.unlink()
        for produced in sorted(staging.glob(f"{database.DB_NAME}.*")):
            os.replace(produced, out_dir / produced.name)
        os.replace(hashes, out_dir / database.DB_HASHES)
    info = database.describe_database(TOOL, blast_version(psiblast), sources, counts)
    atomic_write_text(out_dir / database.DB_INFO, json.dumps(info, indent=2) + "\n")
    return info


# --- ASCII PSSM and hit table ---------------------------------------------------------------

_ROW = re.compile(r"^\s*\d+\s+\S\s")


class AsciiPssm(NamedTuple):
    """The columns of psiblast's ASCII PSSM, in BLAST order."""

    #: L x 20 float32 integer scores (half-bit log-odds)
    scores: np.ndarray
    #: L x 20 float32 weighted observed percentages (0..100)
    observed: np.ndarray
    #: the query residues
    residues: str
    #: L float32 "information per position" (bits)
    information: np.ndarray


def parse_ascii_pssm(text: str) -> AsciiPssm:
    """The scores, weighted observed percentages, residues and information of an ASCII PSSM.

    Columns are mapped by the letters of the header line (the first 20 are the scores)."""
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if len(line.split()) == 2 * N_AA), None)
    if header is None:
        raise ValueError("ASCII PSSM without its column header (40 residue letters)")
    letters = lines[header].split()[:N_AA]
    if sorted(letters) != sorted(AMINO_ACIDS) or letters != lines[header].split()[N_AA:]:
        raise ValueError(f"ASCII PSSM header has unexpected letters: {lines[header]!r}")
    order = [letters.index(a) for a in AMINO_ACIDS]
    scores, observed, residues, information = [], [], [], []
    for line in lines[header + 1 :]:
        if not _ROW.match(line):
            if scores:
                break
            continue
        fields = line.split()
        if len(fields) < 3 + 2 * N_AA or int(fields[0]) != len(scores) + 1:
            raise ValueError(f"ASCII PSSM row {len(scores) + 1} is malformed: {line!r}")
        residues.append(fields[1])
        scores.append([int(v) for v in fields[2 : 2 + N_AA]])
        observed.append([int(v) for v in fields[2 + N_AA : 2 + 2 * N_AA]])
        information.append(float(fields[2 + 2 * N_AA]))
    score_array = np.array(scores, dtype=np.float32).reshape(-1, N_AA)[:, order]
    observed_array = np.array(observed, dtype=np.float32).reshape(-1, N_AA)[:, order]
    # psiblast prints a slightly negative information (-0.01 seen: PDB 4z0c chain D, position
    # 593, against seqdb) where its profile is the background; relative entropy is >= 0
    bits = np.maximum(np.array(information, dtype=np.float32), 0.0)
    return AsciiPssm(score_array, observed_array, "".join(residues), bits)


#: The hit table's columns (``-outfmt 7 ...``): subject, E-value, then the aligned query rows.
HIT_COLUMNS = "sseqid evalue qstart qend qseq sseq"


def parse_hit_alignments(text: str, inclusion: float) -> list[tuple[int, str, str]]:
    """(query start 0-based, query row, subject row) of each HSP of the last round with E-value
    <= ``inclusion`` (hit table columns :data:`HIT_COLUMNS`)."""
    rows: list[tuple[int, str, str]] = []
    for line in text.splitlines():
        if line.startswith("# Iteration:"):
            rows = []
        elif not line.startswith("#"):
            fields = line.split("\t")
            if len(fields) >= 6 and float(fields[1]) <= inclusion:
                rows.append((int(fields[2]) - 1, fields[4], fields[5]))
    return rows


def pssm_extras(pssm: AsciiPssm, alignments: list[tuple[int, str, str]]) -> np.ndarray:
    """The extra columns of a query from its ASCII PSSM and its included HSPs' rows."""
    coverage = extra_columns.Coverage(len(pssm.scores))
    for qstart, query_row, hit_row in alignments:
        coverage.add_aligned(qstart, query_row, hit_row)
    depth, gaps = coverage.arrays()
    return extra_columns.assemble(pssm.observed / 100.0, pssm.information, depth, gaps)


def parse_hit_table(text: str, inclusion: float) -> list[set[str]]:
    """Per round, the subject ids with E-value <= ``inclusion`` (columns :data:`HIT_COLUMNS`)."""
    rounds: list[set[str]] = []
    for line in text.splitlines():
        if line.startswith("# Iteration:"):
            rounds.append(set())
        elif rounds and not line.startswith("#"):
            fields = line.split("\t")  # also skips psiblast's "Search has CONVERGED!" line
            if len(fields) >= 2 and float(fields[1]) <= inclusion:
                rounds[-1].add(fields[0])
    return rounds


# --- search ---------------------------------------------------------------------------------


class _Query:
    """One psiblast run: its files in a private folder named after an internal id."""

    def __init__(self, tmp: Path, ident: str, sequence: str, negative: list[int]) -> None:
        self.dir = tmp / ident
        self.dir.mkdir()
        self.ident = ident
        self.sequence = normalize_sequence(sequence)
        self.negative = negative

    def command(self, psiblast: str, p: dict) -> list[str]:
        (self.dir / "query.fasta").write_text(f">{self.ident}\n{self.sequence}\n")
        cmd = [
            psiblast, "-query", str(self.dir / "query.fasta"), "-db", database.DB_NAME,
            "-num_iterations", str(p["num_iterations"]),
            "-inclusion_ethresh", repr(p["inclusion_ethresh"]), "-evalue", repr(p["evalue"]),
            "-max_target_seqs", str(p["max_target_seqs"]),
            "-comp_based_stats", p["comp_based_stats"], "-num_threads", "1",
            "-outfmt", f"7 {HIT_COLUMNS}", "-out", str(self.dir / "hits.tsv"),
            "-out_ascii_pssm", str(self.dir / "pssm.txt"),
        ]  # fmt: skip
        if p["pssm_after_last_round"]:
            cmd.append("-save_pssm_after_last_round")
        if self.negative:
            ids = "".join(f"lcl|s{key}\n" for key in self.negative)
            (self.dir / "self.ids").write_text(ids)
            cmd += ["-negative_seqidlist", str(self.dir / "self.ids")]
        return cmd

    def result(self, inclusion: float) -> tuple[tuple[np.ndarray, np.ndarray] | None, list]:
        """((PSSM, extra columns), or None when no homologue was included; included subjects
        per round)."""
        hits_path, pssm_path = self.dir / "hits.tsv", self.dir / "pssm.txt"
        table = hits_path.read_text() if hits_path.is_file() else ""
        rounds = parse_hit_table(table, inclusion)
        if not pssm_path.is_file():
            return None, rounds
        pssm = parse_ascii_pssm(pssm_path.read_text())
        if len(pssm.scores) != len(self.sequence) or pssm.residues != self.sequence:
            raise RuntimeError(
                f"psiblast PSSM of query {self.ident} has {len(pssm.scores)} rows / residues "
                f"{pssm.residues[:30]!r}... for {len(self.sequence)} residues "
                f"{self.sequence[:30]!r}..."
            )
        if not pssm.observed.any():
            return None, rounds
        return (pssm.scores, pssm_extras(pssm, parse_hit_alignments(table, inclusion))), rounds


def _new_per_iteration(rounds: dict[int, list[set[str]]]) -> list[int]:
    """Per round, the subjects included for the first time, summed over the queries."""
    n_rounds = max((len(r) for r in rounds.values()), default=0)
    return [
        sum(len(r[k] - set().union(*r[:k])) for r in rounds.values() if k < len(r))
        for k in range(n_rounds)
    ]


def _search_all(
    todo: dict[int, str], db_dir: Path, p: dict, threads: int, workdir: Path, psiblast: str
) -> search.Outcome:
    """Run psiblast on every query (``threads`` at a time) in a fresh folder under ``workdir``."""
    db_hashes = database.read_db_hashes(db_dir / database.DB_NAME)
    pssms: dict[int, np.ndarray] = {}
    extras: dict[int, np.ndarray] = {}
    rounds: dict[int, list[set[str]]] = {}
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="psiblast_", dir=workdir)).resolve()
    try:
        jobs = {
            i: _Query(tmp, f"q{i}", seq, db_hashes.get(sequence_hash(seq), []))
            for i, seq in todo.items()
        }

        def run(i: int) -> tuple[int, tuple[tuple[np.ndarray, np.ndarray] | None, list]]:
            # cwd + relative -db: BLAST splits -db at spaces
            _run(jobs[i].command(psiblast, p), cwd=db_dir, tolerate=_NO_STATISTICS)
            result = jobs[i].result(p["inclusion_ethresh"])
            shutil.rmtree(jobs[i].dir, ignore_errors=True)
            return i, result

        for i, (found, included) in search.map_threads(run, jobs, threads):
            rounds[i] = included
            if found is not None:
                pssms[i], extras[i] = found
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # hits per query: sequences included in the last round (0 when no profile was made)
    hits = {i: len(rounds[i][-1]) if i in pssms and rounds[i] else 0 for i in todo}
    n_self = sum(1 for job in jobs.values() if job.negative)
    return search.Outcome(pssms, hits, _new_per_iteration(rounds), n_self, extras)


def search_profiles(
    queries: dict[str, str], db_dir: Path, params: dict, threads: int, workdir: Path
) -> tuple[search.Profiles, dict]:
    """PSI-BLAST profiles of ``queries`` (key -> sequence) against the database in ``db_dir``.

    Returns key -> L x 20 float32 PSSM (BLAST column order, half-bit log-odds; BLOSUM62 rows when
    no homologue was included), with the extra columns in ``.extras``, and a stats dict.
    Temporary files go to a fresh folder under ``workdir`` (removed at the end); query keys never
    reach a command line or a file name.
    """
    t0 = time.perf_counter()
    p = check_params(dict(params))
    db_dir = Path(db_dir).resolve()
    database.require_database_files(db_dir, DATABASE_FILES, TOOL)
    psiblast, _ = find_blast()
    version = blast_version(psiblast)
    todo = search.searchable(queries)
    outcome = search.Outcome()
    if todo:
        outcome = _search_all(todo, db_dir, p, threads, Path(workdir), psiblast)
    return search.finish(queries, outcome, t0, p, tool=TOOL, version=version, threads=int(threads))

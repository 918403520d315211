"""Iterative HMMER profile search (jackhmmer through pyhmmer), self-hits removed, pip-only.

For machines without BLAST, MMseqs2 or root: ``pip install pyhmmer`` is all it needs.

Database (:func:`build_database`): the sources concatenated into ``{out_dir}/db.fasta``, every
sequence normalised (:func:`protrnn.core.alphabet.normalize_sequence`: upper case, U->C, O->K, other
letters -> X) and named ``{sequence_hash}.{key}`` (key = 0..N-1 in input order), plus
``db.hashes.tsv`` (``key<TAB>sequence_hash`` of the raw sequence) and ``db.json``
(:mod:`protrnn.profiles.database`, so every backend agrees on what an identical copy is).
The FASTA is digitised once per :func:`search_profiles` call.

Search: per query ``pyhmmer.hmmer.jackhmmer`` with HMMER's jackhmmer settings (first round: the
query as a single-sequence HMM with BLOSUM62, gap open 0.02 / extend 0.4; ``hand`` architecture,
so the model keeps one match state per query residue in every round), ``num_iterations`` rounds,
inclusion E-values ``incE`` = ``incdomE`` = 0.001 (PSIPRED's inclusion threshold).

- Self-hits: the query runs against the database without its identical copies (same
  sequence hash): they never enter a round, and E-values use the number of remaining targets,
  so the profile is exactly the one of a database that never held the query.
- Order: hits are sorted by score, ties by name; names start with the sequence hash, so the
  result does not depend on where a sequence sits in the database either.
- Threads: ``threads`` queries run side by side in a thread pool, each with pyhmmer's ``cpus=1``
  (a query must not see its own copies, so every query gets its own target block; pyhmmer
  releases the GIL while it searches).

Output: the HMM built (hand architecture, same builder) from the last round's alignment (query +
included hits), i.e. the profile after the last search like PSI-BLAST's
``-save_pssm_after_last_round``. Match state k is query residue k (the query enters every
alignment with its identity trace over the L consensus columns); this is checked (M == L). Scores:
``2 * log2(p_match / p_background)`` with HMMER's amino-acid background (half-bit log-odds, the
unit of BLOSUM62), float32, not rounded; columns reordered from HMMER's ``ACDEFGHIKLMNPQRSTVWY`` to
BLAST's ``ARNDCQEGHILKMFPSTWYV``. A query whose last alignment holds no hit (or an empty query)
gets exactly :func:`protrnn.profiles.blosum.blosum_profile`. Extra columns
(:mod:`protrnn.profiles.extras`): the same HMM's match emission probabilities, their relative
entropy against BLOSUM62's background, and depth and gap fraction from the rows of the last
round's alignment (each included domain one row, counted over its aligned span).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from protrnn.core.alphabet import AMINO_ACIDS, N_AA, normalize_sequence, sequence_hash
from protrnn.core.fileio import atomic_path, atomic_write_text
from protrnn.core.tools import pyhmmer_version
from protrnn.profiles import database, search
from protrnn.profiles import extras as extra_columns

TOOL = "jackhmmer"
#: The files of a finished database folder (``db.json`` is written last).
DATABASE_FILES = (database.DB_INFO, f"{database.DB_NAME}.fasta", database.DB_HASHES)
#: HMMER's amino-acid order (Easel's alphabet, the first 20 symbols).
HMMER_ORDER = "ACDEFGHIKLMNPQRSTVWY"
#: Column permutation: pssm_blast = pssm_hmmer[:, HMMER_TO_BLAST].
HMMER_TO_BLAST = np.array([HMMER_ORDER.index(a) for a in AMINO_ACIDS], dtype=np.intp)
#: Seed of HMMER's builder (its default; calibration of E-value parameters samples sequences).
BUILDER_SEED = 42

#: Defaults: PSIPRED's recipe (3 iterations, inclusion E-value 0.001) with jackhmmer's settings.
DEFAULT_PARAMS: dict = {
    "num_iterations": 3,  # search rounds (jackhmmer -N); stops earlier when converged
    "inc_evalue": 1e-3,  # per-sequence inclusion E-value (jackhmmer --incE; PSIPRED: 0.001)
    "inc_dom_evalue": 1e-3,  # per-domain inclusion E-value (jackhmmer --incdomE)
    "evalue": 10.0,  # per-sequence reporting E-value (jackhmmer -E)
    "dom_evalue": 10.0,  # per-domain reporting E-value (jackhmmer --domE)
}


def check_params(params: dict) -> dict:
    """Merge ``params`` over :data:`DEFAULT_PARAMS`; reject unknown keys and bad values."""
    merged = search.merge_params(TOOL, params, DEFAULT_PARAMS)
    n = merged["num_iterations"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"num_iterations must be an integer >= 1, got {n!r}")
    for key in ("inc_evalue", "inc_dom_evalue", "evalue", "dom_evalue"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{key} must be a number > 0, got {value!r}")
        merged[key] = float(value)
    return merged


# --- database ---------------------------------------------------------------------------------


def tool_version() -> str:
    """:func:`pyhmmer_version` (the common backend interface)."""
    return pyhmmer_version()


def build_database(fasta_paths: list[Path], out_dir: Path, threads: int) -> dict:
    """Write ``out_dir/db.fasta`` (normalised, named ``{hash}.{key}``), ``db.hashes.tsv`` and, last,
    ``db.json``; return the description. ``threads`` is unused (nothing to index)."""
    del threads
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    hashes = out_dir / database.DB_HASHES
    with atomic_path(out_dir / DATABASE_FILES[1]) as fasta, atomic_path(hashes) as hs:
        sources, counts = database.write_fasta_database(
            fasta_paths, fasta, hs, lambda key, digest: f"{digest}.{key}", out_dir
        )
    info = database.describe_database(TOOL, pyhmmer_version(), sources, counts)
    atomic_write_text(out_dir / database.DB_INFO, json.dumps(info, indent=2) + "\n")
    return info


# --- search ---------------------------------------------------------------------------------


def _import_pyhmmer() -> ModuleType:
    """pyhmmer, imported when a search needs it (building the database does not)."""
    try:
        import pyhmmer
    except ImportError as err:
        raise ImportError(
            "the jackhmmer profile backend needs pyhmmer: pip install 'pyhmmer>=0.10'"
        ) from err
    return pyhmmer


def _name(obj: object) -> str:
    """A pyhmmer name (bytes in older releases, str in newer ones) as str."""
    return obj.decode() if isinstance(obj, bytes) else str(obj)


def hmm_to_pssm(hmm: object, background: object) -> np.ndarray:
    """M x 20 float32 half-bit log-odds (BLAST order) of an HMM's match emissions."""
    emissions = np.asarray(hmm.match_emissions, dtype=np.float64)[1:, :N_AA]  # row 0: begin
    bg = np.asarray(background.residue_frequencies, dtype=np.float64)[:N_AA]
    scores = 2.0 * np.log2(emissions / bg)
    return scores[:, HMMER_TO_BLAST].astype(np.float32)


def hmm_probabilities(hmm: object) -> np.ndarray:
    """M x 20 float64 match emission probabilities (BLAST order) of an HMM."""
    emissions = np.asarray(hmm.match_emissions, dtype=np.float64)[1:, :N_AA]  # row 0: begin
    return emissions[:, HMMER_TO_BLAST]


def _is_gap(row: str) -> np.ndarray:
    codes = np.frombuffer(row.encode("ascii"), dtype=np.uint8)
    return (codes == ord("-")) | (codes == ord("."))


def msa_coverage(query_row: str, rows: list[str], length: int) -> tuple[np.ndarray, np.ndarray]:
    """(depth, gaps) per query position from the hit ``rows`` of an alignment whose query row
    (no insertions: one residue per query position) is ``query_row``; each row counts over its
    aligned span (first to last residue), its flanks are not part of its alignment."""
    coverage = extra_columns.Coverage(length)
    before = np.cumsum(~_is_gap(query_row)) - ~_is_gap(query_row)  # query residues left of col
    for row in rows:
        residues = np.flatnonzero(~_is_gap(row))
        if len(residues):
            a, b = int(residues[0]), int(residues[-1]) + 1
            coverage.add_aligned(int(before[a]), query_row[a:b], row[a:b])
    return coverage.arrays()


def msa_extras(hmm: object, msa: object, ident: str) -> np.ndarray:
    """The extra columns of a query from its HMM and the alignment it was built from."""
    text = msa.textize() if hasattr(msa, "textize") else msa
    names = [_name(n) for n in text.names]
    rows = [text.alignment[k] for k in range(len(names))]
    if ident not in names:
        raise RuntimeError(f"jackhmmer alignment of query {ident} lacks the query row")
    query_row = rows[names.index(ident)]
    others = [r for n, r in zip(names, rows, strict=True) if n != ident]
    probs = hmm_probabilities(hmm)
    depth, gaps = msa_coverage(query_row, others, len(probs))
    information = extra_columns.relative_entropy(extra_columns.normalized(probs))
    return extra_columns.assemble(probs, information, depth, gaps)


class _Searcher:
    """The digitised database and the per-query jackhmmer run."""

    def __init__(self, fasta: Path, p: dict) -> None:
        pyhmmer = _import_pyhmmer()
        self.easel, self.plan7, self.hmmer = pyhmmer.easel, pyhmmer.plan7, pyhmmer.hmmer
        self.alphabet = self.easel.Alphabet.amino()
        if self.alphabet.symbols[:N_AA] != HMMER_ORDER:
            raise RuntimeError(f"unexpected HMMER alphabet {self.alphabet.symbols!r}")
        with self.easel.SequenceFile(str(fasta), digital=True, alphabet=self.alphabet) as fh:
            self.targets = fh.read_block()
        self.positions: dict[str, list[int]] = {}  # sequence hash -> positions in the block
        for i, seq in enumerate(self.targets):
            self.positions.setdefault(_name(seq.name).split(".", 1)[0], []).append(i)
        self.p = p
        self.options = {
            "incE": p["inc_evalue"],
            "incdomE": p["inc_dom_evalue"],
            "E": p["evalue"],
            "domE": p["dom_evalue"],
        }

    def _builder(self) -> object:
        return self.plan7.Builder(self.alphabet, seed=BUILDER_SEED, architecture="hand")

    def targets_without(self, positions: list[int]) -> object:
        """The database block without the sequences at ``positions`` (no copy of the data)."""
        if not positions:
            return self.targets
        drop = set(positions)
        kept = [s for i, s in enumerate(self.targets) if i not in drop]
        return self.easel.DigitalSequenceBlock(self.alphabet, kept)

    def search(self, ident: str, sequence: str) -> tuple[tuple | None, list[int], int, int]:
        """((PSSM, extra columns) or None without hits, new included sequences per round,
        sequences included in the last round, identical copies excluded)."""
        own = self.positions.get(sequence_hash(sequence), [])
        query = self.easel.TextSequence(name=ident.encode(), sequence=normalize_sequence(sequence))
        query = query.digitize(self.alphabet)
        (rounds,) = self.hmmer.jackhmmer(
            query,
            self.targets_without(own),
            max_iterations=int(self.p["num_iterations"]),
            checkpoints=True,
            cpus=1,
            builder=self._builder(),
            **self.options,
        )
        seen: set[str] = set()
        per_round = []
        for result in rounds:
            names = {_name(hit.name) for hit in result.hits.included}
            per_round.append(len(names - seen))
            seen |= names
        last = rounds[-1]
        if len(last.msa.sequences) <= 1:  # the query is one row of every alignment
            return None, per_round, 0, len(own)
        n_hits = len({_name(hit.name) for hit in last.hits.included})
        background = self.plan7.Background(self.alphabet)
        hmm, _, _ = self._builder().build_msa(last.msa, background)
        n_states = int(hmm.M)
        if n_states != len(sequence):
            raise RuntimeError(
                f"jackhmmer model of query {ident} has {n_states} match states for "
                f"{len(sequence)} residues"
            )
        found = (hmm_to_pssm(hmm, background), msa_extras(hmm, last.msa, ident))
        return found, per_round, n_hits, len(own)


def _search_all(todo: dict[int, str], fasta: Path, p: dict, threads: int) -> search.Outcome:
    """jackhmmer of every query, ``threads`` at a time."""
    searcher = _Searcher(fasta, p)
    outcome = search.Outcome()
    rounds: dict[int, list[int]] = {}

    def run(i: int) -> tuple[int, tuple[tuple | None, list[int], int, int]]:
        return i, searcher.search(f"q{i}", todo[i])

    for i, (found, per_round, n_hits, n_own) in search.map_threads(run, todo, threads):
        rounds[i], outcome.hits[i] = per_round, n_hits
        outcome.n_self_in_db += n_own > 0
        if found is not None:
            outcome.pssms[i], outcome.extras[i] = found
    n_rounds = max((len(r) for r in rounds.values()), default=0)
    outcome.per_iteration = [
        sum(r[k] for r in rounds.values() if k < len(r)) for k in range(n_rounds)
    ]
    return outcome


def search_profiles(
    queries: dict[str, str], db_dir: Path, params: dict, threads: int, workdir: Path
) -> tuple[search.Profiles, dict]:
    """jackhmmer profiles of ``queries`` (key -> sequence) against the database in ``db_dir``.

    Returns key -> L x 20 float32 PSSM (BLAST column order, half-bit log-odds; BLOSUM62 rows when
    no hit is included in the last round), with the extra columns in ``.extras``, and a stats
    dict. ``workdir`` is unused (nothing is
    written); it is accepted for the common backend interface.
    """
    del workdir
    t0 = time.perf_counter()
    p = check_params(dict(params))
    db_dir = Path(db_dir)
    database.require_database_files(db_dir, DATABASE_FILES, TOOL)
    database.read_db_hashes(db_dir / database.DB_NAME)  # fails early when the file is broken
    todo = search.searchable(queries)
    fasta = db_dir / DATABASE_FILES[1]
    outcome = _search_all(todo, fasta, p, threads) if todo else search.Outcome()
    version = pyhmmer_version()
    return search.finish(queries, outcome, t0, p, tool=TOOL, version=version, threads=int(threads))

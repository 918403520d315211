"""Iterative HMMER profile search (jackhmmer through pyhmmer), self-hits removed, pip-only.

For machines without BLAST, MMseqs2 or root: ``pip install pyhmmer`` is all it needs.

Database (:func:`build_database`): the sources concatenated into ``{out_dir}/db.fasta``, every
sequence normalised (:func:`protrnn.core.alphabet.normalize_sequence`: upper case, U->C, O->K, other
letters -> X) and named ``{sequence_hash}.{key}`` (key = 0..N-1 in input order), plus
``db.hashes.tsv`` (``key<TAB>sequence_hash`` of the raw sequence) and ``db.json``. The hashes are
those of :func:`protrnn.profiles.database.build_database`, so every backend agrees on what an
identical copy is. The FASTA is digitised once per :func:`search_profiles` call.

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
gets exactly :func:`protrnn.profiles.blosum.blosum_profile`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

import numpy as np

from protrnn.core.alphabet import AMINO_ACIDS, N_AA, normalize_residue, normalize_sequence
from protrnn.core.alphabet import sequence_hash as _sequence_hash
from protrnn.core.fileio import atomic_path, atomic_write_text
from protrnn.profiles.blosum import blosum_profile
from protrnn.profiles.database import _concatenate_fasta, file_sha256, read_db_hashes

TOOL = "jackhmmer"
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
    unknown = sorted(set(params) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(
            f"unknown jackhmmer profile parameter(s) {unknown}; known: {sorted(DEFAULT_PARAMS)}"
        )
    merged = {**DEFAULT_PARAMS, **params}
    n = merged["num_iterations"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"num_iterations must be an integer >= 1, got {n!r}")
    for key in ("inc_evalue", "inc_dom_evalue", "evalue", "dom_evalue"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"{key} must be a number > 0, got {value!r}")
        merged[key] = float(value)
    return merged


# --- database: normalised FASTA with own names + hashes (shared with the psiblast backend) -----

# str.translate table equal to normalize_residue on ASCII (anything else -> X)
_NORMALIZE_TABLE = {c: normalize_residue(chr(c)) for c in range(128)}


def normalize_fast(sequence: str) -> str:
    """:func:`protrnn.core.alphabet.normalize_sequence` via ``str.translate`` (fast on 74M
    residues)."""
    if not sequence.isascii():
        return normalize_sequence(sequence)
    return sequence.translate(_NORMALIZE_TABLE)


def _iter_fasta_sequences(path: Path) -> Iterator[str]:
    """Sequences of a FASTA file, leniently (headers ignored, whitespace and one final '*' removed,
    empty records skipped), as ``mmseqs createdb`` reads them."""

    def finish(chunks: list[str]) -> str:
        seq = "".join("".join(chunks).split())
        return seq[:-1] if seq.endswith("*") else seq

    chunks: list[str] = []
    started = False
    with open(path) as fh:
        for line in fh:
            if line.startswith(">"):
                if started and (seq := finish(chunks)):
                    yield seq
                chunks, started = [], True
            else:
                chunks.append(line)
    if started and (seq := finish(chunks)):
        yield seq


def write_fasta_database(
    fasta_paths: list[Path],
    fasta_out: Path,
    hashes_out: Path,
    header: Callable[[int, str], str],
    work_dir: Path,
) -> dict:
    """Concatenate ``fasta_paths`` (gzip or plain), write every sequence normalised to
    ``fasta_out`` under the name ``header(key, sequence_hash)`` and ``key<TAB>hash`` lines to
    ``hashes_out``; return the database description without ``tool`` and ``version``.

    Keys are 0..N-1 in input order; the hash is :func:`protrnn.core.alphabet.sequence_hash` of the
    raw
    sequence (the self-hit key of every backend). The checksum is computed as in
    :func:`protrnn.profiles.database.build_database`.
    """
    fasta_paths = [Path(p) for p in fasta_paths]
    if not fasta_paths:
        raise ValueError("build_database: no FASTA files given")
    for path in fasta_paths:
        if not path.is_file():
            raise FileNotFoundError(f"database FASTA {path} does not exist")
    file_sums = [file_sha256(p) for p in fasta_paths]
    checksum = hashlib.sha256("".join(file_sums).encode()).hexdigest()
    n_seqs = n_residues = max_len = 0
    fd, concat_name = tempfile.mkstemp(prefix=".concat_", suffix=".fasta", dir=work_dir)
    os.close(fd)
    concatenated = Path(concat_name)
    try:
        _concatenate_fasta(fasta_paths, concatenated)
        with open(fasta_out, "w") as fa, open(hashes_out, "w") as hs:
            for key, seq in enumerate(_iter_fasta_sequences(concatenated)):
                digest = _sequence_hash(seq)
                fa.write(f">{header(key, digest)}\n{normalize_fast(seq)}\n")
                hs.write(f"{key}\t{digest}\n")
                n_seqs += 1
                n_residues += len(seq)
                max_len = max(max_len, len(seq))
    finally:
        concatenated.unlink(missing_ok=True)
    if n_seqs == 0:
        raise ValueError(f"no sequences in {', '.join(map(str, fasta_paths))}")
    return {
        "checksum": checksum,
        "checksum_method": "sha256 of the concatenated sha256 hex digests of the sources, in order",
        "n_sequences": n_seqs,
        "n_residues": n_residues,
        "max_length": max_len,
        "sources": [
            {"path": str(p), "sha256": s} for p, s in zip(fasta_paths, file_sums, strict=True)
        ],
    }


def pyhmmer_version() -> str:
    """``pyhmmer X.Y.Z`` (HMMER is bundled in the wheel), or a note when it is not installed."""
    try:
        import pyhmmer
    except ImportError:
        return "pyhmmer not installed"
    return f"pyhmmer {pyhmmer.__version__}"


def build_database(fasta_paths: list[Path], out_dir: Path, threads: int) -> dict:
    """Write ``out_dir/db.fasta`` (normalised, named ``{hash}.{key}``), ``db.hashes.tsv`` and, last,
    ``db.json``; return the description. ``threads`` is unused (nothing to index)."""
    del threads
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / "db.fasta") as fasta, atomic_path(out_dir / "db.hashes.tsv") as hs:
        info = write_fasta_database(
            fasta_paths, fasta, hs, lambda key, digest: f"{digest}.{key}", out_dir
        )
    info = {"tool": TOOL, "version": pyhmmer_version(), **info}
    atomic_write_text(out_dir / "db.json", json.dumps(info, indent=2) + "\n")
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

    def search(self, ident: str, sequence: str) -> tuple[np.ndarray | None, list[int], int, int]:
        """(PSSM or None without hits, new included sequences per round, sequences included in the
        last round, identical copies excluded)."""
        own = self.positions.get(_sequence_hash(sequence), [])
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
        return hmm_to_pssm(hmm, background), per_round, n_hits, len(own)


def search_profiles(
    queries: dict[str, str], db_dir: Path, params: dict, threads: int, workdir: Path
) -> tuple[dict[str, np.ndarray], dict]:
    """jackhmmer profiles of ``queries`` (key -> sequence) against the database in ``db_dir``.

    Returns key -> L x 20 float32 PSSM (BLAST column order, half-bit log-odds; BLOSUM62 rows when
    no hit is included in the last round) and a stats dict. ``workdir`` is unused (nothing is
    written); it is accepted for the common backend interface.
    """
    del workdir
    t0 = time.perf_counter()
    p = check_params(dict(params))
    db_dir = Path(db_dir)
    fasta = db_dir / "db.fasta"
    if not (db_dir / "db.json").is_file() or not fasta.is_file():
        raise FileNotFoundError(f"jackhmmer database {db_dir} not found (db.json, db.fasta)")
    read_db_hashes(db_dir / "db")  # fails early when the hashes file is missing or broken
    names = list(queries)
    searchable = {i: queries[name] for i, name in enumerate(names) if queries[name]}
    pssms: dict[int, np.ndarray] = {}
    rounds: dict[int, list[int]] = {}
    n_self_in_db = 0
    hits: dict[int, int] = {}
    if searchable:
        searcher = _Searcher(fasta, p)

        def run(i: int) -> tuple[int, tuple[np.ndarray | None, list[int], int, int]]:
            return i, searcher.search(f"q{i}", searchable[i])

        workers = max(1, min(int(threads), len(searchable)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for i, (pssm, per_round, n_hits, n_own) in pool.map(run, searchable):
                rounds[i], hits[i] = per_round, n_hits
                n_self_in_db += n_own > 0
                if pssm is not None:
                    pssms[i] = pssm
    profiles = {}
    for i, name in enumerate(names):
        profiles[name] = pssms[i] if i in pssms else blosum_profile(queries[name])
        if profiles[name].shape != (len(queries[name]), N_AA):
            raise RuntimeError(f"profile of {name} has shape {profiles[name].shape}")
    n_rounds = max((len(r) for r in rounds.values()), default=0)
    per_iteration = [sum(r[k] for r in rounds.values() if k < len(r)) for k in range(n_rounds)]
    counts = list(hits.values())
    stats = {
        "n_queries": len(names),
        "n_no_hits": len(names) - len(pssms),
        "n_empty": len(names) - len(searchable),
        "n_self_in_db": n_self_in_db,
        "mean_hits_per_query": round(float(np.mean(counts)), 2) if counts else 0.0,
        "median_hits_per_query": float(np.median(counts)) if counts else 0.0,
        "hits_per_iteration": per_iteration,
        "seconds": round(time.perf_counter() - t0, 2),
        "params": p,
        "unit": "half-bit log-odds",
        "column_order": AMINO_ACIDS,
        "tool": TOOL,
        "version": pyhmmer_version(),
        "threads": int(threads),
    }
    return profiles, stats

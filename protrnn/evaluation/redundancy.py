"""Test chains similar to training chains: MMseqs2 search of a test set against the training set.

A test protein is *redundant* when MMseqs2 finds a significant alignment (E-value at most
``evalue``) to any protein the models trained or were validated on with sequence identity at
least ``min_identity`` (default 25 %, the usual cut-off of secondary-structure benchmarks). The
report shows every test set's accuracy on all proteins and on the non-redundant ones only.

The alignments are Smith-Waterman with backtrace (``align --alignment-mode 3``: exact identity,
E-value against the training set's size), as ``easy-search`` computes them. Which training
chains get aligned to a test chain is decided in two passes; a chain flagged by the first is
not searched again, so the second pass finds exactly what it would find alone:

1. quick: the k-mer prefilter at ``-s`` :data:`QUICK_SENSITIVITY` proposes candidates; this
   finds the close homologues (most redundant chains) in seconds. It has a fixed cost (its
   k-mer table) and runs only where the thorough pass would cost more
   (:data:`QUICK_PASS_MIN_CELLS`): it saves time, it changes no result.
2. thorough, for the chains still unflagged: every training chain is scored by an ungapped
   alignment over all diagonals (``ungappedprefilter``, all against all, no k-mer seeds) and
   the ``max_candidates`` best are aligned.

Alignment stops at the first significant hit (``--max-accept 1``), so ``train_id``,
``identity``, ``evalue`` and ``aln_length`` describe that hit: the first training chain in
prefilter order that meets both thresholds. Until this version one ``easy-search -s 7.5`` per
test set (k-mer prefilter, 300 candidates) was used; ``bench/redundancy_speed.py`` shows that
the two passes flag every chain it flagged (and a few whose homologue its k-mer prefilter
missed) in a fraction of its time. Identical test sequences are searched once.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd

from protrnn.core.fasta import write_fasta
from protrnn.core.tools import run_mmseqs

DEFAULTS = {"min_identity": 0.25, "evalue": 0.001, "max_candidates": 300}
COLUMNS = ["id", "redundant", "train_id", "identity", "evalue", "aln_length"]
HIT_COLUMNS = ["query", "target", "fident", "evalue", "alnlen"]

#: k-mer sensitivity of the quick pass (speed only: the thorough pass covers what it misses).
QUICK_SENSITIVITY = 4.0
#: The quick pass's prefilter: module and options.
QUICK_PREFILTER: list[str | float | int] = ["prefilter", "-s", QUICK_SENSITIVITY]
#: Test x training residues above which the quick pass runs first (below it costs more than
#: it saves: the all-against-all pass of CB513 against 5,000 training chains takes seconds).
QUICK_PASS_MIN_CELLS = 5e11
#: E-value cap of the ungapped scores: none, every training chain is ranked.
NO_CAP = "1e30"


def _mmseqs_db(mmseqs: str, records: list[tuple[str, str]], prefix: Path) -> Path:
    """An MMseqs2 sequence database of ``records`` (FASTA written next to it)."""
    write_fasta(records, prefix.with_suffix(".fasta"))
    run_mmseqs(mmseqs, ["createdb", prefix.with_suffix(".fasta"), prefix, "-v", "1"])
    return prefix


def _search(
    mmseqs: str,
    query: Path,
    target: Path,
    prefilter: list[str | float | int],
    settings: dict,
    threads: int,
) -> pd.DataFrame:
    """Prefilter (``prefilter`` = module and options), align, convert: the accepted hits."""
    work = query.parent
    pref, aln, tsv = (work / f"{query.name}_{s}" for s in ("pref", "aln", "hits.tsv"))
    common = ["--threads", threads, "-v", "1"]
    run_mmseqs(mmseqs, [prefilter[0], query, target, pref, *prefilter[1:], *common])
    align = ["-e", settings["evalue"], "--min-seq-id", settings["min_identity"]]
    align += ["--alignment-mode", 3, "--max-accept", 1]
    run_mmseqs(mmseqs, ["align", query, target, pref, aln, *align, *common])
    output = ["--format-output", ",".join(HIT_COLUMNS)]
    run_mmseqs(mmseqs, ["convertalis", query, target, aln, tsv, *output, *common])
    return pd.read_csv(tsv, sep="\t", names=HIT_COLUMNS, dtype={"query": str, "target": str})


def _significant(hits: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """The hits that meet both thresholds (as written by convertalis)."""
    keep = (hits["fident"] >= settings["min_identity"]) & (hits["evalue"] <= settings["evalue"])
    return hits[keep]


def _two_pass_hits(
    mmseqs: str,
    queries: dict[str, str],
    targets: Path,
    train_residues: int,
    settings: dict,
    threads: int,
) -> pd.DataFrame:
    """Significant hits of the quick pass (if worth it), then of the thorough pass for the rest."""
    work = targets.parent
    rest = list(queries.items())
    quick = pd.DataFrame(columns=HIT_COLUMNS)
    if sum(len(s) for s in queries.values()) * train_residues > QUICK_PASS_MIN_CELLS:
        query_db = _mmseqs_db(mmseqs, rest, work / "quick")
        quick = _search(mmseqs, query_db, targets, QUICK_PREFILTER, settings, threads)
        quick = _significant(quick, settings)
        flagged = set(quick["query"])
        rest = [(key, seq) for key, seq in rest if key not in flagged]
    if not rest:
        return quick
    ungapped = ["ungappedprefilter", "--max-seqs", settings["max_candidates"], "-e", NO_CAP]
    query_db = _mmseqs_db(mmseqs, rest, work / "thorough")
    thorough = _search(mmseqs, query_db, targets, ungapped, settings, threads)
    thorough = _significant(thorough, settings)
    return pd.concat([quick, thorough], ignore_index=True) if len(quick) else thorough


def flag_table(
    test: dict[str, str], query_of: dict[str, str], train_ids: dict[str, str], hits: pd.DataFrame
) -> pd.DataFrame:
    """One row per test protein from the significant hits of its (deduplicated) sequence."""
    best = hits.sort_values(["query", "fident", "evalue"], ascending=[True, False, True])
    best = best.drop_duplicates("query").set_index("query")
    rows = []
    for name in test:
        key = query_of[name]
        if key in best.index:
            hit = best.loc[key]
            rows.append(
                [name, True, train_ids[hit["target"]], hit["fident"], hit["evalue"], hit["alnlen"]]
            )
        else:
            rows.append([name, False, "", float("nan"), float("nan"), 0])
    return pd.DataFrame(rows, columns=COLUMNS)


def flag_redundant(
    test: dict[str, str],
    train: dict[str, str],
    mmseqs: str,
    threads: int = 1,
    min_identity: float = DEFAULTS["min_identity"],
    evalue: float = DEFAULTS["evalue"],
    max_candidates: int = DEFAULTS["max_candidates"],
    workdir: Path | None = None,
) -> pd.DataFrame:
    """One row per test protein (``COLUMNS``): whether it is redundant, and its hit (if any).

    ``test`` and ``train`` map protein ids to sequences; ``workdir`` holds the temporary files.
    """
    settings = {"min_identity": min_identity, "evalue": evalue, "max_candidates": max_candidates}
    if not test:
        return pd.DataFrame(columns=COLUMNS)
    unique = {seq: f"q{i}" for i, seq in enumerate(dict.fromkeys(test.values()))}
    query_of = {name: unique[seq] for name, seq in test.items()}
    train_ids = {f"t{i}": name for i, name in enumerate(train)}
    hits = pd.DataFrame(columns=HIT_COLUMNS)
    if train:
        tmp = Path(tempfile.mkdtemp(prefix="protrnn_redundancy_", dir=workdir))
        try:
            targets = _mmseqs_db(
                mmseqs, [(k, train[v]) for k, v in train_ids.items()], tmp / "train"
            )
            queries = {key: seq for seq, key in unique.items()}
            residues = sum(len(s) for s in train.values())
            hits = _two_pass_hits(mmseqs, queries, targets, residues, settings, int(threads))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return flag_table(test, query_of, train_ids, hits)

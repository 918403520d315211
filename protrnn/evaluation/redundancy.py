"""Test chains similar to training chains: MMseqs2 search of the test set against the training set.

A test protein is *redundant* when MMseqs2 finds a significant alignment (E-value at most
``evalue``) to any protein the models trained or were validated on with sequence identity at
least ``min_identity`` (default 25 %, the usual cut-off of secondary-structure benchmarks). The
report shows every test set's accuracy on all proteins and on the non-redundant ones only.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd

from protrnn.core.fasta import write_fasta
from protrnn.profiles.database import run_mmseqs

DEFAULTS = {"min_identity": 0.25, "evalue": 0.001, "sensitivity": 7.5}
COLUMNS = ["id", "redundant", "train_id", "identity", "evalue", "aln_length"]


def flag_redundant(
    test: dict[str, str],
    train: dict[str, str],
    mmseqs: str,
    threads: int = 1,
    min_identity: float = DEFAULTS["min_identity"],
    evalue: float = DEFAULTS["evalue"],
    sensitivity: float = DEFAULTS["sensitivity"],
    workdir: Path | None = None,
) -> pd.DataFrame:
    """One row per test protein: whether it is redundant, and its best training hit (if any)."""
    if not test:
        return pd.DataFrame(columns=COLUMNS)
    tmp = Path(tempfile.mkdtemp(prefix="protrnn_redundancy_", dir=workdir))
    try:
        test_ids = {f"q{i}": name for i, name in enumerate(test)}
        train_ids = {f"t{i}": name for i, name in enumerate(train)}
        write_fasta([(k, test[v]) for k, v in test_ids.items()], tmp / "test.fasta")
        write_fasta([(k, train[v]) for k, v in train_ids.items()], tmp / "train.fasta")
        hits = pd.DataFrame(columns=["query", "target", "fident", "evalue", "alnlen"])
        if train:
            run_mmseqs(
                mmseqs,
                [
                    "easy-search",
                    tmp / "test.fasta",
                    tmp / "train.fasta",
                    tmp / "hits.tsv",
                    tmp / "work",
                    "--format-output",
                    "query,target,fident,evalue,alnlen",
                    "-s",
                    sensitivity,
                    "-e",
                    evalue,
                    "--min-seq-id",
                    min_identity,
                    "--threads",
                    threads,
                    "-v",
                    "1",
                ],
            )
            hits = pd.read_csv(
                tmp / "hits.tsv",
                sep="\t",
                names=["query", "target", "fident", "evalue", "alnlen"],
                dtype={"query": str, "target": str},
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    hits = hits[(hits["fident"] >= min_identity) & (hits["evalue"] <= evalue)]
    best = hits.sort_values(["query", "fident", "evalue"], ascending=[True, False, True])
    best = best.drop_duplicates("query").set_index("query")
    rows = []
    for key, name in test_ids.items():
        if key in best.index:
            hit = best.loc[key]
            rows.append(
                [name, True, train_ids[hit["target"]], hit["fident"], hit["evalue"], hit["alnlen"]]
            )
        else:
            rows.append([name, False, "", float("nan"), float("nan"), 0])
    return pd.DataFrame(rows, columns=COLUMNS)

"""Redundancy check, old procedure against new: times, ratios and the flagged chains per test set.

Usage: python bench/redundancy_speed.py DATASETS_DIR [--config config/config.yaml] [--threads 2]
           [--old-results DIR] [--only old|new|both]

DATASETS_DIR holds the parsed tables (``results/datasets/{name}.tsv.gz``) of a run with that config.
For every experiment the training set is its training dataset's train + valid proteins and each test
set its dataset's ``test`` proteins, as rule ``redundancy`` takes them; each test set is one job.

- OLD (the procedure until this benchmark, kept here verbatim): one ``mmseqs easy-search -s 7.5``
  per test set (k-mer prefilter, 300 candidates per chain, alignment of all of them).
- NEW (:func:`protrnn.evaluation.redundancy.flag_redundant`, as scripts/redundancy.py runs it,
  with ``OMP_WAIT_POLICY=PASSIVE``): for large sets a quick k-mer pass, then an all-against-all
  ungapped ranking and alignment of the best candidates for the chains left, alignment stopping
  at the first significant hit (see that module).

Both flag a chain for an alignment with identity >= 25 % and E <= 0.001. The script prints wall
and CPU seconds (user + system of the mmseqs processes; less sensitive to other load than wall
time) per experiment and procedure, their ratios, and per test set the flagged counts. It fails
when NEW misses a chain OLD flags; chains only NEW flags are listed (each has such an alignment).
``--old-results DIR`` keeps OLD's flags and times in DIR (written on the first run, read on
later ones) so that the slow procedure runs only once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from protrnn.config import selected_experiments, validate_config  # noqa: E402
from protrnn.core.fasta import write_fasta  # noqa: E402
from protrnn.core.tools import find_mmseqs, run_mmseqs  # noqa: E402
from protrnn.data.table import read_table  # noqa: E402
from protrnn.evaluation import redundancy  # noqa: E402

Sequences = dict[str, str]

#: Today's settings until this benchmark (config ``redundancy``).
OLD_SETTINGS = {"min_identity": 0.25, "evalue": 0.001, "sensitivity": 7.5}


def child_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_experiments(datasets: Path, config_path: Path) -> dict[str, tuple[Sequences, dict]]:
    """Experiment -> (training sequences, {test set: sequences}), as rule redundancy reads them."""
    config = validate_config(yaml.safe_load(config_path.read_text()))
    out: dict[str, tuple[Sequences, dict]] = {}
    for name in selected_experiments(config):
        spec = config["experiments"][name]
        train = read_table(datasets / f"{spec['train_dataset']}.tsv.gz")
        train = train[train["split"] != "test"]
        tests = {}
        for test_set, test_spec in spec["test_sets"].items():
            table = read_table(datasets / f"{test_spec['dataset']}.tsv.gz")
            table = table[table["split"] == "test"]
            tests[test_set] = dict(zip(table["id"], table["sequence"], strict=True))
        out[name] = (dict(zip(train["id"], train["sequence"], strict=True)), tests)
    return out


def old_flag_redundant(
    test: Sequences, train: Sequences, mmseqs: str, threads: int, settings: dict
) -> pd.DataFrame:
    """The procedure until this benchmark: one easy-search per test set (kept here verbatim; the
    table of flags is built as the workflow builds it)."""
    min_identity, evalue = settings["min_identity"], settings["evalue"]
    tmp = Path(tempfile.mkdtemp(prefix="protrnn_redundancy_old_"))
    try:
        test_ids = {f"q{i}": name for i, name in enumerate(test)}
        train_ids = {f"t{i}": name for i, name in enumerate(train)}
        write_fasta([(k, test[v]) for k, v in test_ids.items()], tmp / "test.fasta")
        write_fasta([(k, train[v]) for k, v in train_ids.items()], tmp / "train.fasta")
        args = ["easy-search", tmp / "test.fasta", tmp / "train.fasta", tmp / "hits.tsv"]
        args += [tmp / "work", "--format-output", "query,target,fident,evalue,alnlen"]
        args += ["-s", settings["sensitivity"], "-e", evalue, "--min-seq-id", min_identity]
        run_mmseqs(mmseqs, [*args, "--threads", threads, "-v", "1"])
        hits = pd.read_csv(
            tmp / "hits.tsv",
            sep="\t",
            names=["query", "target", "fident", "evalue", "alnlen"],
            dtype={"query": str, "target": str},
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    hits = hits[(hits["fident"] >= min_identity) & (hits["evalue"] <= evalue)]
    query_of = {name: key for key, name in test_ids.items()}
    return redundancy.flag_table(test, query_of, train_ids, hits)


def timed_runs(experiments: dict, flag) -> tuple[dict, dict]:
    """Flags per (experiment, test set) and (wall, CPU) seconds per experiment of ``flag``."""
    flags, seconds = {}, {}
    for name, (train, tests) in experiments.items():
        start, cpu = time.perf_counter(), child_cpu()
        for test_set, test in tests.items():
            flags[name, test_set] = flag(test, train)
            print(f"{name}/{test_set}: {time.perf_counter() - start:.0f} s", flush=True)
        seconds[name] = {"wall": time.perf_counter() - start, "cpu": child_cpu() - cpu}
    return flags, seconds


def run_old(experiments: dict, mmseqs: str, threads: int) -> tuple[dict, dict]:
    return timed_runs(
        experiments,
        lambda test, train: old_flag_redundant(test, train, mmseqs, threads, OLD_SETTINGS),
    )


def run_new(experiments: dict, mmseqs: str, threads: int) -> tuple[dict, dict]:
    """As rule redundancy runs it: with ``OMP_WAIT_POLICY=PASSIVE`` (scripts/redundancy.py)."""
    before = os.environ.get("OMP_WAIT_POLICY")
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        return timed_runs(
            experiments,
            lambda test, train: redundancy.flag_redundant(test, train, mmseqs, threads=threads),
        )
    finally:
        if before is None:
            del os.environ["OMP_WAIT_POLICY"]
        else:
            os.environ["OMP_WAIT_POLICY"] = before


def save_old(directory: Path, flags: dict, seconds: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for (name, test_set), table in flags.items():
        table.to_csv(directory / f"{name}.{test_set}.tsv", sep="\t", index=False)
    (directory / "old_seconds.json").write_text(json.dumps(seconds, indent=2) + "\n")


def load_old(directory: Path, experiments: dict) -> tuple[dict, dict]:
    seconds = json.loads((directory / "old_seconds.json").read_text())
    # an early version stored wall seconds only
    nan = float("nan")
    seconds = {k: v if isinstance(v, dict) else {"wall": v, "cpu": nan} for k, v in seconds.items()}
    flags = {
        (name, test_set): pd.read_csv(
            directory / f"{name}.{test_set}.tsv", sep="\t", dtype={"id": str, "train_id": str}
        )
        for name, (_, tests) in experiments.items()
        for test_set in tests
    }
    return flags, seconds


def flagged(table: pd.DataFrame) -> set[str]:
    return set(table.loc[table["redundant"].astype(bool), "id"].astype(str))


def compare(experiments: dict, old: dict, new: dict) -> pd.DataFrame:
    """One row per test set: sizes, flagged counts of both procedures, ids only one flags."""
    rows = []
    for name, (train, tests) in experiments.items():
        for test_set, test in tests.items():
            a, b = flagged(old[name, test_set]), flagged(new[name, test_set])
            rows.append(
                {
                    "experiment": name,
                    "test_set": test_set,
                    "test_chains": len(test),
                    "train_chains": len(train),
                    "flagged_old": len(a),
                    "flagged_new": len(b),
                    "only_old": sorted(a - b),
                    "only_new": sorted(b - a),
                }
            )
    return pd.DataFrame(rows)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--old-results", type=Path, help="cache of OLD's flags and times")
    parser.add_argument(
        "--only",
        choices=("old", "new", "both"),
        default="both",
        help="old: run OLD (and cache it); new: run NEW only, compared with a cached OLD if any",
    )
    args = parser.parse_args(argv)
    experiments = load_experiments(args.datasets, args.config)
    mmseqs = find_mmseqs()
    old = old_s = None
    if args.old_results is not None and (args.old_results / "old_seconds.json").exists():
        old, old_s = load_old(args.old_results, experiments)
    elif args.only != "new":
        old, old_s = run_old(experiments, mmseqs, args.threads)
        if args.old_results is not None:
            save_old(args.old_results, old, old_s)
    if args.only == "old":
        print(json.dumps(old_s, indent=2))
        return
    new, new_s = run_new(experiments, mmseqs, args.threads)
    if old is None:
        print(json.dumps(new_s, indent=2))
        for (name, test_set), table in new.items():
            print(name, test_set, len(flagged(table)), "of", len(table), "flagged")
        return
    print_times(experiments, old_s, new_s)
    table = compare(experiments, old, new)
    shown = table.assign(only_old=table["only_old"].map(len), only_new=table["only_new"].map(len))
    print(shown.to_string(index=False))
    for row in table.itertuples():
        if row.only_new:
            print(f"only NEW flags in {row.test_set}: {', '.join(row.only_new[:10])}", end="")
            print(f" (+{len(row.only_new) - 10} more)" if len(row.only_new) > 10 else "")
    missed = table[table["only_old"].str.len() > 0]
    if not missed.empty:
        sys.exit(f"NEW misses chains OLD flags in {len(missed)} test set(s):\n{missed.to_string()}")
    print(
        f"NEW flags every chain OLD flags; {int(table['only_new'].str.len().sum())} chains "
        "only NEW flags (listed in only_new)"
    )


def print_times(experiments: dict, old_s: dict, new_s: dict) -> None:
    """Markdown table: wall and CPU seconds of both procedures per experiment, and ratios."""
    heads = ["old wall (s)", "new wall (s)", "ratio", "old CPU (s)", "new CPU (s)", "ratio"]
    print("| experiment | " + " | ".join(heads) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rows = [(name, old_s[name], new_s[name]) for name in experiments]
    total = {k: sum(r[1][k] for r in rows) for k in ("wall", "cpu")}
    rows.append(("all", total, {k: sum(r[2][k] for r in rows) for k in ("wall", "cpu")}))
    for name, old, new in rows:
        cells = [f"{old[k]:.1f} | {new[k]:.1f} | {old[k] / new[k]:.1f}" for k in ("wall", "cpu")]
        print(f"| {name} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Scale check: the job graph of a run over a million proteins is built fast and has jobs per shard.

Usage: python bench/scale_dry_run.py [--proteins 1000000 100000] [--shards 10 100 1000]
           [--materialize] [--workdir DIR]

Writes a generated NetSurfP-style CSV (random sequences, lengths 30-300) per protein count, adds it
as a dataset from a local path (`files.<key>.path`) and as the training dataset of an experiment
with one model tested on CB513, and times `snakemake --dry-run` for each shard count. With
--materialize the download and parse jobs of the generated dataset are run first, so the dry run
sees the parsed million-protein table (the state a real rerun is in). Prints one markdown table:
proteins, shards, total jobs, profile jobs, dry-run seconds. The job count depends on the shards,
never on the proteins.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LETTERS = np.frombuffer(b"ARNDCQEGHILKMFPSTWYV", dtype=np.uint8)


def write_proteins(path: Path, n: int, seed: int = 0) -> None:
    """A NetSurfP-style CSV (input, dssp3, dssp8, disorder) of ``n`` random proteins."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as out:
        out.write("input,dssp3,dssp8,disorder\n")
        for start in range(0, n, 10_000):
            rows = []
            for length in rng.integers(30, 300, size=min(10_000, n - start)):
                seq = " ".join(LETTERS[rng.integers(0, 20, size=length)].tobytes().decode())
                coil = " ".join("C" * length)
                rows.append(f"{seq},{coil},{coil},{' '.join('1' * length)}\n")
            out.write("".join(rows))


def scale_config(path: Path, data: Path, shards: int) -> None:
    path.write_text(
        f"""files:
  scale_csv: {{path: {data}, sha256: null}}
datasets:
  scale:
    format: netsurfp_csv
    task: per_residue
    files: {{csv: scale_csv}}
    split: train
    shards: {shards}
experiments:
  scale:
    train_dataset: scale
    models: [bigru]
    test_sets:
      scale_cb513: {{dataset: cb513}}
train:
  experiments: [scale]
presets:
  cpu:
    max_train_proteins: null
"""
    )


def snakemake(
    workdir: Path, configs: list[Path], mirror: str, *extra: str
) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(ROOT / "config" / "config.yaml"),
        *map(str, configs),
        "--config",
        f"mirror={mirror}",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True)


def job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1].split("total")[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--proteins", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--shards", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--materialize", action="store_true")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/protrnn_scale"))
    parser.add_argument("--mirror", default=str(ROOT.parent / "shared" / "data"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print("| proteins | shards | jobs | profile_search jobs | dry run (s) | table parsed |")
    print("|---:|---:|---:|---:|---:|---|")
    for n in args.proteins:
        data = args.workdir / f"proteins_{n}.csv"
        if not data.exists():
            t0 = time.perf_counter()
            write_proteins(data, n)
            print(f"<!-- wrote {data} in {time.perf_counter() - t0:.0f} s -->", file=sys.stderr)
        work = args.workdir / f"run_{n}"
        work.mkdir(exist_ok=True)
        for k, shards in enumerate(args.shards):
            config = work / f"scale_{shards}.yaml"
            scale_config(config, data.resolve(), shards)
            if args.materialize and k == 0:
                # the shard count is not a parse parameter: one parsed table serves every count
                made = snakemake(
                    work, [config], args.mirror, "--cores", "2", "results/datasets/scale.tsv.gz"
                )
                if made.returncode != 0:
                    sys.exit(made.stderr[-3000:])
            t0 = time.perf_counter()
            dry = snakemake(work, [config], args.mirror, "--dry-run")
            seconds = time.perf_counter() - t0
            if dry.returncode != 0:
                sys.exit(dry.stderr[-3000:])
            counts = job_counts(dry.stdout)
            parsed = (work / "results" / "datasets" / "scale.tsv.gz").exists()
            print(
                f"| {n:,} | {shards} | {sum(counts.values())} | {counts.get('profile_search', 0)} "
                f"| {seconds:.1f} | {'yes' if parsed else 'no'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

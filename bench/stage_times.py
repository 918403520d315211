"""Summarise a finished run's Snakemake benchmark files per stage (markdown table on stdout).

Usage: python bench/stage_times.py RUN_DIR
RUN_DIR is the workflow's working directory (holding benchmarks/). For each stage (the first folder
under benchmarks/) it prints the number of jobs, the sum of job wall times (CPU-parallel jobs overlap,
so the sum can exceed the stage's elapsed time) and the longest job, plus the peak memory.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def stage_table(run_dir: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((run_dir / "benchmarks").rglob("*.tsv")):
        relative = path.relative_to(run_dir / "benchmarks")
        stage = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        bench = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "stage": stage,
                "job": str(relative),
                "s": float(bench["s"].iloc[-1]),
                "max_rss_mb": float(pd.to_numeric(bench["max_rss"], errors="coerce").max()),
            }
        )
    jobs = pd.DataFrame(rows)
    summary = jobs.groupby("stage", sort=False).agg(
        jobs=("job", "count"),
        sum_s=("s", "sum"),
        longest_s=("s", "max"),
        peak_rss_mb=("max_rss_mb", "max"),
    )
    return summary.reset_index()


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit(__doc__)
    table = stage_table(Path(argv[1]))
    print("| stage | jobs | sum of job wall times (s) | longest job (s) | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    for row in table.itertuples():
        print(
            f"| {row.stage} | {row.jobs} | {row.sum_s:.0f} | {row.longest_s:.0f} | "
            f"{row.peak_rss_mb:.0f} |"
        )


if __name__ == "__main__":
    main(sys.argv)

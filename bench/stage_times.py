"""Summarise a finished run's Snakemake benchmark files per stage (markdown table on stdout).

Usage: python bench/stage_times.py RUN_DIR
RUN_DIR is the workflow's working directory (holding benchmarks/). For each stage (the first
folder under benchmarks/) it prints the number of jobs, the sum of job wall times (parallel jobs
overlap, so the sum can exceed the stage's elapsed time), the longest job and the peak memory.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
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


def rule_spans(run_dir: Path) -> dict[str, tuple[datetime, datetime]]:
    """First start and last finish of every rule, from the newest Snakemake log of the run."""
    logs = sorted((run_dir / ".snakemake" / "log").glob("*.snakemake.log"))
    spans: dict[str, list[datetime]] = {}
    stamp: datetime | None = None
    for line in logs[-1].read_text().splitlines() if logs else []:
        if line.startswith("[") and line.endswith("]"):
            stamp = datetime.strptime(line.strip("[]"), "%a %b %d %H:%M:%S %Y")
        elif stamp and (match := re.match(r"(?:local)?rule (\w+):", line)):
            span = spans.setdefault(match.group(1), [stamp, stamp])
            span[0] = min(span[0], stamp)
        elif stamp and (match := re.search(r"\(Rule: (\w+)\)", line)):
            span = spans.setdefault(match.group(1), [stamp, stamp])
            span[1] = max(span[1], stamp)
    return {rule: (start, end) for rule, (start, end) in spans.items()}


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit(__doc__)
    run_dir = Path(argv[1])
    table = stage_table(run_dir)
    print("| stage | jobs | sum of job wall times (s) | longest job (s) | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    for row in table.itertuples():
        print(
            f"| {row.stage} | {row.jobs} | {row.sum_s:.0f} | {row.longest_s:.0f} | "
            f"{row.peak_rss_mb:.0f} |"
        )
    spans = rule_spans(run_dir)
    if spans:
        print()
        print("| rule | first job started | last job finished | elapsed (s) |")
        print("|---|---|---|---:|")
        for rule, (start, end) in sorted(spans.items(), key=lambda item: item[1][0]):
            elapsed = (end - start).total_seconds()
            print(f"| {rule} | {start:%H:%M:%S} | {end:%H:%M:%S} | {elapsed:.0f} |")
        first = min(start for start, _ in spans.values())
        last = max(end for _, end in spans.values())
        print(
            f"| **whole run** | {first:%H:%M:%S} | {last:%H:%M:%S} | "
            f"{(last - first).total_seconds():.0f} |"
        )


if __name__ == "__main__":
    main(sys.argv)

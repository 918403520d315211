"""Snakemake honours ``--cores``: jobs never use more cores together than were given.

Snakemake 9.10-9.16 could start jobs without taking their cores from the pool after a job that
others wait for had finished (snakemake#3913): with ``--cores 1`` the workflow's profile jobs
ran three at a time after ``profile_database``. The lock pins a release with the fix; this test
runs that job graph (one job all others need, then jobs of one thread each) with the installed
Snakemake and fails when two jobs overlap.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

SNAKEFILE = """
rule all:
    input: expand("job{n}.txt", n=range(4))

rule common:
    output: "common.txt"
    threads: 1
    shell: "touch {output}"

rule job:
    input: "common.txt"
    output: "job{n}.txt"
    threads: 1
    shell: "date +%s.%N > {output}; sleep 1.5; date +%s.%N >> {output}"
"""


def test_jobs_never_exceed_the_cores_given(tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    command = [sys.executable, "-m", "snakemake", "--cores", "1", "--quiet"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    spans = sorted(
        tuple(float(x) for x in (tmp_path / f"job{n}.txt").read_text().split()) for n in range(4)
    )
    overlaps = [(a, b) for a, b in itertools.pairwise(spans) if b[0] < a[1]]
    assert not overlaps, f"jobs ran side by side with --cores 1: {overlaps}"

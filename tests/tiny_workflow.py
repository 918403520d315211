"""Run the workflow on the tiny test config (tests/data/tiny_config.yaml) in a working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tiny_command(
    workdir: Path, mirror: str, *extra: str, configfiles: tuple[Path, ...] = ()
) -> list[str]:
    """The snakemake command line of the tiny config (plus ``configfiles``, layered last)."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(ROOT / "config" / "config.yaml"),
        str(ROOT / "tests" / "data" / "tiny_config.yaml"),
        *[str(p) for p in configfiles],
        "--config",
        f"mirror={mirror}",
        *extra,
    ]


def tiny_env(env: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(env or os.environ)
    # the venv first: rule scripts (and SLURM jobs, via sbatch --export=ALL) use this PATH
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_tiny_workflow(
    workdir: Path,
    mirror: str,
    *extra: str,
    env: dict[str, str] | None = None,
    configfiles: tuple[Path, ...] = (),
) -> subprocess.CompletedProcess:
    """`snakemake` on the tiny config with the given mirror; extra arguments are appended."""
    command = tiny_command(workdir, mirror, *extra, configfiles=configfiles)
    return subprocess.run(command, capture_output=True, text=True, env=tiny_env(env), timeout=1200)

"""Provenance of a run: data checksums, profile database, tool versions, git commit, config."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from protrnn.data.download import sha256_file
from protrnn.data.table import read_table


def _git_commit(repo: Path) -> str:
    """Short commit of ``repo``, marked when the checkout has uncommitted changes."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return out.stdout.strip() + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown (not a git checkout)"


def tool_versions() -> dict[str, str]:
    """Versions of Python and the libraries that shaped the results (read from the installed
    packages' metadata, so the report does not import torch)."""
    versions = {"python": platform.python_version()}
    for package in ("numpy", "pandas", "torch", "snakemake"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # pragma: no cover - the workflow has them
            continue
    return versions


def dataset_rows(config: dict, tables: list[Path], download_dir: Path) -> list[dict]:
    """One row per dataset table: size and the verified checksums of its source files."""
    rows = []
    for path in tables:
        name = path.name.removesuffix(".tsv.gz")
        table = read_table(path)
        spec = config["datasets"][name]
        sources = []
        for key in spec["files"].values():
            entry = config["files"][key]
            local = download_dir / key
            digest = sha256_file(local) if local.exists() else "missing"
            sources.append(f"{key}: {entry.get('url') or entry.get('mirror_path')} sha256 {digest}")
        rows.append(
            {
                "dataset": name,
                "format": spec["format"],
                "task": spec["task"],
                "proteins": len(table),
                "residues": int(table["sequence"].str.len().sum()),
                "splits": ", ".join(f"{k} {v}" for k, v in table["split"].value_counts().items()),
                "sources": "; ".join(sources),
            }
        )
    return rows


def profile_summary(shard_jsons: list[Path], database_dir: Path) -> dict:
    """Merge the per-shard provenance into one record (tool, version, parameters, totals)."""
    shards = [json.loads(p.read_text()) for p in shard_jsons]
    database = json.loads((database_dir / "db.json").read_text())
    first = shards[0] if shards else {}
    totals: dict[str, float] = {}
    for shard in shards:
        for key, value in shard.get("stats", {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return {
        "backend": first.get("backend"),
        "tool": first.get("tool"),
        "version": first.get("version"),
        "parameters": first.get("parameters"),
        "column_order": first.get("column_order"),
        "shards": len(shards),
        "totals": totals,
        "database": {k: v for k, v in database.items() if k != "sources"},
        "database_sources": database.get("sources"),
    }


def run_provenance(
    config: dict,
    tables: list[Path],
    shard_jsons: list[Path],
    database_dir: Path,
    repo: Path,
    download_dir: Path,
) -> dict:
    """The provenance record the report's last section shows."""
    return {
        "git_commit": _git_commit(repo),
        "tools": tool_versions(),
        "datasets": dataset_rows(config, tables, download_dir),
        "profiles": profile_summary(shard_jsons, database_dir),
        "config": config,
    }

"""Up-front check that every missing input file can be fetched (network or mirror)."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

MIRROR_HINT = (
    "Set the mirror to a local copy of the data (a folder or an http(s) base URL holding each file "
    "under its mirror_path), e.g.\n"
    "    snakemake --cores 8 --config mirror=/path/to/shared/data\n"
    "or set `mirror:` in config/config.yaml."
)


class SourceError(RuntimeError):
    """Input files cannot be obtained with the current settings."""


def _reachable(url: str, timeout: float) -> bool:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(parsed.path).exists()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def check_sources(config: dict, keys: list[str], download_dir: Path, timeout: float = 5) -> None:
    """Raise SourceError (one message for all files) when missing downloads cannot be fetched."""
    missing = [k for k in keys if not (download_dir / k).exists()]
    files = config["files"]
    absent_local = [
        k for k in missing if files[k].get("path") and not Path(files[k]["path"]).is_file()
    ]
    if absent_local:
        listing = ", ".join(f"{k} ({files[k]['path']})" for k in absent_local)
        raise SourceError(f"local input file(s) not found: {listing}")
    missing = [k for k in missing if not files[k].get("path")]
    if not missing:
        return
    mirror = (config.get("mirror") or "").strip()
    if mirror:
        if "://" not in mirror:
            root = Path(mirror)
            if root.exists() and not root.is_dir():
                raise SourceError(f"mirror {mirror!r} is a file, not a folder.\n{MIRROR_HINT}")
            if not root.is_dir():
                raise SourceError(f"mirror folder {mirror!r} does not exist.\n{MIRROR_HINT}")
            absent = [
                k for k in missing if not (root / (files[k].get("mirror_path") or "")).is_file()
            ]
            if absent:
                listing = ", ".join(f"{k} ({files[k].get('mirror_path')})" for k in absent)
                raise SourceError(f"mirror folder {mirror!r} lacks: {listing}")
        return
    mirror_only = [k for k in missing if not files[k].get("url")]
    if mirror_only:
        raise SourceError(
            f"{len(mirror_only)} input file(s) have no public URL and are served by a mirror only "
            f"({', '.join(mirror_only[:5])}{', ...' if len(mirror_only) > 5 else ''}), "
            f"and no mirror is set.\n{MIRROR_HINT}"
        )
    hosts: dict[str, str] = {}
    for key in missing:
        url = files[key]["url"]
        hosts.setdefault(urlparse(url).netloc, url)
    unreachable = [host for host, url in hosts.items() if not _reachable(url, timeout)]
    if unreachable:
        raise SourceError(
            f"cannot reach {', '.join(unreachable)} to download {len(missing)} input file(s) "
            f"and no mirror is set (offline?).\n{MIRROR_HINT}"
        )

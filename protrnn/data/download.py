"""Fetch a declared input file from its public URL or from a mirror, verified and atomic.

A mirror is a local copy of the data folder (a directory) or a base URL (``http(s)://`` or
``file://``) serving it; the file is then ``{mirror}/{mirror_path}``. Without a mirror the file is
fetched from ``url``. Downloads stream into a temporary sibling of ``dest``, are checked against
``sha256`` and only then renamed onto ``dest``, so ``dest`` is never partial. A gzip file whose
decompressed content has the declared checksum is accepted too (mirrors may keep gzip copies of
files published uncompressed); it is kept compressed, and every parser reads gzip.

A download killed before its rename leaves its temporary sibling behind; the next fetch of the
same file removes it (:func:`remove_partials`). A downloaded file is checked again before it is
parsed (:func:`verify_downloads`), so a cached copy edited in place is not used silently.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from protrnn.core.fileio import atomic_path, temporary_siblings

log = logging.getLogger(__name__)

CHUNK = 1 << 20
USER_AGENT = "protrnn-download/1"
MIRROR_HINT = (
    "set the mirror setting to a local copy of the data folder: "
    "snakemake --config mirror=/path/to/shared/data (or `mirror:` in config/config.yaml)"
)
#: How an HTML page starts (lower-cased, after blanks): an error or login page, not data.
HTML_STARTS = (b"<!doctype html", b"<html")
#: HTTP statuses worth retrying; every other HTTP error is permanent.
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class DownloadError(RuntimeError):
    """A file could not be fetched or failed verification."""


class _Transient(Exception):
    """Internal: a failure that a retry may cure."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_url(mirror: str) -> bool:
    """True when ``mirror`` is an http(s) or file URL rather than a folder."""
    return urllib.parse.urlsplit(mirror).scheme.lower() in {"http", "https", "file"}


def _join_url(base: str, rel: str) -> str:
    """``base/rel`` with the path segments of ``rel`` percent-quoted."""
    return base.rstrip("/") + "/" + urllib.parse.quote(rel.lstrip("/"))


def _stream_url(url: str, tmp: Path, timeout: float) -> str:
    """GET ``url`` into ``tmp``; return the sha256. Transient failures raise _Transient."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp, tmp.open("wb") as out:
            expected = resp.headers.get("Content-Length")
            size = 0
            for chunk in iter(lambda: resp.read(CHUNK), b""):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except urllib.error.HTTPError as err:
        if err.code in RETRY_STATUS:
            raise _Transient(f"HTTP {err.code} {err.reason}") from err
        raise DownloadError(f"HTTP {err.code} {err.reason}") from err
    except urllib.error.URLError as err:
        raise _Transient(str(err.reason)) from err
    except (TimeoutError, ConnectionError, http.client.HTTPException) as err:
        raise _Transient(f"{type(err).__name__}: {err}") from err
    if expected is not None and expected.isdigit() and int(expected) != size:
        raise _Transient(f"connection closed after {size} of {expected} bytes")
    return digest.hexdigest()


def _fetch_with_retries(url: str, tmp: Path, timeout: float, retries: int, backoff: float) -> str:
    """Stream ``url`` to ``tmp`` with up to ``retries`` attempts; return the sha256."""
    # a file:// URL either exists or not: retrying cannot help
    attempts = 1 if url.lower().startswith("file:") else max(1, retries)
    for attempt in range(1, attempts + 1):
        try:
            return _stream_url(url, tmp, timeout)
        except _Transient as err:
            if attempt == attempts:
                raise
            delay = backoff * 2 ** (attempt - 1)
            log.warning(
                "%s: %s (attempt %d/%d); retrying in %.1fs", url, err, attempt, attempts, delay
            )
            time.sleep(delay)
    raise AssertionError("unreachable")


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _gunzip_sha256(path: Path, name: str, note: str) -> str:
    """sha256 of the decompressed content of a gzip file."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
    except (OSError, EOFError) as err:
        raise DownloadError(f"{name}: corrupt gzip file ({err}){note}") from err
    return digest.hexdigest()


def _matching_sha256(path: Path, actual: str, sha256: str, name: str, note: str) -> str:
    """``actual``, or the sha256 of the gzip content of ``path`` when only that one matches.

    ``note`` ends the message when ``path`` is a corrupt gzip file.
    """
    if actual.lower() == sha256.strip().lower() or not _is_gzip(path):
        return actual
    # a mirror may keep a gzip copy of a file whose public checksum is of the plain bytes
    return _gunzip_sha256(path, name, note)


def _is_html_page(path: Path, src: str) -> bool:
    """True when ``path`` holds an HTML page although ``src`` does not name one."""
    if urllib.parse.urlsplit(src).path.lower().endswith((".html", ".htm")):
        return False
    with open(path, "rb") as handle:
        return handle.read(1024).lstrip().lower().startswith(HTML_STARTS)


def remove_partials(dest: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files a killed download of ``dest`` left next to it; return them."""
    dest = Path(dest)
    found = temporary_siblings(dest)
    for path in found:
        path.unlink(missing_ok=True)
        log.info("removed %s, left by an interrupted download of %s", path.name, dest.name)
    return found


def verify_file(path: str | os.PathLike[str], key: str, sha256: str | None) -> None:
    """Raise DownloadError when ``path`` (declared ``files.<key>``) lacks its declared sha256."""
    if not sha256:
        return
    path = Path(path)
    note = f" ({path}); delete it and rerun to fetch it again"
    actual = _matching_sha256(path, sha256_file(path), sha256, f"files.{key}", note)
    if actual.lower() != sha256.strip().lower():
        raise DownloadError(
            f"{path} (files.{key}) has sha256 {actual}, not the declared {sha256.strip()}: it "
            "changed after it was downloaded; delete it and rerun to fetch it again"
        )


def verify_downloads(
    files: Mapping[str, str | os.PathLike[str]],
    roles: Mapping[str, str],
    declared: Mapping[str, Mapping[str, Any]],
) -> None:
    """Check every dataset file with a declared sha256 again before it is parsed.

    ``files``: role -> path; ``roles``: role -> key of ``declared`` (the config's ``files``).
    """
    for role, key in roles.items():
        if role in files:
            verify_file(files[role], key, declared[key].get("sha256"))


def _copy_local(src: Path, tmp: Path, name: str) -> str:
    """Copy a mirrored file into ``tmp``; return its sha256."""
    if not src.is_file():
        raise DownloadError(f"mirror has no file for {name}: {src} does not exist")
    with src.open("rb") as inp, tmp.open("wb") as out:
        shutil.copyfileobj(inp, out, CHUNK)
    return sha256_file(tmp)


def _source(name: str, url: str | None, mirror_path: str | None, mirror: str | None) -> str:
    """Where to fetch ``name`` from: a mirror URL, a mirror file path or the public URL."""
    if mirror:
        if not mirror_path:
            raise DownloadError(
                f"{name}: a mirror is set ({mirror}) but the dataset declares no mirror_path"
            )
        return _join_url(mirror, mirror_path) if _is_url(mirror) else str(Path(mirror, mirror_path))
    if url is None:
        raise DownloadError(
            f"{name} is only available through a mirror (no public URL is declared); {MIRROR_HINT}"
        )
    return url


def _describe_failure(name: str, src: str, reason: str, mirror: str | None) -> str:
    """The message for a download that failed after all retries."""
    if mirror:
        return f"could not download {name} from mirror {src}: {reason}. Check the mirror setting"
    return (
        f"could not download {name} from {src}: {reason}. Offline? Set the mirror setting to a "
        "local copy of the data folder: snakemake --config mirror=/path/to/data"
    )


def _retrieve(
    name: str, src: str, tmp: Path, mirror: str | None, timeout: float, retries: int, backoff: float
) -> str:
    """Fill ``tmp`` from ``src``; return the sha256 of what was written."""
    if mirror and not _is_url(mirror):
        return _copy_local(Path(src), tmp, name)
    try:
        return _fetch_with_retries(src, tmp, timeout, retries, backoff)
    except (_Transient, DownloadError) as err:
        raise DownloadError(_describe_failure(name, src, str(err), mirror)) from err


def fetch(
    name: str,
    url: str | None,
    sha256: str | None,
    mirror_path: str | None,
    dest: Path,
    mirror: str | None,
    timeout: float = 60,
    retries: int = 3,
    backoff: float = 1.0,
) -> None:
    """Download ``name`` to ``dest`` (mirror first if set), verify ``sha256``, rename atomically.

    ``retries`` is the number of attempts for transient network errors, waiting
    ``backoff * 2**k`` seconds between them. Raises :class:`DownloadError`.
    """
    src = _source(name, url, mirror_path, mirror)
    remove_partials(dest)
    with atomic_path(dest) as tmp:
        actual = _retrieve(name, src, tmp, mirror, timeout, retries, backoff)
        if _is_html_page(tmp, src):
            raise DownloadError(
                f"{name}: {src} sent an HTML page, not the data file (an error or login page?); "
                "the file was not kept"
            )
        if sha256:
            actual = _matching_sha256(tmp, actual, sha256, name, "; the file was not kept")
        if sha256 and actual.lower() != sha256.strip().lower():
            raise DownloadError(
                f"checksum mismatch for {name} (from {src}): expected sha256 {sha256.strip()}, "
                f"got {actual}; the file was not kept"
            )
    log.info("fetched %s from %s -> %s", name, src, dest)

"""Atomic writes: every output goes to a temporary sibling first, then is renamed into place."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_affixes(target: Path) -> tuple[str, str]:
    """Prefix and suffix of the temporary sibling :func:`atomic_path` gives ``target``; the
    suffixes are kept so that numpy and pandas pick the same format and compression."""
    return f".{target.name}.", ".tmp" + "".join(target.suffixes)


def temporary_siblings(path: str | os.PathLike[str]) -> list[Path]:
    """The temporary siblings of ``path`` that :func:`atomic_path` left (e.g. after a kill)."""
    target = Path(path)
    if not target.parent.is_dir():
        return []
    prefix, suffix = _temp_affixes(target)
    # mkstemp puts 8 characters of [a-z0-9_] between the prefix and the suffix
    pattern = re.compile(rf"{re.escape(prefix)}[a-z0-9_]{{8}}{re.escape(suffix)}")
    return sorted(p for p in target.parent.iterdir() if pattern.fullmatch(p.name) and p.is_file())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = _temp_affixes(target)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary folder next to ``path``; on success it replaces ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp creates 0700
        replace_dir(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def replace_dir(new: Path, target: Path) -> None:
    """Put the folder ``new`` in the place of ``target`` (a sibling on the same file system),
    the old ``target`` moved aside first and removed last."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)

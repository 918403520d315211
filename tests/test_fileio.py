"""Atomic writes leave either the old file or the complete new one, never a partial file."""

from pathlib import Path

import numpy as np
import pytest

from protrnn.core.fileio import atomic_dir, atomic_path, atomic_write_text


def test_atomic_write_replaces(tmp_path: Path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failure_leaves_no_partial_output(tmp_path: Path):
    target = tmp_path / "out.npz"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        np.savez(tmp, a=np.arange(3))
        raise RuntimeError("crash while writing")
    assert list(tmp_path.iterdir()) == []


def test_temporary_path_keeps_suffixes(tmp_path: Path):
    target = tmp_path / "table.tsv.gz"
    with atomic_path(target) as tmp:
        assert tmp.name.endswith(".tsv.gz")
        tmp.write_bytes(b"x")
    assert target.read_bytes() == b"x"


def test_atomic_dir_replaces_whole_folder(tmp_path: Path):
    target = tmp_path / "db"
    with atomic_dir(target) as tmp:
        (tmp / "a").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "b").write_text("partial")
        raise RuntimeError("crash")
    assert sorted(p.name for p in target.iterdir()) == ["a"]
    with atomic_dir(target) as tmp:
        (tmp / "c").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db"]

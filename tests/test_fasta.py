"""protrnn.core.fasta: round trips and errors that name the file and record."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from protrnn.core.fasta import read_fasta, read_fasta_records, write_fasta


def _write(tmp_path: Path, text: str, name: str = "in.fasta") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_round_trip_plain_and_gzip(tmp_path: Path) -> None:
    records = [("p1", "ACDEFGHIKL" * 7), ("p2", "MKV")]
    for name in ("out.fasta", "out.fasta.gz"):
        path = tmp_path / name
        write_fasta(records, path, width=20)
        assert read_fasta(path) == records
    with gzip.open(tmp_path / "out.fasta.gz", "rt") as handle:
        text = handle.read()
    assert text.splitlines()[1] == "ACDEFGHIKL" * 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.fasta", "out.fasta.gz"]


def test_header_tokens_case_and_stop(tmp_path: Path) -> None:
    path = _write(tmp_path, ">sp|P1| some protein OS=x\nacde\nFG*\n\n>p2\nMK\n")
    assert read_fasta(path) == [("sp|P1|", "acdeFG"), ("p2", "MK")]
    assert read_fasta_records(path)[0].description == "some protein OS=x"


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", r"in\.fasta: empty file"),
        ("\n\n", r"in\.fasta: empty file"),
        ("ACD\n>p1\nAC\n", r"in\.fasta line 1: sequence data before"),
        (">p1\nAC\n>  \nAC\n", r"in\.fasta line 3: empty id"),
        (">p1\nAC\n>p1 again\nAC\n", r"in\.fasta line 3: duplicate id 'p1'"),
        (">p1\n>p2\nAC\n", r"in\.fasta line 1, record 'p1': empty sequence"),
        (">p1\nAC\n>p2\n", r"in\.fasta line 3, record 'p2': empty sequence"),
        (">p1\nAC-D\n", r"record 'p1': character '-' at residue 3 is not a letter"),
        (">p1\nAC*D\n", r"record 'p1': character '\*' at residue 3"),
        (">p1\nAC1\n", r"character '1'"),
        (">p1\n*\n", r"record 'p1': empty sequence"),
    ],
)
def test_errors(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        read_fasta(_write(tmp_path, text))


def test_write_rejects_bad_records(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty sequence"):
        write_fasta([("p1", "")], tmp_path / "x.fasta")
    with pytest.raises(ValueError, match="invalid FASTA header"):
        write_fasta([("", "AC")], tmp_path / "x.fasta")
    assert not (tmp_path / "x.fasta").exists()

"""protrnn.data.formats.text: the three_line and tsv dataset formats, through load_dataset too."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from protrnn.data.formats.text import parse_three_line, parse_tsv
from protrnn.data.registry import load_dataset
from protrnn.data.table import COLUMNS, read_table, validate_table, write_table

THREE_SS8 = """>1abc_A first chain
MKVLAAGIV
CHHHHGGLE

>2xyz_B
geexP
 TSB-
>3zzz_C
WWPG
IIIP
"""
THREE_SS3 = ">p1\nMKVLA\nCHHEC\n>p2 x\nGEE\nL-E\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


# --- three_line ------------------------------------------------------------------------------


def test_three_line_ss8(tmp_path: Path) -> None:
    df = parse_three_line(_write(tmp_path, "s8.txt", THREE_SS8), split="train")
    assert list(df.columns) == COLUMNS
    assert df["id"].tolist() == ["1abc_A", "2xyz_B", "3zzz_C"]
    assert df["sequence"].tolist() == ["MKVLAAGIV", "GEEXP", "WWPG"]
    assert df["ss8"].tolist() == ["CHHHHGGCE", "CTSBC", "IIIC"]  # L, blank, -, P -> C
    assert df["ss3"].tolist() == ["CHHHHHHCE", "CCCEC", "HHHC"]
    assert df["eval_mask"].tolist() == ["111111111", "11111", "1111"]
    assert set(df["split"]) == {"train"} and set(df["cb513_mask"]) == {""}
    assert df.attrs["parse_stats"]["labels"] == "ss8"
    assert "unobserved_residues" not in df.attrs["parse_stats"]


def test_three_line_x_marks_unobserved_residues(tmp_path: Path) -> None:
    df = parse_three_line(_write(tmp_path, "x.txt", ">a\nMKVLA\nXHHEX\n>b\nGGS\nTGX\n"))
    assert df.attrs["parse_stats"] == {"records_read": 2, "labels": "ss8", "unobserved_residues": 3}
    assert df["ss8"].tolist() == ["CHHEC", "TGC"]  # X is stored as coil, never scored
    assert df["ss3"].tolist() == ["CHHEC", "CHC"]
    assert df["eval_mask"].tolist() == ["01110", "110"]
    three = parse_three_line(_write(tmp_path, "x3.txt", ">a\nMKVL\nXHEX\n"))
    assert three.attrs["parse_stats"]["labels"] == "ss3"  # X is no 8-state letter
    assert (three.loc[0, "ss8"], three.loc[0, "ss3"], three.loc[0, "eval_mask"]) == (
        "",
        "CHEC",
        "0110",
    )
    with pytest.raises(ValueError, match=r"record 'a'\): ss3: unknown ss3 letter 'x'"):
        parse_three_line(_write(tmp_path, "lower.txt", ">a\nMKVL\nxHEC\n"))


def test_three_line_ss3_only(tmp_path: Path) -> None:
    path = _write(tmp_path, "s3.txt.gz", THREE_SS3.replace("\n", "\r\n"))
    df = parse_three_line(path)
    assert df.attrs["parse_stats"]["labels"] == "ss3"
    assert df["ss8"].tolist() == ["", ""]  # unknown: the file has only 3 states
    assert df["ss3"].tolist() == ["CHHEC", "CCE"]
    assert set(df["split"]) == {"test"}
    validate_table(df, "s3")
    write_table(df, tmp_path / "t.tsv.gz")
    assert read_table(tmp_path / "t.tsv.gz").equals(df)
    # an 8-state file that uses only H, E and coil: say so
    forced = parse_three_line(_write(tmp_path, "f.txt", THREE_SS3), labels="ss8")
    assert (
        forced["ss8"].tolist() == ["CHHEC", "CCE"]
        and forced.attrs["parse_stats"]["labels"] == "ss8"
    )


@pytest.mark.parametrize(
    ("text", "options", "pattern"),
    [
        (">a\nMK\nCC\nextra\n", {}, r"line 4: expected a '>id' header line"),
        ("MK\nCC\n", {}, r"line 1: expected a '>id' header line"),
        (">a\nMK\n", {}, r"line 1 \(record 'a'\): incomplete record"),
        (">a\n>b\nMK\nCC\n", {}, r"line 2 \(record 'a'\): a header where the sequence line"),
        (">a\nMK\n>b\n", {}, r"line 3 \(record 'a'\): a header where the label line"),
        (">a\nMKV\nCC\n", {}, r"line 3 \(record 'a'\): 2 labels for 3 residues"),
        (">a\nMK\nCQ\n", {"labels": "ss8"}, r"line 3 \(record 'a'\): ss8: unknown ss8 letter 'Q'"),
        (">a\nMK\nCQ\n", {}, r"line 3 \(record 'a'\): ss3: unknown ss3 letter 'Q' at position 2"),
        (">a\nMK\nCG\n", {"labels": "ss3"}, r"line 3 \(record 'a'\): ss3: unknown ss3 letter 'G'"),
        (">a\nM1\nCC\n", {}, r"line 2 \(record 'a'\): sequence character '1' at residue 2"),
        (">a\n\nCC\n", {}, r"line 2 \(record 'a'\): empty sequence"),
        (">\nMK\nCC\n", {}, r"line 1: empty id in header"),
        (">a\nMK\nCC\n>a\nMK\nCC\n", {}, r"line 4: duplicate id 'a' \(first at line 1\)"),
        (">a\nMK\nCC\n", {"labels": "dssp"}, r"option labels must be one of"),
        (">a\nMK\nCC\n", {"split": "dev"}, r"split must be one of"),
        ("\n\n", {}, r"no records"),
    ],
)
def test_three_line_errors(tmp_path: Path, text: str, options: dict, pattern: str) -> None:
    path = _write(tmp_path, "bad.3line.gz", text)
    with pytest.raises(ValueError, match=r"^bad\.3line\.gz[: ].*" + pattern):
        parse_three_line(path, **options)


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "c.gz"
    path.write_bytes(gzip.compress(b">a\nMK\nCC\n")[:-6])
    with pytest.raises(ValueError, match=r"c\.gz: corrupt gzip file"):
        parse_three_line(path)


# --- tsv -------------------------------------------------------------------------------------

TSV = (
    "ID\tsequence\tss8\tss3\teval_mask\tsplit\tlabel\tmembrane\trsa\n"
    "p1\tmkva\tCHH-\t\t0111\ttrain\t\t\t0.5,nan,0,1\n"
    "p2\tGEE\t\tCEE\t\t\t\t\t\n"
    "\n"
    "p3\tACDE\t\t\t\tvalid\t2.5\tmembrane\t\n"
    "p4\tAC\tHH\tHH\t11\t\t\t\t\n"
)


def test_tsv(tmp_path: Path) -> None:
    df = parse_tsv(_write(tmp_path, "d.tsv.gz", TSV))
    assert list(df.columns) == COLUMNS
    assert df["id"].tolist() == ["p1", "p2", "p3", "p4"]
    assert df["sequence"].tolist() == ["MKVA", "GEE", "ACDE", "AC"]
    assert df["ss8"].tolist() == ["CHHC", "", "", "HH"]
    assert df["ss3"].tolist() == ["CHHC", "CEE", "", "HH"]  # derived from ss8 when missing
    assert df["eval_mask"].tolist() == ["0111", "111", "", "11"]
    assert df["split"].tolist() == ["train", "test", "valid", "test"]
    assert df["label"].tolist() == ["", "", "2.5", ""]
    assert df["membrane"].tolist() == ["", "", "membrane", ""]
    assert df["rsa"].tolist() == ["0.5,nan,0,1", "", "", ""]


def test_tsv_minimal_columns(tmp_path: Path) -> None:
    df = parse_tsv(_write(tmp_path, "m.tsv", "sequence\tid\tss3\nMKV\tq\tCHC\n"), split="valid")
    assert (df.iloc[0].id, df.iloc[0].ss8, df.iloc[0].ss3, df.iloc[0].split) == (
        "q",
        "",
        "CHC",
        "valid",
    )


HEAD = "id\tsequence\tss8\tss3\teval_mask\tsplit\tmembrane\trsa\n"


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("id\tsequence\tdssp\tfoo\n", r"line 1: unknown column\(s\) \['dssp', 'foo'\]"),
        ("id\tsequence\tss8\tSS8\n", r"line 1: duplicate column\(s\) \['ss8'\]"),
        ("sequence\tss8\n", r"line 1: missing column\(s\) \['id'\]"),
        (HEAD + "a\tMK\tCC\n", r"line 2: 3 fields, header has 8"),
        (HEAD + " \tMK\tCC\t\t\t\t\t\n", r"line 2: empty id"),
        (HEAD + "a\tMK\tCC\t\t\t\t\t\n\na\tMK\tCC\t\t\t\t\t\n", r"line 4: duplicate id 'a'"),
        (HEAD + "a\tMK\tCCC\t\t\t\t\t\n", r"line 2 \(record 'a'\): ss8 has 3 labels for 2"),
        (HEAD + "a\tMK\tCQ\t\t\t\t\t\n", r"line 2 \(record 'a'\): ss8: unknown ss8 letter 'Q'"),
        (HEAD + "a\tMK\t\tCX\t\t\t\t\n", r"line 2 \(record 'a'\): ss3: unknown ss3 letter 'X'"),
        (HEAD + "a\tMK\tCG\tCC\t\t\t\t\n", r"\(record 'a'\): ss3 'C' at residue 2 is not the"),
        (HEAD + "a\tMK\tCC\t\t1\t\t\t\n", r"\(record 'a'\): eval_mask has 1 values for 2"),
        (HEAD + "a\tMK\tCC\t\t12\t\t\t\n", r"\(record 'a'\): eval_mask must hold only '0'"),
        (HEAD + "a\tMK\tCC\t\t\tdev\t\t\n", r"\(record 'a'\): split must be one of"),
        (HEAD + "a\tMK\tCC\t\t\t\t\t0.1,2\n", r"\(record 'a'\): rsa values must lie in \[0, 1\]"),
        (HEAD + "a\tMK\tCC\t\t\t\t\t0.1\n", r"\(record 'a'\): rsa has 1 values for 2"),
        (HEAD + "a\tM-K\tCCC\t\t\t\t\t\n", r"\(record 'a'\): sequence character '-' at"),
        (HEAD + "a\tMK\tCC\t\t\t\tyes\t\n", r"id 'a': membrane 'yes' not in"),
        (HEAD + "a\tMK\t\t\t\t\t\t\n", r"id 'a': no per-residue labels"),
        ("", r"empty file"),
        (HEAD, r"no records"),
    ],
)
def test_tsv_errors(tmp_path: Path, text: str, pattern: str) -> None:
    path = _write(tmp_path, "bad.tsv", text)
    with pytest.raises(ValueError, match=r"^bad\.tsv[: ].*" + pattern):
        parse_tsv(path)


# --- load_dataset and the canonical table ----------------------------------------------------


def test_load_dataset_text_formats(tmp_path: Path) -> None:
    three = _write(tmp_path, "s8.txt", THREE_SS8)
    df = load_dataset("three_line", {"data": three}, {"prefix": "ignored", "split": "valid"})
    assert df["id"].iloc[0] == "1abc_A" and set(df["split"]) == {"valid"}
    df = load_dataset("three_line", {"fasta": three}, {"labels": "ss8"})
    assert df.attrs["parse_stats"]["labels"] == "ss8" and set(df["split"]) == {"test"}
    df = load_dataset("tsv", {"tsv": _write(tmp_path, "d.tsv", TSV)}, {"prefix": "x"})
    assert len(df) == 4
    with pytest.raises(ValueError, match=r"three_line: unknown option\(s\) \['member'\]"):
        load_dataset("three_line", {"data": three}, {"member": "x"})
    with pytest.raises(ValueError, match=r"tsv: unknown option\(s\) \['labels'\]"):
        load_dataset("tsv", {"data": three}, {"labels": "ss8"})


def test_validate_allows_ss3_without_ss8() -> None:
    row = dict.fromkeys(COLUMNS, "")
    row.update(id="a", sequence="MKV", ss3="CHC", eval_mask="111", split="test")
    validate_table(pd.DataFrame([row]), "src")
    row.update(eval_mask="")
    with pytest.raises(ValueError, match=r"src: id 'a': no per-residue labels"):
        validate_table(pd.DataFrame([row]), "src")
    row.update(eval_mask="111", ss3="", ss8="CHC")
    with pytest.raises(ValueError, match=r"src: id 'a': no per-residue labels"):
        validate_table(pd.DataFrame([row]), "src")

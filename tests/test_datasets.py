"""protrnn.data.table and the netsurfp/dcrnn formats: handwritten fixtures and the shared files."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from protrnn.data.formats.dcrnn import parse_dcrnn_cb513
from protrnn.data.formats.netsurfp import parse_netsurfp_csv
from protrnn.data.formats.options import (
    FORMAT_OPTIONS,
    FORMATS,
    dataset_options,
    uniform_split,
)
from protrnn.data.registry import LOADERS, load_dataset
from protrnn.data.table import (
    COLUMNS,
    cap_training,
    crop_termini,
    read_table,
    subsample,
    validate_table,
    write_table,
)

DATA = Path(__file__).parent / "data"
NSP = "ss/raw/prottrans_netsurfp2"


def _edit(tmp_path: Path, fixture: str, old: str, new: str) -> Path:
    """Copy a fixture with one replacement (to make a broken variant)."""
    text = (DATA / fixture).read_text()
    assert old in text
    path = tmp_path / fixture
    path.write_text(text.replace(old, new, 1))
    return path


def _normalized(shared: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(shared / "ss/normalized" / name, sep="\t", dtype=str, keep_default_na=False)


# --- handwritten fixtures --------------------------------------------------------------------


def test_netsurfp_fixture() -> None:
    df = parse_netsurfp_csv(DATA / "netsurfp_small.csv", prefix="t")
    assert list(df.columns) == COLUMNS
    assert df["id"].tolist() == ["t_00000", "t_00001", "t_00002"]
    first = df.iloc[0]
    assert (first.sequence, first.ss8, first.ss3) == ("MKVLA", "CSGHH", "CCHHH")
    assert (first.eval_mask, first.cb513_mask, first.split, first.label) == (
        "01111",
        "11100",
        "test",
        "",
    )
    assert df.iloc[1].sequence == "GEEX"
    assert df.iloc[2].sequence == "MKVLA"  # upper-cased; repeated sequence keeps its own id


def test_netsurfp_without_cb513_mask_in_zip(tmp_path: Path) -> None:
    archive = tmp_path / "sets.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(DATA / "netsurfp_nocb.csv", "nocb.csv")
    df = parse_netsurfp_csv(archive, "nocb.csv", prefix="z", split="train")
    assert df["cb513_mask"].tolist() == ["", ""]
    assert df["ss8"].tolist() == ["CHIGET", "BES"]
    assert df["eval_mask"].tolist() == ["111100", "111"]
    assert set(df["split"]) == {"train"}
    with pytest.raises(ValueError, match=r"sets\.zip: no member 'other\.csv'"):
        parse_netsurfp_csv(archive, "other.csv", prefix="z")


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("C S G H H , 0.0", "C S G H , 0.0", r"line 2: ss8 has 4 labels for 5 residues"),
        ("C C H H H , C S", "C C H E H , C S", r"line 2: ss3 'E' at residue 4 is not the reduct"),
        ("T B E C", "T B Q C", r"line 3: ss8: unknown ss8 letter 'Q'"),
        ("1.0 1.0 1.0 0.0 ,", "1.0 1.0 1.0 2.0 ,", r"line 3: disorder token '2\.0' is not 0 or 1"),
        ("G E E X", "G E E 1", r"line 3: residue token '1' is not a single letter"),
        ("G E E X , C E E C ,", "G E E X , C E E C", r"line 3: 4 fields, header has 5"),
        ("input,", "inp,", r"line 1: unknown column 'inp'"),
        (" dssp8,", "", r"line 1: missing column\(s\) \['dssp8'\]"),
    ],
)
def test_netsurfp_errors(tmp_path: Path, old: str, new: str, pattern: str) -> None:
    path = _edit(tmp_path, "netsurfp_small.csv", old, new)
    with pytest.raises(ValueError, match=r"netsurfp_small\.csv " + pattern):
        parse_netsurfp_csv(path, prefix="t")


def test_netsurfp_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(ValueError, match=r"e\.csv: empty file"):
        parse_netsurfp_csv(tmp_path / "e.csv", prefix="t")
    (tmp_path / "h.csv").write_text("input, dssp3, dssp8, disorder\n")
    with pytest.raises(ValueError, match=r"h\.csv: no records"):
        parse_netsurfp_csv(tmp_path / "h.csv", prefix="t")


def _flip_zip(tmp_path: Path) -> Path:
    """A FLIP-style splits.zip for the three fixture rows (the third row matches none)."""
    path = tmp_path / "splits.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("splits/sequences.fasta", ">1abc-A\nMKVLA\n>2xyz-B\nGEEX\n>3zzz-C\nWWW\n")
        z.writestr(
            "splits/sampled.fasta",
            ">1abc-A SET=train VALIDATION=False\nCCHHH\n"
            ">2xyz-B SET=train VALIDATION=True\nCEEC\n"
            ">3zzz-C SET=test VALIDATION=False\nCCC\n",
        )
    return path


def test_netsurfp_with_flip(tmp_path: Path) -> None:
    path = _edit(tmp_path, "netsurfp_small.csv", "m k v l a", "w y")
    path.write_text(
        path.read_text().replace(
            "C C H H H , C S G H H , 1.0 1.0 1.0 1.0 1.0 , 0.0 0.0 1.0 1.0 1.0",
            "C C , C C , 1 1 , 1 1",
        )
    )
    df = parse_netsurfp_csv(path, prefix="t", split="train", flip_splits=_flip_zip(tmp_path))
    assert df["id"].tolist() == ["1abc-A", "2xyz-B", "t_00002"]
    assert df["split"].tolist() == ["train", "valid", "train"]
    assert df.attrs["flip_unmatched"] == 1 and df.attrs["flip_label_mismatches"] == 0


def test_dcrnn_fixture_and_errors(tmp_path: Path) -> None:
    df = parse_dcrnn_cb513(DATA / "dcrnn_small.csv", prefix="d")
    assert df["id"].tolist() == ["d_00000", "d_00001", "d_00002"]
    assert df["ss8"].tolist() == ["CHHHC", "EBTS", "GIC"]
    assert df["eval_mask"].tolist() == ["11111", "1111", "111"]
    assert set(df["split"]) == {"test"} and set(df["cb513_mask"]) == {""}
    bad = _edit(tmp_path, "dcrnn_small.csv", "1,4,GHIK", "1,5,GHIK")
    with pytest.raises(ValueError, match=r"dcrnn_small\.csv line 3 \(id 1\): length column says"):
        parse_dcrnn_cb513(bad)


def test_load_dataset_dispatch(tmp_path: Path) -> None:
    df = load_dataset("dcrnn_cb513_csv", {"data": DATA / "dcrnn_small.csv"}, {})
    assert df["id"].iloc[0] == "cb513dcrnn_00000"
    df = load_dataset(
        "dcrnn_cb513_csv",
        {"csv": DATA / "dcrnn_small.csv"},
        {"prefix": "cb513_dcrnn", "split": "test"},
    )
    assert df["id"].iloc[0] == "cb513_dcrnn_00000" and set(df["split"]) == {"test"}
    df = load_dataset("netsurfp_csv", {"csv": DATA / "netsurfp_small.csv"}, {"split": "valid"})
    assert df["id"].iloc[0] == "netsurfp_small_00000" and set(df["split"]) == {"valid"}
    with pytest.raises(ValueError, match="unknown dataset format 'fasta'"):
        load_dataset("fasta", {"data": DATA / "dcrnn_small.csv"}, {})
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['membr'\]"):
        load_dataset("netsurfp_csv", {"data": DATA / "netsurfp_small.csv"}, {"membr": "x"})


def test_registry_has_one_parser_per_format() -> None:
    assert tuple(LOADERS) == FORMATS and tuple(FORMAT_OPTIONS) == FORMATS
    assert all("prefix" in options for options in FORMAT_OPTIONS.values())


def test_format_tables_import_without_pandas() -> None:
    """The config checks read options and pdb_ids while Snakemake parses the DAG."""
    code = (
        "import sys, protrnn.data.formats.options, protrnn.data.formats.pdb_ids; "
        "heavy = {'pandas', 'numpy'} & set(sys.modules); assert not heavy, heavy"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


def test_dataset_options_and_uniform_split() -> None:
    spec = {"format": "netsurfp_csv", "files": {"csv": "k"}, "member": "m.csv", "split": "train"}
    assert dataset_options("ns", spec) == {"member": "m.csv", "split": "train", "prefix": "ns"}
    chains = {"format": "pdb_chains", "chains": ("1ABC_A",), "options": {"split": "valid"}}
    assert dataset_options("s", chains) == {"split": "valid", "chains": ["1ABC_A"]}
    assert uniform_split("netsurfp_csv", {"csv": "k"}, {"split": "train"}) == "train"
    assert uniform_split("netsurfp_csv", {"csv": "k", "flip_splits": "f"}, {}) is None
    assert uniform_split("three_line", {"data": "k"}, {}) == "test"
    assert uniform_split("tsv", {"data": "k"}, {"split": "test"}) is None
    assert uniform_split("deeploc2_csv", {}, {}) is None


def test_netsurfp_reads_a_gzip_copy(tmp_path: Path) -> None:
    """Mirrors may keep gzip copies; the download accepts them, so the parser must read them."""
    plain = DATA / "netsurfp_small.csv"
    packed = tmp_path / "netsurfp_small.csv"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert parse_netsurfp_csv(packed, prefix="t").equals(parse_netsurfp_csv(plain, prefix="t"))
    packed.write_bytes(packed.read_bytes()[:-8])
    with pytest.raises(ValueError, match=r"netsurfp_small\.csv: corrupt gzip file"):
        parse_netsurfp_csv(packed, prefix="t")


# --- table utilities -------------------------------------------------------------------------


def _table(n: int) -> pd.DataFrame:
    splits = ["train"] * (n - n // 4 - n // 8) + ["valid"] * (n // 8) + ["test"] * (n // 4)
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "sequence": "ACD",
            "ss8": "HEC",
            "ss3": "HEC",
            "eval_mask": "101",
            "cb513_mask": "",
            "split": splits,
            "label": "",
            "membrane": "",
            "rsa": "",
        }
    )


def test_subsample() -> None:
    df = _table(80)
    assert subsample(df, None, 1) is df and subsample(df, 80, 1) is df
    small = subsample(df, 16, seed=3)
    assert len(small) == 16
    assert small["split"].value_counts().to_dict() == {"train": 10, "test": 4, "valid": 2}
    assert small.equals(subsample(df, 16, seed=3))
    assert not small.equals(subsample(df, 16, seed=4))
    assert small["id"].map(lambda s: int(s[1:])).is_monotonic_increasing


@pytest.mark.parametrize(
    ("column", "value", "pattern"),
    [
        ("id", "p0", "duplicate id 'p0'"),
        ("id", "", "empty id"),
        ("ss8", "HE", "id 'p1': ss8 has 2 values for 3 residues"),
        ("ss3", "HHC", "id 'p1': ss3 is not the reduction"),
        ("eval_mask", "1x1", "id 'p1': masks"),
        ("sequence", "AcD", "id 'p1': sequence must be"),
        ("split", "dev", "id 'p1': split 'dev'"),
    ],
)
def test_validate_table_errors(column: str, value: str, pattern: str) -> None:
    df = _table(8)
    df.loc[1, column] = value
    with pytest.raises(ValueError, match=f"^mysource: .*{pattern}"):
        validate_table(df, "mysource")


def test_cap_training_keeps_test_rows() -> None:
    df = _table(80)
    capped = cap_training(df, 20, seed=1)
    assert (capped["split"] != "test").sum() == 20
    tests = df[df["split"] == "test"]["id"].tolist()
    assert capped["id"].tolist()[-len(tests) :] == tests  # test rows whole, after the rest
    assert cap_training(df, None, seed=1) is df


def _proteins(*sequences: str) -> pd.DataFrame:
    """A per-protein table: residue columns empty, one label each."""
    df = _table(len(sequences))
    df["sequence"] = list(sequences)
    df[["ss8", "ss3", "eval_mask"]] = ""
    df["label"] = "Nucleus"
    return df


def test_crop_termini_keeps_both_ends_of_long_proteins() -> None:
    """DeepLoc 1.0: over max_length, the first ceil(m/2) and the last floor(m/2) residues."""
    df = _proteins("ACDEFGHIKL", "ACD", "MNPQRSTVW")
    cropped, stats = crop_termini(df, 5)
    assert cropped["sequence"].tolist() == ["ACDKL", "ACD", "MNPVW"]
    assert stats == {"max_length": 5, "n_cropped": 2, "residues_removed": 9, "residues_before": 22}
    assert df["sequence"].tolist()[0] == "ACDEFGHIKL"  # the input is not changed
    assert crop_termini(df, 4)[0]["sequence"].tolist() == ["ACKL", "ACD", "MNVW"]
    assert crop_termini(df, None) == (df, {})
    assert crop_termini(df, 10)[0] is df  # nothing to cut


def test_crop_termini_refuses_per_residue_labels() -> None:
    columns = r"per-residue columns \['ss8', 'ss3', 'eval_mask'\]"
    with pytest.raises(ValueError, match=columns + ".*'p0'"):
        crop_termini(_table(8), 2)
    with pytest.raises(ValueError, match="max_length must be >= 2"):
        crop_termini(_proteins("ACD"), 1)


def test_write_table_is_byte_reproducible(tmp_path: Path) -> None:
    """Equal tables give equal files (no time and no temporary file name in the gzip header)."""
    df = _table(8)
    write_table(df, tmp_path / "a" / "t.tsv.gz")
    write_table(df, tmp_path / "b" / "t.tsv.gz")
    first = (tmp_path / "a" / "t.tsv.gz").read_bytes()
    assert first == (tmp_path / "b" / "t.tsv.gz").read_bytes()
    assert b".tmp" not in first[:64]


def test_write_read_round_trip(tmp_path: Path) -> None:
    df = _table(8)
    path = tmp_path / "t.tsv.gz"
    write_table(df, path)
    back = read_table(path)
    assert back.equals(df)
    assert back["cb513_mask"].tolist() == [""] * 8 and back["label"].tolist() == [""] * 8
    assert [p.name for p in tmp_path.iterdir()] == ["t.tsv.gz"]


# --- real shared files -----------------------------------------------------------------------


def test_real_casp12_and_cb513(shared_data: Path) -> None:
    casp = parse_netsurfp_csv(shared_data / NSP / "CASP12_HHblits.csv", prefix="NSP2_CASP12")
    assert len(casp) == 20
    cb = parse_netsurfp_csv(shared_data / NSP / "CB513_HHblits.csv", prefix="NSP2_CB513")
    assert len(cb) == 511 and cb["sequence"].str.len().sum() == 144_011
    assert cb["id"].is_unique and cb["sequence"].duplicated().sum() == 79
    for df, name in ((casp, "netsurfp2_casp12.tsv"), (cb, "netsurfp2_cb513.tsv")):
        ref = _normalized(shared_data, name)
        for ours, theirs in (
            ("id", "id"),
            ("sequence", "sequence"),
            ("ss8", "ss8"),
            ("ss3", "ss3"),
            ("eval_mask", "disorder"),
            ("cb513_mask", "cb513_mask"),
            ("split", "split"),
        ):
            assert df[ours].tolist() == ref[theirs].tolist(), (name, ours)


def test_real_dcrnn_cb513(shared_data: Path) -> None:
    df = parse_dcrnn_cb513(shared_data / "ss/raw/af3_cb513_zhou/CB513_preprocessed.csv")
    assert len(df) == 514 and df["sequence"].str.len().sum() == 84_765
    ref = _normalized(shared_data, "cb513_zhou_split1.tsv")
    assert df["sequence"].tolist() == ref["sequence"].tolist()
    assert df["ss8"].tolist() == ref["ss8"].str.replace("L", "C").tolist()
    assert df["ss3"].tolist() == ref["ss3"].tolist()


def test_real_train_with_flip(shared_data: Path, tmp_path: Path) -> None:
    df = load_dataset(
        "netsurfp_csv",
        {
            "data": shared_data / NSP / "Train_valid.zip",
            "flip_splits": shared_data / "ss/raw/flip_secondary_structure/splits.zip",
        },
        {"member": "Train_HHblits.csv", "prefix": "NSP2_Train", "split": "train"},
    )
    assert df["split"].value_counts().to_dict() == {"train": 9712, "valid": 1080}
    assert df.attrs["flip_unmatched"] == 0 and df.attrs["flip_label_mismatches"] == 0
    ref = _normalized(shared_data, "netsurfp2_train.tsv")
    assert df["id"].tolist() == ref["pdb_chain"].tolist()
    assert df["split"].tolist() == ref["split"].tolist()
    assert df["eval_mask"].tolist() == ref["disorder"].tolist()
    assert df["ss8"].tolist() == ref["ss8"].tolist()

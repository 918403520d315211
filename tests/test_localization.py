"""DeepLoc parsers: synthetic files for the rules and errors, the real files for the counts."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from protrnn.data.formats.deeploc import CLASSES, parse_deeploc1_header, parse_deeploc2
from protrnn.data.formats.options import FORMAT_INFO, LOCALIZATION_FORMATS
from protrnn.data.registry import load_dataset as load
from protrnn.data.table import COLUMNS, validate_table

HEADER = "accession,sequence,label,partition,kingdom,membrane\n"


def _manifest(path: Path, rows: list[str], gz: bool = True) -> Path:
    text = HEADER + "".join(r + "\n" for r in rows)
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _dl2_files(tmp_path: Path, n_per_class: int = 0) -> dict[str, Path]:
    """Five small manifests; partition p holds 'P{p}_{i}' proteins, plus fixed special rows."""
    files = {}
    for p in range(5):
        rows = [
            f"P{p}A,MKV{'A' * p}L,Nucleus,{p},Metazoa,0.0",
            f"P{p}B,MKW{'C' * p}L,Cell membrane,{p},Fungi,1.0",
            f'P{p}M,MKY{"D" * p}L,"Cytoplasm|Nucleus",{p},Metazoa,0.0',
        ]
        for i in range(n_per_class):
            rows.append(f"P{p}N{i},MSEQ{'K' * i}{'E' * p},Nucleus,{p},Metazoa,0.0")
        files[f"partition{p + 1}"] = _manifest(tmp_path / f"fold{p + 1}.csv.gz", rows, gz=p != 2)
    return files


def test_formats_and_options_are_declared() -> None:
    assert LOCALIZATION_FORMATS == ("deeploc2_csv", "deeploc1_fasta")
    assert FORMAT_INFO["deeploc2_csv"].fold_option == ("test_partition", 5)
    assert FORMAT_INFO["deeploc1_fasta"].options == {"split", "prefix"}
    assert len(CLASSES) == 10 and "Lysosome/Vacuole" in CLASSES


def test_deeploc2_splits_labels_and_stats(tmp_path: Path) -> None:
    df = load("deeploc2_csv", _dl2_files(tmp_path), {"prefix": "dl2", "valid_fraction": 0.0})
    validate_table(df, "dl2")
    assert list(df.columns) == COLUMNS
    assert len(df) == 10  # 2 single-label rows per partition; multi-label dropped
    assert set(df.loc[df["split"] == "test", "id"]) == {"P4A", "P4B"}
    assert set(df["split"]) == {"train", "test"}
    row = df.set_index("id").loc["P1B"]
    assert (row["label"], row["membrane"], row["ss8"], row["eval_mask"]) == (
        "Cell membrane",
        "membrane",
        "",
        "",
    )
    assert df.set_index("id").loc["P0A", "membrane"] == "soluble"
    stats = df.attrs["parse_stats"]
    json.dumps(stats)
    assert stats["records_read"] == 15 and stats["kept"] == 10
    assert stats["dropped"]["multi_label"] == 5
    assert stats["partitions"]["4"] == {"read": 3, "multi_label": 1, "excluded": 0, "kept": 2}
    assert stats["splits"] == {"test": 2, "train": 8}
    assert stats["files"]["partition3"] == "fold3.csv.gz"


def test_deeploc2_test_partition_option(tmp_path: Path) -> None:
    df = load("deeploc2_csv", _dl2_files(tmp_path), {"test_partition": 0, "valid_fraction": 0})
    assert set(df.loc[df["split"] == "test", "id"]) == {"P0A", "P0B"}


def test_deeploc2_valid_draw_is_stratified_deterministic_and_order_free(tmp_path: Path) -> None:
    files = _dl2_files(tmp_path, n_per_class=10)
    a = load("deeploc2_csv", files, {"valid_seed": 3})
    b = parse_deeploc2({int(k[-1]) - 1: v for k, v in reversed(list(files.items()))}, valid_seed=3)
    assert a.set_index("id")["split"].to_dict() == b.set_index("id")["split"].to_dict()
    valid = a[a["split"] == "valid"]
    # training pool: 4 partitions x (11 Nucleus + 1 Cell membrane) -> round(4.4)=4 + round(.4)=0
    assert valid["label"].value_counts().to_dict() == {"Nucleus": 4}
    assert not (valid["id"].str.startswith("P4")).any()
    c = load("deeploc2_csv", files, {"valid_seed": 4})
    assert set(c.loc[c["split"] == "valid", "id"]) != set(valid["id"])


def test_deeploc2_valid_partition(tmp_path: Path) -> None:
    df = load("deeploc2_csv", _dl2_files(tmp_path), {"valid_partition": "1"})
    assert set(df.loc[df["split"] == "valid", "id"]) == {"P1A", "P1B"}
    with pytest.raises(ValueError, match="both 4"):
        load("deeploc2_csv", _dl2_files(tmp_path), {"valid_partition": 4})


def test_deeploc2_exclusion_by_fasta(tmp_path: Path) -> None:
    fasta = tmp_path / "dl1.fasta"
    fasta.write_text(">P0A Nucleus-S test\nMKVL\n>OTHER Cytoplasm-U\nmkwccl\n")
    df = load("deeploc2_csv", {**_dl2_files(tmp_path), "exclude1": fasta}, {})
    assert "P0A" not in set(df["id"])  # same accession
    assert "P2B" not in set(df["id"])  # same sequence (MKWCCL, case-insensitive)
    stats = df.attrs["parse_stats"]
    assert stats["dropped"] == {
        "multi_label": 5,
        "in_exclude_accession": 1,
        "in_exclude_sequence": 1,
    }
    assert stats["exclude_files"] == {"dl1.fasta": 2}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Q1,MKV,Nucleus,3,Metazoa,0.0", "partition 3, but the file is given as 'partition1'"),
        ("Q1,MKV,Nucleolus,0,Metazoa,0.0", "unknown location"),
        ("Q1,,Nucleus,0,Metazoa,0.0", "empty sequence"),
        ("Q1,MK1V,Nucleus,0,Metazoa,0.0", "not a letter"),
        ("Q1,MKV,Nucleus,0,Metazoa,0.5", "membrane flag"),
        ("Q1,MKV,Nucleus,0,Metazoa", "5 fields"),
    ],
)
def test_deeploc2_errors_name_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = _manifest(tmp_path / "bad.csv", ["Q0,MKL,Nucleus,0,Metazoa,1.0", row], gz=False)
    with pytest.raises(ValueError, match=message) as err:
        load("deeploc2_csv", {"partition1": path}, {})
    assert "bad.csv line 3" in str(err.value)


def test_deeploc2_duplicate_accessions(tmp_path: Path) -> None:
    same = _manifest(tmp_path / "a.csv", ["Q1,MKV,Nucleus,0,M,0", "Q1,MKL,Nucleus,0,M,0"])
    with pytest.raises(ValueError, match="a.csv line 3 .*duplicate accession"):
        load("deeploc2_csv", {"partition1": same}, {})
    a = _manifest(tmp_path / "b.csv", ["Q1,MKV,Nucleus,0,M,0"])
    b = _manifest(tmp_path / "c.csv", ["Q1,MKL,Nucleus,1,M,0"])
    with pytest.raises(ValueError, match="c.csv line 2 .*also in b.csv line 2"):
        load("deeploc2_csv", {"partition1": a, "partition2": b}, {})


def test_load_rejects_unknown_format_option_and_key(tmp_path: Path) -> None:
    files = _dl2_files(tmp_path)
    with pytest.raises(ValueError, match="unknown dataset format"):
        load("deeploc3", files, {})
    with pytest.raises(ValueError, match="unknown option"):
        load("deeploc2_csv", files, {"split": "test"})
    with pytest.raises(ValueError, match="unknown files key"):
        load("deeploc2_csv", {**files, "data": files["partition1"]}, {})
    with pytest.raises(ValueError, match="test_partition must be in 0..4"):
        load("deeploc2_csv", files, {"test_partition": 5})
    with pytest.raises(ValueError, match="valid_fraction"):
        load("deeploc2_csv", files, {"valid_fraction": 1.5})


# --------------------------------------------------------------------------------- DeepLoc 1.0


def test_deeploc1_header() -> None:
    assert parse_deeploc1_header("Cell.membrane-M test", "w") == ("Cell membrane", "membrane", True)
    assert parse_deeploc1_header("Lysosome/Vacuole-U", "w") == (
        "Lysosome/Vacuole",
        "unknown",
        False,
    )
    assert parse_deeploc1_header("Cytoplasm-Nucleus-S", "w") == (
        "Cytoplasm-Nucleus",
        "soluble",
        False,
    )
    for bad, message in [
        ("Nucleus", "membrane flag"),
        ("Nucleus-X", "membrane flag"),
        ("Nucleus-S train", "optionally followed by 'test'"),
        ("", "optionally followed"),
        ("Nucleolus-S", "unknown location"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_deeploc1_header(bad, "file.fasta record 3 (Q1)")


DL1_TEXT = """>Q1 Cell.membrane-M test
MKVL
LL
>Q2 Cytoplasm-Nucleus-U test
MKAA
>Q3 Endoplasmic.reticulum-S test
mkcc
>Q4 Nucleus-U test
MKDD
>Q5 Peroxisome-S test
MKEE
"""


def test_deeploc1_parse_exclusion_and_stats(tmp_path: Path) -> None:
    fasta = tmp_path / "dl1.fasta.gz"
    fasta.write_bytes(gzip.compress(DL1_TEXT.encode()))
    dl2 = _manifest(tmp_path / "dl2.csv", ["Q4,MSSS,Nucleus,0,M,0", "Z9,MKEE,Nucleus,0,M,0"])
    df = load("deeploc1_fasta", {"data": fasta}, {"prefix": "dl1"})
    assert df["id"].tolist() == ["Q1", "Q3", "Q4", "Q5"]
    assert df["label"].tolist()[:2] == ["Cell membrane", "Endoplasmic reticulum"]
    assert df["membrane"].tolist() == ["membrane", "soluble", "unknown", "soluble"]
    assert df.loc[0, "sequence"] == "MKVLLL" and df.loc[1, "sequence"] == "MKCC"
    assert set(df["split"]) == {"test"}
    assert df.attrs["parse_stats"]["dropped"]["cytoplasm_nucleus"] == 1

    df = load("deeploc1_fasta", {"fasta": fasta, "exclude1": dl2}, {"split": "valid"})
    assert df["id"].tolist() == ["Q1", "Q3"]
    assert set(df["split"]) == {"valid"}
    stats = df.attrs["parse_stats"]
    json.dumps(stats)
    assert stats["records_read"] == 5 and stats["kept"] == 2 and stats["test_flagged"] == 5
    assert stats["dropped"] == {
        "cytoplasm_nucleus": 1,
        "in_exclude_accession": 1,
        "in_exclude_sequence": 1,
    }
    assert stats["dropped_by_class"]["in_exclude_sequence"] == {"Peroxisome": 1}
    assert stats["splits"] == {"valid": 2}
    assert stats["exclude_files"] == {"dl2.csv": 2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (">Q1 Nucleus-S\nMKV\n>Q1 Nucleus-S\nMKL\n", "duplicate id 'Q1'"),
        (">Q1 Nucleus-S\n>Q2 Nucleus-S\nMKL\n", "empty sequence"),
        (">Q1 Nucleus-S\nMKV\n>Q2 Nucleus\nMKL\n", r"dl1.fasta record 2 \(Q2\).*membrane flag"),
        (">Q1 Golgi-S\nMKV\n", r"dl1.fasta record 1 \(Q1\): unknown location 'Golgi'"),
    ],
)
def test_deeploc1_errors(tmp_path: Path, text: str, message: str) -> None:
    fasta = tmp_path / "dl1.fasta"
    fasta.write_text(text)
    with pytest.raises(ValueError, match=message):
        load("deeploc1_fasta", {"data": fasta}, {})


def test_deeploc1_options(tmp_path: Path) -> None:
    fasta = tmp_path / "dl1.fasta"
    fasta.write_text(DL1_TEXT)
    with pytest.raises(ValueError, match="split must be one of"):
        load("deeploc1_fasta", {"data": fasta}, {"split": "held-out"})
    with pytest.raises(ValueError, match="deeploc1_fasta: cannot tell the data file"):
        load("deeploc1_fasta", {"a": fasta, "b": fasta}, {})


# --------------------------------------------------------------------------------- real files

#: README counts: single-label DL2 proteins per location and partition.
README_SINGLE = {
    "Cell membrane": (644, 560, 526, 566, 474),
    "Cytoplasm": (982, 938, 872, 928, 862),
    "Endoplasmic reticulum": (260, 247, 280, 267, 277),
    "Extracellular": (577, 483, 789, 553, 542),
    "Golgi apparatus": (119, 106, 117, 127, 87),
    "Lysosome/Vacuole": (192, 137, 143, 148, 141),
    "Mitochondrion": (426, 393, 392, 418, 433),
    "Nucleus": (1018, 1057, 1063, 1117, 1207),
    "Peroxisome": (49, 44, 38, 44, 44),
    "Plastid": (194, 157, 192, 188, 201),
}
README_READ = (5963, 5451, 5731, 5696, 5462)


@pytest.fixture(scope="module")
def loc_dir(shared_data: Path) -> Path:
    path = shared_data / "localization"
    if not (path / "localization.tsv.gz").exists():
        pytest.skip(f"{path} lacks the localization data")
    return path


def _real_dl2(loc_dir: Path) -> dict[str, Path]:
    return {
        f"partition{k}": loc_dir
        / f"deeploc2_original/Outer_Fold_{k}_Inner_Fold_1_valid_manifest.csv.gz"
        for k in range(1, 6)
    }


@pytest.fixture(scope="module")
def reference(loc_dir: Path) -> pd.DataFrame:
    return pd.read_csv(loc_dir / "localization.tsv.gz", sep="\t", dtype=str, keep_default_na=False)


def test_real_deeploc2_matches_readme_and_reference(loc_dir: Path, reference: pd.DataFrame) -> None:
    df = load("deeploc2_csv", _real_dl2(loc_dir), {"prefix": "deeploc2"})
    stats = df.attrs["parse_stats"]
    assert len(df) == 21_619 == stats["kept"]
    assert stats["records_read"] == 28_303
    assert stats["dropped"]["multi_label"] == 28_303 - 21_619
    assert [stats["partitions"][str(p)]["read"] for p in range(5)] == list(README_READ)
    assert stats["splits"]["test"] == 4_268
    assert abs(stats["splits"]["valid"] - 0.1 * (21_619 - 4_268)) < 10

    ref = reference[reference["dataset"] == "deeploc2_swissprot"].set_index("id")
    partition = ref["partition"].astype(int)
    counts = pd.crosstab(df["label"], partition.reindex(df["id"]).to_numpy())
    for location, expected in README_SINGLE.items():
        assert tuple(counts.loc[location]) == expected, location
    # cross-check every kept row against the independently built table
    single = ref[ref["n_locations"] == "1"]
    assert set(single.index) == set(df["id"])
    mine = df.set_index("id").loc[single.index]
    assert (mine["sequence"] == single["sequence"]).all()
    assert (mine["label"] == single["location"]).all()
    assert (mine["membrane"] == single["membrane"]).all()
    assert ((mine["split"] == "test") == (single["partition"] == "4")).all()


def test_real_deeploc1_matches_reference_and_overlap(
    loc_dir: Path, reference: pd.DataFrame
) -> None:
    ref = reference[reference["dataset"] == "deeploc1"].set_index("id")
    exclude = {f"exclude{k}": p for k, p in enumerate(_real_dl2(loc_dir).values(), start=1)}
    for name, split, n_read, n_cn, n_acc, n_kept in (
        ("deeploc_test_set", "test", 2_768, 0, 2_637, 123),
        ("deeploc_our_val_set", "valid", 1_678, 23, 1_569, 100),
    ):
        fasta = loc_dir / f"deeploc1_original/{name}.fasta.gz"
        full = load("deeploc1_fasta", {"data": fasta}, {})
        assert full.attrs["parse_stats"]["records_read"] == n_read
        assert len(full) == n_read - n_cn
        assert full.attrs["parse_stats"]["test_flagged"] == (n_read if split == "test" else 0)
        sub = ref[ref["split"] == split]
        sub = sub[sub["location"] != "Cytoplasm-Nucleus"]
        assert set(sub.index) == set(full["id"])
        mine = full.set_index("id").loc[sub.index]
        assert (mine["sequence"] == sub["sequence"]).all()
        assert (mine["label"] == sub["location"]).all()
        assert (mine["membrane"] == sub["membrane"]).all()

        kept = load("deeploc1_fasta", {"data": fasta, **exclude}, {})
        stats = kept.attrs["parse_stats"]
        dl2 = reference[reference["dataset"] == "deeploc2_swissprot"]
        in_dl2 = ref.loc[ref["split"] == split].index.isin(dl2["id"])
        assert in_dl2.sum() == n_acc  # README's overlap count, Cytoplasm-Nucleus included
        by_acc = sub.index.isin(dl2["id"])
        by_seq = ~by_acc & sub["sequence"].isin(set(dl2["sequence"])).to_numpy()
        assert stats["dropped"] == {
            "cytoplasm_nucleus": n_cn,
            "in_exclude_accession": int(by_acc.sum()),
            "in_exclude_sequence": int(by_seq.sum()),
        }
        assert set(kept["id"]) == set(sub.index[~by_acc & ~by_seq])
        assert stats["kept"] == len(kept) == n_kept

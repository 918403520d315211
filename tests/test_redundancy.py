"""Redundancy check: test chains similar to training chains are flagged, accuracy split by it."""

from __future__ import annotations

import numpy as np
import pytest

from protrnn.evaluation.redundancy import flag_redundant
from protrnn.profiles.database import find_mmseqs
from protrnn.report.build import redundancy_table

LETTERS = "ACDEFGHIKLMNPQRSTVWY"


def _random(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list(LETTERS), size=n))


def _mutate(rng: np.random.Generator, seq: str, fraction: float) -> str:
    out = list(seq)
    for i in rng.choice(len(seq), size=int(fraction * len(seq)), replace=False):
        out[i] = rng.choice([a for a in LETTERS if a != seq[i]])
    return "".join(out)


@pytest.fixture(scope="module")
def mmseqs() -> str:
    try:
        return find_mmseqs()
    except FileNotFoundError as err:
        pytest.skip(str(err))


def test_homologues_are_flagged_and_unrelated_are_not(mmseqs: str, tmp_path):
    rng = np.random.default_rng(3)
    train = {f"train {i}": _random(rng, 150) for i in range(20)}
    close = _mutate(rng, train["train 4"], 0.3)  # 70 % identity
    test = {"close": close, "far": _random(rng, 150), "same": train["train 7"]}
    flags = flag_redundant(test, train, mmseqs, workdir=tmp_path).set_index("id")
    assert flags.loc["close", "redundant"] and flags.loc["close", "train_id"] == "train 4"
    assert flags.loc["same", "redundant"] and flags.loc["same", "identity"] == pytest.approx(1.0)
    assert not flags.loc["far", "redundant"] and flags.loc["far", "train_id"] == ""
    assert 0.6 < flags.loc["close", "identity"] < 0.8


def test_no_training_proteins_flags_nothing(mmseqs: str, tmp_path):
    flags = flag_redundant({"a": "ACDEFGHIKLMNPQRSTVWY" * 3}, {}, mmseqs, workdir=tmp_path)
    assert flags["redundant"].tolist() == [False]


def test_accuracy_with_and_without_redundant_proteins():
    pred = {
        "model": "m",
        "test_set": "ts",
        "ids": np.array(["a", "b"]),
        "correct_ss8": np.array([10, 2]),
        "total_ss8": np.array([10, 10]),
        "correct_ss3": np.array([10, 6]),
        "total_ss3": np.array([10, 10]),
    }
    import pandas as pd

    flags = {"ts": pd.DataFrame({"id": ["a", "b"], "redundant": [True, False]})}
    rows = redundancy_table([pred], flags).set_index("metric")
    assert rows["n_redundant"].tolist() == [1, 1] and rows["n_proteins"].tolist() == [2, 2]
    assert rows.loc["Q8", "all"] == pytest.approx(60.0)
    assert rows.loc["Q8", "nonredundant"] == pytest.approx(20.0)
    assert rows.loc["Q3", "all"] == pytest.approx(80.0)
    assert rows.loc["Q3", "nonredundant"] == pytest.approx(60.0)
    proteins = {
        "model": "p",
        "test_set": "ts",
        "ids": np.array(["a", "b", "c"]),
        "true": np.array([1, 2, -1]),
        "predicted": np.array([1, 0, 0]),
    }
    row = redundancy_table([proteins], flags).iloc[0]
    assert row["metric"] == "accuracy" and row["all"] == pytest.approx(50.0)
    assert row["nonredundant"] == pytest.approx(0.0)

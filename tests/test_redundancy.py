"""Redundancy check: test chains similar to training chains are flagged, accuracy split by it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from protrnn.core.tools import find_mmseqs, run_mmseqs
from protrnn.evaluation import redundancy
from protrnn.evaluation.redundancy import flag_redundant
from protrnn.report.tables import redundancy_table

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


@pytest.fixture()
def mmseqs_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every mmseqs call of the redundancy module: its arguments and, for createdb, its records."""
    calls: list[dict] = []

    def recording(binary, args, log=None):
        args = [str(a) for a in args]
        records = Path(args[1]).read_text().count(">") if args[0] == "createdb" else None
        calls.append({"args": args, "records": records})
        return run_mmseqs(binary, args, log)

    monkeypatch.setattr(redundancy, "run_mmseqs", recording)
    return calls


def _case(rng: np.random.Generator) -> tuple[dict, dict]:
    train = {f"train {i}": _random(rng, 150) for i in range(20)}
    test = {
        "distant": _mutate(rng, train["train 4"], 0.65),  # 35 % identity
        "far": _random(rng, 150),
        "copy": train["train 7"],
        "copy again": train["train 7"],
    }
    return test, train


def test_identical_test_sequences_are_searched_once(
    mmseqs: str, tmp_path, mmseqs_calls, monkeypatch
):
    monkeypatch.setattr(redundancy, "QUICK_PASS_MIN_CELLS", 0)  # the quick pass runs first
    test, train = _case(np.random.default_rng(5))
    flags = flag_redundant(test, train, mmseqs, workdir=tmp_path).set_index("id")
    created = {Path(c["args"][1]).stem: c["records"] for c in mmseqs_calls if c["records"]}
    assert created["train"] == 20 and created["quick"] == 3  # four test chains, one twice
    assert flags.loc["copy"].tolist() == flags.loc["copy again"].tolist()
    assert flags.loc["copy", "train_id"] == "train 7" and flags["redundant"].sum() == 3
    # only the chain without a homologue reaches the thorough pass, with max_candidates
    assert created["thorough"] == 1
    ungapped = next(c["args"] for c in mmseqs_calls if c["args"][0] == "ungappedprefilter")
    assert ungapped[ungapped.index("--max-seqs") + 1] == "300"


def test_thorough_pass_alone_finds_the_homologues(mmseqs: str, tmp_path, mmseqs_calls, monkeypatch):
    """A quick pass that proposes nothing: the all-against-all ungapped pass finds them all."""
    nothing = ["prefilter", "-s", 1.0, "--min-ungapped-score", 100000]
    monkeypatch.setattr(redundancy, "QUICK_PREFILTER", nothing)
    monkeypatch.setattr(redundancy, "QUICK_PASS_MIN_CELLS", 0)
    test, train = _case(np.random.default_rng(5))
    flags = flag_redundant(test, train, mmseqs, max_candidates=5, workdir=tmp_path)
    flags = flags.set_index("id")
    created = {Path(c["args"][1]).stem: c["records"] for c in mmseqs_calls if c["records"]}
    assert created["quick"] == 3 and created["thorough"] == 3
    assert flags.loc["distant", "redundant"] and flags.loc["distant", "train_id"] == "train 4"
    assert 0.25 <= flags.loc["distant", "identity"] < 0.45
    assert flags.loc["copy", "redundant"] and flags.loc["copy again", "redundant"]
    assert not flags.loc["far", "redundant"]
    ungapped = next(c["args"] for c in mmseqs_calls if c["args"][0] == "ungappedprefilter")
    assert ungapped[ungapped.index("--max-seqs") + 1] == "5"


def test_small_sets_skip_the_quick_pass(mmseqs: str, tmp_path, mmseqs_calls):
    test, train = _case(np.random.default_rng(5))
    flags = flag_redundant(test, train, mmseqs, workdir=tmp_path)
    modules = [c["args"][0] for c in mmseqs_calls]
    assert "prefilter" not in modules and modules.count("ungappedprefilter") == 1
    assert flags["redundant"].tolist() == [True, False, True, True]


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

"""bench/accuracy_study.py (subsamples, the convergence rise) and bench/compare_runs.py."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from protrnn.encode import load_encoded
from tests.test_training import _synthetic

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


study = _load("accuracy_study")
compare = _load("compare_runs")


def test_subsample_keeps_split_proportions_and_residues(tmp_path: Path) -> None:
    source = _synthetic(tmp_path / "d.npz", 40, splits=["train"] * 30 + ["valid"] * 10)
    study.write_subsample(source, tmp_path / "s.npz", 20, seed=0)
    full, sub = load_encoded(source), load_encoded(tmp_path / "s.npz")
    assert len(sub) == 20 and sorted(set(sub.split)) == ["train", "valid"]
    assert (np.asarray(sub.split) == "valid").sum() == 5
    index = {str(i): k for k, i in enumerate(full.ids)}
    for k, pid in enumerate(sub.ids):
        j = index[str(pid)]
        np.testing.assert_array_equal(sub.features(k), full.features(j))
        np.testing.assert_array_equal(sub.targets(k)["ss8"], full.targets(j)["ss8"])


def test_rise_is_the_report_rule() -> None:
    assert study._rise([60.0, 62.0, 63.0, 63.1]) == pytest.approx(1.1)
    assert study._rise([60.0, 60.15]) == pytest.approx(0.15)


def test_localization_arms_read_validation_accuracy_and_tabulate_their_test_set(
    tmp_path: Path,
) -> None:
    history = tmp_path / "history.tsv"
    history.write_text(
        "epoch\ttrain_loss\tvalid_loss\tvalid_accuracy\tvalid_membrane_accuracy\tseconds\n"
        "1\t2.0\t1.9\t41.5\t80.0\t10\n2\t1.5\t1.6\t55.0\t85.0\t10\n3\t1.2\t1.4\t55.4\t86.0\t10\n"
    )
    summary = study.history_summary(history, 3, "valid_accuracy")
    assert summary["best_valid_q8"] == 55.4 and summary["rise_last_two"] == pytest.approx(13.9)
    loc = study.STUDIES["localization"]
    result = {
        "arm": {"name": "pool_s3", "model": "cnn_bigru_pool", "train_proteins": 6500},
        "preset": {"epochs": 8, "lr_schedule": "onecycle"},
        "train_minutes": 12.34,
        "deeploc2": {"accuracy": 61.23, "mcc": 54.9},
        **summary,
    }
    table = study.write_table([result], tmp_path, loc)
    assert "deeploc2 accuracy / MCC x 100" in table.splitlines()[0]
    assert "| pool_s3 | cnn_bigru_pool | 6500 | 8 (3) | onecycle | 12.3 | 61.2 / 54.9 |" in table
    assert (tmp_path / "study.tsv").read_text().splitlines()[1].split("\t")[2] == "61.23"


def test_compare_runs_sees_content_not_container(tmp_path: Path) -> None:
    for run, rows, value in (("old", "a\tb\n1\t2\n", 1.0), ("new", "a\tb\n1\t2\n3\t4\n", 1.0)):
        out = tmp_path / run / "results"
        out.mkdir(parents=True)
        (out / "t.tsv").write_text(rows)
        (out / "m.json").write_text(json.dumps({"q8": value, "commit": run}))
        (out / "d.tsv.gz").write_bytes(gzip.compress(b"x\n", mtime=0 if run == "old" else 1))
        np.savez(out / "a.npz", x=np.array([1.0, np.nan]))
    diffs = {
        p.name: compare.compare_file(tmp_path / "old" / "results" / p.name, p)
        for p in (tmp_path / "new" / "results").iterdir()
    }
    assert diffs["t.tsv"] == ([], ["1 rows"])  # an added row is new, not a difference
    assert all(not d for d, _ in diffs.values())
    (tmp_path / "new" / "results" / "m.json").write_text(json.dumps({"q8": 0.5}))
    assert compare.compare_file(tmp_path / "old/results/m.json", tmp_path / "new/results/m.json")[0]

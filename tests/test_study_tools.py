"""bench/accuracy_study.py (subsamples, the convergence rise) and bench/compare_runs.py."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from protrnn.encode import load_encoded
from tests.test_training import _synthetic

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
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

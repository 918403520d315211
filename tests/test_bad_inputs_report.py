"""Bad inputs of the report stage: each fails with one message naming the file, key or record,
and leaves no report behind (every input is read before anything is written)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.report.build import build_report
from protrnn.report.context import ReportInputs
from protrnn.report.load import history_inputs

GOOD = {"model": "m", "test_set": "cb513", "q8": 0.7, "q3": 0.8}
PUBLISHED = {"method": "X", "test_set": "cb513", "q8": 71.3, "q3": 84.5, "profiles": "HHblits"}


def metrics(root: Path, content: dict, name: str = "m") -> Path:
    path = root / "eval" / name / "cb513" / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content))
    return path


def history(path: Path, columns: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(columns).to_csv(path, sep="\t", index=False)
    return path


def fails(tmp_path: Path, match: str, error: type = ValueError, **fields) -> None:
    """build_report on ``fields`` raises ``error`` matching ``match`` and writes nothing."""
    out = tmp_path / "report"
    inputs = {
        "eval_files": [metrics(tmp_path, GOOD)],
        "history_files": {},
        "provenance": {},
        "published": [],
        "out_dir": out,
        **fields,
    }
    with pytest.raises(error, match=match):
        build_report(ReportInputs(**inputs))
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]


def test_metrics_without_q8(tmp_path: Path) -> None:
    bad = metrics(tmp_path, {"model": "b", "test_set": "cb513", "q3": 0.8}, name="b")
    fails(tmp_path, r"eval/b/cb513/metrics.json: metrics.json lacks 'q8'", eval_files=[bad])


def test_per_protein_metrics_without_confusion(tmp_path: Path) -> None:
    content = {"model": "l", "test_set": "dl", "task": "per_protein", "accuracy": 0.5}
    bad = metrics(tmp_path, {**content, "classes": ["a"]}, name="l")
    fails(
        tmp_path,
        r"eval/l/cb513/metrics.json: per-protein metrics.json lacks 'confusion'",
        eval_files=[bad],
    )


def test_history_without_validation_columns(tmp_path: Path) -> None:
    bad = history(
        tmp_path / "h.tsv",
        {"epoch": [1], "train_loss": [1.0], "valid_loss": [1.0], "seconds": [1.0]},
    )
    fails(
        tmp_path,
        r"h.tsv: history lacks columns valid_q8/valid_q3 or valid_accuracy",
        history_files={"m": bad},
    )


def test_published_row_in_fractions_or_without_profiles(tmp_path: Path) -> None:
    fails(
        tmp_path, r"published X q8=0.7: expected a percentage", published=[{**PUBLISHED, "q8": 0.7}]
    )
    fails(
        tmp_path,
        r"published row .*'method': 'X'.* lacks 'profiles'",
        published=[{**PUBLISHED, "profiles": ""}],
    )


def test_benchmark_without_seconds(tmp_path: Path) -> None:
    bad = tmp_path / "benchmarks" / "train" / "m.tsv"
    bad.parent.mkdir(parents=True)
    bad.write_text("wall\n1\n")
    fails(
        tmp_path,
        r"benchmarks/train/m.tsv: benchmark file lacks the 's' column",
        benchmark_files=[bad],
    )


def test_predictions_without_per_protein_counts(tmp_path: Path) -> None:
    good = metrics(tmp_path, GOOD)
    bad = good.parent / "predictions.npz"
    np.savez(bad, ids=np.array(["p1"]), correct_ss8=np.array([1]))
    fails(
        tmp_path,
        r"m/cb513/predictions.npz: predictions.npz lacks the per-protein counts",
        eval_files=[good],
        prediction_files=[bad],
    )


def test_missing_backend_benchmark(tmp_path: Path) -> None:
    fails(tmp_path, r"no_such.md", FileNotFoundError, backend_benchmark=tmp_path / "no_such.md")


def test_preset_without_epochs_or_unknown_experiment(tmp_path: Path) -> None:
    config = {"train": {"preset": "cpu"}, "presets": {"cpu": {}}, "experiments": {"ss": {}}}
    path = tmp_path / "results/models/ss/bigru/history.tsv"
    with pytest.raises(
        ValueError, match=r"preset 'cpu' \(experiment 'ss', model 'bigru'\) lacks 'epochs'"
    ):
        history_inputs([path], {"ss": {}}, config)
    other = tmp_path / "results/models/loc/deeploc/history.tsv"
    with pytest.raises(ValueError, match=r"loc/deeploc/history.tsv: experiment 'loc' is not"):
        history_inputs([other], {"ss": {}}, config)

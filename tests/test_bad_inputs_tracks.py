"""Bad inputs of the pictures of predictions (issue 12 catalogue, stage tracks).

Drawing (protrnn.core.tracks.track_svg): a ValueError naming the protein for tracks, confidences
or a mask that do not fit the sequence. Report (protrnn.report.tracks): a ValueError naming the
file, the key or the protein when metrics.json, predictions.npz or the dataset table do not fit
together, raised while the inputs are read, so no report folder is left.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from protrnn.core.tracks import track_svg
from protrnn.data.table import read_table, write_table
from protrnn.report.build import build_report
from protrnn.report.context import ReportInputs
from tests.test_report import PROVENANCE, handmade_track_run
from tests.test_tracks import CONF, PRED, SEQ, TRUE


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pred_ss8": PRED[:-1]}, "'P1': predicted track has 104 letters, the sequence 105"),
        ({"pred_ss8": "X" + PRED[1:]}, "'P1': predicted track letter 'X' at position 1"),
        ({"true_ss8": TRUE[:-2] + "-C"}, "'P1': true track letter '-' at position 104"),
        ({"confidence": CONF[:-1]}, "'P1': 104 confidences, sequence length 105"),
        ({"confidence": [*CONF[:-1], 1.5]}, r"'P1': confidence 1.5 at position 105 is not in"),
        ({"confidence": [float("nan"), *CONF[1:]]}, "'P1': confidence nan at position 1"),
        ({"mask": [1] * len(SEQ)}, "'P1': a mask needs the true track"),
        ({"true_ss8": TRUE, "mask": [1] * 3}, "'P1': mask has 3 values, sequence 105"),
    ],
)
def test_bad_input_names_the_protein(kwargs: dict, match: str) -> None:
    args = {"protein_id": "P1", "sequence": SEQ, "pred_ss8": PRED, "confidence": CONF, **kwargs}
    with pytest.raises(ValueError, match=match):
        track_svg(**args)


def _run(root: Path) -> tuple[list[Path], list[Path]]:
    return handmade_track_run(root)


def _build(root: Path, files: list[Path], tables: list[Path]) -> None:
    inputs = ReportInputs(files, {}, PROVENANCE, [], root / "report", n_boot=20)
    build_report(replace(inputs, dataset_tables=tables))


def _rewrite_npz(path: Path, **changes: np.ndarray | None) -> None:
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    np.savez(path, **arrays)


def _fails(root: Path, files: list[Path], tables: list[Path], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _build(root, files, tables)
    assert not (root / "report").exists()
    assert [p.name for p in root.iterdir() if p.name.startswith(".")] == []


def test_metrics_without_dataset(tmp_path: Path) -> None:
    files, tables = _run(tmp_path)
    best = files[1]  # model 'good' on cb513
    content = json.loads(best.read_text())
    del content["dataset"]
    best.write_text(json.dumps(content))
    _fails(tmp_path, files, tables, f"{best}: metrics.json lacks 'dataset'; re-run evaluate")


def test_dataset_table_not_given(tmp_path: Path) -> None:
    files, tables = _run(tmp_path)
    match = "dataset 'ts115_labels' of test set 'ts115' is not among the report's dataset tables"
    _fails(tmp_path, files, tables[:1], f"{files[3]}: {match} \\(cb513\\)")


def test_predictions_without_probabilities(tmp_path: Path) -> None:
    files, tables = _run(tmp_path)
    npz = files[1].parent / "predictions.npz"
    _rewrite_npz(npz, prob_ss8=None)
    _fails(tmp_path, files, tables, f"{npz}: predictions.npz lacks \\['prob_ss8'\\]; re-run")


def test_probabilities_that_do_not_cover_the_proteins(tmp_path: Path) -> None:
    files, tables = _run(tmp_path)
    npz = files[1].parent / "predictions.npz"
    with np.load(npz) as data:
        prob = data["prob_ss8"][:-3]
    _rewrite_npz(npz, prob_ss8=prob)
    _fails(tmp_path, files, tables, f"{npz}: prob_ss8 has 205 rows and mask 208 values, but")


def test_drawn_protein_missing_from_the_table(tmp_path: Path) -> None:
    files, tables = _run(tmp_path)
    table = read_table(tables[0])
    write_table(table[table["id"] != "p2"], tables[0])
    npz = files[1].parent / "predictions.npz"
    _fails(tmp_path, files, tables, f"{npz}: protein 'p2' is not in the dataset table {tables[0]}")


def test_table_sequence_of_another_length(tmp_path: Path) -> None:
    files, tables = _run(tmp_path)
    table = read_table(tables[0])
    i = table.index[table["id"] == "p0"][0]
    for column in ("sequence", "ss8", "ss3", "eval_mask"):
        table.loc[i, column] = table.loc[i, column][:-1]
    write_table(table, tables[0])
    npz = files[1].parent / "predictions.npz"
    match = f"{npz}: protein 'p0' has 44 residues, but 43 in the dataset table {tables[0]}"
    _fails(tmp_path, files, tables, match)

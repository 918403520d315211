"""The CB513 check subset of a released secondary-structure model: the first
:data:`CHECK_SIZE` chains of the run's parsed CB513 table (``results/datasets/{dataset}.tsv.gz``,
in its row order), predicted through the real command line (``python -m protrnn.cli predict``,
profiles searched for those chains) with the released model file, and scored on their observed
residues (``eval_mask``): Q8 from the 8-state head, Q3 from the 3-state head, in percent, over
the residues pooled. The prediction must report no warning and the profiles the model was
trained on (backend, database checksum, parameters), and its scores must equal, to
:data:`AGREEMENT` points, those of the run's own evaluation of the same chains
(:func:`run_evaluation_scores`), else it is a :class:`ReleaseError`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import protrnn
from protrnn import paths
from protrnn.core.alphabet import SS3, SS8
from protrnn.core.fasta import write_fasta
from protrnn.data.table import read_table
from protrnn.release.run import ReleaseError, run_file

#: The test set of the secondary-structure experiment the subset comes from, and its size.
CHECK_TEST_SET = "cb513"
CHECK_SIZE = 25
#: Largest difference (points) between the check and the run's evaluation of the same chains.
AGREEMENT = 0.01
#: What the check's profiles must share with the model's training profiles.
PROFILE_KEYS = ("backend", "database_checksum", "parameters")


def check_chains(run_dir: Path, config: dict, experiment: str) -> tuple[str, pd.DataFrame]:
    """The dataset of the check test set and its first :data:`CHECK_SIZE` test chains."""
    test_sets = config["experiments"][experiment]["test_sets"]
    if CHECK_TEST_SET not in test_sets:
        raise ReleaseError(f"experiment {experiment} has no test set {CHECK_TEST_SET!r}")
    dataset = test_sets[CHECK_TEST_SET]["dataset"]
    path = run_file(run_dir, paths.DATASET_TABLE, dataset=dataset)
    if not path.is_file():
        raise ReleaseError(f"{path} does not exist: the run has not parsed {dataset}")
    table = read_table(path)
    return dataset, table[table["split"] == "test"].head(CHECK_SIZE).reset_index(drop=True)


def pooled_scores(chains: pd.DataFrame, predicted: dict[str, tuple[str, str]]) -> dict:
    """Q8 and Q3 (percent) over the observed residues (``eval_mask`` 1, known label)."""
    right = {"ss8": 0, "ss3": 0}
    counted = {"ss8": 0, "ss3": 0}
    for row in chains.itertuples(index=False):
        ss8, ss3 = predicted[row.id]
        heads = (("ss8", row.ss8, ss8, SS8), ("ss3", row.ss3, ss3, SS3))
        for head, truth, guess, alphabet in heads:
            for keep, t, p in zip(row.eval_mask, truth, guess, strict=True):
                if keep == "1" and t in alphabet:
                    counted[head] += 1
                    right[head] += t == p
    if not counted["ss8"]:
        raise ReleaseError("the check subset has no observed residue with a label")
    return {
        "q8": 100.0 * right["ss8"] / counted["ss8"],
        "q3": 100.0 * right["ss3"] / counted["ss3"],
        "n_residues": counted["ss8"],
    }


def read_predicted(path: Path) -> dict[str, tuple[str, str]]:
    """id -> (ss8, ss3) of a ``predictions.fasta`` (four lines per protein)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    ids = [h[1:] for h in lines[0::4]]
    return dict(zip(ids, zip(lines[2::4], lines[3::4], strict=True), strict=True))


def predict_command(
    fasta: Path, model: Path, config_file: Path, out: Path, database: Path | str, threads: int
) -> list[str]:
    """The ``protrnn predict`` command line of the check; ``database``: a database folder, or
    the mirror to build the default database from (``""``: the config's)."""
    command = [sys.executable, "-m", "protrnn.cli", "predict", "--fasta", str(fasta)]
    command += ["--model", str(model), "--config", str(config_file), "--out", str(out)]
    command += ["--threads", str(threads)]
    if isinstance(database, Path):
        return command + ["--database", str(database)]
    return command + (["--mirror", database] if database else [])


def run_check(
    chains: pd.DataFrame,
    model: Path,
    config_file: Path,
    database: Path | str,
    profiles: dict,
    threads: int,
) -> dict:
    """Predict ``chains`` with ``model`` through the CLI and score them (module docstring)."""
    with tempfile.TemporaryDirectory(prefix="protrnn_release_check_") as tmp:
        fasta, out = Path(tmp) / "cb513_check.fasta", Path(tmp) / "predicted"
        write_fasta(list(zip(chains["id"], chains["sequence"], strict=True)), fasta)
        command = predict_command(fasta, model, config_file, out, database, threads)
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=_env())
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise ReleaseError(f"protrnn predict of the check subset failed: {tail}")
        summary = json.loads((out / "summary.json").read_text())
        if summary["warnings"]:
            first = summary["warnings"][0]
            raise ReleaseError(f"protrnn predict of the check subset warned: {first}")
        searched = {k: summary["profiles"].get(k) for k in PROFILE_KEYS}
        if _plain(searched) != _plain({k: profiles.get(k) for k in PROFILE_KEYS}):
            raise ReleaseError(
                f"the check subset was searched with {searched}, but the model was trained on "
                f"{profiles}"
            )
        scores = pooled_scores(chains, read_predicted(out / "predictions.fasta"))
    return {**scores, "n_no_hits": summary["n_no_hits"], "database": summary["database"]}


def _plain(value: object) -> object:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _env() -> dict[str, str]:
    """The environment of the check: this protrnn first on the import path."""
    here = str(Path(protrnn.__file__).resolve().parent.parent)
    rest = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": here + (os.pathsep + rest if rest else "")}


def run_evaluation_scores(run_dir: Path, experiment: str, model: str, ids: list[str]) -> dict:
    """Q8 and Q3 of the run's own evaluation of the check test set (``predictions.npz``, scored
    on ``eval_mask``) pooled over ``ids``."""
    where = {"experiment": experiment, "model": model, "testset": CHECK_TEST_SET}
    path = run_file(run_dir, paths.EVAL_PREDICTIONS, **where)
    if not path.is_file():
        raise ReleaseError(f"{path} does not exist: the run has not evaluated {model}")
    with np.load(path, allow_pickle=False) as data:
        position = {str(pid): i for i, pid in enumerate(data["ids"])}
        missing = [pid for pid in ids if pid not in position]
        if missing:
            raise ReleaseError(f"{path}: no evaluation of check chain(s) {missing[:3]}")
        rows = [position[pid] for pid in ids]
        total = int(data["total_ss8"][rows].sum())
        q8 = 100.0 * int(data["correct_ss8"][rows].sum()) / total
        q3 = 100.0 * int(data["correct_ss3"][rows].sum()) / total
    return {"q8": q8, "q3": q3, "n_residues": total, "file": str(path.relative_to(run_dir))}


def check_agreement(check: dict, evaluation: dict) -> None:
    """ReleaseError when the check's scores differ from the run's evaluation."""
    for key in ("q8", "q3"):
        if abs(check[key] - evaluation[key]) > AGREEMENT:
            raise ReleaseError(
                f"the check subset's {key.upper()} through protrnn predict, {check[key]:.4f}, "
                f"differs from the run's evaluation of the same chains ({evaluation['file']}), "
                f"{evaluation[key]:.4f}: the prediction path and the run disagree"
            )

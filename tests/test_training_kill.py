"""A training job killed mid-epoch resumes from its last checkpoint and ends where an
uninterrupted run ends (the rule `train` relies on this after a crash or a cluster preemption)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from protrnn.model.train import train
from tests.test_training import PRESET, TINY_RNN, _synthetic

EPOCHS = 6
RUNNER = """
import functools, sys, torch
print = functools.partial(print, flush=True)
from pathlib import Path
from protrnn.model.train import train
torch.set_num_threads(1)
spec, preset = eval(sys.argv[1]), eval(sys.argv[2])
train(spec, preset, Path(sys.argv[3]), Path(sys.argv[4]), seed=5, log=print)
"""


def _epochs_done(out: Path) -> int:
    history = out / "history.tsv"
    return len(pd.read_csv(history, sep="\t")) if history.exists() else 0


def test_kill_mid_epoch_then_rerun_resumes(tmp_path: Path) -> None:
    data = _synthetic(tmp_path / "d.npz", 400, splits=["train"] * 360 + ["valid"] * 40)
    preset = {**PRESET, "epochs": EPOCHS, "batch_size": 2, "patience": EPOCHS}
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    job = subprocess.Popen(
        [sys.executable, "-c", RUNNER, repr(TINY_RNN), repr(preset), str(data), str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 600
    while _epochs_done(out) < 1 and time.time() < deadline and job.poll() is None:
        time.sleep(0.05)
    epoch_seconds = float(pd.read_csv(out / "history.tsv", sep="\t")["seconds"].iloc[0])
    time.sleep(0.3 * epoch_seconds)  # inside epoch 2, whatever the machine's load
    assert job.poll() is None, "training finished before it could be killed: make it slower"
    job.send_signal(signal.SIGKILL)
    job.wait()
    finished = _epochs_done(out)
    assert 1 <= finished < EPOCHS
    assert not (out / "model.pt").exists(), "a killed run must not leave a final model"

    logs: list[str] = []
    train(TINY_RNN, preset, data, out, seed=5, log=logs.append)
    assert any("resuming" in line for line in logs)
    assert not any(line.startswith("epoch 1:") for line in logs)
    history = pd.read_csv(out / "history.tsv", sep="\t")
    assert history["epoch"].tolist() == list(range(1, EPOCHS + 1))

    reference = tmp_path / "uninterrupted"
    train(TINY_RNN, preset, data, reference, seed=5, log=lambda s: None)
    resumed = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    once = torch.load(reference / "model.pt", weights_only=True)["state_dict"]
    for name in once:
        assert torch.equal(once[name], resumed[name]), name

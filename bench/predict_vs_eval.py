"""Check that `protrnn predict` reproduces the evaluation stage: Q3 on a labelled test set.

Usage (in a finished run's directory, e.g. after `bash quickstart.sh run ...`):
    python bench/predict_vs_eval.py --dataset casp12 --model cnn_bigru [--run-dir .]

Writes the test set's sequences as FASTA, runs `protrnn predict` on it (profiles computed anew with
the run's database and parameters), scores the predicted ss3/ss8 strings against the known labels on
the evaluation mask and prints them next to the
results/eval/{experiment}/{model}/{test set}/metrics.json of the run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from protrnn.core.fasta import write_fasta
from protrnn.data.table import read_table
from protrnn.predict import read_predictions


def pooled_accuracy(true: list[str], pred: list[str], masks: list[str]) -> tuple[float, int]:
    correct = total = 0
    for t, p, m in zip(true, pred, masks, strict=True):
        keep = np.frombuffer(m.encode(), dtype=np.uint8) == ord("1")
        same = np.frombuffer(t.encode(), dtype=np.uint8) == np.frombuffer(p.encode(), np.uint8)
        correct += int(same[keep].sum())
        total += int(keep.sum())
    return correct / total, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="casp12")
    parser.add_argument("--test-set", default=None, help="default: the dataset name")
    parser.add_argument("--model", default="cnn_bigru")
    parser.add_argument("--experiment", default="secondary_structure")
    parser.add_argument("--database", default="resources/profile_db/seqdb/mmseqs2")
    parser.add_argument("--run-dir", type=Path, default=Path("."))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    run = args.run_dir
    test_set = args.test_set or args.dataset
    table = read_table(run / "results" / "datasets" / f"{args.dataset}.tsv.gz")
    out = run / "results" / "predict_check" / f"{args.model}_{test_set}"
    fasta = out / "input.fasta"
    write_fasta(list(zip(table["id"], table["sequence"], strict=True)), fasta)
    command = [
        sys.executable,
        "-m",
        "protrnn.cli",
        "predict",
        "--fasta",
        str(fasta),
        "--model",
        str(run / "results" / "models" / args.experiment / args.model / "model.pt"),
        "--database",
        str(run / args.database),
        "--out",
        str(out / "predicted"),
        "--threads",
        str(args.threads),
        "--config",
        str(run / "config" / "config.yaml"),
    ]
    subprocess.run(command, check=True)
    predicted = {
        rid: (ss8, ss3)
        for rid, _, ss8, ss3 in read_predictions(out / "predicted" / "predictions.fasta")
    }
    ss8 = [predicted[i][0] for i in table["id"]]
    ss3 = [predicted[i][1] for i in table["id"]]
    q8, n = pooled_accuracy(list(table["ss8"]), ss8, list(table["eval_mask"]))
    q3, _ = pooled_accuracy(list(table["ss3"]), ss3, list(table["eval_mask"]))
    metrics = json.loads(
        (
            run / "results" / "eval" / args.experiment / args.model / test_set / "metrics.json"
        ).read_text()
    )
    print(
        f"| {args.model} | {test_set} | {n} | {100 * q8:.2f} | {100 * metrics['q8']:.2f} | "
        f"{100 * q3:.2f} | {100 * metrics['q3']:.2f} |"
    )


if __name__ == "__main__":
    main()

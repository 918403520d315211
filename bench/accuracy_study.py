"""Accuracy per CPU-minute: train models under different levers, score them.

Usage:
    python bench/accuracy_study.py --run-dir RUN --arms bench/study_arms.yaml --out DIR \
        [--parallel 2] [--experiment secondary_structure | localization]

``RUN`` is a workflow run directory whose ``results/encoded/`` holds the training dataset and the
test sets (``netsurfp2_train``, ``cb513``, ``ts115`` by default), e.g. made with
``snakemake --until encode`` and ``presets.cpu.max_train_proteins: null`` (all 9,712 + 1,080
chains). Each arm of the YAML file is one training run of the workflow's own ``train()`` and
``evaluate_model()``::

    - name: cnn_bigru_9712_onecycle
      model: cnn_bigru          # a models: entry of config/config.yaml (small size)
      model_overrides: {hidden: 96}
      preset: {epochs: 10, lr_schedule: onecycle}   # over config's presets.cpu
      train_proteins: null      # subsample of train + valid (FLIP proportions); null = all
      seed: 1
      run_dir: RUN2             # optional: this arm's encoded data (another backend or
                                # encode.features), else --run-dir
      note: what this arm tests

``--experiment localization`` trains per-protein models on ``deeploc2`` (its train + valid
proteins) and scores them on its held-out partition (the set's ``test`` proteins), with the
validation location accuracy in place of Q8 (``bench/localization_arms.yaml``).

Arms run ``--parallel`` at a time, one torch thread each (as the workflow's training jobs do).
Per arm the script writes ``DIR/{arm}/`` (model, history, metrics per test set, result.json) and
at the end ``DIR/study.tsv``, ``DIR/study.md`` (the table for docs/benchmarks.md) and
``DIR/study.png`` (CB513 Q8 against training minutes), and scores the workflow's ensemble of the
``--ensemble`` arms with the best validation Q8 (``DIR/ensemble/``). Training minutes are the CPU
minutes (user + system) of ``train()``'s process with one torch thread: unlike wall-clock time
they do not grow when other work shares the machine, so arms run side by side stay comparable (the
wall-clock minutes are kept in result.json).
An arm whose ``result.json`` exists is not run again (rerun with a new ``--out`` to redo).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protrnn.config import load_config, model_preset, model_spec  # noqa: E402
from protrnn.report.convergence import RISE_POINTS, Convergence  # noqa: E402

#: Arrays of an encoded npz with one value per residue (sliced by offsets when subsampling).
RESIDUE_KEYS = ("aa", "pssm", "extra", "ss8", "ss3", "eval_mask", "cb513_mask", "rsa")
#: Arrays with one value per protein.
PROTEIN_KEYS = ("ids", "split", "lengths", "label", "membrane")

METRIC_LABELS = {"q8": "Q8", "q3": "Q3", "accuracy": "accuracy", "mcc": "MCC x 100"}


@dataclass(frozen=True)
class Study:
    """What one experiment's arms train on, are scored on, and select epochs by."""

    train_dataset: str  # encoded file in results/encoded/
    test_sets: dict[str, str]  # name -> encoded file
    metrics: tuple[str, str]  # two metrics.json keys shown per test set (fractions)
    valid_metric: str  # history.tsv column that picks the best epoch


STUDIES = {
    "secondary_structure": Study(
        "netsurfp2_train.npz",
        {"cb513": "cb513.npz", "ts115": "ts115.npz"},
        ("q8", "q3"),
        "valid_q8",
    ),
    "localization": Study(
        "deeploc2.npz", {"deeploc2": "deeploc2.npz"}, ("accuracy", "mcc"), "valid_accuracy"
    ),
}


def subsample_indices(split: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` proteins of the train and valid splits, in the splits' proportions, sorted."""
    rng = np.random.default_rng(seed)
    chosen = []
    pools = {s: np.flatnonzero(split == s) for s in ("train", "valid")}
    total = sum(len(p) for p in pools.values())
    for pool in pools.values():
        k = min(len(pool), round(n * len(pool) / total))
        chosen.append(rng.choice(pool, size=k, replace=False))
    return np.sort(np.concatenate(chosen))


def write_subsample(source: Path, target: Path, n: int, seed: int) -> None:
    """An encoded npz with ``n`` of ``source``'s train + valid proteins."""
    with np.load(source, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    idx = subsample_indices(arrays["split"], n, seed)
    lengths, offsets = arrays["lengths"], arrays["offsets"]
    pieces = [np.arange(offsets[i], offsets[i] + lengths[i]) for i in idx]
    residues = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)
    for key in RESIDUE_KEYS:
        if key in arrays:
            arrays[key] = arrays[key][residues]
    for key in PROTEIN_KEYS:
        if key in arrays:
            arrays[key] = arrays[key][idx]
    new_offsets = np.zeros(len(idx), dtype=np.int64)
    new_offsets[1:] = np.cumsum(arrays["lengths"], dtype=np.int64)[:-1]
    arrays["offsets"] = new_offsets
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.rename(target)


def arm_run_dir(arm: dict, run_dir: Path) -> Path:
    """The run directory whose encoded data the arm trains and is scored on."""
    return Path(arm["run_dir"]) if "run_dir" in arm else run_dir


def arm_inputs(arm: dict, run_dir: Path, out: Path, study: Study) -> Path:
    """The encoded training set of an arm (a cached subsample when ``train_proteins`` is set)."""
    encoded = arm_run_dir(arm, run_dir) / "results" / "encoded"
    full = encoded / arm.get("train_dataset", study.train_dataset)
    n = arm.get("train_proteins")
    if not n:
        return full
    seed = int(arm.get("subsample_seed", 0))
    data_tag = "" if "run_dir" not in arm else f"_{Path(arm['run_dir']).name}"
    target = out / "subsamples" / f"{full.stem}_{n}_seed{seed}{data_tag}.npz"
    if not target.exists():
        write_subsample(full, target, int(n), seed)
    return target


def _rise(curve: list[float]) -> float:
    """The rise over the last two epochs, as the report's convergence rule measures it."""
    return Convergence("", "per_residue", "valid_q8", tuple(curve), None).rise


def history_summary(history_path: Path, epochs: int, column: str = "valid_q8") -> dict:
    """Epochs run, best validation score (``column``, in %), whether training stopped early,
    the rise over the last two epochs."""
    rows = [line.split("\t") for line in history_path.read_text().splitlines()]
    header, body = rows[0], rows[1:]
    q8 = [float(r[header.index(column)]) for r in body]
    rise = _rise(q8)
    return {
        "epochs_run": len(body),
        "best_valid_q8": max(q8) if q8 else float("nan"),
        "stopped_early": len(body) < epochs,
        "rise_last_two": rise,
        "valid_q8_curve": q8,
    }


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_scores(model: Path, encoded: Path, out_dir: Path, study: Study) -> dict:
    """The study's two metrics (in %) of ``model`` on one encoded test set."""
    from protrnn.evaluation.evaluate import evaluate_model

    metrics = evaluate_model(model, encoded, out_dir)
    return {key: 100 * metrics[key] for key in study.metrics}


def run_arm(arm: dict, run_dir: Path, out: Path, config_path: Path, experiment: str) -> dict:
    """Train and score one arm in this process (one torch thread); returns its result."""
    import torch

    from protrnn.model.train import train

    study = STUDIES[experiment]
    torch.set_num_threads(1)
    config = load_config(config_path)
    spec = {**model_spec(config, arm["model"]), **arm.get("model_overrides", {})}
    preset = {**model_preset(config, experiment, arm["model"]), **arm.get("preset", {})}
    preset["threads"], preset["max_train_proteins"] = 1, None  # arm_inputs subsamples
    arm_dir = out / arm["name"]
    train_path = arm_inputs(arm, run_dir, out, study)
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    train(spec, preset, train_path, arm_dir / "model", seed=int(arm.get("seed", 1)), device="cpu")
    minutes = (time.perf_counter() - start) / 60
    result = {"arm": arm, "spec": spec, "preset": preset, "wall_minutes": minutes}
    result["train_minutes"] = (_cpu_seconds() - cpu_start) / 60
    history = arm_dir / "model" / "history.tsv"
    result.update(history_summary(history, int(preset["epochs"]), study.valid_metric))
    encoded = arm_run_dir(arm, run_dir) / "results" / "encoded"
    for test_set, name in study.test_sets.items():
        result[test_set] = test_scores(
            arm_dir / "model" / "model.pt", encoded / name, arm_dir / test_set, study
        )
    (arm_dir / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def score_ensemble(
    arms: list[dict], out: Path, run_dir: Path, size: int, study: Study
) -> dict | None:
    """The workflow's ensemble over the finished arms' models (members by validation score),
    scored on the test sets like an arm; written to ``DIR/ensemble/result.json``."""
    from protrnn.model.ensemble import write_ensemble

    models = {a["name"]: out / a["name"] / "model" / "model.pt" for a in arms}
    models = {name: path for name, path in models.items() if path.exists()}
    if len(models) < 2:
        return None
    path = out / "ensemble" / "model" / "model.pt"
    description = write_ensemble(path, models, size)
    result = {"members": description["members"], "scores": description["candidate_scores"]}
    for test_set, name in study.test_sets.items():
        encoded = run_dir / "results" / "encoded" / name
        result[test_set] = test_scores(path, encoded, out / "ensemble" / test_set, study)
    (out / "ensemble" / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def launch(arms: list[dict], args: argparse.Namespace) -> None:
    """Run the arms without a result, ``--parallel`` subprocesses at a time."""
    todo = [a for a in arms if not (args.out / a["name"] / "result.json").exists()]
    for arm in todo:  # subsamples first, so that arms running side by side share them
        arm_inputs(arm, args.run_dir, args.out, STUDIES[args.experiment])
    running: list[tuple[subprocess.Popen, str]] = []
    while todo or running:
        while todo and len(running) < args.parallel:
            arm = todo.pop(0)
            log = (args.out / f"{arm['name']}.log").open("w")
            cmd = [sys.executable, __file__, "--run-dir", str(args.run_dir), "--out", str(args.out)]
            cmd += ["--config", str(args.config), "--experiment", args.experiment]
            cmd += ["--one", json.dumps(arm)]
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
            running.append((proc, arm["name"]))
            print(f"started {arm['name']}", flush=True)
        time.sleep(5)
        for proc, name in list(running):
            if proc.poll() is not None:
                running.remove((proc, name))
                print(f"finished {name} (exit {proc.returncode})", flush=True)


def load_results(arms: list[dict], out: Path) -> list[dict]:
    found = []
    for arm in arms:
        path = out / arm["name"] / "result.json"
        if path.exists():
            found.append(json.loads(path.read_text()))
    return found


def _converged(r: dict) -> str:
    if r["stopped_early"]:
        return "early stop"
    rise = _rise(r["valid_q8_curve"])
    return f"no (+{rise:.2f})" if rise > RISE_POINTS else f"plateau ({rise:+.2f})"


def _pair(scores: dict, study: Study) -> str:
    return " / ".join(f"{scores[k]:.1f}" for k in study.metrics)


def write_table(results: list[dict], out: Path, study: Study) -> str:
    """study.tsv and study.md: one row per arm."""
    shown = " / ".join(METRIC_LABELS[k] for k in study.metrics)
    tests = "".join(f" {t} {shown} |" for t in study.test_sets)
    head = (
        f"| arm | model | train proteins | epochs (run) | schedule | minutes |{tests} "
        "converged | note |\n|---|---|---:|---|---|---:|" + "---:|" * len(study.test_sets)
    ) + "---|---|\n"
    columns = [f"{t}_{k}" for t in study.test_sets for k in study.metrics]
    lines, tsv = [], ["\t".join(["arm", "minutes", *columns, "epochs_run"])]
    for r in results:
        arm, preset = r["arm"], r["preset"]
        chains = arm.get("train_proteins") or "all"
        scores = "".join(f" {_pair(r[t], study)} |" for t in study.test_sets)
        lines.append(
            f"| {arm['name']} | {arm['model']} | {chains} | {preset['epochs']} ({r['epochs_run']}) "
            f"| {preset.get('lr_schedule', 'exp')} | {r['train_minutes']:.1f} |{scores} "
            f"{_converged(r)} | {arm.get('note', '')} |"
        )
        values = [f"{r[t][k]:.2f}" for t in study.test_sets for k in study.metrics]
        tsv.append(
            "\t".join([arm["name"], f"{r['train_minutes']:.2f}", *values, str(r["epochs_run"])])
        )
    (out / "study.tsv").write_text("\n".join(tsv) + "\n")
    table = head + "\n".join(lines) + "\n"
    (out / "study.md").write_text(table)
    return table


def write_figure(results: list[dict], out: Path, study: Study) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    test_set, metric = next(iter(study.test_sets)), study.metrics[0]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in results:
        ax.scatter(r["train_minutes"], r[test_set][metric], s=30)
        ax.annotate(r["arm"]["name"], (r["train_minutes"], r[test_set][metric]), fontsize=7)
    ax.set_xlabel("training CPU minutes (one thread)")
    ax.set_ylabel(f"{test_set} {METRIC_LABELS[metric]} (%)")
    ax.set_title("Accuracy per CPU-minute")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "study.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--arms", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml")
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--experiment", choices=sorted(STUDIES), default="secondary_structure")
    parser.add_argument(
        "--ensemble", type=int, default=3, help="members of the ensemble over the arms (0: none)"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.one:
        run_arm(json.loads(args.one), args.run_dir, args.out, args.config, args.experiment)
        return
    arms = yaml.safe_load(args.arms.read_text())
    study = STUDIES[args.experiment]
    launch(arms, args)
    results = load_results(arms, args.out)
    table = write_table(results, args.out, study)
    if args.ensemble >= 2:
        ensemble = score_ensemble(arms, args.out, args.run_dir, args.ensemble, study)
        if ensemble:
            scores = "".join(f" {_pair(ensemble[t], study)} |" for t in study.test_sets)
            members = ", ".join(ensemble["members"])
            table += f"| ensemble of {members} (by validation score) | | | | | |{scores} | |\n"
            (args.out / "study.md").write_text(table)
    print(table)
    write_figure(results, args.out, study)


if __name__ == "__main__":
    main()

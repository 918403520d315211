"""Profile features at a size that decides: summarise bench/accuracy_study.py arms per feature set.

Usage:
    python bench/feature_table.py --arms bench/feature_arms.yaml --study DIR [--out DIR]

Arms are grouped by name less their ``_s{seed}`` suffix (``mm_base_s1``, ``mm_base_s2`` ->
``mm_base``): one row per group with the mean over its seeds of CB513 and TS115 Q8 / Q3, the
spread (max - min over seeds, CB513 Q8), epochs run, whether validation Q8 had stopped rising
(the report's convergence rule), training CPU minutes, and the profile search of the group's
``run_dir``: backend, its parameters, the proteins searched, search seconds summed over the
profile jobs (each job's own wall clock from its shard JSON), proteins/s, the share without
hits and the mean hits per query (``features.json`` adds the jobs' Snakemake ``cpu_time``, which
misses short-lived child processes such as psiblast's one per query). Writes
``DIR/features.md`` (also printed), ``DIR/features.json`` and ``DIR/curves.png`` (validation Q8
per epoch of every arm).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from protrnn.report.convergence import RISE_POINTS  # noqa: E402

SEED_SUFFIX = re.compile(r"_s\d+$")


def group_of(name: str) -> str:
    """``mm_base_s2`` -> ``mm_base``."""
    return SEED_SUFFIX.sub("", name)


def search_stats(run_dir: Path) -> dict:
    """Backend, parameters and search totals of a run's profile shards (all datasets)."""
    searched = seconds = no_hits = hits = 0.0
    backend, params, features = None, None, None
    for path in sorted((run_dir / "results" / "profiles").glob("*/shard*.json")):
        shard = json.loads(path.read_text())
        backend, params = shard["backend"], shard["parameters"]
        stats = shard["stats"]
        stats = ast.literal_eval(stats) if isinstance(stats, str) else stats
        searched += stats["n_searched"]
        seconds += stats["seconds"]
        no_hits += stats["n_no_hits"]
        for chunk in stats.get("chunks", []):
            hits += chunk.get("mean_hits_per_query", 0.0) * chunk["n_queries"]
    cpu = sum(_cpu_seconds(path) for path in (run_dir / "benchmarks" / "profiles").glob("*/*.tsv"))
    encoded = run_dir / "results" / "encoded" / "netsurfp2_train.npz"
    if encoded.exists():
        with np.load(encoded, allow_pickle=False) as data:
            features = json.loads(str(data["provenance"])).get("encoding", {}).get("features")
    return {
        "backend": backend,
        "parameters": params,
        "features": features,
        "searched": int(searched),
        "seconds": seconds,
        "proteins_per_s": searched / seconds if seconds else float("nan"),
        "cpu_seconds": cpu,
        "proteins_per_cpu_s": searched / cpu if cpu else float("nan"),
        "no_hits": no_hits / searched if searched else float("nan"),
        "mean_hits": hits / searched if searched else float("nan"),
    }


def _cpu_seconds(benchmark: Path) -> float:
    """cpu_time of a Snakemake benchmark file (profile job: search plus reading and writing)."""
    header, values = benchmark.read_text().splitlines()[:2]
    return float(dict(zip(header.split("\t"), values.split("\t"), strict=True))["cpu_time"])


def summarise(arms: list[dict], study: Path) -> list[dict]:
    """One entry per group: its arms' results and the search stats of its run_dir."""
    groups: dict[str, dict] = {}
    for arm in arms:
        path = study / arm["name"] / "result.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        entry = groups.setdefault(group_of(arm["name"]), {"arms": [], "note": arm.get("note", "")})
        entry["arms"].append(result)
        entry["run_dir"] = arm.get("run_dir")
    for name, entry in groups.items():
        entry["group"] = name
        entry["search"] = search_stats(Path(entry["run_dir"])) if entry["run_dir"] else {}
        for key in ("cb513", "ts115"):
            for metric in ("q8", "q3"):
                values = [r[key][metric] for r in entry["arms"]]
                entry[f"{key}_{metric}"] = float(np.mean(values))
                entry[f"{key}_{metric}_spread"] = float(np.ptp(values))
        entry["epochs_run"] = [r["epochs_run"] for r in entry["arms"]]
        entry["stopped_early"] = [r["stopped_early"] for r in entry["arms"]]
        entry["rise_last_two"] = [r["rise_last_two"] for r in entry["arms"]]
        entry["train_minutes"] = float(np.mean([r["train_minutes"] for r in entry["arms"]]))
        entry["seeds"] = [r["arm"].get("seed", 1) for r in entry["arms"]]
    return list(groups.values())


def _settled(entry: dict) -> str:
    marks = []
    for early, up in zip(entry["stopped_early"], entry["rise_last_two"], strict=True):
        marks.append("early stop" if early else ("no" if up > RISE_POINTS else "yes"))
    return ", ".join(marks)


def markdown(entries: list[dict]) -> str:
    head = (
        "| features | backend | seeds | CB513 Q8 (spread) | CB513 Q3 | TS115 Q8 (spread) "
        "| TS115 Q3 | epochs run | stopped rising | train CPU min | proteins/s | no hits "
        "| hits/query | note |\n"
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|\n"
    )
    rows = []
    for e in entries:
        s = e["search"]
        rows.append(
            f"| {e['group']} | {s.get('backend')} | {len(e['seeds'])} "
            f"| {e['cb513_q8']:.2f} ({e['cb513_q8_spread']:.2f}) | {e['cb513_q3']:.2f} "
            f"| {e['ts115_q8']:.2f} ({e['ts115_q8_spread']:.2f}) | {e['ts115_q3']:.2f} "
            f"| {', '.join(map(str, e['epochs_run']))} | {_settled(e)} | {e['train_minutes']:.1f} "
            f"| {s.get('proteins_per_s', float('nan')):.2f} | {100 * s.get('no_hits', 0):.1f} % "
            f"| {s.get('mean_hits', float('nan')):.1f} | {e['note']} |"
        )
    return head + "\n".join(rows) + "\n"


def figure(entries: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for n, e in enumerate(entries):
        colour = f"C{n % 10}"
        for r, style in zip(e["arms"], ("-", "--", ":", "-."), strict=False):
            curve = r["valid_q8_curve"]
            label = f"{e['group']} seed {r['arm'].get('seed', 1)}"
            ax.plot(range(1, len(curve) + 1), curve, style, color=colour, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation Q8 (%)")
    ax.set_title("Validation Q8 per epoch, per feature set and seed")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arms", type=Path, required=True)
    parser.add_argument("--study", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or args.study
    out.mkdir(parents=True, exist_ok=True)
    entries = summarise(yaml.safe_load(args.arms.read_text()), args.study)
    table = markdown(entries)
    (out / "features.md").write_text(table)
    slim = [{k: v for k, v in e.items() if k != "arms"} for e in entries]
    (out / "features.json").write_text(json.dumps(slim, indent=2) + "\n")
    figure(entries, out)
    print(table)


if __name__ == "__main__":
    main()

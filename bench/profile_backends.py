"""Profile backends side by side: throughput, agreement between PSSMs, downstream Q8/Q3.

Usage:
    python bench/profile_backends.py [--backends mmseqs2,psiblast,jackhmmer] [--n-chains 200]
        [--train-proteins 500] [--eval-chains 0] [--epochs 4] [--threads 2] [--seed 0]
        [--out results/bench/profile_backends] [--run-dir RUN] [--mirror DIR]
        [--config config/config.yaml] [--no-train]

Data: CB513, TS115 and the NetSurfP-2.0 training set, parsed with protrnn.data.registry.load_dataset
from the raw files of config.yaml's ``datasets`` / ``files`` under the mirror (``--mirror``, else
config's ``mirror``, else ../shared/data), or read from ``RUN/results/datasets/*.tsv.gz`` with
``--run-dir``. Database: config's ``profiles.database`` (seqdb: 30 FASTA files, 166k sequences),
built once per backend under ``OUT/db/{backend}`` (or taken from
``RUN/resources/profile_db/{database}/{backend}`` when that holds a ``db.json``). Search settings:
config's ``profiles.{backend}`` (the backend's DEFAULT_PARAMS where absent).

1. Throughput: the same ``--n-chains`` unique chains, drawn with ``--seed`` from CB513 + TS115,
   searched by each backend in one ``search_profiles`` call with ``--threads`` threads; proteins
   per second = chains / wall seconds of that call (for jackhmmer it includes digitising the
   database, which it does once per call; for mmseqs2 the k-mer index is prebuilt). Printed with
   the psiblast/mmseqs2 and jackhmmer/mmseqs2 throughput ratios.
2. Agreement: per pair of backends, the Pearson r between the two 20-score rows of every position
   of those chains (rows without variance left out), averaged over all positions ("all"), and over
   the positions of chains where neither backend fell back to BLOSUM62 ("both with hits").
3. Downstream: one small model (a 2 x 64 biGRU, MODEL_SPEC; PRESET below, CPU, ``--epochs``) per
   feature set, trained with protrnn.model.train.train on ``--train-proteins`` NetSurfP-2.0 chains
   (deterministic subsample keeping FLIP's train/valid proportions; early stopping on its valid
   chains) and scored on CB513 (all chains, or ``--eval-chains`` of them): Q8 / Q3 residue-pooled
   over observed residues (eval_mask). Feature sets: each backend's profiles, and "one-hot" (the
   PSSM features set to zero). Same seed for all.

Caching: profiles per backend in ``OUT/profiles/{backend}/*.npz`` (protrnn.profiles.store shards;
the throughput run's stats in its JSON), so a rerun searches only what is missing and keeps the
measured throughput of the same chain set and thread count; trained models and their scores in
``OUT/train/{features}/``. Delete a folder to redo it.

Output: ``OUT/profile_backends.json`` and ``OUT/profile_backends.md`` (also printed).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from protrnn.core.alphabet import sequence_hash
from protrnn.core.fileio import atomic_path, atomic_write_text
from protrnn.data.registry import load_dataset
from protrnn.data.table import read_table, subsample
from protrnn.profiles.backends import BACKENDS, get_backend
from protrnn.profiles.store import read_provenance, read_shard, write_shard

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO_ROOT / "config" / "config.yaml"
DATASETS = ("cb513", "ts115", "netsurfp2_train")
ONE_HOT = "one-hot"
#: The small model trained on every feature set.
MODEL_SPEC = {
    "type": "rnn",
    "cell": "gru",
    "bidirectional": True,
    "layers": 2,
    "hidden": 64,
    "dropout": 0.25,
}
#: Training settings (the cpu preset's, secondary structure heads only); epochs from --epochs.
PRESET = {
    "device": "cpu",
    "batch_size": 32,
    "lr": 0.003,
    "lr_decay": 0.75,
    "weight_decay": 0.01,
    "patience": 3,
    "clip": 1.0,
    "loss_weights": {"ss8": 1.0, "ss3": 1.0, "rsa": 0.0},
}


# ---------------------------------------------------------------- data
def mirror_dir(args: argparse.Namespace, config: dict) -> Path:
    if args.mirror:
        return Path(args.mirror)
    if config.get("mirror") and "://" not in str(config["mirror"]):
        return Path(config["mirror"])
    return REPO_ROOT.parent / "shared" / "data"


def mirror_file(config: dict, mirror: Path, key: str) -> Path:
    path = mirror / config["files"][key]["mirror_path"]
    if not path.is_file():
        raise SystemExit(f"error: {path} (files.{key}) not found; give --mirror or --run-dir")
    return path


def load_tables(args: argparse.Namespace, config: dict) -> dict[str, pd.DataFrame]:
    """The canonical tables of CB513, TS115 and NetSurfP-2.0 train (run's tables or raw files)."""
    tables = {}
    for name in DATASETS:
        if args.run_dir:
            tables[name] = read_table(args.run_dir / "results" / "datasets" / f"{name}.tsv.gz")
            continue
        spec = config["datasets"][name]
        mirror = mirror_dir(args, config)
        files = {role: mirror_file(config, mirror, key) for role, key in spec["files"].items()}
        options = dict(spec.get("options") or {})
        options.update({k: spec[k] for k in ("member", "split") if k in spec})
        options.setdefault("prefix", name)
        tables[name] = load_dataset(spec["format"], files, options)
    return tables


def draw_chains(tables: dict[str, pd.DataFrame], n: int, seed: int) -> dict[str, str]:
    """``n`` unique sequences (hash -> sequence) drawn with ``seed`` from CB513 + TS115."""
    pool: dict[str, str] = {}
    for name in ("cb513", "ts115"):
        for seq in tables[name]["sequence"]:
            pool.setdefault(sequence_hash(seq), seq.upper())
    keys = sorted(pool)
    chosen = np.random.default_rng(seed).choice(len(keys), size=min(n, len(keys)), replace=False)
    return {keys[i]: pool[keys[i]] for i in sorted(chosen)}


def unique_queries(*frames: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for frame in frames:
        for seq in frame["sequence"]:
            out.setdefault(sequence_hash(seq), seq.upper())
    return out


def digest(keys: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- databases and profiles
def database(backend: str, args: argparse.Namespace, config: dict) -> tuple[Path, dict]:
    """The backend's database folder (the run's, or built once under OUT/db) and its build info."""
    name = config["profiles"]["database"]
    if args.run_dir:
        candidate = args.run_dir / "resources" / "profile_db" / name / backend
        if (candidate / "db.json").is_file():
            return candidate, {"source": str(candidate), "build_seconds": None}
    folder = args.out / "db" / backend
    if (folder / "db.json").is_file():
        if (folder / "build.json").is_file():
            return folder, json.loads((folder / "build.json").read_text())
        return folder, {"source": str(folder), "build_seconds": None}
    mirror = mirror_dir(args, config)
    fasta = [mirror_file(config, mirror, key) for key in config["profile_databases"][name]]
    print(f"building the {backend} database of {name} ({len(fasta)} FASTA files) ...", flush=True)
    t0 = time.perf_counter()
    info = get_backend(backend).build_database(fasta, folder, args.threads)
    build = {
        "source": str(folder),
        "build_seconds": round(time.perf_counter() - t0, 1),
        "n_sequences": info["n_sequences"],
        "n_residues": info["n_residues"],
    }
    atomic_write_text(folder / "build.json", json.dumps(build, indent=2) + "\n")
    return folder, build


def cached_profiles(folder: Path) -> dict[str, np.ndarray]:
    profiles: dict[str, np.ndarray] = {}
    for path in sorted(folder.glob("*.npz")):
        profiles.update(read_shard(path))
    return profiles


def search(backend: str, queries: dict, db_dir: Path, args: argparse.Namespace, config: dict):
    """search_profiles with the configured settings; (profiles, stats, wall seconds)."""
    module = get_backend(backend)
    params = module.check_params(dict(config["profiles"].get(backend) or {}))
    workdir = args.out / "tmp" / backend
    t0 = time.perf_counter()
    profiles, stats = module.search_profiles(queries, db_dir, params, args.threads, workdir)
    return profiles, stats, time.perf_counter() - t0


def throughput_run(
    backend: str, chains: dict, db_dir: Path, args: argparse.Namespace, config: dict
) -> dict:
    """Search the benchmark chains (or reuse the cached run of the same chains and threads)."""
    folder = args.out / "profiles" / backend
    shard = folder / f"throughput_{digest(list(chains))}_t{args.threads}.npz"
    if shard.is_file():
        record = read_provenance(shard)
        print(f"{backend}: throughput run cached ({record['seconds']:.1f} s)", flush=True)
        return record
    print(f"{backend}: searching {len(chains)} chains with {args.threads} threads ...", flush=True)
    profiles, stats, seconds = search(backend, chains, db_dir, args, config)
    record = {
        "backend": backend,
        "tool": stats.get("tool", backend),
        "version": stats.get("version"),
        "params": stats.get("params"),
        "threads": args.threads,
        "n_chains": len(chains),
        "residues": int(sum(len(s) for s in chains.values())),
        "seconds": round(seconds, 2),
        "proteins_per_s": len(chains) / seconds,
        "n_no_hits": stats.get("n_no_hits"),
        "n_self_in_db": stats.get("n_self_in_db"),
        "mean_hits_per_query": stats.get("mean_hits_per_query"),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }
    write_shard(shard, profiles, record)
    print(f"{backend}: {seconds:.1f} s, {record['proteins_per_s']:.2f} proteins/s", flush=True)
    return record


def all_profiles(
    backend: str, needed: dict, db_dir: Path, args: argparse.Namespace, config: dict
) -> dict[str, np.ndarray]:
    """Profiles of every sequence in ``needed``: the cache, then one search for the rest."""
    folder = args.out / "profiles" / backend
    have = cached_profiles(folder)
    missing = {k: s for k, s in needed.items() if k not in have}
    if missing:
        print(f"{backend}: searching {len(missing)} more sequences (training/eval) ...", flush=True)
        found, stats, seconds = search(backend, missing, db_dir, args, config)
        record = {"backend": backend, "seconds": round(seconds, 2), "stats": stats}
        write_shard(folder / f"extra_{digest(list(missing))}.npz", found, record)
        have.update(found)
    return {k: have[k] for k in needed}


# ---------------------------------------------------------------- agreement
def row_correlations(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each pair of rows (NaN where a row has no variance)."""
    a = a.astype(np.float64) - a.mean(1, keepdims=True)
    b = b.astype(np.float64) - b.mean(1, keepdims=True)
    denominator = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(1) / denominator, np.nan)


def agreement(backends: list[str], profiles: dict, chains: dict) -> list[dict]:
    from protrnn.profiles.blosum import blosum_profile

    rows = []
    fallback = {
        b: {k for k, s in chains.items() if np.array_equal(profiles[b][k], blosum_profile(s))}
        for b in backends
    }
    for i, first in enumerate(backends):
        for second in backends[i + 1 :]:
            r_all, r_hits = [], []
            for key in chains:
                r = row_correlations(profiles[first][key], profiles[second][key])
                r_all.append(r)
                if key not in fallback[first] and key not in fallback[second]:
                    r_hits.append(r)
            pooled = np.concatenate(r_all) if r_all else np.array([])
            hits = np.concatenate(r_hits) if r_hits else np.array([])
            rows.append(
                {
                    "pair": f"{first} / {second}",
                    "mean_r": float(np.nanmean(pooled)) if pooled.size else float("nan"),
                    "positions": int(np.isfinite(pooled).sum()),
                    "mean_r_both_hits": float(np.nanmean(hits)) if hits.size else float("nan"),
                    "chains_both_hits": len(r_hits),
                }
            )
    return rows


# ---------------------------------------------------------------- downstream
def encode(table: pd.DataFrame, profiles: dict, path: Path, zero_pssm: bool) -> None:
    from protrnn.encode import encode_dataset

    encode_dataset(table, profiles, path, task="per_residue")
    if zero_pssm:  # the one-hot baseline: no profile information at all
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["pssm"] = np.zeros_like(arrays["pssm"])
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def pooled_accuracy(predictions: list[dict], data) -> tuple[float, float, int]:  # noqa: ANN001
    """Residue-pooled Q8 and Q3 (percent) over eval_mask == 1, and the residues counted."""
    correct = {"ss8": 0, "ss3": 0}
    total = 0
    for i, pred in enumerate(predictions):
        target = data.targets(i)
        keep = (target["eval_mask"] == 1) & (target["ss8"] >= 0)
        total += int(keep.sum())
        for head in correct:
            correct[head] += int((pred[head].argmax(-1)[keep] == target[head][keep]).sum())
    return 100.0 * correct["ss8"] / total, 100.0 * correct["ss3"] / total, total


def downstream(
    features: str,
    train_table: pd.DataFrame,
    eval_table: pd.DataFrame,
    profiles: dict,
    args: argparse.Namespace,
) -> dict:
    from protrnn.encode import load_encoded
    from protrnn.model.inference import load_model, predict_proba
    from protrnn.model.train import train

    folder = args.out / "train" / features.replace("/", "_")
    result_path = folder / "result.json"
    settings = {
        "model": MODEL_SPEC,
        "preset": {**PRESET, "epochs": args.epochs},
        "seed": args.seed,
        "train_chains": digest(list(train_table["id"].astype(str))),
        "eval_chains": digest(list(eval_table["id"].astype(str))),
    }
    if result_path.is_file():
        cached = json.loads(result_path.read_text())
        if cached.get("settings") == settings:
            print(f"{features}: model cached (Q8 {cached['q8']:.2f})", flush=True)
            return cached
    folder.mkdir(parents=True, exist_ok=True)
    zero = features == ONE_HOT
    encode(train_table, profiles, folder / "train.npz", zero)
    encode(eval_table, profiles, folder / "cb513.npz", zero)
    print(f"{features}: training ({len(train_table)} chains, {args.epochs} epochs) ...", flush=True)
    t0 = time.perf_counter()
    summary = train(
        MODEL_SPEC,
        settings["preset"],
        folder / "train.npz",
        folder / "model",
        args.seed,
        device="cpu",
        log=lambda line: None,
        threads=args.threads,
    )
    seconds = time.perf_counter() - t0
    data = load_encoded(folder / "cb513.npz")
    predictions = predict_proba(load_model(folder / "model" / "model.pt", "cpu"), data, "cpu")
    q8, q3, residues = pooled_accuracy(predictions, data)
    result = {
        "features": features,
        "q8": q8,
        "q3": q3,
        "residues": residues,
        "eval_chains": len(eval_table),
        "train_chains": len(train_table),
        "valid_q8": summary.get("valid_q8"),
        "best_epoch": summary.get("best_epoch"),
        "train_seconds": round(seconds, 1),
        "settings": settings,
    }
    atomic_write_text(result_path, json.dumps(result, indent=2) + "\n")
    print(f"{features}: CB513 Q8 {q8:.2f} / Q3 {q3:.2f}", flush=True)
    return result


# ---------------------------------------------------------------- report
def machine_lines(threads: int) -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return [
        f"- CPU: {cpu} ({os.cpu_count()} logical CPUs visible), {threads} threads per search",
        f"- Python {platform.python_version()}, {platform.system()}, "
        f"{datetime.date.today().isoformat()}",
    ]


def fmt(value: float | None, spec: str = ".2f") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return format(value, spec)


def markdown(report: dict) -> str:
    speed = report["throughput"]
    base = speed.get("mmseqs2", {}).get("proteins_per_s")
    out = [
        "| backend | version | threads | chains | seconds | proteins/s | vs mmseqs2 | "
        "no hits | mean hits |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in speed.items():
        ratio = r["proteins_per_s"] / base if base else None
        out.append(
            f"| {name} | {r.get('version') or '-'} | {r['threads']} | {r['n_chains']} | "
            f"{r['seconds']:.1f} | {r['proteins_per_s']:.2f} | {fmt(ratio)} | "
            f"{r.get('n_no_hits', '-')} | {fmt(r.get('mean_hits_per_query'), '.1f')} |"
        )
    if report["agreement"]:
        out += [
            "",
            "| backends | mean per-position r (all) | positions | r (both with hits) | chains |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in report["agreement"]:
            out.append(
                f"| {r['pair']} | {fmt(r['mean_r'], '.3f')} | {r['positions']} | "
                f"{fmt(r['mean_r_both_hits'], '.3f')} | {r['chains_both_hits']} |"
            )
    if report["downstream"]:
        out += [
            "",
            "| features | CB513 Q8 | CB513 Q3 | valid Q8 | best epoch | train chains | "
            "CB513 chains |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in report["downstream"]:
            out.append(
                f"| {r['features']} | {r['q8']:.2f} | {r['q3']:.2f} | "
                f"{fmt(r.get('valid_q8'))} | {r.get('best_epoch')} | {r['train_chains']} | "
                f"{r['eval_chains']} |"
            )
    out += ["", *report["machine"]]
    for name, ratio in report["ratios"].items():
        out.append(f"- throughput ratio {name}: {ratio:.3f}")
    out.append(f"- databases: {json.dumps(report['databases'])}")
    return "\n".join(out)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", default=",".join(BACKENDS), help="comma list of backends")
    p.add_argument("--n-chains", type=int, default=200, help="CB513 + TS115 chains timed")
    p.add_argument("--train-proteins", type=int, default=500, help="NetSurfP-2.0 training chains")
    p.add_argument("--eval-chains", type=int, default=0, help="CB513 chains scored (0: all)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--threads", type=int, default=2, help="search threads and torch threads")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "bench" / "profile_backends")
    p.add_argument("--run-dir", type=Path, default=None, help="reuse a run's tables/databases")
    p.add_argument("--mirror", type=Path, default=None, help="folder holding the raw files")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    p.add_argument("--no-train", action="store_true", help="skip the downstream models")
    args = p.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(args.backends) - set(BACKENDS))
    if unknown or not args.backends:
        p.error(f"--backends: unknown {unknown}; choose from {list(BACKENDS)}")
    for key in ("n_chains", "train_proteins", "epochs", "threads"):
        if getattr(args, key) < 1:
            p.error(f"--{key.replace('_', '-')} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; write OUT/profile_backends.{json,md}, print the markdown, return it."""
    args = parse_args(argv)
    args.out = args.out.resolve()
    config = yaml.safe_load(args.config.read_text())
    tables = load_tables(args, config)
    chains = draw_chains(tables, args.n_chains, args.seed)
    train_table = subsample(tables["netsurfp2_train"], args.train_proteins, args.seed)
    eval_table = tables["cb513"]
    if args.eval_chains:
        eval_table = eval_table.sample(n=min(args.eval_chains, len(eval_table)), random_state=0)
        eval_table = eval_table.sort_index().reset_index(drop=True)
    needed = {**chains, **unique_queries(train_table, eval_table)}

    report: dict = {
        "settings": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "out"
        },
        "throughput": {},
        "databases": {},
        "agreement": [],
        "downstream": [],
        "ratios": {},
        "machine": machine_lines(args.threads),
    }
    profiles: dict[str, dict[str, np.ndarray]] = {}
    for backend in args.backends:
        db_dir, build = database(backend, args, config)
        report["databases"][backend] = build
        report["throughput"][backend] = throughput_run(backend, chains, db_dir, args, config)
        profiles[backend] = all_profiles(backend, needed, db_dir, args, config)
    base = report["throughput"].get("mmseqs2", {}).get("proteins_per_s")
    for backend in args.backends:
        if backend != "mmseqs2" and base:
            ratio = report["throughput"][backend]["proteins_per_s"] / base
            report["ratios"][f"{backend}/mmseqs2"] = ratio
            print(f"throughput {backend}/mmseqs2: {ratio:.3f}", flush=True)
    report["agreement"] = agreement(args.backends, profiles, chains)
    if not args.no_train:
        for features in [*args.backends, ONE_HOT]:
            source = profiles[args.backends[0]] if features == ONE_HOT else profiles[features]
            report["downstream"].append(downstream(features, train_table, eval_table, source, args))
    text = markdown(report)
    atomic_write_text(args.out / "profile_backends.json", json.dumps(report, indent=2) + "\n")
    atomic_write_text(args.out / "profile_backends.md", text + "\n")
    print(text)
    return report


if __name__ == "__main__":
    main()

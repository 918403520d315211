"""Configuration, validation and target functions shared by all rules."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir)))

from protrnn.config.checks import (
    ConfigError,
    active_preset,
    experiment_models,
    experiment_task,
    model_spec,
    selected_experiments,
    validate_config,
)
from protrnn.config.sources import SourceError, check_sources
from protrnn.data.formats.pdb_chains import structure_downloads

try:
    _validated = validate_config(dict(config))
except ConfigError as error:
    sys.exit(f"protrnn: {error}")
config.clear()
config.update(_validated)

PRESET = active_preset(config)
EXPERIMENTS = selected_experiments(config)
N_SHARDS = config["profiles"]["shards"]
DATABASE = config["profiles"]["database"]
BACKEND = config["profiles"]["backend"]
DATABASE_DIR = f"resources/profile_db/{DATABASE}/{BACKEND}"


def _names(values):
    return "|".join(sorted(values)) or "(?!)"


wildcard_constraints:
    file=_names(config["files"]),
    dataset=_names(config["datasets"]),
    experiment=_names(config["experiments"]),
    model=_names(config["models"]),
    testset=_names(t for e in config["experiments"].values() for t in e["test_sets"]),
    shard=r"\d+",


def experiment(name):
    return config["experiments"][name]


def train_dataset(name):
    return experiment(name)["train_dataset"]


def test_set(experiment_name, testset):
    return experiment(experiment_name)["test_sets"][testset]


def train_datasets():
    """Training datasets of the selected experiments."""
    return list(dict.fromkeys(train_dataset(e) for e in EXPERIMENTS))


def used_datasets():
    """Every dataset the selected experiments train or test on."""
    names = []
    for name in EXPERIMENTS:
        names.append(train_dataset(name))
        names += [t["dataset"] for t in experiment(name)["test_sets"].values()]
    return list(dict.fromkeys(names))


def used_files():
    """Keys of every declared file the configured run needs."""
    keys = [
        k for ds in used_datasets() for k in config["datasets"][ds]["files"].values()
    ]
    keys += config["profile_databases"][DATABASE]
    return list(dict.fromkeys(keys))


def download_path(key):
    return f"resources/downloads/{key}"


def structure_sources():
    """PDB id -> {url, mirror_path, sha256} for every pdb_chains dataset in use (first one wins)."""
    sources = {}
    for name in used_datasets():
        spec = config["datasets"][name]
        if spec["format"] == "pdb_chains":
            found = structure_downloads(
                spec["chains"], spec["structure_url"], spec["structure_mirror_path"]
            )
            for pdb, source in found.items():
                sources.setdefault(pdb, source)
    return sources


def dataset_files(wildcards):
    spec = config["datasets"][wildcards.dataset]
    files = {role: download_path(key) for role, key in spec["files"].items()}
    if spec["format"] == "pdb_chains":
        found = structure_downloads(
            spec["chains"], spec["structure_url"], spec["structure_mirror_path"]
        )
        files.update({f"cif_{pdb}": f"resources/structures/{pdb}.cif" for pdb in found})
    return files


def dataset_max_proteins(dataset):
    """The dataset's own subsample size (over all its splits), or None."""
    return config["datasets"][dataset].get("max_proteins")


def experiment_preset(name):
    """The preset with the experiment's overrides (experiments.<name>.presets.<preset>)."""
    return active_preset(config, name)


def dataset_max_train_proteins(dataset):
    """The preset's cap on train + valid proteins, for training datasets only."""
    caps = [
        experiment_preset(e).get("max_train_proteins")
        for e in EXPERIMENTS
        if train_dataset(e) == dataset
    ]
    if not caps or None in caps:
        return None
    return max(caps)


def dataset_shards(dataset):
    return config["datasets"][dataset].get("shards") or N_SHARDS


def profile_shards(dataset):
    return expand(
        "results/profiles/{dataset}/shard{shard}.npz",
        dataset=dataset,
        shard=range(dataset_shards(dataset)),
    )


def train_resources_gpu():
    return 1 if PRESET["device"] == "cuda" else 0


def model_targets():
    return [
        f"results/models/{e}/{m}/model.pt"
        for e in EXPERIMENTS
        for m in experiment_models(config, e)
    ]


def eval_targets():
    return [
        f"results/eval/{e}/{m}/{t}/metrics.json"
        for e in EXPERIMENTS
        for m in experiment_models(config, e)
        for t in experiment(e)["test_sets"]
    ]


def redundancy_targets():
    return [
        f"results/redundancy/{e}/{t}.tsv"
        for e in EXPERIMENTS
        for t in experiment(e)["test_sets"]
    ]


def benchmark_files():
    """Benchmark files of every job of the configured run (the report sums them per stage)."""
    files = [f"benchmarks/download/{key}.tsv" for key in used_files()]
    files += [f"benchmarks/datasets/{ds}.tsv" for ds in used_datasets()]
    files.append(f"benchmarks/profiles/database_{DATABASE}_{BACKEND}.tsv")
    files += [
        f"benchmarks/download/structures/{pdb}.tsv" for pdb in structure_sources()
    ]
    for ds in used_datasets():
        files += [
            f"benchmarks/profiles/{ds}/shard{i}.tsv" for i in range(dataset_shards(ds))
        ]
    files += [f"benchmarks/encode/{ds}.tsv" for ds in used_datasets()]
    files += [p.replace("results/", "benchmarks/", 1) for p in redundancy_targets()]
    for name in EXPERIMENTS:
        for model in experiment_models(config, name):
            files.append(f"benchmarks/train/{name}/{model}.tsv")
            files += [
                f"benchmarks/evaluate/{name}/{model}/{t}.tsv"
                for t in experiment(name)["test_sets"]
            ]
    return files


PREDICT_FASTA = config.get("predict_fasta") or ""


def predict_model():
    """experiment/model that predicts: `predict_model`, else the last model of the first
    per-residue experiment."""
    chosen = config.get("predict_model") or ""
    residue = [e for e in EXPERIMENTS if experiment_task(config, e) == "per_residue"]
    if "/" in chosen:
        return chosen
    if not residue:
        return ""
    for name in residue:
        if chosen in experiment_models(config, name):
            return f"{name}/{chosen}"
    return f"{residue[0]}/{experiment_models(config, residue[0])[-1]}"


def predict_targets():
    """The prediction outputs when `predict_fasta` is set, else nothing."""
    if not PREDICT_FASTA:
        return []
    return [f"results/predict/{predict_model()}/predictions.fasta"]


def all_targets():
    return ["results/report/index.html", *predict_targets()]


onstart:
    # before the first job, not at parse time: --lint, --dry-run and --report need no data
    try:
        check_sources(config, used_files(), Path("resources/downloads"))
    except SourceError as error:
        sys.exit(f"protrnn: {error}")

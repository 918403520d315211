"""Configuration, validation and target functions shared by all rules."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir)))

from protrnn.config import (
    ConfigError,
    active_preset,
    model_spec,
    selected_models,
    validate_config,
)
from protrnn.sources import SourceError, check_sources

try:
    _validated = validate_config(dict(config))
except ConfigError as error:
    sys.exit(f"protrnn: {error}")
config.clear()
config.update(_validated)

PRESET = active_preset(config)
TRAIN_DATASET = config["train"]["dataset"]
MODELS = selected_models(config)
TEST_SETS = config["evaluate"]["test_sets"]
N_SHARDS = config["profiles"]["shards"]
DATABASE = config["profiles"]["database"]
BACKEND = config["profiles"]["backend"]


wildcard_constraints:
    file="|".join(config["files"]),
    dataset="|".join(config["datasets"]),
    model="|".join(MODELS),
    testset="|".join(TEST_SETS),
    shard=r"\d+",


def used_datasets():
    """The training dataset and every dataset a test set refers to."""
    names = [TRAIN_DATASET] + [t["dataset"] for t in TEST_SETS.values()]
    return list(dict.fromkeys(names))


def used_files():
    """Keys of every file the configured run needs."""
    keys = [
        k for ds in used_datasets() for k in config["datasets"][ds]["files"].values()
    ]
    keys += config["profile_databases"][DATABASE]
    return list(dict.fromkeys(keys))


def download_path(key):
    return f"resources/downloads/{key}"


def dataset_files(wildcards):
    files = config["datasets"][wildcards.dataset]["files"]
    return {role: download_path(key) for role, key in files.items()}


def dataset_max_proteins(dataset):
    """Subsample size: the dataset's own setting, or the preset's for the training dataset."""
    limit = config["datasets"][dataset].get("max_proteins")
    if dataset == TRAIN_DATASET and PRESET.get("max_train_proteins"):
        limit = min(filter(None, [limit, PRESET["max_train_proteins"]]))
    return limit


def profile_shards():
    return expand("results/profiles/shard{shard}.npz", shard=range(N_SHARDS))


def train_resources_gpu():
    return 1 if PRESET["device"] == "cuda" else 0


def eval_targets():
    return expand(
        "results/eval/{model}/{testset}/metrics.json",
        model=MODELS,
        testset=list(TEST_SETS),
    )


def benchmark_files():
    """Benchmark files of every job of the configured run (the report sums them per stage)."""
    files = [f"benchmarks/download/{key}.tsv" for key in used_files()]
    files += [f"benchmarks/datasets/{ds}.tsv" for ds in used_datasets()]
    files += [
        f"benchmarks/profiles/database_{DATABASE}.tsv",
        "benchmarks/profiles/queries.tsv",
    ]
    files += expand("benchmarks/profiles/shard{shard}.tsv", shard=range(N_SHARDS))
    files += [f"benchmarks/encode/{ds}.tsv" for ds in used_datasets()]
    files += expand("benchmarks/train/{model}.tsv", model=MODELS)
    files += expand(
        "benchmarks/evaluate/{model}/{testset}.tsv",
        model=MODELS,
        testset=list(TEST_SETS),
    )
    return files


PREDICT_FASTA = config.get("predict_fasta") or ""
PREDICT_MODEL = config.get("predict_model") or MODELS[-1]


def predict_targets():
    """The prediction outputs when `predict_fasta` is set, else nothing."""
    if not PREDICT_FASTA:
        return []
    return [f"results/predict/{PREDICT_MODEL}/predictions.fasta"]


def all_targets():
    return ["results/report/index.html", *predict_targets()]


onstart:
    # before the first job, not at parse time: --lint, --dry-run and --report need no data
    try:
        check_sources(config, used_files(), Path("resources/downloads"))
    except SourceError as error:
        sys.exit(f"protrnn: {error}")

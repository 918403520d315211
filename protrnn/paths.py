"""Every path the workflow writes, written once: templates with Snakemake wildcards.

The rules use the templates as they are (``output: paths.MODEL``); the target functions of
``rules/common.smk`` fill them in (:func:`fill`) for the jobs of the configured run. Each rule's
log and benchmark file share one stem (:data:`JOBS`): ``logs/{stem}.log`` and
``benchmarks/{stem}.tsv``. Plain strings only: this module imports nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# -- download ------------------------------------------------------------------------------------
DOWNLOAD_DIR = "resources/downloads"
DOWNLOAD = DOWNLOAD_DIR + "/{file}"
STRUCTURE = "resources/structures/{pdb}.cif"

# -- datasets ------------------------------------------------------------------------------------
DATASET_TABLE = "results/datasets/{dataset}.tsv.gz"
DATASET_STATS = "results/datasets/{dataset}.json"

# -- profiles ------------------------------------------------------------------------------------
PROFILE_DATABASE = "resources/profile_db/{database}/{backend}"
PROFILE_SHARD = "results/profiles/{dataset}/shard{shard}.npz"
PROFILE_PROVENANCE = "results/profiles/{dataset}/shard{shard}.json"

# -- encode, train, evaluate, redundancy ---------------------------------------------------------
ENCODED = "results/encoded/{dataset}.npz"
MODEL = "results/models/{experiment}/{model}/model.pt"
#: The model name of an experiment's ensemble (reserved: no entry of `models:` may take it).
ENSEMBLE_NAME = "ensemble"
ENSEMBLE = MODEL.replace("{model}", ENSEMBLE_NAME)
HISTORY = "results/models/{experiment}/{model}/history.tsv"
EVAL_METRICS = "results/eval/{experiment}/{model}/{testset}/metrics.json"
EVAL_PER_CLASS = "results/eval/{experiment}/{model}/{testset}/per_class.tsv"
EVAL_PREDICTIONS = "results/eval/{experiment}/{model}/{testset}/predictions.npz"
REDUNDANCY = "results/redundancy/{experiment}/{testset}.tsv"

# -- predict -------------------------------------------------------------------------------------
PREDICT_DIR = "results/predict/{experiment}/{model}"
PREDICT_FASTA = PREDICT_DIR + "/predictions.fasta"
PREDICT_SS2 = PREDICT_DIR + "/ss2"
PREDICT_SVG = PREDICT_DIR + "/svg"
PREDICT_INDEX = PREDICT_DIR + "/index.html"
PREDICT_IDS = PREDICT_DIR + "/ids.tsv"
PREDICT_SUMMARY = PREDICT_DIR + "/summary.json"
PREDICT_ENCODED = PREDICT_DIR + "/encoded.npz"

# -- released models (python -m protrnn.release; protrnn predict's default model) ---------------
#: The repository's folder of released models; the files below are relative to a release folder.
RELEASE_ROOT = "models"
RELEASED_MODEL = "{experiment}/model.pt"
RELEASED_CARD = "{experiment}/MODEL_CARD.md"
RELEASED_CARD_JSON = "{experiment}/card.json"

# -- report --------------------------------------------------------------------------------------
REPORT_HTML = "results/report/index.html"
REPORT_ACCURACY = "results/report/accuracy.tsv"
REPORT_FIGURES = "results/report/figures"

#: Rule -> the stem of its log and benchmark files (the wildcards of its outputs).
JOBS: dict[str, str] = {
    "download": "download/{file}",
    "download_structure": "download/structures/{pdb}",
    "parse_dataset": "datasets/{dataset}",
    "profile_database": "profiles/database_{database}_{backend}",
    "profile_search": "profiles/{dataset}/shard{shard}",
    "encode": "encode/{dataset}",
    "train": "train/{experiment}/{model}",
    "ensemble": "train/{experiment}/" + ENSEMBLE_NAME,
    "evaluate": "evaluate/{experiment}/{model}/{testset}",
    "redundancy": "redundancy/{experiment}/{testset}",
    "predict": "predict/{experiment}/{model}",
    "report": "report",
}


def log(rule: str) -> str:
    """The log file template of ``rule``."""
    return f"logs/{JOBS[rule]}.log"


def benchmark(rule: str) -> str:
    """The benchmark file template of ``rule``."""
    return f"benchmarks/{JOBS[rule]}.tsv"


def fill(template: str, **wildcards: object) -> str:
    """``template`` with its wildcards filled in (every wildcard must be given)."""
    return template.format(**wildcards)


def fill_all(template: str, jobs: Iterable[Mapping[str, object]]) -> list[str]:
    """``template`` filled in with the wildcards of each job, in order."""
    return [template.format(**job) for job in jobs]

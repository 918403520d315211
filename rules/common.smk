"""Configuration, validation and target functions shared by all rules.

Paths come from protrnn.paths (each written once); which jobs the configured run has comes from
protrnn.config.jobs. Imports neither torch nor pandas: this runs while Snakemake parses the DAG.
"""

import sys
from pathlib import Path

import protrnn.paths as paths
from protrnn.config import (
    ConfigError,
    SourceError,
    active_preset,
    ensemble_size,
    experiment_models,
    check_sources,
    experiment_task,
    model_preset,
    model_spec,
    prediction_model,
    selected_experiments,
    validate_config,
)
from protrnn.config import jobs, versions
from protrnn.config.studies import study_dirs, study_files

# protrnn's own folder (the one holding rules/ and scripts/), also when another workflow uses it
# as a module (workflow.basedir is then the outer workflow's)
WORKFLOW_DIR = Path(str(workflow.current_basedir)).parent

# The validated config (schema defaults filled in, cross-validation folds expanded) replaces
# Snakemake's own, in place: the rules read config[...] and the job scripts read
# snakemake.config, and both need the defaults and the experiments/datasets folds expand to.
try:
    _validated = validate_config(dict(config))
    STUDY_DIRS = study_dirs(_validated, WORKFLOW_DIR)
except ConfigError as error:
    sys.exit(f"protrnn: {error}")
config.clear()
config.update(_validated)

PRESET = active_preset(config)
EXPERIMENTS = selected_experiments(config)
DATABASE = config["profiles"]["database"]
BACKEND = config["profiles"]["backend"]
DATABASE_DIR = paths.fill(paths.PROFILE_DATABASE, database=DATABASE, backend=BACKEND)
JOBS = jobs.rule_jobs(config)


def _names(values):
    return "|".join(sorted(values)) or "(?!)"


wildcard_constraints:
    file=_names(config["files"]),
    dataset=_names(config["datasets"]),
    experiment=_names(config["experiments"]),
    model=_names([*config["models"], paths.ENSEMBLE_NAME]),
    testset=_names(t for e in config["experiments"].values() for t in e["test_sets"]),
    shard=r"\d+",


def experiment(name):
    return config["experiments"][name]


def train_dataset(name):
    return jobs.train_dataset(config, name)


def test_set(experiment_name, testset):
    return experiment(experiment_name)["test_sets"][testset]


def used_datasets():
    """Every dataset the selected experiments train or test on."""
    return jobs.used_datasets(config)


def tool_version(backend):
    """The installed version of a profile backend's tool (a params value: another build reruns)."""
    return versions.tool_version(backend)


def script_code(script):
    """Digest of scripts/{script}.py and the protrnn code it imports: a params value, so that a
    change to that code reruns the rule (Snakemake's own code trigger sees the script only).
    """
    return versions.script_code(str(WORKFLOW_DIR), script)


def labelling_tools(dataset):
    """Versions of the tools that compute a dataset's labels (DSSP for PDB chains): a params value."""
    if config["datasets"][dataset]["format"] != "pdb_chains":
        return {}
    return {"dssp": versions.tool_version("dssp")}


def download_path(key):
    return paths.fill(paths.DOWNLOAD, file=key)


def structure_sources():
    """PDB id -> {url, mirror_path, sha256} for every pdb_chains dataset in use (first one wins)."""
    return jobs.structure_sources(config)


def dataset_files(wildcards):
    """Role -> downloaded file of the dataset, plus cif_{PDB} -> mmCIF for pdb_chains."""
    spec = config["datasets"][wildcards.dataset]
    files = {role: download_path(key) for role, key in spec["files"].items()}
    for pdb in jobs.dataset_structures(config, wildcards.dataset):
        files[f"cif_{pdb}"] = paths.fill(paths.STRUCTURE, pdb=pdb)
    return files


def dataset_max_proteins(dataset):
    """The dataset's own subsample size (over all its splits), or None."""
    return config["datasets"][dataset].get("max_proteins")


def training_preset(wildcards):
    """The preset one model trains with (experiment and per-model overrides applied)."""
    return model_preset(config, wildcards.experiment, wildcards.model)


def dataset_max_train_proteins(dataset):
    """The preset's cap on train + valid proteins, for training datasets only."""
    return jobs.dataset_max_train_proteins(config, dataset)


def profile_priority(dataset):
    return jobs.profile_priority(config, dataset)


def dataset_shards(dataset):
    return jobs.dataset_shards(config, dataset)


def profile_shards(dataset, template=paths.PROFILE_SHARD):
    """The dataset's profile shards (``template``: PROFILE_SHARD or PROFILE_PROVENANCE)."""
    return [
        paths.fill(template, dataset=dataset, shard=i)
        for i in range(dataset_shards(dataset))
    ]


def train_resources_gpu():
    return 1 if PRESET["device"] == "cuda" else 0


def model_targets(template=paths.MODEL):
    """``template`` (MODEL, HISTORY) for every model of the selected experiments."""
    return paths.fill_all(template, JOBS["train"])


def eval_targets(template=paths.EVAL_METRICS):
    """``template`` (EVAL_METRICS, EVAL_PREDICTIONS) for every model and test set."""
    return paths.fill_all(template, JOBS["evaluate"])


def redundancy_targets(template=paths.REDUNDANCY):
    return paths.fill_all(template, JOBS["redundancy"])


def benchmark_files():
    """Benchmark files of every job of the configured run (the report sums them per stage)."""
    return [
        paths.fill(paths.benchmark(rule), **job)
        for rule, rule_jobs in JOBS.items()
        for job in rule_jobs
    ]


def study_inputs():
    """Every file of the report's benchmark studies (editing one rebuilds the report)."""
    return [str(f) for d in STUDY_DIRS for f in study_files(d)]


def local_source(wildcards):
    """The user's own file of a `path:` entry: editing it reruns the copy and all after it."""
    path = config["files"][wildcards.file].get("path")
    return [path] if path else []


def download_entry(wildcards):
    """The file's config entry; for a `path:` file also its size and modification time, so that
    replacing it, even by an older file, reruns the copy (and everything downstream)."""
    entry = config["files"][wildcards.file]
    path = entry.get("path")
    if not path or not Path(path).is_file():
        return entry
    state = Path(path).stat()
    return {
        **entry,
        "source_state": f"{state.st_size} bytes, mtime {state.st_mtime_ns} ns",
    }


# Figures figures/{name}.png by name prefix -> their subcategory in `snakemake --report`
# (captions: report/figure.rst); the rest of the name is a test set, an experiment or a task.
FIGURE_KINDS = {
    "summary_": "Summary",
    "protein_confusion_": "Confusion matrices",
    "protein_f1_": "Per-class F1",
    "per_class_f1_": "Per-class F1",
    "confusion_": "Confusion matrices",
    "length_bins_": "Accuracy by sequence length",
    "calibration_": "Calibration",
    "learning_curves": "Learning curves",
}


def figure_report(wildcards):
    """Category (its experiments), subcategory (kind) and test set of figures/{name}.png."""
    name = wildcards.name
    prefix = next((p for p in FIGURE_KINDS if name.startswith(p)), "")
    if prefix == "learning_curves":
        task = "per_protein" if name.endswith("_per_protein") else "per_residue"
        owners = [e for e in EXPERIMENTS if experiment_task(config, e) == task]
        return ", ".join(owners) or "Other", FIGURE_KINDS[prefix], "all"
    matches = [
        (len(key), e, key)
        for e in EXPERIMENTS
        for key in [e, *experiment(e)["test_sets"]]
        if name == key or name.endswith(f"_{key}")
    ]
    _, owner, key = max(matches, default=(0, "Other", "all"))
    return owner, FIGURE_KINDS.get(prefix, "Other figures"), key


PREDICT_FASTA = config.get("predict_fasta") or ""


def predict_targets():
    """The prediction outputs when `predict_fasta` is set, else nothing."""
    if not PREDICT_FASTA:
        return []
    chosen = prediction_model(config)
    experiment_name, model = chosen.split("/")
    return [paths.fill(paths.PREDICT_FASTA, experiment=experiment_name, model=model)]


def all_targets():
    return [paths.REPORT_HTML, *predict_targets()]


onstart:
    # before the first job, not at parse time: --lint, --dry-run and --report need no data
    try:
        check_sources(config, jobs.used_files(config), Path(paths.DOWNLOAD_DIR))
    except SourceError as error:
        sys.exit(f"protrnn: {error}")

"""The jobs of the configured run, from a validated config: which datasets, input files, PDB
entries, models and test sets the selected experiments need, and the wildcard values of every
job of each rule (``protrnn.paths`` turns them into paths). No paths here, no heavy imports."""

from __future__ import annotations

from protrnn.config.experiments import (
    ensemble_size,
    experiment_models,
    model_preset,
    scored_models,
    selected_experiments,
)
from protrnn.data.formats.pdb_ids import structure_downloads

Wildcards = dict[str, object]


def train_dataset(config: dict, experiment: str) -> str:
    return config["experiments"][experiment]["train_dataset"]


def used_datasets(config: dict) -> list[str]:
    """Every dataset the selected experiments train or test on, in order of first use."""
    names = []
    for name in selected_experiments(config):
        names.append(train_dataset(config, name))
        names += [t["dataset"] for t in config["experiments"][name]["test_sets"].values()]
    return list(dict.fromkeys(names))


def used_files(config: dict) -> list[str]:
    """Keys of every declared file the configured run needs (datasets, then the database)."""
    keys = [k for ds in used_datasets(config) for k in config["datasets"][ds]["files"].values()]
    keys += config["profile_databases"][config["profiles"]["database"]]
    return list(dict.fromkeys(keys))


def dataset_structures(config: dict, dataset: str) -> dict[str, dict]:
    """PDB id -> {url, mirror_path, sha256} of a pdb_chains dataset (empty for other formats)."""
    spec = config["datasets"][dataset]
    if spec["format"] != "pdb_chains":
        return {}
    return structure_downloads(spec["chains"], spec["structure_url"], spec["structure_mirror_path"])


def structure_sources(config: dict) -> dict[str, dict]:
    """PDB id -> {url, mirror_path, sha256} for every pdb_chains dataset in use (first one wins)."""
    sources: dict[str, dict] = {}
    for name in used_datasets(config):
        for pdb, source in dataset_structures(config, name).items():
            sources.setdefault(pdb, source)
    return sources


def dataset_shards(config: dict, dataset: str) -> int:
    """Profile-search jobs of ``dataset``: its own ``shards``, else ``profiles.shards``."""
    return config["datasets"][dataset].get("shards") or config["profiles"]["shards"]


def profile_priority(config: dict, dataset: str) -> int:
    """Scheduling priority of ``dataset``'s profile search and encoding: the number of models
    that train on it (0 for a dataset only tested on), so that on a busy machine the longest
    block of work, training, starts as early as it can and test sets' profiles fill the gaps."""
    return sum(
        len(experiment_models(config, e))
        for e in selected_experiments(config)
        if train_dataset(config, e) == dataset
    )


def dataset_max_train_proteins(config: dict, dataset: str) -> int | None:
    """The preset's cap on train + valid proteins, for training datasets only (the largest cap
    of the models training on it; None when one of them has none). Each model then trains on
    its own cap of these (the same proteins for the same cap)."""
    caps = [
        model_preset(config, e, m).get("max_train_proteins")
        for e in selected_experiments(config)
        if train_dataset(config, e) == dataset
        for m in experiment_models(config, e)
    ]
    if not caps or None in caps:
        return None
    return max(caps)


def _model_jobs(config: dict) -> list[Wildcards]:
    return [
        {"experiment": e, "model": m}
        for e in selected_experiments(config)
        for m in experiment_models(config, e)
    ]


def _ensemble_jobs(config: dict) -> list[Wildcards]:
    return [{"experiment": e} for e in selected_experiments(config) if ensemble_size(config, e)]


def _test_set_jobs(config: dict) -> list[Wildcards]:
    return [
        {"experiment": e, "testset": t}
        for e in selected_experiments(config)
        for t in config["experiments"][e]["test_sets"]
    ]


def _evaluation_jobs(config: dict) -> list[Wildcards]:
    return [
        {"experiment": e, "model": m, "testset": t}
        for e in selected_experiments(config)
        for m in scored_models(config, e)
        for t in config["experiments"][e]["test_sets"]
    ]


def _profile_search_jobs(config: dict) -> list[Wildcards]:
    return [
        {"dataset": ds, "shard": i}
        for ds in used_datasets(config)
        for i in range(dataset_shards(config, ds))
    ]


def rule_jobs(config: dict) -> dict[str, list[Wildcards]]:
    """Rule -> the wildcards of each of its jobs in the configured run (without predict and
    report, which have their own targets), in workflow order."""
    datasets = [{"dataset": ds} for ds in used_datasets(config)]
    profiles = config["profiles"]
    return {
        "download": [{"file": key} for key in used_files(config)],
        "download_structure": [{"pdb": pdb} for pdb in structure_sources(config)],
        "parse_dataset": datasets,
        "profile_database": [{"database": profiles["database"], "backend": profiles["backend"]}],
        "profile_search": _profile_search_jobs(config),
        "encode": datasets,
        "train": _model_jobs(config),
        "ensemble": _ensemble_jobs(config),
        "evaluate": _evaluation_jobs(config),
        "redundancy": _test_set_jobs(config),
    }

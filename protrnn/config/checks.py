"""Cross-checks the schema cannot express: every name used is declared, models fit their task,
test sets are unique and of the training task, experiments that choose their own features share
no dataset with others, datasets fit their format (task, options, splits),
the prediction model predicts per residue and a local mirror is a folder.

Each check is a small function taking the schema-checked config (defaults filled in) and raising
:class:`ConfigError` with one line naming the key; :data:`CHECKS` runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from protrnn.config.encoding import dataset_features
from protrnn.config.errors import require
from protrnn.config.experiments import (
    PER_PROTEIN_TYPES,
    RESIDUE,
    model_task,
    selected_experiments,
    trained_models,
)
from protrnn.config.folds import check_folds
from protrnn.config.schema import preset_errors
from protrnn.data.formats.options import (
    FORMAT_INFO,
    SPEC_OPTION_KEYS,
    dataset_options,
    uniform_split,
)
from protrnn.paths import ENSEMBLE_NAME


def _names(values: Iterable[str]) -> str:
    return ", ".join(values)


def check_file_sources(config: dict) -> None:
    """Every declared file has somewhere to come from."""
    for name, entry in config["files"].items():
        require(
            bool(entry.get("url")) or bool(entry.get("mirror_path")) or bool(entry.get("path")),
            f"config key files.{name}: needs a url, a mirror_path or a path",
        )


def check_file_references(config: dict) -> None:
    """Profile databases and datasets name declared files only."""
    files = config["files"]
    for db, keys in config["profile_databases"].items():
        for key in keys:
            require(key in files, f"config key profile_databases.{db}: unknown file {key!r}")
    for name, ds in config["datasets"].items():
        for role, key in ds["files"].items():
            require(key in files, f"config key datasets.{name}.files.{role}: unknown file {key!r}")


def check_profile_database(config: dict) -> None:
    database = config["profiles"]["database"]
    require(
        database in config["profile_databases"],
        f"config key profiles.database: {database!r} is not in profile_databases",
    )


def check_train_selection(config: dict) -> None:
    """``train.preset`` and ``train.experiments`` name declared entries."""
    train = config["train"]
    require(
        train["preset"] in config["presets"],
        f"config key train.preset: {train['preset']!r} is not in presets "
        f"({_names(config['presets'])})",
    )
    for name in train.get("experiments") or []:
        require(
            name in config["experiments"],
            f"config key train.experiments: {name!r} is not in experiments "
            f"({_names(config['experiments'])})",
        )


def check_dataset_inputs(config: dict) -> None:
    """Per-protein datasets list their classes; pdb_chains lists chains, the others files."""
    for name, ds in config["datasets"].items():
        if ds["task"] == "per_protein":
            require(
                bool(ds.get("classes")),
                f"config key datasets.{name}.classes: required for a per_protein dataset",
            )
        if ds["format"] == "pdb_chains":
            require(
                bool(ds.get("chains")),
                f"config key datasets.{name}.chains: required for format pdb_chains",
            )
        else:
            require(bool(ds["files"]), f"config key datasets.{name}.files: no files given")


def _check_model_presets(config: dict, where: str, preset: dict) -> None:
    """A preset's ``models`` name declared models, and each model's merged preset is valid."""
    for model, keys in (preset.get("models") or {}).items():
        require(
            model in config["models"],
            f"{where}.models.{model}: not a model ({_names(config['models'])})",
        )
        merged = {k: v for k, v in preset.items() if k != "models"} | dict(keys or {})
        errors = preset_errors(merged)
        if "models" in (keys or {}):
            errors.insert(0, "per-model overrides cannot have their own 'models'")
        require(not errors, f"{where}.models.{model}: {errors[0] if errors else ''}")


def check_presets(config: dict) -> None:
    """Each preset's per-model overrides are valid."""
    for name, preset in config["presets"].items():
        _check_model_presets(config, f"config key presets.{name}", preset)


def _check_experiment_presets(config: dict, where: str, exp: dict) -> None:
    """``experiments.X.presets`` overrides declared presets and keeps them valid."""
    for preset_name, overrides in (exp.get("presets") or {}).items():
        require(
            preset_name in config["presets"],
            f"{where}.presets.{preset_name}: not a preset ({_names(config['presets'])})",
        )
        merged = {**config["presets"][preset_name], **(overrides or {})}
        errors = preset_errors(merged)
        require(not errors, f"{where}.presets.{preset_name}: {errors[0] if errors else ''}")
        _check_model_presets(config, f"{where}.presets.{preset_name}", merged)


def _check_experiment_models(config: dict, where: str, exp: dict) -> None:
    """The experiment's models are declared and predict its training dataset's task."""
    train_ds = exp["train_dataset"]
    task = config["datasets"][train_ds]["task"]
    for name in exp["models"]:
        require(
            name in config["models"],
            f"{where}.models: {name!r} is not in models ({_names(config['models'])})",
        )
        model_type = config["models"][name]["type"]
        require(
            model_task(model_type) == task,
            f"{where}.models: {name!r} (type {model_type}) does not fit the {task} task of "
            f"{train_ds!r}; per-protein types are {_names(PER_PROTEIN_TYPES)}",
        )


def _check_test_set(config: dict, where: str, exp: dict, test: dict) -> None:
    """A test set's dataset is declared, of the training task and (per protein) classes."""
    train_ds = exp["train_dataset"]
    task = config["datasets"][train_ds]["task"]
    ds = test["dataset"]
    require(ds in config["datasets"], f"{where}.dataset: {ds!r} is not in datasets")
    require(
        config["datasets"][ds]["task"] == task,
        f"{where}: dataset {ds!r} is {config['datasets'][ds]['task']}, "
        f"the training dataset {train_ds!r} is {task}",
    )
    if task == "per_protein":
        require(
            config["datasets"][ds].get("classes") == config["datasets"][train_ds]["classes"],
            f"{where}: dataset {ds!r} must list the same classes, in the same order, as "
            f"{train_ds!r}",
        )


def check_experiments(config: dict) -> None:
    """Each experiment: training dataset, preset overrides, models, then its test sets (whose
    names are unique over all experiments)."""
    test_names: dict[str, str] = {}
    for exp_name, exp in config["experiments"].items():
        where = f"config key experiments.{exp_name}"
        require(
            exp["train_dataset"] in config["datasets"],
            f"{where}.train_dataset: {exp['train_dataset']!r} is not in datasets",
        )
        _check_experiment_presets(config, where, exp)
        _check_experiment_models(config, where, exp)
        for name, test in exp["test_sets"].items():
            require(
                name not in test_names,
                f"{where}.test_sets.{name}: test set name already used in experiment "
                f"{test_names.get(name)!r}; test set names must be unique",
            )
            test_names[name] = exp_name
            _check_test_set(config, f"{where}.test_sets.{name}", exp, test)


def check_experiment_features(config: dict) -> None:
    """Experiments with their own ``features`` share no dataset with experiments of others."""
    dataset_features(config)


def _with_plain_names(trained: list[str]) -> set[str]:
    """``experiment/model`` names and their plain model names (``predict_model`` takes both)."""
    return {*trained, *(t.split("/")[1] for t in trained)}


def check_predict_model(config: dict) -> None:
    """With ``predict_fasta`` set, a selected per-residue experiment trains the model that
    predicts, and ``predict_model`` (if set) names one of its models."""
    if not config.get("predict_fasta"):
        return
    residue = trained_models(config, RESIDUE)
    require(
        bool(residue),
        "config key predict_fasta: secondary-structure prediction needs a per_residue "
        f"experiment, and none of {_names(selected_experiments(config))} is one",
    )
    predict_model = config.get("predict_model")
    if not predict_model:
        return
    trained = trained_models(config)
    require(
        predict_model in _with_plain_names(trained),
        f"config key predict_model: {predict_model!r} is not a trained model ({_names(trained)})",
    )
    require(
        predict_model in _with_plain_names(residue),
        f"config key predict_model: {predict_model!r} predicts per protein (experiment task "
        f"per_protein), not secondary structure; choose a per_residue model ({_names(residue)})",
    )


def check_reserved_model_names(config: dict) -> None:
    """``ensemble`` names each experiment's ensemble; no entry of ``models`` may take it."""
    require(
        ENSEMBLE_NAME not in config["models"],
        "config key models.ensemble: the name 'ensemble' is reserved for the experiments' "
        "ensembles (experiments.<name>.ensemble); rename the model",
    )


def check_model_cells(config: dict) -> None:
    """Recurrent model types name their cell."""
    for name, spec in config["models"].items():
        if spec["type"] in ("rnn", "rnn_last"):
            require(
                "cell" in spec, f"config key models.{name}.cell: required for type {spec['type']}"
            )


def check_dataset_formats(config: dict) -> None:
    """A dataset's task is its format's, its options are ones the format takes, each given in
    one place (``member``/``split``/``chains`` on the dataset win over ``options``), and only a
    per-protein dataset sets ``max_length``."""
    for name, spec in config["datasets"].items():
        fmt, info = spec["format"], FORMAT_INFO[spec["format"]]
        require(
            info.task in (spec["task"], "either"),
            f"config key datasets.{name}.task: format {fmt} holds {info.task} data, "
            f"not {spec['task']}",
        )
        require(
            spec.get("max_length") is None or spec["task"] == "per_protein",
            f"config key datasets.{name}.max_length: only per_protein datasets are cut to their "
            f"termini (a per-residue label would lose its residue)",
        )
        given = spec.get("options") or {}
        keys = [f"options.{k}" for k in given] + [k for k in SPEC_OPTION_KEYS if k in spec]
        for key in keys:
            option = key.removeprefix("options.")
            require(
                option in info.options,
                f"config key datasets.{name}.{key}: format {fmt} takes no option {option!r} "
                f"(it takes {_names(sorted(info.options))})",
            )
        effective = dataset_options(name, spec)
        for option, value in given.items():
            require(
                effective[option] == value,
                f"config key datasets.{name}.options.{option}: replaced by datasets.{name}."
                f"{option} ({effective[option]!r}); set it in one place",
            )


def _split_key(name: str, spec: dict) -> str:
    """Where dataset ``name`` sets its split: ``split``, ``options.split`` or neither."""
    if "split" in spec:
        return f"datasets.{name}.split"
    if "split" in (spec.get("options") or {}):
        return f"datasets.{name}.options.split"
    return f"datasets.{name}.split (not set: the default is test)"


def _fixed_split(config: dict, name: str) -> str | None:
    spec = config["datasets"][name]
    return uniform_split(spec["format"], spec["files"], dataset_options(name, spec))


def check_dataset_splits(config: dict) -> None:
    """A training dataset can hold train proteins and a test set's dataset test proteins, as far
    as the config tells (formats whose records all get option ``split``)."""
    for exp_name, exp in config["experiments"].items():
        train_ds = exp["train_dataset"]
        split = _fixed_split(config, train_ds)
        require(
            split in (None, "train"),
            f"config key {_split_key(train_ds, config['datasets'][train_ds])}: every record of "
            f"{train_ds!r} gets split {split!r}, so experiment {exp_name!r} has no train "
            "proteins (set split: train)",
        )
        for test_name, test in exp["test_sets"].items():
            split = _fixed_split(config, test["dataset"])
            require(
                split in (None, "test"),
                f"config key experiments.{exp_name}.test_sets.{test_name}.dataset: every record "
                f"of {test['dataset']!r} gets split {split!r}; only split test is scored, so "
                "the test set would be empty",
            )


def check_mirror(config: dict) -> None:
    """A local ``mirror`` is a folder (whether it exists is checked before the first job)."""
    mirror = (config.get("mirror") or "").strip()
    if mirror and "://" not in mirror:
        require(
            not Path(mirror).exists() or Path(mirror).is_dir(),
            f"config key mirror: {mirror!r} is a file, not a folder (the mirror is a folder or an "
            "http(s) base URL holding each file under its mirror_path)",
        )


#: The cross-checks, in the order they run (the first failing one is reported).
CHECKS: tuple[Callable[[dict], None], ...] = (
    check_file_sources,
    check_file_references,
    check_profile_database,
    check_train_selection,
    check_presets,
    check_dataset_inputs,
    check_experiments,
    check_experiment_features,
    check_predict_model,
    check_reserved_model_names,
    check_model_cells,
    check_folds,
    check_dataset_formats,
    check_dataset_splits,
    check_mirror,
)


def check_references(config: dict) -> None:
    """Run every check of :data:`CHECKS` on the schema-checked ``config``."""
    for check in CHECKS:
        check(config)

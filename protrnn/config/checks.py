"""Load and validate the workflow configuration (JSON schema + cross-references)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "config.schema.yaml"


#: Model types with one output per protein (many-to-one); the others predict per residue.
PER_PROTEIN_TYPES = ("rnn_attention", "cnn_rnn_pool", "rnn_last")


class ConfigError(ValueError):
    """A configuration value is missing, misspelled or inconsistent."""


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def _describe(error: jsonschema.ValidationError) -> str:
    where = _key_path(error)
    if error.validator == "additionalProperties":
        return f"config key {where}: {error.message} (misspelled or unknown key?)"
    return f"config key {where}: {error.message}"


def _set_defaults(instance: Any, schema: dict, root: dict) -> None:
    """Fill in `default` values of the schema (objects only, recursively)."""
    if "$ref" in schema:
        ref = schema["$ref"].split("/")[-1]
        schema = root["definitions"][ref]
    if not isinstance(instance, dict):
        return
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            instance[key] = copy.deepcopy(sub["default"])
        if key in instance:
            _set_defaults(instance[key], sub, root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in instance.items():
            if key not in schema.get("properties", {}):
                _set_defaults(value, extra, root)


def load_schema(path: Path = SCHEMA_PATH) -> dict:
    with open(path) as handle:
        return yaml.safe_load(handle)


def _yaml_scalar(text: str) -> object:
    """``text`` as a YAML scalar, plus floats like '1e-3' that YAML 1.1 leaves as strings."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _coerce_strings(config: dict, validator: jsonschema.Draft7Validator) -> dict:
    """Read YAML scalars that arrived as strings where the schema wants another type.

    Snakemake passes nested ``--config`` values (``presets='{cpu: {epochs: 3}}'``) as strings, so
    '3' or 'null' would fail a type check although the user meant a number or null.
    """
    config = copy.deepcopy(config)
    for _ in range(100):
        changed = False
        for error in validator.iter_errors(config):
            if error.validator != "type" or not isinstance(error.instance, str):
                continue
            value = _yaml_scalar(error.instance)
            if isinstance(value, str) or not error.absolute_path:
                continue
            node = config
            for key in list(error.absolute_path)[:-1]:
                node = node[key]
            node[error.absolute_path[-1]] = value
            changed = True
            break
        if not changed:
            return config
    return config


def validate_config(config: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """Validated copy of ``config`` with defaults filled in; ConfigError names the bad key."""
    schema = load_schema(schema_path)
    validator = jsonschema.Draft7Validator(schema)
    config = _coerce_strings(config, validator)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [_describe(e) for e in errors[:10]]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    config = copy.deepcopy(config)
    _set_defaults(config, schema, schema)
    _check_references(config)
    return expand_folds(config)


#: Dataset formats whose held-out part is chosen by an option (cross-validation folds).
FOLD_OPTIONS = {"deeploc2_csv": ("test_partition", 5)}


def _fold_formats() -> str:
    return ", ".join(f"{fmt} up to {n}" for fmt, (_, n) in FOLD_OPTIONS.items())


def expand_folds(config: dict) -> dict:
    """Replace each experiment with ``folds: K`` by K experiments ``{name}_fold{k}``.

    Fold k holds out partition k of the training dataset (a copy ``{dataset}_fold{k}`` with the
    format's fold option set to k); test sets on that dataset become ``{test}_fold{k}``, other
    test sets are scored by every fold as ``{test}_fold{k}``. Profiles are shared through the
    cache, so the copies cost encoding and training only.
    """
    config = copy.deepcopy(config)
    for name, exp in list(config["experiments"].items()):
        folds = exp.pop("folds", None)
        if not folds:
            continue
        train_ds = exp["train_dataset"]
        spec = config["datasets"][train_ds]
        option, most = FOLD_OPTIONS.get(spec["format"], (None, 0))
        _require(
            option is not None and 2 <= folds <= most,
            f"config key experiments.{name}.folds: {folds} folds need a training dataset whose "
            f"format has partitions ({_fold_formats()})",
        )
        del config["experiments"][name]
        for k in range(folds):
            fold_ds = f"{train_ds}_fold{k}"
            config["datasets"][fold_ds] = copy.deepcopy(spec)
            config["datasets"][fold_ds]["options"] = {**spec.get("options", {}), option: k}
            tests = {
                f"{test}_fold{k}": {
                    **entry,
                    "dataset": fold_ds if entry["dataset"] == train_ds else entry["dataset"],
                }
                for test, entry in exp["test_sets"].items()
            }
            config["experiments"][f"{name}_fold{k}"] = {
                **copy.deepcopy(exp),
                "train_dataset": fold_ds,
                "test_sets": tests,
                "fold": k,
            }
        selected = config["train"].get("experiments")
        if selected and name in selected:
            config["train"]["experiments"] = [
                e
                for s in selected
                for e in ([f"{s}_fold{k}" for k in range(folds)] if s == name else [s])
            ]
    return config


def _preset_validator() -> jsonschema.Draft7Validator:
    schema = load_schema()
    return jsonschema.Draft7Validator(
        {**schema["definitions"]["preset"], "definitions": schema["definitions"]}
    )


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _check_references(config: dict) -> None:
    """Cross-references the schema cannot express: every name used must be declared."""
    files = config["files"]
    for name, entry in files.items():
        _require(
            bool(entry.get("url")) or bool(entry.get("mirror_path")) or bool(entry.get("path")),
            f"config key files.{name}: needs a url, a mirror_path or a path",
        )
    for db, keys in config["profile_databases"].items():
        for key in keys:
            _require(key in files, f"config key profile_databases.{db}: unknown file {key!r}")
    for name, ds in config["datasets"].items():
        for role, key in ds["files"].items():
            _require(key in files, f"config key datasets.{name}.files.{role}: unknown file {key!r}")
    profiles = config["profiles"]
    _require(
        profiles["database"] in config["profile_databases"],
        f"config key profiles.database: {profiles['database']!r} is not in profile_databases",
    )
    train = config["train"]
    _require(
        train["preset"] in config["presets"],
        f"config key train.preset: {train['preset']!r} is not in presets "
        f"({', '.join(config['presets'])})",
    )
    for name in train.get("experiments") or []:
        _require(
            name in config["experiments"],
            f"config key train.experiments: {name!r} is not in experiments "
            f"({', '.join(config['experiments'])})",
        )
    for name, ds in config["datasets"].items():
        if ds["task"] == "per_protein":
            _require(
                bool(ds.get("classes")),
                f"config key datasets.{name}.classes: required for a per_protein dataset",
            )
        if ds["format"] == "pdb_chains":
            _require(
                bool(ds.get("chains")),
                f"config key datasets.{name}.chains: required for format pdb_chains",
            )
        else:
            _require(bool(ds["files"]), f"config key datasets.{name}.files: no files given")
    test_names: dict[str, str] = {}
    for exp_name, exp in config["experiments"].items():
        where = f"config key experiments.{exp_name}"
        train_ds = exp["train_dataset"]
        _require(
            train_ds in config["datasets"],
            f"{where}.train_dataset: {train_ds!r} is not in datasets",
        )
        for preset_name, overrides in (exp.get("presets") or {}).items():
            _require(
                preset_name in config["presets"],
                f"{where}.presets.{preset_name}: not a preset ({', '.join(config['presets'])})",
            )
            merged = {**config["presets"][preset_name], **(overrides or {})}
            errors = list(_preset_validator().iter_errors(merged))
            _require(
                not errors,
                f"{where}.presets.{preset_name}: {errors[0].message if errors else ''}",
            )
        task = config["datasets"][train_ds]["task"]
        for name in exp["models"]:
            _require(
                name in config["models"],
                f"{where}.models: {name!r} is not in models ({', '.join(config['models'])})",
            )
            model_type = config["models"][name]["type"]
            _require(
                (model_type in PER_PROTEIN_TYPES) == (task == "per_protein"),
                f"{where}.models: {name!r} (type {model_type}) does not fit the {task} task of "
                f"{train_ds!r}; per-protein types are {', '.join(PER_PROTEIN_TYPES)}",
            )
        for name, test in exp["test_sets"].items():
            _require(
                name not in test_names,
                f"{where}.test_sets.{name}: test set name already used in experiment "
                f"{test_names.get(name)!r}; test set names must be unique",
            )
            test_names[name] = exp_name
            ds = test["dataset"]
            _require(
                ds in config["datasets"],
                f"{where}.test_sets.{name}.dataset: {ds!r} is not in datasets",
            )
            _require(
                config["datasets"][ds]["task"] == task,
                f"{where}.test_sets.{name}: dataset {ds!r} is {config['datasets'][ds]['task']}, "
                f"the training dataset {train_ds!r} is {task}",
            )
            if task == "per_protein":
                classes = config["datasets"][train_ds]["classes"]
                _require(
                    config["datasets"][ds].get("classes") == classes,
                    f"{where}.test_sets.{name}: dataset {ds!r} must list the same classes, in the "
                    f"same order, as {train_ds!r}",
                )
    predict_model = config.get("predict_model")
    if config.get("predict_fasta") and predict_model:
        trained = [
            f"{e}/{m}" for e in selected_experiments(config) for m in experiment_models(config, e)
        ]
        plain = [t.split("/")[1] for t in trained]
        _require(
            predict_model in trained or predict_model in plain,
            f"config key predict_model: {predict_model!r} is not a trained model "
            f"({', '.join(trained)})",
        )
    for name, spec in config["models"].items():
        if spec["type"] in ("rnn", "rnn_last"):
            _require(
                "cell" in spec, f"config key models.{name}.cell: required for type {spec['type']}"
            )


def load_config(path: Path, overrides: dict | None = None) -> dict:
    """Read a YAML config file, apply overrides (top-level keys), validate."""
    with open(path) as handle:
        config = yaml.safe_load(handle) or {}
    if overrides:
        config.update(overrides)
    return validate_config(config)


def model_spec(config: dict, model: str) -> dict:
    """The model's spec for the active preset's size (base keys updated by `small`/`full`)."""
    spec = dict(config["models"][model])
    size = config["presets"][config["train"]["preset"]].get("model_size", "small")
    overrides = spec.pop(size, {}) or {}
    spec.pop("small", None)
    spec.pop("full", None)
    spec.update(overrides)
    return spec


def selected_experiments(config: dict) -> list[str]:
    """Experiments to run: ``train.experiments`` if given, else every entry of ``experiments``."""
    return list(config["train"].get("experiments") or config["experiments"])


def experiment_models(config: dict, experiment: str) -> list[str]:
    return list(config["experiments"][experiment]["models"])


def experiment_task(config: dict, experiment: str) -> str:
    """per_residue or per_protein: the task of the experiment's training dataset."""
    return config["datasets"][config["experiments"][experiment]["train_dataset"]]["task"]


def active_preset(config: dict, experiment: str | None = None) -> dict:
    """The selected preset, with the experiment's overrides for it (``experiments.X.presets``)."""
    name = config["train"]["preset"]
    preset = dict(config["presets"][name])
    if experiment is not None:
        overrides = (config["experiments"][experiment].get("presets") or {}).get(name) or {}
        preset.update(overrides)
    return preset

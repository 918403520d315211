"""Load and validate the workflow configuration (JSON schema + cross-references)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "config" / "config.schema.yaml"


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
    return config


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _check_references(config: dict) -> None:
    """Cross-references the schema cannot express: every name used must be declared."""
    files = config["files"]
    for name, entry in files.items():
        _require(
            bool(entry.get("url")) or bool(entry.get("mirror_path")),
            f"config key files.{name}: needs a url or a mirror_path",
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
        train["dataset"] in config["datasets"],
        f"config key train.dataset: {train['dataset']!r} is not in datasets",
    )
    _require(
        train["preset"] in config["presets"],
        f"config key train.preset: {train['preset']!r} is not in presets "
        f"({', '.join(config['presets'])})",
    )
    for name, test in config["evaluate"]["test_sets"].items():
        _require(
            test["dataset"] in config["datasets"],
            f"config key evaluate.test_sets.{name}.dataset: {test['dataset']!r} is not in datasets",
        )
        _require(
            test["dataset"] != train["dataset"],
            f"config key evaluate.test_sets.{name}: the training dataset cannot be a test set",
        )
    for name in config["train"].get("models") or []:
        _require(
            name in config["models"],
            f"config key train.models: {name!r} is not in models ({', '.join(config['models'])})",
        )
    predict_model = config.get("predict_model")
    if config.get("predict_fasta") and predict_model:
        trained = selected_models(config)
        _require(
            predict_model in trained,
            f"config key predict_model: {predict_model!r} is not a trained model "
            f"(train.models / models: {', '.join(trained)})",
        )
    for name, spec in config["models"].items():
        if spec["type"] == "rnn":
            _require("cell" in spec, f"config key models.{name}.cell: required for type rnn")


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


def selected_models(config: dict) -> list[str]:
    """Models to train: ``train.models`` if given, else every entry of ``models``."""
    return list(config["train"].get("models") or config["models"])


def active_preset(config: dict) -> dict:
    return dict(config["presets"][config["train"]["preset"]])

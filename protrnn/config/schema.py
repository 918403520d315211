"""The JSON schema of the configuration: loading it, coercing command-line strings, checking the
config against it (errors name the key) and filling in its defaults."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from protrnn.config.errors import ConfigError

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "config.schema.yaml"
#: At most this many schema errors are listed in one ConfigError.
MAX_LISTED_ERRORS = 10


@functools.lru_cache(maxsize=8)
def _parsed_schema(path: Path, mtime_ns: int) -> dict:
    with open(path) as handle:
        return yaml.safe_load(handle)


def load_schema(path: Path = SCHEMA_PATH) -> dict:
    """The schema at ``path`` (a fresh copy; parsed once per file version)."""
    path = Path(path)
    return copy.deepcopy(_parsed_schema(path, path.stat().st_mtime_ns))


def key_path(error: jsonschema.ValidationError) -> str:
    """``a.b.c`` of the config key the schema error is about."""
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def describe(error: jsonschema.ValidationError) -> str:
    """The schema error as one line naming the config key."""
    where = key_path(error)
    if error.validator == "additionalProperties":
        return f"config key {where}: {error.message} (misspelled or unknown key?)"
    return f"config key {where}: {error.message}"


def set_defaults(instance: Any, schema: dict, root: dict) -> None:
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
            set_defaults(instance[key], sub, root)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        for key, value in instance.items():
            if key not in schema.get("properties", {}):
                set_defaults(value, extra, root)


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


def coerce_strings(config: dict, validator: jsonschema.Draft7Validator) -> dict:
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


def apply_schema(config: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """Copy of ``config``, strings coerced, checked against the schema, defaults filled in.

    Raises ConfigError listing (up to :data:`MAX_LISTED_ERRORS`) schema errors, each naming its key.
    """
    schema = load_schema(schema_path)
    validator = jsonschema.Draft7Validator(schema)
    config = coerce_strings(config, validator)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [describe(e) for e in errors[:MAX_LISTED_ERRORS]]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    config = copy.deepcopy(config)
    set_defaults(config, schema, schema)
    return config


def preset_errors(preset: dict) -> list[str]:
    """Schema messages for one preset (e.g. a preset merged with an experiment's overrides)."""
    schema = load_schema()
    validator = jsonschema.Draft7Validator(
        {**schema["definitions"]["preset"], "definitions": schema["definitions"]}
    )
    return [error.message for error in validator.iter_errors(preset)]

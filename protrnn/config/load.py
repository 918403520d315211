"""The configuration pipeline: read the files (merged as Snakemake merges them), check against the
schema (defaults filled in), run the cross-checks, then expand cross-validation folds."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from protrnn.config.checks import check_references
from protrnn.config.files import read_config_file
from protrnn.config.folds import expand_folds
from protrnn.config.schema import SCHEMA_PATH, apply_schema


def validate_config(config: dict, schema_path: Path = SCHEMA_PATH) -> dict:
    """Validated copy of ``config`` with defaults filled in; ConfigError names the bad key."""
    config = apply_schema(config, schema_path)
    check_references(config)
    return expand_folds(config)


def load_config(path: str | os.PathLike[str], overrides: dict | None = None) -> dict:
    """Read a YAML config file, apply overrides (top-level keys), validate."""
    config = read_config_file(path)
    if overrides:
        config.update(overrides)
    return validate_config(config)


def merge_config(base: dict, overlay: Mapping) -> dict:
    """``base`` updated by ``overlay`` as Snakemake merges ``--configfile`` files: mappings are
    merged key by key, recursively; any other value replaces the old one."""
    for key, value in overlay.items():
        if isinstance(value, Mapping):
            old = base.get(key)
            base[key] = merge_config(old if isinstance(old, dict) else {}, value)
        else:
            base[key] = value
    return base


def load_config_files(paths: Sequence[str | os.PathLike[str]]) -> dict:
    """Read config files (each checked, see :func:`read_config_file`), merge them in order as
    ``snakemake --configfile A B`` does, validate."""
    config: dict = {}
    for path in paths:
        merge_config(config, read_config_file(path))
    return validate_config(config)

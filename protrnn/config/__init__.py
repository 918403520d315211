"""The workflow configuration: reading files, the schema, cross-checks, folds, read-only views
of experiments and presets, the jobs of the configured run, and the check of input sources.

Modules: :mod:`~protrnn.config.files` (YAML files; errors name file and line),
:mod:`~protrnn.config.schema` (schema, coercion, defaults), :mod:`~protrnn.config.checks`
(cross-checks), :mod:`~protrnn.config.folds` (cross-validation folds),
:mod:`~protrnn.config.experiments` (accessors), :mod:`~protrnn.config.jobs` (the jobs of the
configured run), :mod:`~protrnn.config.load` (the pipeline), :mod:`~protrnn.config.sources`
(can every missing input be fetched?), :mod:`~protrnn.config.encoding` (the encode section),
:mod:`~protrnn.config.studies` (the report's benchmark study directories).
``python -m protrnn.config FILE ...`` checks config files. Imports neither torch nor pandas: the
rules import it while Snakemake parses the DAG.
"""

from protrnn.config.encoding import encode_params
from protrnn.config.errors import ConfigError
from protrnn.config.experiments import (
    PER_PROTEIN_TYPES,
    active_preset,
    ensemble_size,
    experiment_models,
    experiment_task,
    model_preset,
    model_spec,
    model_task,
    prediction_model,
    scored_models,
    selected_experiments,
    trained_models,
)
from protrnn.config.files import check_config_files, read_config_file
from protrnn.config.load import load_config, load_config_files, merge_config, validate_config
from protrnn.config.sources import SourceError, check_sources

__all__ = [
    "PER_PROTEIN_TYPES",
    "ConfigError",
    "SourceError",
    "active_preset",
    "model_preset",
    "check_config_files",
    "check_sources",
    "encode_params",
    "ensemble_size",
    "experiment_models",
    "experiment_task",
    "load_config",
    "load_config_files",
    "merge_config",
    "model_spec",
    "model_task",
    "prediction_model",
    "read_config_file",
    "selected_experiments",
    "scored_models",
    "trained_models",
    "validate_config",
]

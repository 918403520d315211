"""Read-only views of a validated config: the selected experiments, their models, task and preset,
model specs for the preset's size, and the model that predicts a FASTA (``predict_model``)."""

from __future__ import annotations

from protrnn.paths import ENSEMBLE_NAME

RESIDUE, PROTEIN = "per_residue", "per_protein"
#: Model types with one output per protein (many-to-one); the others predict per residue.
PER_PROTEIN_TYPES = ("rnn_attention", "cnn_rnn_pool", "rnn_last")


def model_task(model_type: str) -> str:
    """per_protein or per_residue: what a model of ``model_type`` predicts."""
    return PROTEIN if model_type in PER_PROTEIN_TYPES else RESIDUE


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
    """The selected preset, with the experiment's overrides for it (``experiments.X.presets``);
    its ``models`` (per-model overrides) merged model by model."""
    name = config["train"]["preset"]
    preset = dict(config["presets"][name])
    if experiment is not None:
        overrides = dict((config["experiments"][experiment].get("presets") or {}).get(name) or {})
        per_model = {m: dict(v or {}) for m, v in (preset.get("models") or {}).items()}
        for model, keys in (overrides.pop("models", None) or {}).items():
            per_model[model] = {**per_model.get(model, {}), **(keys or {})}
        preset.update(overrides)
        if per_model:
            preset["models"] = per_model
    return preset


def model_preset(config: dict, experiment: str, model: str) -> dict:
    """The preset ``model`` of ``experiment`` trains with: the experiment's preset updated by its
    ``models.<model>`` keys (e.g. fewer epochs or proteins for a baseline)."""
    preset = active_preset(config, experiment)
    preset.update((preset.pop("models", None) or {}).get(model) or {})
    return preset


def ensemble_size(config: dict, experiment: str) -> int:
    """Members of the experiment's ensemble: its ``ensemble`` setting, at most its model count;
    0 when fewer than two models would take part."""
    size = min(
        int(config["experiments"][experiment].get("ensemble", 0)),
        len(experiment_models(config, experiment)),
    )
    return size if size >= 2 else 0


def scored_models(config: dict, experiment: str) -> list[str]:
    """The experiment's models as evaluation and the report see them: its models, then its
    ensemble (when it has one)."""
    ensemble = [ENSEMBLE_NAME] if ensemble_size(config, experiment) else []
    return experiment_models(config, experiment) + ensemble


def trained_models(config: dict, task: str | None = None) -> list[str]:
    """``experiment/model`` of every model the selected experiments train, ensembles included
    (of ``task`` only)."""
    return [
        f"{e}/{m}"
        for e in selected_experiments(config)
        if task is None or experiment_task(config, e) == task
        for m in scored_models(config, e)
    ]


def prediction_model(config: dict) -> str:
    """``experiment/model`` that predicts ``predict_fasta``: ``predict_model`` (experiment/model,
    or a model of the first per-residue experiment that trains it), else the last model of the
    first per-residue experiment; '' when no selected experiment is per-residue."""
    chosen = config.get("predict_model") or ""
    if "/" in chosen:
        return chosen
    residue = [e for e in selected_experiments(config) if experiment_task(config, e) == RESIDUE]
    if not residue:
        return ""
    for name in residue:
        if chosen in scored_models(config, name):
            return f"{name}/{chosen}"
    return f"{residue[0]}/{experiment_models(config, residue[0])[-1]}"

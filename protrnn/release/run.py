"""What a finished workflow run records, read for a release: its config, its models and their
validation scores, the test scores of its report tables, the training set sizes.

- The config: the one the run used, as the report's provenance section records it
  (``results/report/index.html``, the YAML under the heading ``config``), validated again; or a
  config file given instead.
- Candidates (:func:`candidates`): every trained model of the experiment,
  ``results/models/{experiment}/{model}/model.pt``, ranked by the validation score its training
  picked the best epoch by (:data:`protrnn.model.ensemble.SAVED_SELECTION`). The ensemble takes
  part only when its file records such a score of its own (a file that records only its members'
  scores is left out, and the card says so). Ties go to the first name in alphabetical order.
- Test scores (:func:`test_rows`): the chosen model's rows (source ``this workflow``) of
  ``results/report/accuracy.tsv`` (per residue) or ``protein_accuracy.tsv`` (per protein), one
  per test set of the experiment, with the 95 % interval columns.

Every missing file, column or row is one :class:`ReleaseError` naming it.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from protrnn import paths
from protrnn.config import experiment_task, model_preset, validate_config
from protrnn.config.experiments import selected_experiments
from protrnn.model.checkpoint import load_torch_file
from protrnn.model.ensemble import SAVED_SELECTION


class ReleaseError(ValueError):
    """A run that cannot be released as it is; the message names the file and what is wrong."""


#: The report's record of the run's config and commit (protrnn.report.html.provenance_html).
CONFIG_IN_REPORT = re.compile(r"<h3>config</h3><pre>(.*?)</pre>", re.S)
COMMIT_IN_REPORT = re.compile(r"<th>git_commit</th><td>(.*?)</td>", re.S)
#: The training log's opening line (protrnn.model.train.run_line).
TRAINING_LINE = re.compile(r"training \S+ \(([\d,]+) parameters.*?, (\d+) train / (\d+) valid")
#: Report table per task, and its score columns with a 95 % interval.
TABLES = {"per_residue": "accuracy.tsv", "per_protein": "protein_accuracy.tsv"}
SCORES = {"per_residue": ("q8", "q3"), "per_protein": ("accuracy", "mcc", "membrane_accuracy")}
COUNTS = {"per_residue": ("n_proteins", "n_residues"), "per_protein": ("n_proteins",)}
OUR_ROWS = "this workflow"


def run_file(run_dir: Path, template: str, **wildcards: object) -> Path:
    """A file of the run: ``template`` of :mod:`protrnn.paths` filled in, under ``run_dir``."""
    return Path(run_dir) / paths.fill(template, **wildcards)


def report_page(run_dir: Path) -> str:
    """The text of the run's ``results/report/index.html`` (the run must be finished)."""
    page = run_file(run_dir, paths.REPORT_HTML)
    if not page.is_file():
        raise ReleaseError(f"{page} does not exist: the run is not finished (no report)")
    return page.read_text(encoding="utf-8")


def read_run_config(run_dir: Path, config_file: Path | None = None) -> dict:
    """The run's validated config: from ``config_file`` when given, else the report's record."""
    if config_file is not None:
        if not Path(config_file).is_file():
            raise ReleaseError(f"config file {config_file} does not exist")
        source, text = str(config_file), Path(config_file).read_text(encoding="utf-8")
    else:
        found = CONFIG_IN_REPORT.search(report_page(run_dir))
        source = str(run_file(run_dir, paths.REPORT_HTML))
        if found is None:
            raise ReleaseError(f"{source} records no config (section Provenance): give --config")
        text = html.unescape(found.group(1))
    try:
        config = yaml.safe_load(text)
        return validate_config(config if isinstance(config, dict) else {})
    except (yaml.YAMLError, ValueError) as err:
        raise ReleaseError(f"{source}: the run's config is not valid: {err}") from None


def run_commit(run_dir: Path) -> str:
    """The git commit the report records for the run ("not recorded" when it has none)."""
    found = COMMIT_IN_REPORT.search(report_page(run_dir))
    return html.unescape(found.group(1)).strip() if found else "not recorded"


@dataclass(frozen=True)
class Candidate:
    """One trained model of an experiment and the validation score it is ranked by."""

    name: str
    path: Path
    metric: str
    score: float
    content: dict

    @property
    def n_parameters(self) -> int:
        """Weights in the file (the members' together for an ensemble)."""
        dicts = [self.content.get("state_dict")] + [
            m.get("state_dict") for m in self.content.get("member_models", [])
        ]
        return int(sum(t.numel() for d in dicts if d for t in d.values()))


def _load(path: Path) -> dict:
    if not path.is_file():
        raise ReleaseError(f"{path} does not exist: the run has not trained this model")
    try:
        return load_torch_file(path)
    except (ValueError, FileNotFoundError) as err:
        raise ReleaseError(str(err)) from None


def candidates(run_dir: Path, config: dict, experiment: str) -> tuple[list[Candidate], dict]:
    """The experiment's models with a recorded validation score, and ``{name: why left out}``."""
    metric = SAVED_SELECTION[experiment_task(config, experiment)]
    found, left_out = [], {}
    names = list(config["experiments"][experiment]["models"])
    ensemble = run_file(run_dir, paths.ENSEMBLE, experiment=experiment)
    for name in [*names, *([paths.ENSEMBLE_NAME] if ensemble.is_file() else [])]:
        path = run_file(run_dir, paths.MODEL, experiment=experiment, model=name)
        content = _load(path)
        if metric in content:
            found.append(Candidate(name, path, metric, float(content[metric]), content))
        elif name == paths.ENSEMBLE_NAME:
            left_out[name] = (
                f"its file records no {metric} of its own (only its members' scores), so it "
                "is not comparable with the single models"
            )
        else:
            raise ReleaseError(f"{path}: no {metric} recorded (train it again with this protrnn)")
    return found, left_out


def choose(found: list[Candidate]) -> Candidate:
    """The candidate with the highest validation score (ties: the first name)."""
    if not found:
        raise ReleaseError("no trained model with a validation score to choose from")
    return sorted(found, key=lambda c: (-c.score, c.name))[0]


def _report_table(run_dir: Path, task: str) -> tuple[Path, pd.DataFrame]:
    path = run_file(run_dir, paths.REPORT_HTML).parent / TABLES[task]
    if not path.is_file():
        raise ReleaseError(f"{path} does not exist: the run's report has no {task} table")
    table = pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str)
    needed = ["test_set", "model", "source", *COUNTS[task]]
    needed += [f"{s}{end}" for s in SCORES[task] for end in ("", "_ci_low", "_ci_high")]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ReleaseError(f"{path}: column(s) {', '.join(missing)} missing")
    return path, table


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def test_rows(run_dir: Path, config: dict, experiment: str, model: str) -> list[dict]:
    """One record per test set of ``experiment``: the report's scores of ``model`` (percent,
    95 % interval ``[low, high]``, or None where the table has none) and counts."""
    task = experiment_task(config, experiment)
    path, table = _report_table(run_dir, task)
    ours = table[(table["model"] == model) & (table["source"] == OUR_ROWS)]
    rows = []
    for name, test in config["experiments"][experiment]["test_sets"].items():
        row = ours[ours["test_set"] == name]
        if len(row) != 1:
            raise ReleaseError(
                f"{path}: {len(row)} rows for test set {name!r} and model {model!r} (expected 1)"
            )
        r = row.iloc[0]
        record: dict = {"test_set": name, "dataset": test["dataset"]}
        record["mask"] = test.get("mask", "eval_mask") if task == "per_residue" else None
        for score in SCORES[task]:
            low, high = _number(r[f"{score}_ci_low"]), _number(r[f"{score}_ci_high"])
            record[score] = _number(r[score])
            record[f"{score}_ci95"] = [low, high] if low is not None else None
        record.update({c: int(float(r[c])) for c in COUNTS[task]})
        rows.append(record)
    return rows


def training_size(run_dir: Path, config: dict, experiment: str, model: str) -> dict:
    """Train and valid proteins the model trained on (its training log) and in the dataset, and
    the dataset's cut of long proteins (``max_length``; None when it had none)."""
    dataset = config["experiments"][experiment]["train_dataset"]
    stats = run_file(run_dir, paths.DATASET_STATS, dataset=dataset)
    parsed = json.loads(stats.read_text()) if stats.is_file() else {}
    written = parsed.get("written", {})
    log = run_file(run_dir, paths.log("train"), experiment=experiment, model=model)
    lines = TRAINING_LINE.findall(log.read_text(errors="replace")) if log.is_file() else []
    used = {"train": int(lines[-1][1]), "valid": int(lines[-1][2])} if lines else None
    return {
        "dataset": dataset,
        "used": used,
        "in_dataset": written.get("splits"),
        "cropped": parsed.get("cropped"),
    }


def released_experiments(config: dict) -> list[str]:
    """The experiments the run trained (``train.experiments``, else all)."""
    return selected_experiments(config)


def preset_of(config: dict, experiment: str, model: str) -> dict:
    """The preset's name, the settings ``model`` trained with and the seed."""
    settings = {k: v for k, v in model_preset(config, experiment, model).items() if k != "models"}
    train = config["train"]
    return {"name": train["preset"], "settings": settings, "seed": train["seed"]}

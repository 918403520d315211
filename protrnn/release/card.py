"""The model card of a released model: ``card.json`` (:func:`card_record`, machine-readable) and
``MODEL_CARD.md`` (:func:`card_markdown`, the same facts for people).

Every number comes from the run (the model file, its training log, the report tables) or from
the check subset; the data licences from :mod:`protrnn.release.licences`.
"""

from __future__ import annotations

from dataclasses import dataclass

from protrnn.release.licences import SEQDB_README, licence_of
from protrnn.release.run import Candidate

CARD_FORMAT = "protrnn model card 1"
SELECTION_RULE = (
    "the experiment's model with the highest validation score its training selected the best "
    "epoch by ({metric}, recorded in model.pt); never chosen by a test score"
)


@dataclass
class CardInputs:
    """What the card of one experiment is made of (see :func:`card_record`)."""

    experiment: str
    config: dict
    chosen: Candidate
    found: list[Candidate]
    left_out: dict
    training: dict
    preset: dict
    test_rows: list[dict]
    model_file: dict
    run: dict
    release_command: str
    database_info: dict
    check: dict | None


def file_records(config: dict, keys: list[str]) -> list[dict]:
    """Key, public address, mirror path, sha256 and licence of each of the config's ``files``."""
    out = []
    for key in dict.fromkeys(keys):
        entry = config["files"][key]
        licence, stated = licence_of(entry.get("mirror_path"))
        out.append(
            {
                "key": key,
                "url": entry.get("url"),
                "mirror_path": entry.get("mirror_path"),
                "sha256": entry.get("sha256"),
                "licence": licence,
                "licence_source": stated,
            }
        )
    return out


def _data_files(config: dict, experiment: str) -> tuple[list[str], list[str]]:
    """File keys of the training dataset and of the test sets' datasets."""
    spec = config["experiments"][experiment]
    train = list(config["datasets"][spec["train_dataset"]]["files"].values())
    datasets = [config["datasets"][t["dataset"]] for t in spec["test_sets"].values()]
    tests = [k for d in datasets for k in d["files"].values()]
    return train, [k for k in dict.fromkeys(tests) if k not in train]


def _profiles(c: CardInputs) -> dict:
    recorded = (c.chosen.content.get("provenance") or {}).get("profiles") or {}
    database = c.config["profiles"]["database"]
    return {
        "backend": recorded.get("backend"),
        "tool_version": c.database_info.get("version"),
        "database": database,
        "database_checksum": recorded.get("database_checksum"),
        "checksum_method": c.database_info.get("checksum_method"),
        "n_sequences": (recorded.get("database") or {}).get("n_sequences"),
        "n_residues": (recorded.get("database") or {}).get("n_residues"),
        "parameters": recorded.get("parameters"),
        "database_files": c.config["profile_databases"][database],
        "database_licences": f"per source file, as listed in {SEQDB_README}",
    }


def card_record(c: CardInputs) -> dict:
    """The content of ``card.json``."""
    content, spec = c.chosen.content, c.config["experiments"][c.experiment]
    train_keys, test_keys = _data_files(c.config, c.experiment)
    return {
        "format": CARD_FORMAT,
        "experiment": c.experiment,
        "description": spec.get("description"),
        "task": content.get("task", "per_residue"),
        "model": {
            "name": c.chosen.name,
            "spec": content.get("spec"),
            "classes": content.get("classes") or [],
            "n_parameters": c.chosen.n_parameters,
            "best_epoch": content.get("epoch"),
            **c.model_file,
        },
        "selection": {
            "metric": c.chosen.metric,
            "rule": SELECTION_RULE.format(metric=c.chosen.metric),
            "chosen": c.chosen.name,
            "validation_scores": {f.name: f.score for f in sorted(c.found, key=lambda f: f.name)},
            "left_out": c.left_out,
        },
        "training_data": {**c.training, "files": file_records(c.config, train_keys)},
        "test_data": {"files": file_records(c.config, test_keys)},
        "features": (content.get("provenance") or {}).get("encoding"),
        "profiles": _profiles(c),
        "preset": c.preset,
        "run": c.run,
        "release": {"command": c.release_command},
        "test_sets": c.test_rows,
        "cb513_check": c.check,
    }


# ---------------------------------------------------------------- markdown
def _n(value: int | None) -> str:
    return "not recorded" if value is None else f"{value:,}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _ci(interval: list | None) -> str:
    return "" if not interval else f"{interval[0]:.2f} to {interval[1]:.2f}"


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _test_table(card: dict) -> str:
    rows = card["test_sets"]
    if card["task"] == "per_residue":
        header = ["test set", "dataset", "Q8 %", "95 % interval", "Q3 %", "95 % interval"]
        header += ["proteins", "residues", "mask"]
        body = [
            [r["test_set"], r["dataset"], _pct(r["q8"]), _ci(r["q8_ci95"]), _pct(r["q3"])]
            + [_ci(r["q3_ci95"]), r["n_proteins"], r["n_residues"], r["mask"]]
            for r in rows
        ]
    else:
        header = ["test set", "dataset", "accuracy %", "95 % interval", "MCC", "95 % interval"]
        header += ["membrane/soluble %", "95 % interval", "proteins"]
        body = [
            [r["test_set"], r["dataset"], _pct(r["accuracy"]), _ci(r["accuracy_ci95"])]
            + [_pct(r["mcc"]), _ci(r["mcc_ci95"]), _pct(r["membrane_accuracy"])]
            + [_ci(r["membrane_accuracy_ci95"]), r["n_proteins"]]
            for r in rows
        ]
    return _table(header, body)


def _files_table(files: list[dict]) -> str:
    rows = [
        [f"`{f['key']}`", f["url"] or f"mirror only: `{f['mirror_path']}`", f"`{f['sha256']}`"]
        + [f["licence"] + (f" ({f['licence_source']})" if f["licence_source"] else "")]
        for f in files
    ]
    return _table(["file", "public address", "sha256", "licence (as stated)"], rows)


def _use_section(card: dict) -> str:
    if card["task"] == "per_residue":
        return (
            "## Use\n\n`protrnn predict --fasta my_proteins.fasta --out my_predictions` predicts "
            "with this model when no `--model` is given. It searches profiles exactly as this "
            "model was trained with (section Profiles): in "
            f"`resources/profile_db/{card['profiles']['database']}/{card['profiles']['backend']}`"
            " of the repository, built there on first use from the data files "
            "(`--mirror DIR` or the config's `mirror`).\n"
        )
    return (
        "## Use\n\n`protrnn predict` predicts per residue only. Load this file with "
        "`protrnn.model.inference.load_model`; its input is the encoding below "
        "(`protrnn.encode`), with profiles searched as in section Profiles.\n"
    )


def _selection_section(card: dict) -> str:
    s = card["selection"]
    rows = [
        [name + (" (chosen)" if name == s["chosen"] else ""), _pct(score)]
        for name, score in s["validation_scores"].items()
    ]
    text = f"## Selection\n\nChosen: **{s['chosen']}**, {s['rule']}.\n\n"
    text += _table(["model", f"validation {s['metric']}"], rows)
    for name, why in s["left_out"].items():
        text += f"\nNot compared: `{name}`: {why}.\n"
    return text


def _crop_sentence(cropped: dict | None) -> str:
    """How the dataset cut long proteins, for the card ('' when it did not)."""
    if not cropped:
        return ""
    m = cropped["max_length"]
    return (
        f" Proteins over {m:,} residues ({cropped['n_cropped']:,} of those read from the dataset's "
        "files, counted before the training cap) kept "
        f"their first {(m + 1) // 2:,} and last {m // 2:,} residues (DeepLoc 1.0's cut): cut "
        "longer sequences the same way before predicting."
    )


def _data_section(card: dict) -> str:
    t = card["training_data"]
    used = t["used"]
    size = f"{used['train']:,} train / {used['valid']:,} valid proteins" if used else "not recorded"
    whole = ", ".join(f"{k} {v:,}" for k, v in (t["in_dataset"] or {}).items()) or "not recorded"
    return (
        f"## Training data\n\nDataset `{t['dataset']}`: this model trained on {size} "
        f"(the dataset as the run parsed it: {whole}).{_crop_sentence(t.get('cropped'))}\n\n"
        + _files_table(t["files"])
        + "\nTest sets' files:\n\n"
        + _files_table(card["test_data"]["files"])
        + "\nLicences as the data mirror's READMEs state them (`ss/README.md`, "
        "`localization/README.md`).\n"
    )


def _profiles_section(card: dict) -> str:
    f, p = card["features"] or {}, card["profiles"]
    params = _table(["parameter", "value"], [[k, v] for k, v in (p["parameters"] or {}).items()])
    return (
        f"## Features\n\n{f.get('n_features')} features per residue: "
        f"{', '.join(f.get('features', []))} (encoding version {f.get('version')}; residues "
        f"`{f.get('aa_alphabet')}`, profile columns `{f.get('pssm_columns')}`).\n\n"
        f"## Profiles\n\nBackend `{p['backend']}` (tool version {p['tool_version']}), database "
        f"`{p['database']}`: {_n(p['n_sequences'])} sequences, {_n(p['n_residues'])} residues "
        f"from {len(p['database_files'])} file(s) (config `profile_databases.{p['database']}`), "
        f"checksum `{p['database_checksum']}` ({p['checksum_method'] or 'method not recorded'}); "
        f"licences of the sources: {p['database_licences']}. Search parameters:\n\n{params}"
    )


def _preset_section(card: dict) -> str:
    p, run = card["preset"], card["run"]
    rows = [[k, "null" if v is None else v] for k, v in p["settings"].items()]
    return (
        f"## Preset\n\n`{p['name']}`, seed {p['seed']}; best epoch {card['model']['best_epoch']} "
        f"of {card['model']['epochs_run']}:\n\n{_table(['setting', 'value'], rows)}\n"
        f"## Commands\n\n- Run: `{run['command']}` (protrnn commit {run['git_commit']}, run "
        f"folder `{run['directory']}`).\n- Release: `{card['release']['command']}`.\n"
    )


def _agreement(evaluation: dict | None) -> str:
    if not evaluation:
        return ""
    return (
        f"; the run's own evaluation of these chains (`{evaluation['file']}`) gives Q8 "
        f"{evaluation['q8']:.2f} %, Q3 {evaluation['q3']:.2f} %"
    )


def _check_section(card: dict) -> str:
    c = card["cb513_check"]
    if not c:
        return ""
    return (
        f"\n## CB513 check subset\n\nThe first {len(c['ids'])} chains of test set "
        f"`{c['test_set']}` (dataset `{c['dataset']}`, in the order of the run's parsed table; "
        "ids in `card.json`), predicted with this file through `protrnn predict` (profiles "
        f"searched for them): Q8 {c['q8']:.2f} %, Q3 {c['q3']:.2f} % on {c['n_residues']:,} "
        f"observed residues (`eval_mask`){_agreement(c['run_evaluation'])}. "
        "`tests/test_release.py` predicts them again and checks these numbers.\n"
    )


def card_markdown(card: dict) -> str:
    """``MODEL_CARD.md`` of ``card`` (the content of ``card.json``)."""
    m = card["model"]
    head = (
        f"# Released model: {card['experiment']} ({m['name']})\n\n{card['description']}. "
        f"`model.pt`: {m['bytes']:,} bytes, sha256 `{m['sha256']}`, {_n(m['n_parameters'])} "
        f"parameters, a byte copy of `{m['source']}` of the run below. Made by "
        "`python -m protrnn.release`; `card.json` holds the same facts.\n\n"
    )
    tests = (
        "## Accuracy on the run's test sets\n\nFrom the run's report tables "
        f"(`results/report/{'accuracy' if card['task'] == 'per_residue' else 'protein_accuracy'}"
        ".tsv`), with their 95 % intervals; only proteins of split `test` are scored.\n\n"
        + _test_table(card)
    )
    parts = [_use_section(card), _selection_section(card), tests, _data_section(card)]
    parts += [_profiles_section(card), _preset_section(card)]
    return head + "\n".join(parts) + _check_section(card)

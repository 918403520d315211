"""Make a release: per experiment of the run, choose the model, copy it, check it, write its card.

Everything is built in a temporary folder first; the released files together (every
``model.pt``, ``card.json`` and ``MODEL_CARD.md``) must stay within :data:`MAX_RELEASE_BYTES`
(checked on the model files before the slow check, and on everything before anything is
written). Each ``{out}/{experiment}/`` folder is then replaced as a whole
(:func:`protrnn.core.fileio.atomic_dir`), so a release that fails (a missing table, a failed
check, too large) leaves ``out`` as it was.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from protrnn import paths
from protrnn.config import experiment_task
from protrnn.core.fileio import atomic_dir
from protrnn.data.download import sha256_file
from protrnn.profiles.database import DB_INFO
from protrnn.release.card import CardInputs, card_markdown, card_record
from protrnn.release.check import (
    CHECK_TEST_SET,
    check_agreement,
    check_chains,
    run_check,
    run_evaluation_scores,
)
from protrnn.release.run import (
    Candidate,
    ReleaseError,
    candidates,
    choose,
    preset_of,
    read_run_config,
    released_experiments,
    run_commit,
    run_file,
    test_rows,
    training_size,
)

#: The released files together (models and cards) at most: 10 MB.
MAX_RELEASE_BYTES = 10_000_000


@dataclass(frozen=True)
class ReleaseOptions:
    """What ``python -m protrnn.release`` was given."""

    run_dir: Path
    out_dir: Path
    config_file: Path | None = None
    run_command: str = "not recorded (give --run-command)"
    release_command: str = "python -m protrnn.release"
    threads: int = 1
    #: the mirror to build protrnn predict's default database from when the run's is not there
    mirror: str = ""


def check_size(files: dict[str, int], what: str) -> None:
    """ReleaseError when the ``files`` (name -> bytes) together exceed the limit."""
    total = sum(files.values())
    if total > MAX_RELEASE_BYTES:
        sizes = ", ".join(f"{name} {size:,}" for name, size in files.items())
        raise ReleaseError(
            f"the release is too large: {what} take {total:,} bytes together ({sizes}), more "
            f"than the limit of {MAX_RELEASE_BYTES:,} bytes"
        )


def run_database(run_dir: Path, config: dict, profiles: dict) -> tuple[Path | None, dict]:
    """The run's database folder and ``db.json`` when its checksum is the model's, else
    (None, {}): the check then uses ``protrnn predict``'s default database."""
    p = config["profiles"]
    folder = run_file(run_dir, paths.PROFILE_DATABASE, database=p["database"], backend=p["backend"])
    if not (folder / DB_INFO).is_file():
        return None, {}
    info = json.loads((folder / DB_INFO).read_text())
    if info.get("checksum") != profiles.get("database_checksum"):
        return None, {}
    return folder, info


def _check(
    opts: ReleaseOptions, config: dict, experiment: str, chosen: Candidate, model: Path, cfg: Path
) -> dict:
    """The CB513 check subset of the released ``model`` (:mod:`protrnn.release.check`)."""
    dataset, chains = check_chains(opts.run_dir, config, experiment)
    profiles = (chosen.content.get("provenance") or {}).get("profiles") or {}
    database, _ = run_database(opts.run_dir, config, profiles)
    scores = run_check(chains, model, cfg, database or opts.mirror, profiles, opts.threads)
    ids = list(chains["id"])
    evaluation = None
    if config["experiments"][experiment]["test_sets"][CHECK_TEST_SET].get("mask") == "eval_mask":
        evaluation = run_evaluation_scores(opts.run_dir, experiment, chosen.name, ids)
        check_agreement(scores, evaluation)
    return {
        "test_set": CHECK_TEST_SET,
        "dataset": dataset,
        "rule": f"the first {len(chains)} chains of split test in the run's parsed table",
        "ids": ids,
        "mask": "eval_mask",
        **scores,
        "database_folder": "the run's" if database else "protrnn predict's default",
        "run_evaluation": evaluation,
    }


def _card(opts: ReleaseOptions, config: dict, experiment: str, staged: Path, cfg: Path) -> dict:
    """Stage ``experiment``'s model and card in ``staged``; return the card."""
    found, left_out = candidates(opts.run_dir, config, experiment)
    chosen = choose(found)
    model = staged / paths.fill(paths.RELEASED_MODEL, experiment=experiment)
    model.parent.mkdir(parents=True)
    shutil.copyfile(chosen.path, model)
    history = run_file(opts.run_dir, paths.HISTORY, experiment=experiment, model=chosen.name)
    epochs = len(history.read_text().splitlines()) - 1 if history.is_file() else None
    profiles = (chosen.content.get("provenance") or {}).get("profiles") or {}
    per_residue = experiment_task(config, experiment) == "per_residue"
    inputs = CardInputs(
        experiment=experiment,
        config=config,
        chosen=chosen,
        found=found,
        left_out=left_out,
        training=training_size(opts.run_dir, config, experiment, chosen.name),
        preset=preset_of(config, experiment, chosen.name),
        test_rows=test_rows(opts.run_dir, config, experiment, chosen.name),
        model_file={
            "file": model.name,
            "bytes": model.stat().st_size,
            "sha256": sha256_file(model),
            "source": str(chosen.path.relative_to(opts.run_dir)),
            "epochs_run": epochs,
        },
        run={
            "directory": str(Path(opts.run_dir).resolve()),
            "git_commit": run_commit(opts.run_dir),
            "command": opts.run_command,
        },
        release_command=opts.release_command,
        database_info=run_database(opts.run_dir, config, profiles)[1],
        check=_check(opts, config, experiment, chosen, model, cfg) if per_residue else None,
    )
    card = card_record(inputs)
    folder = model.parent
    (folder / "card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    (folder / "MODEL_CARD.md").write_text(card_markdown(card), encoding="utf-8")
    return card


def _chosen_sizes(opts: ReleaseOptions, config: dict, experiments: list[str]) -> dict[str, int]:
    """Bytes of each experiment's chosen model file."""
    sizes = {}
    for experiment in experiments:
        chosen = choose(candidates(opts.run_dir, config, experiment)[0])
        sizes[str(chosen.path)] = chosen.path.stat().st_size
    return sizes


def make_release(opts: ReleaseOptions) -> dict[str, dict]:
    """Release the best model of each experiment of the run; return the cards by experiment."""
    config = read_run_config(opts.run_dir, opts.config_file)
    experiments = released_experiments(config)
    check_size(_chosen_sizes(opts, config, experiments), "the chosen model files")
    cards = {}
    with tempfile.TemporaryDirectory(prefix="protrnn_release_") as tmp:
        staged = Path(tmp) / "release"
        cfg = opts.config_file
        if cfg is None:
            cfg = Path(tmp) / "run_config.yaml"
            cfg.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        for experiment in experiments:
            cards[experiment] = _card(opts, config, experiment, staged, cfg)
        files = {str(p.relative_to(staged)): p.stat().st_size for p in staged.rglob("*")}
        check_size({k: v for k, v in files.items() if (staged / k).is_file()}, "the released files")
        for experiment in experiments:
            with atomic_dir(Path(opts.out_dir) / experiment) as target:
                for path in (staged / experiment).iterdir():
                    shutil.copyfile(path, target / path.name)
    return cards

"""Bad-input catalogue, config stage (issue 12): each bad config stops at load time, before any
job, with one line naming the file (and line) or the config key.

Most cases run in-process through ``validate_config`` / ``load_config_files``; the last ones run
``snakemake -n`` (or ``python -m protrnn.config``) on the tiny config and check the exit status,
the message and that nothing was written.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from protrnn.config import ConfigError, load_config_files, validate_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "config.yaml"
TINY = ROOT / "tests" / "data" / "tiny_config.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
BASE = yaml.safe_load(CONFIG.read_text())


def base() -> dict:
    return copy.deepcopy(BASE)


def _set(config: dict, path: str, value: object) -> None:
    *parents, last = path.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[last] = value


def setter(path: str, value: object) -> Callable[[dict], None]:
    return lambda config: _set(config, path, value)


def _add_dataset(name: str, **spec: object) -> Callable[[dict], None]:
    def edit(config: dict) -> None:
        config["datasets"][name] = {"task": "per_residue", "files": {"csv": "netsurfp2_cb513_csv"}}
        config["datasets"][name].update(spec)

    return edit


def _second_experiment(test_name: str) -> Callable[[dict], None]:
    def edit(config: dict) -> None:
        exp = copy.deepcopy(config["experiments"]["secondary_structure"])
        exp["test_sets"] = {test_name: {"dataset": "ts115"}}
        config["experiments"]["other"] = exp

    return edit


def _predict(model: str | None, experiments: list[str] | None = None) -> Callable[[dict], None]:
    def edit(config: dict) -> None:
        config["predict_fasta"] = "proteins.fasta"
        config["predict_model"] = model
        if experiments:
            config["train"]["experiments"] = experiments

    return edit


def _test_set_on(dataset: str) -> Callable[[dict], None]:
    def edit(config: dict) -> None:
        tests = config["experiments"]["secondary_structure"]["test_sets"]
        tests["own_train"] = {"dataset": dataset}

    return edit


def _both(*edits: Callable[[dict], None]) -> Callable[[dict], None]:
    def edit(config: dict) -> None:
        for one in edits:
            one(config)

    return edit


#: (case id, edit of the default config, regex the one-line message must match)
CASES = [
    ("unknown_key", setter("presets.cpu.epochz", 3), r"presets\.cpu: .*'epochz' was unexpected"),
    ("unknown_top_key", setter("experimentz", {}), r"\(top level\): .*'experimentz'"),
    ("wrong_type", setter("profiles.shards", "eight"), r"profiles\.shards: 'eight' is not of"),
    ("negative_epochs", setter("presets.cpu.epochs", -1), r"presets\.cpu\.epochs: -1 is less"),
    ("bad_preset", setter("train.preset", "huge"), r"train\.preset: 'huge' is not in presets"),
    (
        "unknown_model",
        setter("experiments.secondary_structure.models", ["bigru", "transformer"]),
        r"experiments\.secondary_structure\.models: 'transformer' is not in models",
    ),
    (
        "model_of_other_task",
        setter("experiments.localization.models", ["bigru"]),
        r"experiments\.localization\.models: 'bigru' \(type rnn\) does not fit",
    ),
    (
        "test_set_of_other_task",
        setter("experiments.localization.test_sets.ss_set", {"dataset": "cb513"}),
        r"experiments\.localization\.test_sets\.ss_set: dataset 'cb513' is per_residue",
    ),
    (
        "duplicate_test_set_name",
        _second_experiment("cb513"),
        r"experiments\.other\.test_sets\.cb513: test set name already used in experiment "
        r"'secondary_structure'",
    ),
    (
        "missing_file_key",
        setter("datasets.cb513.files.csv", "cb513_typo"),
        r"datasets\.cb513\.files\.csv: unknown file 'cb513_typo'",
    ),
    (
        "file_without_source",
        setter("files.netsurfp2_cb513_csv", {"sha256": None}),
        r"files\.netsurfp2_cb513_csv: needs a url, a mirror_path or a path",
    ),
    (
        "folds_on_a_format_without_partitions",
        setter("experiments.secondary_structure.folds", 5),
        r"experiments\.secondary_structure\.folds: 5 folds need",
    ),
    (
        "option_not_of_the_format",
        setter("datasets.cb513.options", {"test_partition": 1}),
        r"datasets\.cb513\.options\.test_partition: format netsurfp_csv takes no option "
        r"'test_partition' \(it takes member, prefix, split\)",
    ),
    (
        "member_on_a_format_without_members",
        setter("datasets.cb513_dcrnn.member", "x.csv"),
        r"datasets\.cb513_dcrnn\.member: format dcrnn_cb513_csv takes no option 'member'",
    ),
    (
        "split_on_deeploc2",
        setter("datasets.deeploc2.split", "train"),
        r"datasets\.deeploc2\.split: format deeploc2_csv takes no option 'split'",
    ),
    (
        "option_given_twice",
        setter("datasets.cb513.options", {"split": "train"}),
        r"datasets\.cb513\.options\.split: replaced by datasets\.cb513\.split \('test'\)",
    ),
    (
        "task_not_of_the_format",
        _add_dataset("mine", format="deeploc1_fasta"),
        r"datasets\.mine\.task: format deeploc1_fasta holds per_protein data, not per_residue",
    ),
    (
        "training_dataset_without_train_split",
        setter("experiments.secondary_structure.train_dataset", "cb513"),
        r"datasets\.cb513\.split: every record of 'cb513' gets split 'test', so experiment "
        r"'secondary_structure' has no train proteins",
    ),
    (
        "training_dataset_split_by_default",
        _both(
            _add_dataset("mine", format="three_line", files={"data": "netsurfp2_cb513_csv"}),
            setter("experiments.secondary_structure.train_dataset", "mine"),
        ),
        r"datasets\.mine\.split \(not set: the default is test\): every record of 'mine' gets "
        r"split 'test'",
    ),
    (
        "test_set_without_test_split",
        _both(_add_dataset("mine", format="netsurfp_csv", split="train"), _test_set_on("mine")),
        r"experiments\.secondary_structure\.test_sets\.own_train\.dataset: every record of "
        r"'mine' gets split 'train'; only split test is scored",
    ),
    (
        "predict_with_localization_model",
        _predict("localization/deeploc"),
        r"predict_model: 'localization/deeploc' predicts per protein",
    ),
    (
        "predict_with_localization_model_by_name",
        _predict("bilstm_last"),
        r"predict_model: 'bilstm_last' predicts per protein",
    ),
    (
        "predict_model_not_trained",
        _predict("secondary_structure/transformer"),
        r"predict_model: 'secondary_structure/transformer' is not a trained model",
    ),
    (
        "predict_without_per_residue_experiment",
        _predict(None, ["localization"]),
        r"predict_fasta: secondary-structure prediction needs a per_residue experiment",
    ),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_is_named(edit: Callable[[dict], None], message: str) -> None:
    config = base()
    edit(config)
    with pytest.raises(ConfigError, match=message) as caught:
        validate_config(config)
    lines = str(caught.value).splitlines()
    assert len(lines) == 1 or lines[0] == "invalid configuration:" and len(lines) == 2, lines


def test_default_config_passes_every_check() -> None:
    """The cases above are real: the unedited config passes."""
    validate_config(base())


def test_mirror_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "data.tar"
    file.write_text("x")
    config = base()
    config["mirror"] = str(file)
    with pytest.raises(ConfigError, match=rf"config key mirror: '{file}' is a file, not a folder"):
        validate_config(config)
    config["mirror"] = str(tmp_path / "absent")  # checked before the first job, not at load time
    validate_config(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"overlay\.yaml is empty"),
        ("# nothing but a comment\n", r"overlay\.yaml is empty"),
        ("train:\n  preset: [cpu\nseed: 1\n", r"overlay\.yaml, line 3: not valid YAML"),
        ("train:\n\tpreset: cpu\n", r"overlay\.yaml, line 2: not valid YAML: found character"),
        ("- a\n- b\n", r"overlay\.yaml: the top level must be keys \(key: value\), not a list"),
        ("train:\n  preset: cpu\ntrain:\n  seed: 2\n", r"line 3: key 'train' given twice"),
    ],
    ids=["empty", "comment_only", "broken", "tab", "list", "duplicate_key"],
)
def test_bad_overlay_file_names_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config_files([CONFIG, overlay])
    assert str(overlay) in str(caught.value) and len(str(caught.value).splitlines()) == 1


# -- through snakemake -n and python -m protrnn.config --------------------------------------------


def _snakemake(workdir: Path, *args: str, configfiles: tuple = (CONFIG, TINY)) -> str:
    """``snakemake -n`` in ``workdir``; asserts failure and that no job wrote anything."""
    cmd = [str(SNAKEMAKE), "-n", "--cores", "1", "--snakefile", str(ROOT / "Snakefile")]
    if configfiles:
        cmd += ["--configfile", *map(str, configfiles)]
    cmd += ["--directory", str(workdir), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, timeout=120)
    assert done.returncode != 0, done.stdout + done.stderr
    assert not (workdir / "results").exists() and not (workdir / "resources").exists()
    return done.stdout + done.stderr


def _protrnn_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("protrnn: ")]
    assert len(lines) == 1, output
    return lines[0]


def test_snakemake_mirror_that_is_a_file(tmp_path: Path) -> None:
    line = _protrnn_line(_snakemake(tmp_path, "--config", f"mirror={TINY}"))
    assert f"config key mirror: '{TINY}' is a file, not a folder" in line


def test_snakemake_broken_main_config_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("train:\n  preset: [cpu\nseed: 1\n")
    line = _protrnn_line(_snakemake(tmp_path, configfiles=()))
    assert "config file config/config.yaml, line 3: not valid YAML" in line


def test_snakemake_duplicate_key_in_overlay(tmp_path: Path) -> None:
    overlay = tmp_path / "my.yaml"
    overlay.write_text("train:\n  preset: tiny\ntrain:\n  seed: 2\n")
    line = _protrnn_line(_snakemake(tmp_path, configfiles=(CONFIG, TINY, overlay)))
    assert f"config file {overlay}, line 3: key 'train' given twice (first on line 1)" in line


def test_empty_overlay_snakemake_fails_and_the_checker_names_it(tmp_path: Path) -> None:
    """Snakemake reads --configfile files before the workflow runs and names neither file nor
    line; ``python -m protrnn.config`` (the check to run first) does."""
    overlay = tmp_path / "my.yaml"
    overlay.write_text("")
    assert "Config file must be given as JSON or YAML" in _snakemake(
        tmp_path, configfiles=(CONFIG, overlay)
    )
    done = subprocess.run(
        [sys.executable, "-m", "protrnn.config", str(CONFIG), str(overlay)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip() == f"protrnn: config file {overlay} is empty: give at least one "
        "key (key: value) or leave it out"
    )

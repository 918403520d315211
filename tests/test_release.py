"""The released models (models/) and the tool that makes them (python -m protrnn.release).

- The shipped models were made with this code's defaults: their recorded feature encoding and
  profile settings equal config/config.yaml's (these tests fail when the
  defaults change: then remake the release, README "Released models").
- The card's CB513 check subset, predicted again through ``protrnn predict`` with no --model
  (profiles searched against the default database, built from the mirror when missing), gives
  the card's Q8 and Q3.
- The release tool on synthetic runs: the model is chosen by validation score, never by test
  score; the 10 MB limit; a missing table, row or config is one clear error and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from protrnn import cli, paths  # noqa: E402
from protrnn.config import load_config  # noqa: E402
from protrnn.core.fasta import write_fasta  # noqa: E402
from protrnn.core.tools import find_mmseqs  # noqa: E402
from protrnn.data.formats.options import dataset_options  # noqa: E402
from protrnn.data.registry import load_dataset  # noqa: E402
from protrnn.data.table import write_table  # noqa: E402
from protrnn.encode import encoding_spec  # noqa: E402
from protrnn.model.checkpoint import read_model_provenance  # noqa: E402
from protrnn.profiles.backends import get_backend  # noqa: E402
from protrnn.release import check as check_module  # noqa: E402
from protrnn.release.__main__ import main as release_main  # noqa: E402
from protrnn.release.check import (  # noqa: E402
    CHECK_SIZE,
    check_agreement,
    check_chains,
    pooled_scores,
    run_check,
    run_evaluation_scores,
)
from protrnn.release.make import MAX_RELEASE_BYTES, ReleaseOptions, make_release  # noqa: E402
from protrnn.release.run import ReleaseError  # noqa: E402
from protrnn.report.html import provenance_html  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RELEASE = REPO / paths.RELEASE_ROOT
REPO_CONFIG = REPO / "config" / "config.yaml"
EXPERIMENTS = ("secondary_structure", "localization")


def _card(experiment: str) -> dict:
    path = RELEASE / paths.fill(paths.RELEASED_CARD_JSON, experiment=experiment)
    assert path.is_file(), f"{path} missing: make the release (README, Released models)"
    return json.loads(path.read_text())


def _released(experiment: str) -> Path:
    return RELEASE / paths.fill(paths.RELEASED_MODEL, experiment=experiment)


# ---------------------------------------------------------------- the shipped release
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_released_model_has_the_default_features_and_profiles(experiment: str) -> None:
    """Fails when the default encoding or search settings change: remake the release then."""
    config = load_config(REPO_CONFIG)
    features = (config.get("encode") or {}).get("features")  # the config's default features
    default = encoding_spec(*([features] if features else []))
    provenance = read_model_provenance(_released(experiment))
    assert provenance is not None and provenance["encoding"] == default
    profiles, backend = provenance["profiles"], config["profiles"]["backend"]
    assert profiles["backend"] == backend
    assert profiles["parameters"] == get_backend(backend).check_params(
        dict(config["profiles"][backend])
    )
    database = config["profiles"]["database"]
    sources = "".join(config["files"][k]["sha256"] for k in config["profile_databases"][database])
    assert profiles["database_checksum"] == hashlib.sha256(sources.encode()).hexdigest()
    card = _card(experiment)
    assert card["profiles"]["database"] == database
    assert card["profiles"]["database_checksum"] == profiles["database_checksum"]
    assert card["features"] == default


def test_release_files_are_what_the_cards_describe_and_small() -> None:
    files = [p for p in RELEASE.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= MAX_RELEASE_BYTES
    for experiment in EXPERIMENTS:
        card, model = _card(experiment), _released(experiment)
        assert card["model"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
        assert card["model"]["bytes"] == model.stat().st_size
        chosen = card["selection"]["chosen"]
        scores = card["selection"]["validation_scores"]
        assert scores[chosen] == max(scores.values()) and card["model"]["name"] == chosen
    assert _released("secondary_structure") == cli.RELEASED_MODEL


def _pooled(chains: pd.DataFrame, predicted: dict[str, tuple[str, str]]) -> tuple[float, float]:
    """Q8 and Q3 in percent over the observed residues, counted here independently."""
    right8 = right3 = n = 0
    for row in chains.itertuples(index=False):
        ss8, ss3 = predicted[row.id]
        kept = [i for i, keep in enumerate(row.eval_mask) if keep == "1"]
        n += len(kept)
        right8 += sum(row.ss8[i] == ss8[i] for i in kept)
        right3 += sum(row.ss3[i] == ss3[i] for i in kept)
    return 100 * right8 / n, 100 * right3 / n


def test_cb513_check_subset_through_the_cli(shared_data: Path, tmp_path: Path) -> None:
    """``protrnn predict`` with no --model and no --database on the card's CB513 chains (the
    labels parsed from the mirror's source file) reproduces the card's Q8 and Q3."""
    try:
        find_mmseqs()
    except FileNotFoundError as err:
        pytest.skip(f"MMseqs2 not available: {err}")
    check = _card("secondary_structure")["cb513_check"]
    config = load_config(REPO_CONFIG)
    spec = config["datasets"][check["dataset"]]
    files = {r: shared_data / config["files"][k]["mirror_path"] for r, k in spec["files"].items()}
    table = load_dataset(spec["format"], files, dataset_options(check["dataset"], spec))
    chains = table.set_index("id").loc[check["ids"]].reset_index()
    assert len(chains) == len(check["ids"]) == CHECK_SIZE
    fasta, out = tmp_path / "cb513_check.fasta", tmp_path / "predicted"
    write_fasta(list(zip(chains["id"], chains["sequence"], strict=True)), fasta)
    command = [sys.executable, "-m", "protrnn.cli", "predict", "--fasta", str(fasta)]
    command += ["--out", str(out), "--mirror", str(shared_data), "--threads", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == str(cli.RELEASED_MODEL) and summary["warnings"] == []
    lines = (out / "predictions.fasta").read_text().splitlines()
    records = zip(lines[0::4], lines[2::4], lines[3::4], strict=True)
    predicted = {header[1:]: (ss8, ss3) for header, ss8, ss3 in records}
    q8, q3 = _pooled(chains, predicted)
    assert abs(q8 - check["q8"]) <= 0.01 and abs(q3 - check["q3"]) <= 0.01, (q8, q3, check)


# ---------------------------------------------------------------- the release tool: synthetic runs
MODELS = ("deeploc", "cnn_bigru_pool", "bilstm_last")
SCORE_COLUMNS = ("accuracy", "mcc", "membrane_accuracy")
PROFILES = {
    "backend": "mmseqs2",
    "database": {"checksum": "ab" * 32, "n_sequences": 100, "n_residues": 30000},
    "database_checksum": "ab" * 32,
    "parameters": {"num_iterations": 3, "sensitivity": 5.7},
}


def _config(experiments: tuple[str, ...]) -> dict:
    """The default config, training only per-protein experiments (no CB513 check): copies of
    ``localization``, their test sets named ``{name}_{experiment}`` (names are unique)."""
    config = load_config(REPO_CONFIG)
    base = config["experiments"].pop("localization")
    for name in experiments:
        tests = {f"{k}_{name}": v for k, v in base["test_sets"].items()}
        config["experiments"][name] = {**base, "test_sets": tests}
    config["experiments"].pop("secondary_structure")
    config["train"]["experiments"] = list(experiments)
    return config


def _model_file(path: Path, valid: float | None, n_weights: int = 10) -> None:
    content = {
        "spec": {"type": "rnn_last", "cell": "lstm", "hidden": 4},
        "state_dict": {"w": torch.zeros(n_weights)},
        "task": "per_protein",
        "classes": ["Cytoplasm", "Nucleus"],
        "epoch": 2,
        "provenance": {"encoding": encoding_spec(), "profiles": PROFILES},
    }
    if valid is not None:
        content["valid_accuracy"] = valid
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(content, path)


def _table_rows(test_sets: list[str], scores: dict[str, float]) -> list[dict]:
    rows = []
    for test_set in test_sets:
        for model, score in scores.items():
            row = {"test_set": test_set, "model": model, "source": "this workflow"}
            for col in SCORE_COLUMNS:
                row.update({col: score, f"{col}_ci_low": score - 5, f"{col}_ci_high": score + 5})
            rows.append({**row, "n_proteins": 40})
        rows.append({"test_set": test_set, "model": "DeepLoc 1.0", "source": "published"})
    return rows


def _run(
    root: Path,
    valid: dict[str, float | None],
    test: dict[str, float],
    experiments: tuple[str, ...] = ("localization",),
    n_weights: int = 10,
) -> Path:
    """A finished run of per-protein experiments: model files with validation scores, training
    logs, the report's page (config and commit as the report records them) and table."""
    config = _config(experiments)
    for experiment in experiments:
        for model, score in valid.items():
            folder = root / "results" / "models" / experiment / model
            _model_file(folder / "model.pt", score, n_weights)
            (folder / "history.tsv").write_text("epoch\tvalid_accuracy\n1\t1\n2\t2\n3\t1\n")
            log = root / paths.fill(paths.log("train"), experiment=experiment, model=model)
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("... INFO training x (1,234 parameters, per_protein) on cpu, "
                           "90 train / 10 valid proteins, 1 CPU threads\n")  # fmt: skip
    stats = root / paths.fill(paths.DATASET_STATS, dataset="deeploc2")
    stats.parent.mkdir(parents=True, exist_ok=True)
    cropped = {"max_length": 1000, "n_cropped": 7, "residues_removed": 900, "residues_before": 9000}
    written = {"splits": {"train": 90, "valid": 10, "test": 40}}
    stats.write_text(json.dumps({"written": written, "cropped": cropped}))
    report = root / paths.REPORT_HTML
    report.parent.mkdir(parents=True)
    page = provenance_html({"git_commit": "abc1234", "config": config})
    report.write_text(f"<html><section id='provenance'>{page}</section></html>")
    test_sets = [s for e in experiments for s in config["experiments"][e]["test_sets"]]
    table = pd.DataFrame(_table_rows(test_sets, test))
    table.to_csv(report.parent / "protein_accuracy.tsv", sep="\t", index=False)
    return root


def _release(run: Path, out: Path) -> dict:
    return make_release(ReleaseOptions(run_dir=run, out_dir=out, run_command="snakemake -c2"))


def test_the_model_is_chosen_by_validation_not_by_test(tmp_path: Path) -> None:
    valid = {"deeploc": 61.0, "cnn_bigru_pool": 55.0, "bilstm_last": 50.0, "ensemble": None}
    test = {"deeploc": 40.0, "cnn_bigru_pool": 45.0, "bilstm_last": 70.0, "ensemble": 80.0}
    run = _run(tmp_path / "run", valid, test)
    card = _release(run, tmp_path / "models")["localization"]
    folder = tmp_path / "models" / "localization"
    assert card["model"]["name"] == card["selection"]["chosen"] == "deeploc"
    assert (folder / "model.pt").read_bytes() == (
        run / "results" / "models" / "localization" / "deeploc" / "model.pt"
    ).read_bytes()
    assert card["selection"]["validation_scores"] == {
        "bilstm_last": 50.0, "cnn_bigru_pool": 55.0, "deeploc": 61.0,
    }  # fmt: skip
    assert "ensemble" in card["selection"]["left_out"]
    assert [(r["test_set"], r["accuracy"], r["accuracy_ci95"]) for r in card["test_sets"]] == [
        ("deeploc2_holdout_localization", 40.0, [35.0, 45.0]),
        ("deeploc1_test_localization", 40.0, [35.0, 45.0]),
    ]  # fmt: skip
    assert card["training_data"]["used"] == {"train": 90, "valid": 10}
    assert card["model"]["epochs_run"] == 3 and card["run"]["git_commit"] == "abc1234"
    assert json.loads((folder / "card.json").read_text()) == card
    text = (folder / "MODEL_CARD.md").read_text()
    assert "never chosen by a test score" in text and "Not compared: `ensemble`" in text
    assert "CC BY 4.0" in text and "snakemake -c2" in text
    assert card["training_data"]["cropped"]["max_length"] == 1000
    assert "Proteins over 1,000 residues (7 of those read from the dataset's files, counted" in text
    assert "before the training cap) kept their first 500" in text


def test_an_ensemble_with_its_own_validation_score_takes_part(tmp_path: Path) -> None:
    valid = {"deeploc": 61.0, "cnn_bigru_pool": 55.0, "bilstm_last": 50.0, "ensemble": 63.0}
    test = {"deeploc": 40.0, "cnn_bigru_pool": 45.0, "bilstm_last": 70.0, "ensemble": 30.0}
    card = _release(_run(tmp_path / "run", valid, test), tmp_path / "models")["localization"]
    assert card["model"]["name"] == "ensemble" and card["selection"]["left_out"] == {}


def test_ties_go_to_the_first_name(tmp_path: Path) -> None:
    valid = {"deeploc": 50.0, "cnn_bigru_pool": 50.0, "bilstm_last": 50.0}
    card = _release(_run(tmp_path / "run", valid, dict.fromkeys(valid, 1.0)), tmp_path / "out")
    assert card["localization"]["model"]["name"] == "bilstm_last"


def _fails(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    """Run the release tool; assert exit status 2 and one error line; return it."""
    code = release_main(argv)
    lines = capsys.readouterr().err.splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith("protrnn.release: error: "), lines
    return lines[0]


VALID = {"deeploc": 61.0, "cnn_bigru_pool": 55.0, "bilstm_last": 50.0}


def test_the_10_mb_limit(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Two models of 6 MB each: each alone is fine, together too large; nothing is written."""
    out = tmp_path / "models"
    experiments = ("localization", "localization_b")
    run = _run(tmp_path / "run", VALID, VALID, experiments, n_weights=1_500_000)
    line = _fails(["--run", str(run), "--out", str(out)], capsys)
    assert "too large" in line and f"{MAX_RELEASE_BYTES:,} bytes" in line
    assert "localization/deeploc/model.pt" in line and "localization_b/deeploc" in line
    assert not out.exists()
    one = _run(tmp_path / "one", VALID, VALID, ("localization",), n_weights=1_500_000)
    assert release_main(["--run", str(one), "--out", str(out)]) == 0


def test_a_missing_table_is_one_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = _run(tmp_path / "run", VALID, VALID)
    table = run / "results" / "report" / "protein_accuracy.tsv"
    table.unlink()
    line = _fails(["--run", str(run), "--out", str(tmp_path / "models")], capsys)
    assert f"{table} does not exist" in line and not (tmp_path / "models").exists()


def test_a_missing_row_is_one_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = _run(tmp_path / "run", VALID, {"cnn_bigru_pool": 1.0, "bilstm_last": 2.0})
    line = _fails(["--run", str(run), "--out", str(tmp_path / "models")], capsys)
    assert "protein_accuracy.tsv: 0 rows for test set 'deeploc2_holdout_localization'" in line
    assert "and model 'deeploc' (expected 1)" in line


def test_an_unfinished_run_is_one_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = _run(tmp_path / "run", VALID, VALID)
    (run / "results" / "models" / "localization" / "bilstm_last" / "model.pt").unlink()
    line = _fails(["--run", str(run), "--out", str(tmp_path / "m")], capsys)
    assert "bilstm_last/model.pt does not exist" in line
    (run / paths.REPORT_HTML).write_text("<html>no provenance</html>")
    assert "records no config" in _fails(["--run", str(run), "--out", str(tmp_path / "m")], capsys)
    (run / paths.REPORT_HTML).unlink()
    line = _fails(["--run", str(run), "--out", str(tmp_path / "m")], capsys)
    assert "index.html does not exist: the run is not finished" in line
    assert not (tmp_path / "m").exists()


def test_a_failed_release_keeps_the_earlier_one(tmp_path: Path) -> None:
    out = tmp_path / "models"
    _release(_run(tmp_path / "run", VALID, VALID), out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    broken = _run(tmp_path / "broken", {**VALID, "deeploc": 99.0}, VALID)
    (broken / "results" / "report" / "protein_accuracy.tsv").write_text("test_set\n")
    with pytest.raises(ReleaseError, match="column"):
        _release(broken, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


# ---------------------------------------------------------------- the check subset's parts
def test_check_chains_are_the_first_test_chains_in_table_order(tmp_path: Path) -> None:
    ids = [f"c{i:02d}" for i in range(40)]
    table = pd.DataFrame({"id": ids, "sequence": "MKV", "ss8": "HHE", "ss3": "HHE"})
    table = table.assign(eval_mask="111", cb513_mask="", label="", membrane="", rsa="")
    table["split"] = ["valid" if i == 3 else "test" for i in range(40)]
    path = tmp_path / paths.fill(paths.DATASET_TABLE, dataset="cb513")
    path.parent.mkdir(parents=True)
    write_table(table, path)
    dataset, chains = check_chains(tmp_path, load_config(REPO_CONFIG), "secondary_structure")
    assert dataset == "cb513" and list(chains["id"]) == [i for i in ids if i != "c03"][:CHECK_SIZE]


def test_pooled_scores_count_observed_residues_only() -> None:
    chains = pd.DataFrame(
        {
            "id": ["a", "b"],
            "ss8": ["HHGE", "CCT"],
            "ss3": ["HHHE", "CCC"],
            "eval_mask": ["1101", "011"],
        }  # fmt: skip
    )
    predicted = {"a": ("HGGE", "HHCE"), "b": ("TCC", "CCC")}
    scores = pooled_scores(chains, predicted)
    # observed: a0 H/H, a1 H/G, a3 E/E, b1 C/C, b2 T/C -> 3 of 5 (Q8); Q3: 5 of 5
    assert scores == {"q8": 60.0, "q3": 100.0, "n_residues": 5}
    with pytest.raises(ReleaseError, match="no observed residue"):
        pooled_scores(chains.assign(eval_mask=["0000", "000"]), predicted)


def test_the_config_recorded_by_the_report_is_the_runs(tmp_path: Path) -> None:
    """The card's preset and profiles come from the config the run's report records."""
    run = _run(tmp_path / "run", VALID, VALID)
    config = _config(("localization",))
    config["train"]["seed"] = 7
    config["presets"][config["train"]["preset"]]["lr"] = 0.123
    page = provenance_html({"git_commit": "abc1234", "config": config})
    (run / paths.REPORT_HTML).write_text(f"<html>{page}</html>")
    card = _release(run, tmp_path / "m")["localization"]
    assert card["preset"]["seed"] == 7 and card["preset"]["settings"]["lr"] == 0.123
    assert card["profiles"]["database"] == config["profiles"]["database"]


def test_the_check_stops_on_a_failure_a_warning_or_other_profiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ``protrnn predict`` reports decides: exit status, warnings, the searched profiles."""
    chains = pd.DataFrame({"id": ["a"], "ss8": ["HHE"], "ss3": ["HHE"], "eval_mask": ["111"]})
    chains["sequence"] = "MKV"
    outcome: dict = {}

    def fake_predict(command: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        out = Path(command[command.index("--out") + 1])
        out.mkdir()
        summary = {"warnings": [], "profiles": PROFILES, "n_no_hits": 0, "database": "db"}
        (out / "summary.json").write_text(json.dumps({**summary, **outcome}))
        (out / "predictions.fasta").write_text(">a\nMKV\nHHC\nHHE\n")
        return subprocess.CompletedProcess(command, outcome.get("rc", 0), "", "protrnn: error: X")

    monkeypatch.setattr(check_module.subprocess, "run", fake_predict)

    def check() -> dict:
        return run_check(chains, tmp_path / "m.pt", tmp_path / "c.yaml", "", PROFILES, 1)

    assert check() == {
        "q8": pytest.approx(200 / 3), "q3": 100.0, "n_residues": 3, "n_no_hits": 0, "database": "db"
    }  # fmt: skip
    outcome.update(profiles={**PROFILES, "database_checksum": "cd" * 32, "extra": 1})
    with pytest.raises(ReleaseError, match="searched with .*'database_checksum': 'cdcd"):
        check()
    outcome.update(profiles={**PROFILES, "extra": 1})  # only backend, checksum, parameters count
    assert check()["q3"] == 100.0
    outcome.update(warnings=["m.pt: profiles differ"])
    with pytest.raises(ReleaseError, match="warned: m.pt: profiles differ"):
        check()
    outcome.update(rc=2)
    with pytest.raises(ReleaseError, match="failed: protrnn: error: X"):
        check()


def test_the_check_must_agree_with_the_runs_evaluation(tmp_path: Path) -> None:
    """The run's evaluation of the check chains, pooled; a difference over 0.01 points stops."""
    path = tmp_path / paths.fill(
        paths.EVAL_PREDICTIONS, experiment="secondary_structure", model="bigru", testset="cb513"
    )
    path.parent.mkdir(parents=True)
    np.savez(path, ids=np.array(["a", "b", "c"]), total_ss8=np.array([10, 20, 30]),
             correct_ss8=np.array([5, 10, 0]), correct_ss3=np.array([10, 15, 0]))  # fmt: skip
    found = run_evaluation_scores(tmp_path, "secondary_structure", "bigru", ["b", "a"])
    assert (found["q8"], found["q3"], found["n_residues"]) == (50.0, pytest.approx(250 / 3), 30)
    check_agreement({"q8": 50.009, "q3": 250 / 3 - 0.009}, found)
    with pytest.raises(ReleaseError, match="Q3 through protrnn predict, 83.3233, differs"):
        check_agreement({"q8": 50.0, "q3": 250 / 3 - 0.01001}, found)
    with pytest.raises(ReleaseError, match=r"no evaluation of check chain\(s\) \['z'\]"):
        run_evaluation_scores(tmp_path, "secondary_structure", "bigru", ["a", "z"])

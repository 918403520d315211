"""End to end: the whole workflow on a tiny config, downloading through a loopback HTTP mirror."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from protrnn.core.alphabet import sequence_hash
from protrnn.data.table import read_table
from tests.tiny_workflow import run_tiny_workflow, tiny_command, tiny_env

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["bigru", "cnn_bigru"]
#: What is evaluated and reported: the trained models and the experiment's ensemble of them.
SCORED = [*MODELS, "ensemble"]
TEST_SETS = ["cb513", "ts115", "casp12", "cb513_dcrnn"]
EXPERIMENT = "secondary_structure"

pytestmark = pytest.mark.integration


def snakemake(
    workdir: Path, mirror: str, *extra: str, configfiles: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess:
    return run_tiny_workflow(workdir, mirror, "--cores", "2", *extra, configfiles=configfiles)


def test_report_has_q8_q3_for_every_model_and_test_set(tiny_run: Path):
    html = (tiny_run / "results" / "report" / "index.html").read_text()
    accuracy = pd.read_csv(tiny_run / "results" / "report" / "accuracy.tsv", sep="\t")
    for model in SCORED:
        assert model in html
        for test_set in TEST_SETS:
            metrics = json.loads(
                (
                    tiny_run / "results" / "eval" / EXPERIMENT / model / test_set / "metrics.json"
                ).read_text()
            )
            assert 0.0 <= metrics["q8"] <= 1.0 and 0.0 <= metrics["q3"] <= 1.0
            assert metrics["n_residues"] > 0
            assert test_set in html
    assert {"q8", "q3"} <= {c.lower() for c in accuracy.columns}
    assert set(SCORED) <= set(accuracy["model"].astype(str)), "every model and the ensemble"
    assert "DCRNN" in html and "published" in html.lower()
    assert 'src="http' not in html and 'href="http' not in html.replace('href="https://doi', "")


def test_localization_trained_and_reported_beside_secondary_structure(tiny_run: Path):
    for model in ("deeploc", "bilstm_last"):
        for test_set in ("deeploc2_holdout", "deeploc1_test"):
            path = tiny_run / "results" / "eval" / "localization" / model / test_set
            metrics = json.loads((path / "metrics.json").read_text())
            assert metrics["task"] == "per_protein" and 0.0 <= metrics["accuracy"] <= 1.0
            assert metrics["n_proteins"] > 0 and len(metrics["classes"]) == 10
    # the held-out partition is scored, never the training partitions
    held_out = json.loads(
        (tiny_run / "results" / "eval" / "localization" / "deeploc" / "deeploc2_holdout")
        .joinpath("metrics.json")
        .read_text()
    )
    table = read_table(tiny_run / "results" / "datasets" / "deeploc2.tsv.gz")
    assert held_out["n_proteins"] == int((table["split"] == "test").sum())
    stats = json.loads((tiny_run / "results" / "datasets" / "deeploc1_test.json").read_text())
    assert stats["dropped"]["in_exclude_accession"] > 2000
    html = (tiny_run / "results" / "report" / "index.html").read_text()
    assert "Localization (per protein)" in html and "DeepLoc 1.0" in html
    assert "Accuracy" in html and "cb513" in html
    curves = tiny_run / "results" / "report" / "figures" / "learning_curves_per_protein.png"
    assert curves.stat().st_size > 0


def test_downloads_verified_and_profiles_have_provenance(tiny_run: Path):
    downloads = tiny_run / "resources" / "downloads"
    assert (downloads / "netsurfp2_cb513_csv").stat().st_size > 0
    assert not list(downloads.glob(".*tmp*")), "temporary download files left behind"
    shard = json.loads((tiny_run / "results" / "profiles" / "cb513" / "shard0.json").read_text())
    assert shard["tool"] == "mmseqs2" and shard["version"]
    assert (
        shard["stats"]["n_queries"] == shard["stats"]["n_from_cache"] + shard["stats"]["n_searched"]
    )
    assert len(shard["database"]["checksum"]) == 64


def test_every_rule_logged_and_benchmarked(tiny_run: Path):
    for stage in ["download", "datasets", "profiles", "encode", "train", "evaluate"]:
        assert list((tiny_run / "logs" / stage).rglob("*.log")), stage
        assert list((tiny_run / "benchmarks" / stage).rglob("*.tsv")), stage


def test_figures_registered_for_snakemake_report(tiny_run: Path, mirror_server: str):
    archive = tiny_run / "snakemake_report.zip"
    result = snakemake(tiny_run, mirror_server, "--report", str(archive))
    assert result.returncode == 0, result.stderr[-3000:]
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
    assert any(name.endswith("report.html") for name in names)
    assert any(name.endswith(".png") and "confusion" in name for name in names)
    assert any(name.endswith("history.tsv") for name in names)


def test_rerun_has_nothing_to_do(tiny_run: Path, mirror_server: str):
    result = snakemake(tiny_run, mirror_server, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Nothing to be done" in result.stdout + result.stderr


def test_another_build_of_the_search_tool_reruns_its_jobs(
    tiny_run: Path, mirror_server: str, tmp_path: Path
):
    """Snakemake knows nothing of the tools outside conda: the version is a params value."""
    from protrnn.core.tools import MMSEQS_ENV, find_mmseqs

    other_build = tmp_path / "mmseqs"
    other_build.write_text(
        '#!/bin/sh\nif [ "$1" = version ]; then echo 0.0-another-build; exit 0; fi\n'
        f'exec "{find_mmseqs()}" "$@"\n'
    )
    other_build.chmod(0o755)
    env = {**os.environ, MMSEQS_ENV: str(other_build)}
    dry = run_tiny_workflow(tiny_run, mirror_server, "--cores", "2", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr[-3000:]
    counts = _job_counts(dry.stdout)
    results = tiny_run / "results"
    assert counts["profile_database"] == 1
    assert counts["profile_search"] == len(list((results / "profiles").glob("*/shard*.npz")))
    assert counts["redundancy"] == len(list((results / "redundancy").glob("*/*.tsv")))


def _workflow_copy(destination: Path) -> Path:
    """The workflow's code and config copied to ``destination`` (its Snakefile returned)."""
    for name in (
        "rules",
        "scripts",
        "protrnn",
        "config",
        "envs",
        "report",
        "profiles",
        "models",
        "docs",
    ):
        if (ROOT / name).exists():
            shutil.copytree(
                ROOT / name, destination / name, ignore=shutil.ignore_patterns("__pycache__")
            )
    shutil.copy2(ROOT / "Snakefile", destination / "Snakefile")
    return destination / "Snakefile"


def test_library_code_that_shapes_a_model_reruns_what_it_shapes(
    tiny_run: Path, mirror_server: str, tmp_path: Path
):
    """Snakemake's own code trigger sees a rule's script only: the digest of the protrnn code a
    script imports (a params value) reruns training after a change to the model code, and a
    docstring edit reruns nothing that depends on it."""
    snakefile = _workflow_copy(tmp_path / "workflow")
    # only the params trigger: the copy's scripts stand at another path than the run's
    triggers = ("--rerun-triggers", "mtime", "input", "params", "software-env")
    command = tiny_command(tiny_run, mirror_server, "--cores", "2", "--dry-run", *triggers)
    command[command.index("--snakefile") + 1] = str(snakefile)

    def dry_run() -> str:
        result = subprocess.run(command, capture_output=True, text=True, env=tiny_env())
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout + result.stderr

    zoo = tmp_path / "workflow" / "protrnn" / "model" / "zoo.py"
    text = zoo.read_text()
    zoo.write_text(text.replace('"""', '"""Edited docstring. ', 1))
    # the report takes the copy's study folders (other paths) as inputs; nothing else reruns
    output = dry_run()
    assert "Nothing to be done" in output or set(_job_counts(output)) <= {"report", "all"}
    zoo.write_text(text + "\nUNUSED_BY_THE_MODELS = 1\n")
    counts = _job_counts(dry_run())
    assert counts["train"] == len(list((tiny_run / "results" / "models").glob("*/*/history.tsv")))
    assert "evaluate" in counts and "report" in counts
    assert not {"parse_dataset", "profile_search", "encode", "redundancy"} & set(counts), counts


# --- runs that extend the finished tiny run (keep them last: they add outputs to it) ---------


def _job_counts(dry_run_output: str) -> dict[str, int]:
    """Job name -> count from the 'Job stats' table of a dry run."""
    table = dry_run_output.split("Job stats:")[1].split("total")[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def _hashes(table: Path) -> set[str]:
    return {sequence_hash(s) for s in read_table(table)["sequence"]}


def test_new_dataset_computes_only_new_profiles(tiny_run: Path, mirror_server: str):
    extra = tiny_run / "more.yaml"
    extra.write_text(
        "datasets:\n"
        "  cb513_more:\n"
        "    format: netsurfp_csv\n"
        "    task: per_residue\n"
        "    files: {csv: netsurfp2_cb513_csv}\n"
        "    split: test\n"
        "    max_proteins: 16\n"
        "    shards: 1\n"
        "experiments:\n"
        "  secondary_structure:\n"
        "    test_sets:\n"
        "      cb513_more: {dataset: cb513_more}\n"
    )
    model = tiny_run / "results" / "models" / EXPERIMENT / "bigru" / "model.pt"
    old_shard = tiny_run / "results" / "profiles" / "cb513" / "shard0.npz"
    stamps = {p: p.stat().st_mtime_ns for p in (model, old_shard)}
    dry = snakemake(tiny_run, mirror_server, "--dry-run", configfiles=(extra,))
    assert dry.returncode == 0, dry.stderr[-3000:]
    counts = _job_counts(dry.stdout)
    # only the new dataset's parse, profiles, encoding, redundancy check, its evaluations and the
    # report
    assert counts == {
        "parse_dataset": 1,
        "profile_search": 1,
        "encode": 1,
        "evaluate": len(SCORED),
        "redundancy": 1,
        "report": 1,
        "all": 1,
    }, dry.stdout[-3000:]
    run = snakemake(tiny_run, mirror_server, configfiles=(extra,))
    assert run.returncode == 0, run.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    done = set().union(
        *(
            _hashes(p)
            for p in (tiny_run / "results" / "datasets").glob("*.tsv.gz")
            if "more" not in p.name
        )
    )
    new = _hashes(tiny_run / "results" / "datasets" / "cb513_more.tsv.gz")
    stats = json.loads(
        (tiny_run / "results" / "profiles" / "cb513_more" / "shard0.json").read_text()
    )
    assert new & done, "the test needs proteins shared with the finished run"
    assert stats["stats"]["n_from_cache"] == len(new & done)
    assert stats["stats"]["n_searched"] == len(new - done)
    assert "cb513_more" in (tiny_run / "results" / "report" / "index.html").read_text()


def test_killed_profile_job_resumes_to_identical_profiles(
    tiny_run: Path, mirror_server: str, tmp_path: Path
):
    """Kill a profile search after its first cached chunks; the rerun equals the full run."""
    work = tmp_path / "kill"
    (work / "resources").mkdir(parents=True)
    for sub in ("downloads", "profile_db"):
        shutil.copytree(tiny_run / "resources" / sub, work / "resources" / sub, symlinks=True)
    target = "results/profiles/netsurfp2_train/shard0.npz"
    chunked = tmp_path / "chunked.yaml"
    chunked.write_text("profiles:\n  chunk_size: 3\n")
    cache = work / "resources" / "profile_cache"
    command = tiny_command(work, mirror_server, "--cores", "1", target, configfiles=(chunked,))
    process = subprocess.Popen(
        command,
        env=tiny_env(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    # an entry is complete once its extra columns are written (the PSSM goes first)
    entries = "*.extras*.npy"
    while time.monotonic() < deadline and len(list(cache.rglob(entries))) < 3:
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    n_cached = len(list(cache.rglob(entries)))
    assert n_cached >= 3, "no chunk was cached before the deadline"
    assert not (work / target).exists()
    # a killed snakemake leaves its lock behind; --unlock is what its message tells users to run
    unlock = run_tiny_workflow(work, mirror_server, "--unlock", configfiles=(chunked,))
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    rerun = run_tiny_workflow(
        work, mirror_server, "--cores", "1", "--rerun-incomplete", target, configfiles=(chunked,)
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    stats = json.loads((work / target).with_suffix(".json").read_text())["stats"]
    assert stats["n_from_cache"] >= n_cached > 0 and stats["n_searched"] > 0
    with np.load(work / target) as resumed, np.load(tiny_run / target) as full:
        assert sorted(resumed.files) == sorted(full.files)
        for key in full.files:
            np.testing.assert_array_equal(resumed[key], full[key], err_msg=key)


def test_user_datasets_from_tsv_and_pdb_chains(tiny_run: Path, shared_data: Path, tmp_path: Path):
    """A TSV file by local path and PDB chains (mmCIF via the mirror + mkdssp) as new test sets."""
    from protrnn.data.formats.pdb_chains import find_mkdssp
    from tests.structure_builder import alpha_helix, beta_pair, mmcif

    try:
        find_mkdssp()
    except (FileNotFoundError, RuntimeError) as err:
        pytest.skip(f"mkdssp not installed (apt-get install dssp): {err}")
    mirror = tmp_path / "mirror"
    (mirror / "pdb").mkdir(parents=True)
    for sub in shared_data.iterdir():
        (mirror / sub.name).symlink_to(sub)
    (mirror / "pdb" / "1HLX.cif").write_text(
        mmcif("1HLX", [alpha_helix("MEELLKKAEELLKRAEELLKKG", "A")])
    )
    (mirror / "pdb" / "2STR.cif").write_text(
        mmcif("2STR", list(beta_pair("TVKVTVKVTVK", "KVEVKVEVKVE")))
    )
    cb513 = read_table(tiny_run / "results" / "datasets" / "cb513.tsv.gz").head(3)
    # ids with spaces and odd characters; the same sequence under two ids is searched once
    cb513 = pd.concat([cb513, cb513.head(1)], ignore_index=True)
    cb513["id"] = ["my_a", "my b/with spaces", "my_c;'odd'", "my_a again"]
    user_tsv = tmp_path / "my_proteins.tsv"
    cb513[["id", "sequence", "ss8", "eval_mask"]].to_csv(user_tsv, sep="\t", index=False)
    extra = tmp_path / "user.yaml"
    extra.write_text(
        "files:\n"
        f"  my_tsv: {{path: {user_tsv}}}\n"
        "datasets:\n"
        "  my_tsv: {format: tsv, task: per_residue, files: {data: my_tsv}, split: test,"
        " shards: 1}\n"
        "  ideal: {format: pdb_chains, task: per_residue, chains: [1HLX_A, 2STR_A, 2STR_B],"
        " split: test, shards: 1}\n"
        "experiments:\n"
        "  secondary_structure:\n"
        "    test_sets:\n"
        "      my_tsv: {dataset: my_tsv}\n"
        "      ideal: {dataset: ideal}\n"
    )
    model = tiny_run / "results" / "models" / EXPERIMENT / "bigru" / "model.pt"
    stamp = model.stat().st_mtime_ns
    run = snakemake(tiny_run, str(mirror), configfiles=(extra,))
    assert run.returncode == 0, run.stderr[-4000:]
    assert model.stat().st_mtime_ns == stamp, "a new test set must not retrain"
    ideal = read_table(tiny_run / "results" / "datasets" / "ideal.tsv.gz").set_index("id")
    assert ideal.loc["1HLX_A", "ss3"].count("H") >= 14
    assert ideal.loc["2STR_A", "ss3"].count("E") >= 7 and ideal.loc["2STR_B", "ss3"].count("E") >= 7
    assert all(0 <= float(v) <= 1 for v in ideal.loc["1HLX_A", "rsa"].split(","))
    mine = read_table(tiny_run / "results" / "datasets" / "my_tsv.tsv.gz")
    assert mine["id"].tolist() == cb513["id"].tolist()
    assert (mine["ss3"] == cb513["ss3"].to_numpy()).all()
    shard = json.loads((tiny_run / "results" / "profiles" / "my_tsv" / "shard0.json").read_text())
    assert shard["stats"]["n_queries"] == 3  # 4 proteins, 3 distinct sequences
    metrics = json.loads(
        (
            tiny_run / "results" / "eval" / EXPERIMENT / "bigru" / "my_tsv" / "metrics.json"
        ).read_text()
    )
    assert metrics["n_proteins"] == 4
    html = (tiny_run / "results" / "report" / "index.html").read_text()
    for name in ("my_tsv", "ideal"):
        for model_name in SCORED:
            path = tiny_run / "results" / "eval" / EXPERIMENT / model_name / name / "metrics.json"
            assert json.loads(path.read_text())["n_residues"] > 0
        assert name in html
    # another DSSP build labels the structures again (Snakemake would not know of it by itself)
    other_dssp = tmp_path / "mkdssp"
    other_dssp.write_text(
        '#!/bin/sh\nif [ "$1" = --version ]; then echo "mkdssp version 9.9.9"; exit 0; fi\n'
        f'exec "{find_mkdssp()}" "$@"\n'
    )
    other_dssp.chmod(0o755)
    dry = run_tiny_workflow(
        tiny_run,
        str(mirror),
        "--cores",
        "2",
        "--dry-run",
        env={**os.environ, "PROTRNN_MKDSSP": str(other_dssp)},
        configfiles=(extra,),
    )
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert _job_counts(dry.stdout)["parse_dataset"] == 1, dry.stdout[-3000:]


@pytest.mark.parametrize("backend", ["psiblast", "jackhmmer"])
def test_other_profile_backends_through_the_workflow(
    tiny_run: Path, mirror_server: str, tmp_path: Path, backend: str
):
    """psiblast (BLAST+) and jackhmmer (pyhmmer) build their database and profiles from config."""
    if backend == "psiblast" and shutil.which("psiblast") is None:
        pytest.skip("psiblast not installed (apt-get install ncbi-blast+)")
    pytest.importorskip("pyhmmer")
    work = tmp_path / backend
    (work / "resources").mkdir(parents=True)
    shutil.copytree(tiny_run / "resources" / "downloads", work / "resources" / "downloads")
    chosen = tmp_path / "backend.yaml"
    chosen.write_text(f"profiles:\n  backend: {backend}\n")
    target = "results/profiles/casp12/shard0.npz"
    run = snakemake(work, mirror_server, target, configfiles=(chosen,))
    assert run.returncode == 0, run.stderr[-3000:]
    provenance = json.loads((work / target).with_suffix(".json").read_text())
    assert provenance["backend"] == backend and provenance["version"]
    assert (work / "resources" / "profile_db" / "tiny" / backend / "db.json").is_file()
    table = read_table(work / "results" / "datasets" / "casp12.tsv.gz")
    shard = int(provenance["stats"]["n_queries"])
    with np.load(work / target) as profiles, np.load(tiny_run / target) as mmseqs2:
        # one PSSM per protein, each with its extra columns (``{hash}.extras``)
        pssms = [key for key in profiles.files if not key.endswith(".extras")]
        assert len(pssms) == shard == len([k for k in mmseqs2.files if not k.endswith(".extras")])
        assert sorted(profiles.files) == sorted(mmseqs2.files)
        lengths = {sequence_hash(s): len(s) for s in table["sequence"]}
        for key in pssms:
            assert profiles[key].shape == (lengths[key], 20) == mmseqs2[key].shape
            assert profiles[f"{key}.extras"].shape == mmseqs2[f"{key}.extras"].shape


def test_cross_validation_folds_from_config(tiny_run: Path, mirror_server: str, tmp_path: Path):
    """`folds: K` trains one model per held-out DeepLoc 2.0 partition; the report sums up."""
    extra = tmp_path / "folds.yaml"
    extra.write_text(
        "experiments:\n  localization:\n    folds: 2\n    models: [bilstm_last]\n"
        "train:\n  experiments: [localization]\n"
    )
    run = snakemake(tiny_run, mirror_server, configfiles=(extra,))
    assert run.returncode == 0, run.stderr[-4000:]
    for k in range(2):
        table = read_table(tiny_run / "results" / "datasets" / f"deeploc2_fold{k}.tsv.gz")
        stats = json.loads(
            (tiny_run / "results" / "datasets" / f"deeploc2_fold{k}.json").read_text()
        )
        assert stats["partitions"]  # the parser's per-partition counts
        assert (table["split"] == "test").sum() > 0
        path = tiny_run / "results" / "eval" / f"localization_fold{k}" / "bilstm_last"
        assert json.loads((path / f"deeploc2_holdout_fold{k}" / "metrics.json").read_text())[
            "n_proteins"
        ] == int((table["split"] == "test").sum())
    folds = pd.read_csv(tiny_run / "results" / "report" / "cross_validation.tsv", sep="\t")
    row = folds[(folds["test_set"] == "deeploc2_holdout") & (folds["metric"] == "accuracy")]
    assert row["folds"].tolist() == [2]
    assert "Cross-validation" in (tiny_run / "results" / "report" / "index.html").read_text()

"""End to end: the whole workflow on a tiny config, downloading through a loopback HTTP mirror."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.tiny_workflow import run_tiny_workflow

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["bigru", "cnn_bigru"]
TEST_SETS = ["cb513", "ts115", "casp12", "cb513_dcrnn"]

pytestmark = pytest.mark.integration


def snakemake(workdir: Path, mirror: str, *extra: str) -> subprocess.CompletedProcess:
    return run_tiny_workflow(workdir, mirror, "--cores", "2", *extra)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, mirror_server: str) -> Path:
    workdir = tmp_path_factory.mktemp("workflow")
    result = snakemake(workdir, mirror_server)
    if result.returncode != 0:
        logs = (
            "\n".join(
                f"--- {p}\n{p.read_text()[-3000:]}"
                for p in sorted((workdir / "logs").rglob("*.log"))
            )
            if (workdir / "logs").exists()
            else ""
        )
        pytest.fail(f"snakemake failed:\n{result.stderr[-6000:]}\n{logs}")
    return workdir


def test_report_has_q8_q3_for_every_model_and_test_set(tiny_run: Path):
    html = (tiny_run / "results" / "report" / "index.html").read_text()
    accuracy = pd.read_csv(tiny_run / "results" / "report" / "accuracy.tsv", sep="\t")
    for model in MODELS:
        assert model in html
        for test_set in TEST_SETS:
            metrics = json.loads(
                (tiny_run / "results" / "eval" / model / test_set / "metrics.json").read_text()
            )
            assert 0.0 <= metrics["q8"] <= 1.0 and 0.0 <= metrics["q3"] <= 1.0
            assert metrics["n_residues"] > 0
            assert test_set in html
    assert {"q8", "q3"} <= {c.lower() for c in accuracy.columns}
    assert "DCRNN" in html and "published" in html.lower()
    assert 'src="http' not in html and 'href="http' not in html.replace('href="https://doi', "")


def test_downloads_verified_and_profiles_have_provenance(tiny_run: Path):
    downloads = tiny_run / "resources" / "downloads"
    assert (downloads / "netsurfp2_cb513_csv").stat().st_size > 0
    assert not list(downloads.glob(".*tmp*")), "temporary download files left behind"
    shard = json.loads((tiny_run / "results" / "profiles" / "shard0.json").read_text())
    assert shard["tool"] == "mmseqs2" and shard["version"]
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

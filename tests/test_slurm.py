"""The SLURM profile on a real SLURM: a one-node cluster on this machine (tests/slurm/cluster.sh).

The tiny workflow runs twice, once locally and once through `--profile profiles/slurm` (every job
submitted with sbatch), and the deterministic outputs of both runs must be equal.
Needs root (the cluster script installs slurm-wlm and munge with apt-get when missing and runs
slurmd); skipped otherwise.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import re
import socket
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.tiny_workflow import run_tiny_workflow

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / "tests" / "slurm" / "cluster.sh"
MODELS = ["bigru", "cnn_bigru"]
TEST_SETS = ["cb513", "ts115", "casp12", "cb513_dcrnn"]
EXPERIMENT = "secondary_structure"

pytestmark = pytest.mark.slurm

# Settings for this test cluster only, layered over profiles/slurm as the workflow profile (it
# replaces profiles/default). One partition "main", no accounts, no slurmdbd: poll with squeue.
TEST_CLUSTER_PROFILE = """\
default-resources:
  slurm_partition: main
  mem_mb: 1000
  runtime: 30
set-resources:
  train:
    slurm_partition: main
slurm-status-command: squeue
slurm-no-account: true
slurm-keep-successful-logs: true
slurm-init-seconds-before-status-checks: 2
seconds-between-status-checks: 2
latency-wait: 10
jobs: 4
"""


def _free_port_pair() -> int:
    """A port p with p and p + 1 both free on 127.0.0.1 (slurmctld and slurmd)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


def _cluster(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(CLUSTER), command],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory):
    """Start the one-node cluster; yield its environment; stop it afterwards, even on failure."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.fail("snakemake-executor-plugin-slurm is not installed: pip install -e '.[dev]'")
    run_dir = tmp_path_factory.mktemp("slurm")
    env = dict(os.environ)
    env["PROTRNN_SLURM_DIR"] = str(run_dir / "cluster")
    env["PROTRNN_SLURM_PORT"] = str(_free_port_pair())
    started = _cluster("start", env)
    if started.returncode == 3:
        pytest.skip(f"cannot install or start SLURM: {started.stderr.strip()}")
    try:
        assert started.returncode == 0, f"cluster.sh start failed:\n{started.stderr}"
        env["SLURM_CONF"] = str(run_dir / "cluster" / "slurm.conf")
        yield {"env": env, "run_dir": run_dir / "cluster"}
    finally:
        _cluster("stop", env)


def snakemake(
    workdir: Path, mirror: str, *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the tiny workflow (tests/tiny_workflow.py) with extra arguments."""
    return run_tiny_workflow(workdir, mirror, *extra, env=env)


def _failure(result: subprocess.CompletedProcess, workdir: Path) -> str:
    logs = [
        f"--- {p}\n{p.read_text(errors='replace')[-2000:]}"
        for folder in (workdir / "logs", workdir / ".snakemake" / "slurm_logs")
        if folder.exists()
        for p in sorted(folder.rglob("*.log"))
    ]
    return f"snakemake failed:\n{result.stderr[-6000:]}\n" + "\n".join(logs[-12:])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, mirror_server: str, slurm_cluster: dict):
    """The tiny workflow run locally and on SLURM, side by side (the SLURM run mostly waits)."""
    local_dir = tmp_path_factory.mktemp("local")
    slurm_dir = tmp_path_factory.mktemp("on_slurm")
    profile_dir = tmp_path_factory.mktemp("test_cluster_profile")
    (profile_dir / "config.yaml").write_text(TEST_CLUSTER_PROFILE)

    local: dict[str, subprocess.CompletedProcess] = {}
    thread = threading.Thread(
        target=lambda: local.setdefault(
            "result", snakemake(local_dir, mirror_server, "--cores", "1")
        )
    )
    thread.start()
    slurm = snakemake(
        slurm_dir,
        mirror_server,
        "--profile",
        str(ROOT / "profiles" / "slurm"),
        "--workflow-profile",
        str(profile_dir),
        env=slurm_cluster["env"],
    )
    thread.join()
    assert local["result"].returncode == 0, _failure(local["result"], local_dir)
    assert slurm.returncode == 0, _failure(slurm, slurm_dir)
    return {"local": local_dir, "slurm": slurm_dir, "slurm_result": slurm}


def test_every_job_went_through_sbatch(runs: dict, slurm_cluster: dict):
    output = runs["slurm_result"].stdout + runs["slurm_result"].stderr
    submitted = set(re.findall(r"has been submitted with SLURM jobid (\d+)", output))
    logs = list((runs["slurm"] / ".snakemake" / "slurm_logs").rglob("*.log"))
    rules = {p.relative_to(runs["slurm"] / ".snakemake" / "slurm_logs").parts[0] for p in logs}
    assert {
        "rule_download",
        "rule_parse_dataset",
        "rule_profile_database",
        "rule_profile_search",
        "rule_encode",
        "rule_train",
        "rule_evaluate",
        "rule_report",
    } <= rules
    assert {p.stem for p in logs} == submitted
    # slurmctld accepted and ran each of them
    ctld_log = (slurm_cluster["run_dir"] / "slurmctld.log").read_text(errors="replace")
    accepted = set(re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+)", ctld_log))
    done = set(re.findall(r"_job_complete: JobId=(\d+) done", ctld_log))
    assert submitted <= accepted and submitted <= done
    env = slurm_cluster["env"]
    states = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--format=%i %T"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.split("\n")
    finished = {line.split()[0] for line in states if line.endswith("COMPLETED")}
    assert submitted <= finished


def test_report_exists(runs: dict):
    html = (runs["slurm"] / "results" / "report" / "index.html").read_text()
    for model in MODELS:
        assert model in html


def test_tables_equal_a_local_run(runs: dict):
    tables = sorted((runs["local"] / "results" / "datasets").glob("*.tsv.gz"))
    assert tables
    for table in tables:
        other = runs["slurm"] / "results" / "datasets" / table.name
        # compare the content: a gzip header carries a time stamp
        assert gzip.decompress(other.read_bytes()) == gzip.decompress(table.read_bytes()), table


def test_profiles_equal_a_local_run(runs: dict):
    shards = sorted((runs["local"] / "results" / "profiles").glob("*/shard*.npz"))
    assert shards
    for shard in shards:
        with (
            np.load(shard) as mine,
            np.load(runs["slurm"] / shard.relative_to(runs["local"])) as theirs,
        ):
            assert sorted(mine.files) == sorted(theirs.files)
            for key in mine.files:
                np.testing.assert_array_equal(mine[key], theirs[key], err_msg=f"{shard} {key}")


def test_metrics_equal_a_local_run(runs: dict):
    for model in MODELS:
        for test_set in TEST_SETS:
            path = Path("results") / "eval" / EXPERIMENT / model / test_set / "metrics.json"
            local = json.loads((runs["local"] / path).read_text())
            slurm = json.loads((runs["slurm"] / path).read_text())
            for key in ("q8", "q3", "n_residues"):
                assert slurm[key] == local[key], f"{path} {key}"

"""protrnn reused by another workflow through Snakemake's ``module`` directive, with that
workflow's own config (the README's "Use as a module" section, on the tiny config)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.utils import update_config

from tests.tiny_workflow import ROOT, tiny_env

pytestmark = pytest.mark.integration

OUTER_SNAKEFILE = """\
import sys


configfile: "config/config.yaml"


module protrnn:
    snakefile:
        "{snakefile}"
    config:
        config


use rule * from protrnn as protrnn_*

print("protrnn imported from", sys.modules["protrnn"].__file__)


rule cb513_proteins:
    input:
        "results/encoded/cb513.npz",
    output:
        "mine/cb513_proteins.txt",
    run:
        import numpy

        with numpy.load(input[0]) as encoded:
            count = len(encoded["ids"])
        with open(output[0], "w") as out:
            out.write(f"{{count}}\\n")


rule all:
    default_target: True
    input:
        rules.protrnn_all.input,
        rules.cb513_proteins.output,
"""


def _outer_config(mirror: Path) -> dict:
    """protrnn's config/config.yaml with the tiny test config over it, and CB513 cut to 5."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    tiny = yaml.safe_load((ROOT / "tests" / "data" / "tiny_config.yaml").read_text())
    update_config(config, tiny)
    update_config(config, {"mirror": str(mirror), "datasets": {"cb513": {"max_proteins": 5}}})
    return config


def _write_outer_workflow(folder: Path, mirror: Path, snakefile: Path) -> Path:
    """A workflow folder of someone else's: Snakefile + config/config.yaml, protrnn as a module."""
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(_outer_config(mirror)))
    (folder / "Snakefile").write_text(OUTER_SNAKEFILE.format(snakefile=snakefile))
    return folder


@pytest.fixture
def outer_workflow(tmp_path: Path, shared_data: Path) -> Path:
    return _write_outer_workflow(tmp_path, shared_data, ROOT / "Snakefile")


def _snakemake(workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--cores", "2", *extra]
    return subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, env=tiny_env(), timeout=900
    )


def _job_counts(output: str) -> dict[str, int]:
    table = output.split("Job stats:")[1].split("total")[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def test_dry_run_plans_every_protrnn_rule_renamed(outer_workflow: Path):
    result = _snakemake(outer_workflow, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = _job_counts(result.stdout + result.stderr)
    for rule in ("download", "parse_dataset", "profile_database", "profile_search", "encode"):
        assert jobs.get(f"protrnn_{rule}", 0) >= 1, (rule, jobs)
    # the tiny config's models, not the default config's six
    assert jobs["protrnn_train"] == 4 and jobs["protrnn_report"] == 1
    assert jobs["cb513_proteins"] == 1
    assert not any(name in jobs for name in ("train", "report", "encode")), jobs


def test_module_run_writes_outputs_into_the_outer_workflow(outer_workflow: Path):
    result = _snakemake(outer_workflow, "mine/cb513_proteins.txt")
    assert result.returncode == 0, result.stderr[-4000:]
    # the outer rule read protrnn's output, encoded under the outer config (CB513 cut to 5)
    assert (outer_workflow / "mine" / "cb513_proteins.txt").read_text() == "5\n"
    with np.load(outer_workflow / "results" / "encoded" / "cb513.npz") as encoded:
        assert len(encoded["ids"]) == 5
    for path in (
        "results/datasets/cb513.tsv.gz",
        "results/profiles/cb513/shard0.json",
        "logs/encode/cb513.log",
        "benchmarks/encode/cb513.tsv",
    ):
        assert (outer_workflow / path).is_file(), path


def test_module_imports_protrnn_from_its_own_checkout(tmp_path: Path, shared_data: Path):
    """The module's own protrnn package is imported (its folder is on sys.path before the outer
    workflow's site-packages), not another installed copy."""
    checkout = tmp_path / "protrnn_checkout"
    checkout.mkdir()
    for name in ("Snakefile", "rules", "scripts", "report", "envs", "protrnn", "docs"):
        (checkout / name).symlink_to(ROOT / name)
    outer = _write_outer_workflow(tmp_path / "outer", shared_data, checkout / "Snakefile")
    result = _snakemake(outer, "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    imported = re.search(r"protrnn imported from (\S+)", result.stdout)
    assert imported and Path(imported[1]) == checkout / "protrnn" / "__init__.py", result.stdout

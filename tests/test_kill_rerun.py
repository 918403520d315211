"""Kill-and-rerun at every stage: a job SIGKILLed while it writes its output leaves no output,
and rerunning with the commands Snakemake's messages name (``--unlock``, then the same command
with ``--rerun-incomplete``) gives outputs equal to those of the uninterrupted run.

The kill is placed deterministically: a ``sitecustomize`` module on the jobs' PYTHONPATH makes a
rule script stop just before it renames its output named ``PROTRNN_TEST_STALL_AT`` into place
(every output is written to a temporary sibling first, then renamed); the test waits for that
moment and kills the whole process group, Snakemake included. Profiles (tests/test_workflow.py)
and training (tests/test_training_kill.py) have their own kill tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.tiny_workflow import run_tiny_workflow, tiny_command, tiny_env

pytestmark = pytest.mark.integration

SITECUSTOMIZE = """
import os, sys, time
_stall_at = os.environ.get("PROTRNN_TEST_STALL_AT")
if _stall_at and ".snakemake/scripts/" in (sys.argv[0] if sys.argv else ""):
    _replace = os.replace
    def _stalling_replace(src, dst, *args, **kwargs):
        if os.path.basename(os.fspath(dst)) == _stall_at:
            open(os.environ["PROTRNN_TEST_STALL_FLAG"], "w").close()
            time.sleep(600)
        return _replace(src, dst, *args, **kwargs)
    os.replace = _stalling_replace
"""


def _same_npz(a: Path, b: Path) -> None:
    with np.load(a) as x, np.load(b) as y:
        assert sorted(x.files) == sorted(y.files)
        for key in x.files:
            np.testing.assert_array_equal(x[key], y[key], err_msg=f"{a.name}: {key}")


def _same_json(a: Path, b: Path) -> None:
    assert json.loads(a.read_text()) == json.loads(b.read_text())


def _same_bytes(a: Path, b: Path) -> None:
    assert a.read_bytes() == b.read_bytes(), a


#: stage -> (target to rebuild, file name the job stalls at, files to compare and how).
STAGES = {
    "download": (
        "resources/downloads/netsurfp2_cb513_csv",
        "netsurfp2_cb513_csv",
        {"resources/downloads/netsurfp2_cb513_csv": _same_bytes},
    ),
    "parse": (
        "results/datasets/cb513.tsv.gz",
        "cb513.tsv.gz",
        {"results/datasets/cb513.tsv.gz": _same_bytes, "results/datasets/cb513.json": _same_json},
    ),
    "encode": (
        "results/encoded/cb513.npz",
        "cb513.npz",
        {"results/encoded/cb513.npz": _same_npz},
    ),
    "evaluate": (
        "results/eval/secondary_structure/bigru/cb513/metrics.json",
        "metrics.json",
        {
            "results/eval/secondary_structure/bigru/cb513/metrics.json": _same_json,
            "results/eval/secondary_structure/bigru/cb513/per_class.tsv": _same_bytes,
            "results/eval/secondary_structure/bigru/cb513/predictions.npz": _same_npz,
        },
    ),
    "report": (
        "results/report/index.html",
        "index.html",
        {
            "results/report/accuracy.tsv": _same_bytes,
            "results/report/per_class.tsv": _same_bytes,
            "results/report/pairwise.tsv": _same_bytes,
        },
    ),
}


def _copy_run(source: Path, work: Path) -> None:
    shutil.copytree(source, work, symlinks=True, ignore=shutil.ignore_patterns("*.zip"))
    shutil.rmtree(work / ".snakemake" / "locks", ignore_errors=True)


def _kill_while_writing(work: Path, mirror: str, target: str, stall_at: str, tmp: Path) -> None:
    hook = tmp / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    flag = tmp / "stalled"
    env = tiny_env()
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(hook), env.get("PYTHONPATH", "")])),
        PROTRNN_TEST_STALL_AT=stall_at,
        PROTRNN_TEST_STALL_FLAG=str(flag),
    )
    command = tiny_command(work, mirror, "--cores", "1", "--forcerun", target, target)
    process = subprocess.Popen(
        command,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not flag.exists() and process.poll() is None:
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert flag.exists(), f"the job for {target} never reached the rename of {stall_at}"


@pytest.mark.parametrize("stage", list(STAGES))
def test_killed_job_reruns_to_identical_outputs(
    stage: str, tiny_run: Path, mirror_server: str, tmp_path: Path
) -> None:
    target, stall_at, compare = STAGES[stage]
    work = tmp_path / "run"
    _copy_run(tiny_run, work)
    _kill_while_writing(work, mirror_server, target, stall_at, tmp_path)
    # the killed job wrote nothing under its output's name (only a temporary sibling)
    assert not (work / target).exists(), f"{target} exists after the kill"
    locked = run_tiny_workflow(work, mirror_server, "--cores", "1", target)
    assert locked.returncode != 0 and "--unlock" in locked.stderr, locked.stderr[-2000:]
    unlock = run_tiny_workflow(work, mirror_server, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    rerun = run_tiny_workflow(work, mirror_server, "--cores", "1", "--rerun-incomplete", target)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    for rel, same in compare.items():
        same(work / rel, tiny_run / rel)

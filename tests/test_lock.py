"""The locked install: requirements/lock-cpu.txt pins every requirement of pyproject.toml (runtime
and extra "dev") exactly and with hashes, and envs/*.yaml pin the same versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock-cpu.txt"
#: conda package name -> the pip name of the same package
CONDA_TO_PIP = {"pytorch": "torch"}


def _lock_entries() -> dict[str, tuple[str, list[str]]]:
    """Canonical name -> (version, sha256 hashes) of every pin in the lock."""
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text()):
        pin = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if pin:
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
            entries[canonicalize_name(pin[1])] = (pin[2], hashes)
    return entries


def test_lock_pins_every_requirement_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = project["project"]["dependencies"] + project["project"]["optional-dependencies"]["dev"]
    wanted += project["build-system"]["requires"] + ["pip"]
    lock = _lock_entries()
    assert len(lock) > 50
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in lock, f"{name} missing from {LOCK.name}: run bash requirements/lock.sh"
        version, _ = lock[name]
        assert requirement.specifier.contains(version, prereleases=True), (line, version)
    for name, (version, hashes) in lock.items():
        assert hashes, f"{name}=={version} has no hash"
    assert lock["torch"][0].endswith("+cpu")


def test_conda_envs_pin_the_locked_versions():
    lock = _lock_entries()
    envs = sorted((ROOT / "envs").glob("*.yaml"))
    assert envs
    for path in envs:
        for dependency in yaml.safe_load(path.read_text())["dependencies"]:
            name, _, version = dependency.partition(" =")
            assert re.fullmatch(r"[0-9][0-9A-Za-z.]*", version), f"{path.name}: {dependency}"
            pip_name = canonicalize_name(CONDA_TO_PIP.get(name, name))
            if pip_name in lock:
                locked = lock[pip_name][0].split("+")[0]
                assert version == locked, f"{path.name}: {dependency} but the lock has {locked}"

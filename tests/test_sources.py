"""The up-front source check: one clear message when inputs cannot be fetched."""

import socket
from pathlib import Path

import pytest

from protrnn.config.sources import SourceError, check_sources


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/file.csv"


def config_with(files: dict, mirror: str = "") -> dict:
    return {"mirror": mirror, "files": files}


def test_nothing_missing_passes(tmp_path: Path):
    (tmp_path / "a").write_text("x")
    check_sources(config_with({"a": {"url": closed_port_url()}}), ["a"], tmp_path)


def test_offline_without_mirror_says_how_to_set_it(tmp_path: Path):
    config = config_with({"a": {"url": closed_port_url()}, "b": {"url": closed_port_url()}})
    with pytest.raises(SourceError, match=r"(?s)cannot reach 127\.0\.0\.1.*--config mirror="):
        check_sources(config, ["a", "b"], tmp_path, timeout=1)


def test_mirror_only_file_without_mirror(tmp_path: Path):
    config = config_with({"db": {"url": None, "mirror_path": "seqdb/x.fasta.gz"}})
    with pytest.raises(SourceError, match="(?s)served by a mirror only.*mirror"):
        check_sources(config, ["db"], tmp_path)


def test_local_mirror_missing_file_is_named(tmp_path: Path):
    mirror = tmp_path / "mirror"
    (mirror / "seqdb").mkdir(parents=True)
    (mirror / "seqdb" / "x.fasta.gz").write_text("x")
    files = {
        "db": {"url": None, "mirror_path": "seqdb/x.fasta.gz"},
        "csv": {"url": closed_port_url(), "mirror_path": "ss/y.csv"},
    }
    check_sources(config_with(files, str(mirror)), ["db"], tmp_path / "downloads")
    with pytest.raises(SourceError, match=r"lacks: csv \(ss/y\.csv\)"):
        check_sources(config_with(files, str(mirror)), ["db", "csv"], tmp_path / "downloads")


def test_missing_mirror_folder(tmp_path: Path):
    config = config_with({"a": {"url": None, "mirror_path": "a"}}, str(tmp_path / "nope"))
    with pytest.raises(SourceError, match="does not exist"):
        check_sources(config, ["a"], tmp_path)


def test_mirror_that_is_a_file_is_named_as_such(tmp_path: Path):
    mirror = tmp_path / "mirror.tar"
    mirror.write_text("x")
    config = config_with({"a": {"url": None, "mirror_path": "a"}}, str(mirror))
    with pytest.raises(SourceError, match=r"mirror '.*mirror\.tar' is a file, not a folder"):
        check_sources(config, ["a"], tmp_path)

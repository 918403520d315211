"""protrnn.data.download: mirror (HTTP, folder, file URL), checksums, errors, retries."""

from __future__ import annotations

import gzip
import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from protrnn.data.download import (
    DownloadError,
    fetch,
    remove_partials,
    sha256_file,
    verify_downloads,
    verify_file,
)

CASP12 = "ss/raw/prottrans_netsurfp2/CASP12_HHblits.csv"
CASP12_SHA = "537535ecb4cb3dfa6f590a024e208ae15a955576ad758147b4e0605a8d7eecb9"
FAST = {"timeout": 5, "retries": 2, "backoff": 0.01}


def _closed_port() -> int:
    """A loopback port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _only(folder: Path) -> list[str]:
    """Names in ``folder`` (to catch leftover temporary files)."""
    return sorted(p.name for p in folder.iterdir())


def test_sha256_file(shared_data: Path) -> None:
    assert sha256_file(shared_data / CASP12) == CASP12_SHA


def test_fetch_from_http_mirror(mirror_server: str, shared_data: Path, tmp_path: Path) -> None:
    dest = tmp_path / "raw" / "casp12.csv"
    fetch("casp12", "https://example.invalid/x.csv", CASP12_SHA, CASP12, dest, mirror_server)
    assert dest.read_bytes() == (shared_data / CASP12).read_bytes()
    assert _only(dest.parent) == ["casp12.csv"]


def test_fetch_public_url_without_mirror(mirror_server: str, tmp_path: Path) -> None:
    dest = tmp_path / "casp12.csv"
    fetch("casp12", f"{mirror_server}/{CASP12}", CASP12_SHA, None, dest, None, **FAST)
    assert sha256_file(dest) == CASP12_SHA


def test_bad_checksum_keeps_nothing(mirror_server: str, tmp_path: Path) -> None:
    dest = tmp_path / "casp12.csv"
    with pytest.raises(DownloadError) as err:
        fetch("casp12", None, "0" * 64, CASP12, dest, mirror_server)
    message = str(err.value)
    assert "casp12" in message and "0" * 64 in message and CASP12_SHA in message
    assert _only(tmp_path) == []


def test_http_404(mirror_server: str, tmp_path: Path) -> None:
    dest = tmp_path / "missing.csv"
    with pytest.raises(DownloadError, match="404") as err:
        fetch("missing", None, None, "ss/raw/no_such_file.csv", dest, mirror_server, **FAST)
    assert "missing" in str(err.value)
    assert _only(tmp_path) == []


def test_local_folder_mirror(shared_data: Path, tmp_path: Path) -> None:
    dest = tmp_path / "casp12.csv"
    fetch("casp12", None, CASP12_SHA, CASP12, dest, str(shared_data))
    assert sha256_file(dest) == CASP12_SHA
    with pytest.raises(DownloadError, match="no_such_file"):
        fetch("x", None, None, "no_such_file.csv", tmp_path / "x", str(shared_data))
    assert _only(tmp_path) == ["casp12.csv"]


def test_file_url_mirror(shared_data: Path, tmp_path: Path) -> None:
    dest = tmp_path / "casp12.csv"
    fetch("casp12", None, CASP12_SHA, CASP12, dest, shared_data.resolve().as_uri())
    assert sha256_file(dest) == CASP12_SHA


def test_unreachable_without_mirror_mentions_mirror(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/data.csv"
    with pytest.raises(DownloadError) as err:
        fetch("data", url, None, "ss/data.csv", tmp_path / "data.csv", None, **FAST)
    message = str(err.value)
    assert "could not download data from" in message and url in message
    assert "Offline?" in message and "--config mirror=" in message
    assert _only(tmp_path) == []


def test_mirror_only_file_without_mirror(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="only available through a mirror.*--config mirror="):
        fetch("seqdb", None, None, "seqdb/x.fasta.gz", tmp_path / "x", None)


def test_mirror_without_mirror_path(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="mirror_path"):
        fetch("x", "http://127.0.0.1/x", None, None, tmp_path / "x", str(tmp_path))


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first request, then the payload; the second path truncates."""

    calls: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802
        n = self.calls[self.path] = self.calls.get(self.path, 0) + 1
        body = b"payload\n"
        if self.path == "/flaky" and n == 1:
            self.send_error(503)
            return
        self.send_response(200)
        claimed = len(body) * (10 if self.path == "/short" else 1)
        self.send_header("Content-Length", str(claimed))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture()
def flaky_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_retry_after_server_error(flaky_server: str, tmp_path: Path) -> None:
    dest = tmp_path / "p.txt"
    fetch("p", f"{flaky_server}/flaky", None, None, dest, None, **FAST)
    assert dest.read_bytes() == b"payload\n"


def test_truncated_download_is_an_error(flaky_server: str, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="closed after 8 of 80 bytes"):
        fetch("p", f"{flaky_server}/short", None, None, tmp_path / "p.txt", None, **FAST)
    assert _only(tmp_path) == []


# --- leftovers of killed downloads, and cached files checked again before use ---------------

KILLED = """
import os, sys
from pathlib import Path
from protrnn.core.fileio import atomic_path
with atomic_path(Path(sys.argv[1])) as tmp:
    tmp.write_bytes(b"half a file")
    os.kill(os.getpid(), 9)
"""


def test_leftover_of_a_killed_download_is_removed_by_the_next(
    shared_data: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "casp12.csv"
    root = Path(__file__).resolve().parents[1]
    killed = subprocess.run([sys.executable, "-c", KILLED, str(dest)], cwd=root, check=False)
    assert killed.returncode == -9
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert len(leftovers) == 1 and leftovers[0].startswith(".casp12.csv.")
    # another file's partial and a user's own hidden file stay
    kept = [".casp12.csv.gz.abcd1234.tmp.csv.gz", ".casp12.csv.notes"]
    for name in kept:
        (tmp_path / name).write_text("not this download's")
    fetch("casp12", None, CASP12_SHA, CASP12, dest, str(shared_data))
    assert _only(tmp_path) == [*kept, "casp12.csv"]


def test_remove_partials_without_folder(tmp_path: Path) -> None:
    assert remove_partials(tmp_path / "none" / "x.csv") == []


def test_verify_file_catches_a_cached_copy_edited_in_place(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    digest = sha256_file(path)
    verify_file(path, "mydata", digest)
    verify_file(path, "mydata", None)  # nothing declared, nothing to check
    gz = tmp_path / "data.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    verify_file(gz, "mydata", digest.upper())  # a gzip copy of the declared content
    path.write_text("a,b\n1,3\n")
    with pytest.raises(DownloadError) as err:
        verify_file(path, "mydata", digest)
    message = str(err.value)
    assert str(path) in message and "files.mydata" in message and digest in message
    assert "delete it and rerun" in message
    gz.write_bytes(gz.read_bytes()[:-6])
    with pytest.raises(DownloadError, match="files.mydata: corrupt gzip file"):
        verify_file(gz, "mydata", digest)


def test_verify_downloads_checks_declared_roles_only(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text("x")
    bad.write_text("y")
    declared = {"g": {"sha256": sha256_file(good)}, "b": {"sha256": "0" * 64}, "n": {}}
    verify_downloads({"data": good, "cif_1ABC": bad}, {"data": "g"}, declared)
    verify_downloads({"data": bad}, {"data": "n"}, declared)
    with pytest.raises(DownloadError, match=r"\(files\.b\)"):
        verify_downloads({"data": good, "extra": bad}, {"data": "g", "extra": "b"}, declared)

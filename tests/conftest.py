"""Shared fixtures: the local data mirror, as a folder and served over loopback HTTP, and one
finished run of the tiny workflow for every test file that reads one."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tiny_workflow import run_tiny_workflow

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"


def shared_data_dir() -> Path:
    """The shared data folder: $PROTRNN_SHARED_DATA, else <repo>/../shared/data."""
    env = os.environ.get("PROTRNN_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static file handler that does not log every request to stderr."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared data folder; skips the test when it is missing."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} not found (set PROTRNN_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def mirror_server(shared_data: Path) -> Iterator[str]:
    """Serve the shared data folder on 127.0.0.1 (free port); yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(shared_data))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="mirror-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, mirror_server: str) -> Path:
    """Working directory of one finished tiny workflow run (tests/data/tiny_config.yaml).

    Shared by the whole session: tests that only read it (or add a report archive) come first;
    tests/test_workflow.py extends it with more datasets in its last tests, and pytest runs the
    test files in alphabetical order.
    """
    workdir = tmp_path_factory.mktemp("workflow")
    result = run_tiny_workflow(workdir, mirror_server, "--cores", "2")
    if result.returncode != 0:
        logs = "\n".join(
            f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted(workdir.glob("logs/**/*.log"))
        )
        pytest.fail(f"snakemake failed:\n{result.stderr[-6000:]}\n{logs}")
    return workdir


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One torch thread: fast and reproducible on a shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

"""Bad inputs and faults of the download and dataset stages (issue 12's catalogue).

Each case asserts the exit status (or exception), that the one-line message names the file, key
and record, and that no output (nor a temporary file) is left. Dataset cases run the real rule
script ``scripts/parse_dataset.py`` (one subprocess for all, with a stand-in ``snakemake``
object); download cases call :func:`protrnn.data.download.fetch`. The last tests run the
download + parse_dataset rules of the tiny workflow on a local TSV file: editing that file, or a
cached download in place, must not be ignored.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from protrnn.data.download import DownloadError, fetch
from protrnn.data.formats.pdb_chains import find_mkdssp
from protrnn.data.table import read_table
from tests.structure_builder import alpha_helix, mmcif
from tests.tiny_workflow import ROOT, run_tiny_workflow

DATA = Path(__file__).parent / "data"
NETSURFP = (DATA / "netsurfp_small.csv").read_text()
HTML_PAGE = "<!DOCTYPE html>\n<html><body><h1>503 Service Unavailable</h1></body></html>\n"

#: Runs the rule script once per case in one process, as Snakemake would (stderr -> the log).
DRIVER = """
import json, runpy, sys, traceback
from types import SimpleNamespace


class Named(dict):
    __getattr__ = dict.__getitem__


codes = {}
for case in json.loads(open(sys.argv[1]).read()):
    stderr = sys.stderr
    smk = SimpleNamespace(
        input=Named(case["input"]), output=Named(case["output"]), log=[case["log"]],
        params=Named(case["params"]), wildcards=Named(dataset=case["name"]),
        config={"files": case["declared"]}, scriptdir=case["scriptdir"],
    )
    try:
        runpy.run_path(case["script"], init_globals={"snakemake": smk}, run_name="__main__")
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
        if not isinstance(exit.code, int):
            print(exit.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stderr.flush()
        sys.stderr = stderr
    codes[case["id"]] = code
print(json.dumps(codes))
"""


def _gz(text: str) -> bytes:
    return gzip.compress(text.encode())


def _zip(member: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, text)
    return buffer.getvalue()


def _pdb_entry() -> bytes:
    return mmcif("1HLX", [alpha_helix("MEELLKKAEELLKRAEELLKKG", "A")]).encode()


#: case id -> (format, {role: (file name, content)}, dataset entry extras, expected message part)
PARSE_CASES: dict[str, tuple[str, dict[str, tuple[str, bytes]], dict, str]] = {
    "tsv_missing_column": (
        "tsv",
        {"data": ("mine.tsv", b"id\tss8\na\tHHC\n")},
        {},
        "mine.tsv line 1: missing column(s) ['sequence']",
    ),
    "label_length": (
        "three_line",
        {"data": ("mine.3line", b">a x\nMKV\nCC\n")},
        {},
        "mine.3line line 3 (record 'a'): 2 labels for 3 residues",
    ),
    "unknown_label_letter": (
        "three_line",
        {"data": ("mine.3line", b">a\nMK\nCC\n>b\nMKV\nCQC\n")},
        {},
        "mine.3line line 6 (record 'b'): ss3: unknown ss3 letter 'Q' at position 2",
    ),
    "duplicate_id": (
        "tsv",
        {"data": ("mine.tsv", b"id\tsequence\tss3\na\tMK\tCC\na\tMV\tHH\n")},
        {},
        "mine.tsv line 3: duplicate id 'a' (first at line 2)",
    ),
    "empty_file": ("tsv", {"data": ("mine.tsv", b"")}, {}, "mine.tsv: empty file"),
    "no_records": ("three_line", {"data": ("mine.3line", b"\n\n")}, {}, "mine.3line: no records"),
    "unknown_option": (
        "tsv",
        {"data": ("mine.tsv", b"id\tsequence\tss3\na\tMK\tCC\n")},
        {"options": {"labels": "ss8"}},
        "tsv: unknown option(s) ['labels']",
    ),
    "ss3_not_reduction": (
        "netsurfp_csv",
        {"csv": ("ns.csv", NETSURFP.replace("C C H H H", "C C H H E", 1).encode())},
        {},
        "ns.csv line 2: ss3 'E' at residue 5 is not the reduction of ss8 'H'",
    ),
    "truncated_gzip": (
        "three_line",
        {"data": ("mine.3line.gz", _gz(">a\nMK\nCC\n" * 50)[:-9])},
        {},
        "mine.3line.gz: corrupt gzip file",
    ),
    "truncated_zip": (
        "netsurfp_csv",
        {"csv": ("sets.zip", _zip("train.csv", NETSURFP)[:-30])},
        {"member": "train.csv"},
        "sets.zip: not a readable zip archive",
    ),
    "not_utf8": (
        "tsv",
        {"data": ("mine.tsv", b"id\tsequence\n\xff\xfe\tMK\n")},
        {},
        "mine.tsv: not UTF-8 text",
    ),
    "wrong_partition": (
        "deeploc2_csv",
        {
            "partition1": (
                "fold1.csv",
                b"accession,sequence,label,partition,kingdom,membrane\n"
                b"Q1,MKV,Nucleus,0,Metazoa,0\nQ2,MKL,Nucleus,2,Metazoa,0\n",
            )
        },
        {"task": "per_protein"},
        "fold1.csv line 3 (accession Q2): partition 2, but the file is given as 'partition1'",
    ),
    "chain_not_in_structure": (
        "pdb_chains",
        {"cif_1HLX": ("1HLX.cif", _pdb_entry())},
        {"chains": ["1HLX_A", "1HLX_B"]},
        "pdb_chains: 1HLX_B (1HLX.cif): no polymer chain 'B' (chains: A)",
    ),
    "cached_download_edited": (
        "tsv",
        {"data": ("my_tsv", b"id\tsequence\tss3\na\tMK\tCE\n")},
        {"sha256": hashlib.sha256(b"id\tsequence\tss3\na\tMK\tCC\n").hexdigest()},
        "(files.my_key) has sha256 ",
    ),
}


def _case_spec(case: str, root: Path) -> dict:
    """Files on disk and the stand-in snakemake fields of one case."""
    fmt, files, extra, _ = PARSE_CASES[case]
    folder = root / case
    (folder / "resources").mkdir(parents=True)
    inputs, roles, declared = {}, {}, {}
    for role, (name, content) in files.items():
        path = folder / "resources" / name
        path.write_bytes(content)
        inputs[role] = str(path)
        if not role.startswith("cif_"):
            key = "my_key" if case == "cached_download_edited" else f"{case}_{role}"
            roles[role] = key
            declared[key] = {"mirror_path": name, "sha256": extra.get("sha256")}
    spec = {"format": fmt, "task": extra.get("task", "per_residue"), "files": roles}
    spec.update({k: v for k, v in extra.items() if k in ("options", "member", "chains")})
    return {
        "id": case,
        "name": case,
        "input": inputs,
        "output": {
            "table": str(folder / "out" / f"{case}.tsv.gz"),
            "stats": str(folder / "out" / f"{case}.json"),
        },
        "log": str(folder / "parse.log"),
        "params": {"spec": spec, "max_proteins": None, "max_train_proteins": None, "seed": 0},
        "declared": declared,
        "scriptdir": str(ROOT / "scripts"),
        "script": str(ROOT / "scripts" / "parse_dataset.py"),
    }


@pytest.fixture(scope="module")
def parse_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """Run every case of :data:`PARSE_CASES` through the rule script; (folder, exit codes)."""
    root = tmp_path_factory.mktemp("parse_cases")
    cases = [_case_spec(case, root) for case in PARSE_CASES]
    (root / "cases.json").write_text(json.dumps(cases))
    (root / "driver.py").write_text(DRIVER)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run(
        [sys.executable, str(root / "driver.py"), str(root / "cases.json")],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=300,
        check=True,
    )
    return root, json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", list(PARSE_CASES))
def test_bad_dataset_input(case: str, parse_runs: tuple[Path, dict[str, int]]) -> None:
    if case == "chain_not_in_structure":
        try:
            find_mkdssp()
        except FileNotFoundError as err:
            pytest.skip(f"mkdssp not installed: {err}")
    root, codes = parse_runs
    folder = root / case
    log = (folder / "parse.log").read_text()
    lines = [line for line in log.splitlines() if line.strip()]
    assert codes[case] == 1, log
    assert "Traceback" not in log, log
    assert lines[-1].startswith(f"protrnn: dataset {case}: "), log
    assert PARSE_CASES[case][3] in lines[-1], log
    out = folder / "out"
    assert not out.exists() or list(out.iterdir()) == [], "no partial output"


def test_good_input_through_the_same_harness(tmp_path: Path) -> None:
    """The harness itself: a good file gives exit 0, the table and its stats."""
    PARSE_CASES["good"] = ("tsv", {"data": ("mine.tsv", b"id\tsequence\tss3\na\tMK\tCC\n")}, {}, "")
    try:
        spec = _case_spec("good", tmp_path)
    finally:
        del PARSE_CASES["good"]
    (tmp_path / "cases.json").write_text(json.dumps([spec]))
    (tmp_path / "driver.py").write_text(DRIVER)
    run = subprocess.run(
        [sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "cases.json")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=True,
    )
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"good": 0}
    assert sorted(p.name for p in (tmp_path / "good" / "out").iterdir()) == [
        "good.json",
        "good.tsv.gz",
    ]


# --- downloads -------------------------------------------------------------------------------


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture()
def bad_mirror(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A mirror folder with an HTML error page, a truncated gzip copy and a good file; served
    over loopback HTTP too. Yields (folder, base URL)."""
    root = tmp_path / "mirror"
    root.mkdir()
    (root / "page.csv").write_text(HTML_PAGE)
    (root / "good.csv").write_text(NETSURFP)
    (root / "cut.csv.gz").write_bytes(_gz(NETSURFP * 20)[:-12])
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_wrong_checksum(bad_mirror: tuple[Path, str], tmp_path: Path) -> None:
    folder, _ = bad_mirror
    dest = tmp_path / "downloads" / "ns_train"
    with pytest.raises(DownloadError) as err:
        fetch("ns_train", None, "ab" * 32, "good.csv", dest, str(folder))
    message = str(err.value)
    assert "checksum mismatch for ns_train" in message and "ab" * 32 in message
    assert "the file was not kept" in message
    assert _only(dest.parent) == []


def test_truncated_gzip_copy(bad_mirror: tuple[Path, str], tmp_path: Path) -> None:
    folder, _ = bad_mirror
    dest = tmp_path / "downloads" / "ns_train"
    declared = hashlib.sha256((NETSURFP * 20).encode()).hexdigest()
    with pytest.raises(DownloadError, match=r"ns_train: corrupt gzip file .*was not kept"):
        fetch("ns_train", None, declared, "cut.csv.gz", dest, str(folder))
    assert _only(dest.parent) == []


@pytest.mark.parametrize("sha256", [None, "cd" * 32])
def test_html_error_page_instead_of_data(
    bad_mirror: tuple[Path, str], tmp_path: Path, sha256: str | None
) -> None:
    _, url = bad_mirror
    dest = tmp_path / "downloads" / "ns_train"
    with pytest.raises(DownloadError) as err:
        fetch("ns_train", f"{url}/page.csv", sha256, None, dest, None, timeout=5, retries=1)
    message = str(err.value)
    assert message.startswith(f"ns_train: {url}/page.csv sent an HTML page"), message
    assert _only(dest.parent) == []


# --- the rules: local inputs edited, cached downloads edited ----------------------------------

TSV_V1 = "id\tsequence\tss8\nmy_a\tMKVLA\tCHHHC\nmy_b\tGEE\tCEC\n"
TSV_V2 = "id\tsequence\tss8\nmy_a\tMKVLA\tCEEEC\nmy_b\tGEE\tCEC\n"
TSV_V3 = "id\tsequence\tss8\nmy_a\tMKVLA\tCGGGC\nmy_b\tGEE\tCHC\n"


def _ss8(workdir: Path, dataset: str) -> list[str]:
    return read_table(workdir / "results" / "datasets" / f"{dataset}.tsv.gz")["ss8"].tolist()


def test_edited_local_input_and_cached_download_are_not_ignored(
    shared_data: Path, tmp_path: Path
) -> None:
    """Only download + parse_dataset of two tiny local TSV datasets (one with a sha256)."""
    work, mine, pinned = tmp_path / "work", tmp_path / "mine.tsv", tmp_path / "pinned.tsv"
    mine.write_text(TSV_V1)
    pinned.write_text(TSV_V1)
    digest = hashlib.sha256(TSV_V1.encode()).hexdigest()
    extra = tmp_path / "user.yaml"
    extra.write_text(
        "files:\n"
        f"  my_tsv: {{path: {mine}}}\n"
        f"  my_pinned: {{path: {pinned}, sha256: {digest}}}\n"
        "datasets:\n"
        "  my_tsv: {format: tsv, task: per_residue, files: {data: my_tsv}, split: test}\n"
        "  my_pinned: {format: tsv, task: per_residue, files: {data: my_pinned}, split: test}\n"
    )
    tables = ["results/datasets/my_tsv.tsv.gz", "results/datasets/my_pinned.tsv.gz"]

    def run(*targets: str) -> subprocess.CompletedProcess:
        return run_tiny_workflow(
            work, str(shared_data), "--cores", "1", *targets, configfiles=(extra,)
        )

    first = run(*tables)
    assert first.returncode == 0, first.stderr[-3000:]
    assert _ss8(work, "my_tsv") == ["CHHHC", "CEC"]
    # the user fixes a label in their own file: the copy and the table follow
    mine.write_text(TSV_V2)
    second = run(tables[0])
    assert second.returncode == 0, second.stderr[-3000:]
    assert _ss8(work, "my_tsv") == ["CEEEC", "CEC"]
    # replaced by a file older than the copy (cp -p, an unpacked archive): noticed as well
    mine.write_text(TSV_V3)
    old = time.time() - 86400
    os.utime(mine, (old, old))
    third = run(tables[0])
    assert third.returncode == 0, third.stderr[-3000:]
    assert _ss8(work, "my_tsv") == ["CGGGC", "CHC"]
    # a cached download edited in place is checked against its sha256 before it is parsed
    cached = work / "resources" / "downloads" / "my_pinned"
    cached.write_text(TSV_V2)
    fourth = run(tables[1])
    assert fourth.returncode != 0
    log = (work / "logs" / "datasets" / "my_pinned.log").read_text().strip().splitlines()
    assert log[-1].startswith(f"protrnn: dataset my_pinned: {cached.relative_to(work)} ")
    assert f"(files.my_pinned) has sha256 {hashlib.sha256(TSV_V2.encode()).hexdigest()}" in log[-1]
    assert "delete it and rerun" in log[-1]
    assert [p.name for p in (work / "results" / "datasets").glob(".*")] == []
    # the pinned local file itself edited: copied again, and its sha256 refuses it
    pinned.write_text(TSV_V3)
    fifth = run(tables[1])
    assert fifth.returncode != 0
    log = (work / "logs" / "download" / "my_pinned.log").read_text().strip().splitlines()
    assert log[-1].startswith("protrnn: checksum mismatch for my_pinned (from file://"), log
    assert digest in log[-1] and "the file was not kept" in log[-1]
    assert [p.name for p in (work / "resources" / "downloads").glob(".*")] == []

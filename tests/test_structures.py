"""protrnn.data.formats.pdb_chains: chain ids, download specs, DSSP parsing and ideal structures
run through
a loopback HTTP mirror, protrnn.data.download.fetch and the real mkdssp."""

from __future__ import annotations

import functools
import http.server
import math
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from protrnn.data.download import fetch, sha256_file
from protrnn.data.formats import pdb_ids
from protrnn.data.formats.pdb_chains import (
    cif_chain_ids,
    cif_files_by_pdb,
    find_mkdssp,
    load_structure_dataset,
    mkdssp_version,
    parse_dssp,
    run_dssp,
)
from protrnn.data.formats.pdb_ids import parse_chain_id, structure_downloads
from protrnn.data.registry import load_dataset
from protrnn.data.table import COLUMNS
from tests.structure_builder import THREE, alpha_helix, beta_pair, build_chain, mmcif, moved

# --- chain ids and downloads -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1ABC_A", ("1ABC", "A")),
        ("1abc:A", ("1ABC", "A")),
        (" 7xyz.b ", ("7XYZ", "b")),  # chain ids keep their case
        ("2abc-AA1", ("2ABC", "AA1")),
    ],
)
def test_parse_chain_id(text: str, expected: tuple[str, str]) -> None:
    assert parse_chain_id(text) == expected


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("1ABCA", "expected a 4-character PDB id, a separator"),
        ("1ABC_", "expected a 4-character PDB id"),
        ("1AB_C", "expected a 4-character PDB id"),
        ("ABCD_A", "'ABCD' is not a PDB id"),
        ("1A*C_A", "'1A\\*C' is not a PDB id"),
        ("1ABC_A-B", "chain 'A-B' must be 1-4 letters or digits"),
        ("1ABC_ABCDE", "chain 'ABCDE' must be"),
        (1234, "is not a string"),
    ],
)
def test_parse_chain_id_errors(text: str, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        parse_chain_id(text)


def test_structure_downloads() -> None:
    specs = structure_downloads(["1abc_A", "1ABC:B", "2xyz_C"])
    assert specs == {
        "1ABC": {
            "url": "https://files.rcsb.org/download/1ABC.cif",
            "mirror_path": "pdb/1ABC.cif",
            "sha256": None,
        },
        "2XYZ": {
            "url": "https://files.rcsb.org/download/2XYZ.cif",
            "mirror_path": "pdb/2XYZ.cif",
            "sha256": None,
        },
    }
    divided = structure_downloads(
        ["1abc_A"], "https://example.org/{pdb_lower}.cif.gz", "mmCIF/{mid}/{pdb_lower}.cif.gz"
    )
    assert structure_downloads(["1abc_A"], "x/{PDB}", "{pdb}")["1ABC"]["url"] == "x/1ABC"
    assert divided["1ABC"]["url"] == "https://example.org/1abc.cif.gz"
    assert divided["1ABC"]["mirror_path"] == "mmCIF/ab/1abc.cif.gz"
    with pytest.raises(ValueError, match="must contain"):
        structure_downloads(["1abc_A"], "https://example.org/x.cif")
    with pytest.raises(ValueError, match="placeholders are"):
        structure_downloads(["1abc_A"], "https://example.org/{pdb}/{id}.cif")
    with pytest.raises(ValueError, match="non-empty list"):
        structure_downloads([])
    with pytest.raises(ValueError, match="'1abc': expected a 4-character PDB id"):
        structure_downloads(["1abc"])


def test_cif_files_by_pdb(tmp_path: Path) -> None:
    assert cif_files_by_pdb({"1abc": "a.cif", "cif_2XYZ": tmp_path}) == {
        "1ABC": Path("a.cif"),
        "2XYZ": tmp_path,
    }
    with pytest.raises(ValueError, match="files key 'data' is not a PDB id"):
        cif_files_by_pdb({"data": "a.cif"})
    with pytest.raises(ValueError, match="two files for PDB entry 1ABC"):
        cif_files_by_pdb({"1abc": "a.cif", "cif_1ABC": "b.cif"})


# --- parse_dssp on hand-written output -------------------------------------------------------

HEADER = (
    "  #  RESIDUE AA STRUCTURE BP1 BP2  ACC     N-H-->O    O-->H-N    N-H-->O    O-->H-N    TCO"
    "  KAPPA ALPHA  PHI   PSI    X-CA   Y-CA   Z-CA"
)
TAIL = (
    "      0, 0.0     0, 0.0     0, 0.0     0, 0.0   0.000 360.0 360.0 360.0 360.0"
    "    0.0    0.0    0.0"
)


def _res(nr: int, chain: str, aa: str, ss: str, acc: int, extra: str = "") -> str:
    """One residue line of classic DSSP output (136 columns, + DSSP 2.x chain columns)."""
    line = f"{nr:5d}{nr:5d} {chain} {aa}  {ss}{' ' * 17}{acc:4d}{TAIL}"
    assert len(line) == 136 and line[34:38] == f"{acc:4d}"
    return line + extra


def _brk(nr: int, new_chain: bool) -> str:
    return f"{nr:5d}        !{'*' if new_chain else ' '}{' ' * 13}0   0    0{TAIL}"


def _dssp(lines: list[str], header: str = HEADER) -> str:
    return "\n".join(["==== Secondary Structure Definition by the program DSSP", header, *lines])


SAMPLE = _dssp(
    [
        _res(1, "A", "M", " ", 224),
        _res(2, "A", "a", "H", 50),  # cysteine in SS bridge 'a'
        _res(3, "A", "X", "H", 80),  # non-standard residue
        _brk(4, False),  # gap inside chain A
        _res(5, "A", "G", "P", 300),  # PPII -> coil; ACC above the maximum -> 1
        _res(6, "A", "E", "E", 0),
        _brk(7, True),
        _res(8, "B", "W", "G", 285),
        _res(9, "B", "V", "T", 87),
    ]
)


def test_parse_dssp() -> None:
    a = parse_dssp(SAMPLE, "A")
    assert a == {
        "sequence": "MCXGE",
        "ss8": "CHHCE",
        "ss3": "CHHCE",
        "eval_mask": "11111",
        "rsa": f"1.000,{50 / 167:.3f},nan,1.000,0.000",
    }
    b = parse_dssp(SAMPLE, "B")
    assert (b["sequence"], b["ss8"], b["ss3"], b["rsa"]) == ("WV", "GT", "HC", "1.000,0.500")


def test_parse_dssp_errors() -> None:
    with pytest.raises(ValueError, match=r"chain 'C' is not in the DSSP output \(chains: A, B\)"):
        parse_dssp(SAMPLE, "C")
    with pytest.raises(ValueError, match="chain 'a' is not in"):
        parse_dssp(SAMPLE, "a")  # chain ids are case-sensitive
    with pytest.raises(ValueError, match="holds only 1-character chain ids"):
        parse_dssp(SAMPLE, "AB")
    with pytest.raises(ValueError, match="not classic DSSP output"):
        parse_dssp("HEADER\n", "A")
    bad_ss = _dssp([_res(1, "A", "M", "Q", 10)])
    with pytest.raises(ValueError, match="chain 'A', DSSP residue line 1: unknown secondary"):
        parse_dssp(bad_ss, "A")
    truncated = _dssp([_res(1, "A", "M", "H", 10)[:30]])
    with pytest.raises(ValueError, match="DSSP residue line 1 is truncated"):
        parse_dssp(truncated, "A")
    twice = _dssp([_res(1, "A", "M", "H", 10), _brk(2, True), _res(3, "A", "K", "H", 10)])
    with pytest.raises(ValueError, match="appears as 2 separate chains"):
        parse_dssp(twice, "A")


def test_parse_dssp_authchain_columns() -> None:
    """DSSP 2.x writes the full chain ids (CHAIN, AUTHCHAIN) after Z-CA."""
    text = _dssp(
        [
            _res(1, ">", "M", "H", 10, f"{' ' * 13}{'AA':>4}{' ' * 6}{'LONG':>4}"),
            _res(2, ">", "K", "E", 20, f"{' ' * 13}{'AA':>4}{' ' * 6}{'LONG':>4}"),
            _brk(3, True),
            _res(4, "B", "W", " ", 30, f"{' ' * 13}{'B':>4}{' ' * 6}{'B':>4}"),
        ],
        HEADER + "            CHAIN AUTHCHAIN",
    )
    assert parse_dssp(text, "LONG")["sequence"] == "MK"
    assert parse_dssp(text, "B")["ss8"] == "C"


def test_cif_chain_ids(tmp_path: Path) -> None:
    helix = alpha_helix("AAAA", "A")
    path = tmp_path / "x.cif"
    path.write_text(mmcif("1XYZ", [helix, moved(helix, (20, 0, 0), "BB")]))
    assert cif_chain_ids(path) == ["A", "BB"]
    path.write_text(mmcif("1XYZ", [helix], polymer_categories=False))
    assert cif_chain_ids(path) is None


# --- finding and running DSSP (fake binaries) ------------------------------------------------


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def clear_version_cache() -> Iterator[None]:
    mkdssp_version.cache_clear()
    yield
    mkdssp_version.cache_clear()


def test_find_mkdssp_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _script(tmp_path / "bin" / "mydssp", "echo mkdssp version 4.4.0")
    monkeypatch.setenv("PROTRNN_MKDSSP", str(fake))
    assert find_mkdssp() == str(fake)
    monkeypatch.setenv("PROTRNN_MKDSSP", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="PROTRNN_MKDSSP=.* is not an executable"):
        find_mkdssp()
    monkeypatch.delenv("PROTRNN_MKDSSP")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(FileNotFoundError, match="apt-get install dssp"):
        find_mkdssp()
    _script(tmp_path / "bin" / "dssp", "true")
    assert find_mkdssp() == str(tmp_path / "bin" / "dssp")


def test_fake_dssp_versions(tmp_path: Path, clear_version_cache: None) -> None:
    """Command lines for DSSP 2.x and 4.x, the dictionary next to the binary, failures."""
    old = _script(
        tmp_path / "old" / "bin" / "mkdssp",
        'case "$1" in --version) echo "mkdssp version 2.2.1";; *) echo "$@" > "$4";; esac',
    )
    new = _script(
        tmp_path / "new" / "bin" / "mkdssp",
        'case "$1" in --version) echo "mkdssp version 4.4.10";; '
        '*) for a; do last="$a"; done; echo "$@ $LIBCIFPP_DATA_DIR" > "$last";; esac',
    )
    dic = tmp_path / "new" / "share" / "libcifpp" / "mmcif_pdbx.dic"
    dic.parent.mkdir(parents=True)
    dic.write_text("")
    broken = _script(
        tmp_path / "broken" / "mkdssp",
        'case "$1" in --version) echo "mkdssp version 4.2.2";; '
        "*) echo 'The attempt to retrieve compound information for \"GLN\" failed.' >&2; "
        "exit 1;; esac",
    )
    assert mkdssp_version(str(old)) == "2.2.1" and mkdssp_version(str(new)) == "4.4.10"
    cif = tmp_path / "1ABC.cif"
    cif.write_text("data_1ABC\n")
    # the fakes write their arguments instead of DSSP output: no residue table
    with pytest.raises(RuntimeError, match=r"output has no residue table"):
        run_dssp(cif, str(old), tmp_path / "work")
    assert (tmp_path / "work" / "1ABC.cif.dssp").read_text().split()[:2] == ["-i", str(cif)]
    with pytest.raises(RuntimeError, match=r"output has no residue table"):
        run_dssp(cif, str(new), tmp_path / "work")
    args = (tmp_path / "work" / "1ABC.cif.dssp").read_text().split()
    assert args[:4] == ["--output-format", "dssp", "--mmcif-dictionary", str(dic)]
    with pytest.raises(RuntimeError, match=r"failed on 1ABC\.cif: exit 1: .*components\.cif"):
        run_dssp(cif, str(broken), tmp_path / "work")
    silent = _script(tmp_path / "silent" / "mkdssp", "echo DSSP")
    with pytest.raises(RuntimeError, match="printed no version number"):
        mkdssp_version(str(silent))


# --- the real mkdssp on ideal structures, fetched from a loopback mirror ---------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="module")
def mkdssp() -> str:
    """The DSSP binary; skips the DSSP tests when none is installed."""
    try:
        binary = find_mkdssp()
    except FileNotFoundError:
        pytest.skip(
            "mkdssp is not installed (apt-get install dssp, or conda install -c conda-forge "
            "dssp, or set PROTRNN_MKDSSP): cannot run the DSSP tests"
        )
    return binary


HELIX_SEQ = "MEELLKKAEELLKRAEELLKKG"
STRAND_SEQS = ("TVKVTVKVTVK", "KVEVKVEVKVE")


def _entries() -> dict[str, str]:
    """mmCIF text per PDB id: a helix (with one MSE), two antiparallel strands, a long id."""
    names = [THREE[c] for c in HELIX_SEQ]
    names[10] = "MSE"
    helix = build_chain(names, (-57.0, -47.0), "A")
    first, second = beta_pair(*STRAND_SEQS, ids=("A", "b"))
    far = alpha_helix("AEAAKA", "X")
    return {
        "1HLX": mmcif("1HLX", [helix]),
        "2BTA": mmcif("2BTA", [first, second]),
        "3NOP": mmcif("3NOP", [helix], polymer_categories=False),
        "4LNG": mmcif("4LNG", [helix, moved(far, (40, 0, 0), "AB")]),
    }


@pytest.fixture(scope="module")
def structure_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve a folder with ``pdb/{ID}.cif`` of the ideal structures; yield the base URL."""
    root = tmp_path_factory.mktemp("pdb_mirror")
    (root / "pdb").mkdir()
    for pdb, text in _entries().items():
        (root / "pdb" / f"{pdb}.cif").write_text(text)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _download(chains: list[str], base: str, dest: Path, *, via_mirror: bool) -> dict[str, Path]:
    """Fetch every entry of ``chains`` like the workflow's download jobs would."""
    if via_mirror:
        specs = structure_downloads(chains)  # RCSB URLs; the mirror serves pdb/{PDB}.cif
    else:
        specs = structure_downloads(chains, url_template=f"{base}/pdb/{{pdb}}.cif")
    files = {}
    for pdb, spec in specs.items():
        files[pdb] = dest / f"{pdb}.cif"
        fetch(
            pdb,
            spec["url"],
            spec["sha256"],
            spec["mirror_path"],
            files[pdb],
            base if via_mirror else None,
            timeout=10,
            retries=1,
        )
    return files


def test_dssp_on_ideal_structures(structure_server: str, mkdssp: str, tmp_path: Path) -> None:
    chains = ["1hlx_A", "2BTA:b", "2bta_A"]
    files = _download(chains, structure_server, tmp_path, via_mirror=True)
    assert sorted(files) == ["1HLX", "2BTA"]
    df = load_structure_dataset(chains, files, "train", mkdssp)
    assert list(df.columns) == COLUMNS
    assert df["id"].tolist() == ["1HLX_A", "2BTA_b", "2BTA_A"]
    assert set(df["split"]) == {"train"}
    helix, strand_b, strand_a = (df.iloc[i] for i in range(3))
    assert helix.sequence[:10] == HELIX_SEQ[:10] and helix.sequence[11:] == HELIX_SEQ[11:]
    assert helix.sequence[10] in "XM"  # MSE: X, or M when libcifpp knows its parent
    assert helix.ss8.count("H") >= 0.8 * len(HELIX_SEQ)
    assert set(helix.ss3) <= {"H", "C"}
    for row, seq in ((strand_a, STRAND_SEQS[0]), (strand_b, STRAND_SEQS[1])):
        assert row.sequence == seq
        assert row.ss8.count("E") >= 0.7 * len(seq)
        assert row.ss3.count("E") == row.ss8.count("E")
    for row in df.itertuples():
        assert row.eval_mask == "1" * len(row.sequence)
        values = [float(v) for v in row.rsa.split(",")]
        assert len(values) == len(row.sequence)
        known = [v for v in values if not math.isnan(v)]
        assert known and all(0.0 <= v <= 1.0 for v in known)
        assert all(len(v.split(".")[1]) == 3 for v in row.rsa.split(",") if v != "nan")
    stats = df.attrs["parse_stats"]
    assert stats["dssp_version"] == mkdssp_version(mkdssp) and stats["entries"] == 2
    assert stats["structure_sha256"]["1HLX"] == sha256_file(files["1HLX"])


def test_pdb_chains_through_load_dataset(
    structure_server: str, mkdssp: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROTRNN_MKDSSP", mkdssp)
    chains = ["1HLX_A"]
    files = _download(chains, structure_server, tmp_path, via_mirror=False)
    df = load_dataset(
        "pdb_chains",
        {f"cif_{k}": v for k, v in files.items()},
        {"chains": chains, "split": "valid", "prefix": "ignored"},
    )
    assert df["id"].tolist() == ["1HLX_A"] and df["split"].tolist() == ["valid"]
    with pytest.raises(ValueError, match="option 'chains' must be a non-empty list"):
        load_dataset("pdb_chains", files, {"chains": "1HLX_A"})
    with pytest.raises(ValueError, match=r"pdb_chains: unknown option\(s\) \['url'\]"):
        load_dataset("pdb_chains", files, {"chains": chains, "url": "x"})


def test_structure_errors(structure_server: str, mkdssp: str, tmp_path: Path) -> None:
    files = _download(["1HLX_A", "3NOP_A", "4LNG_A"], structure_server, tmp_path, via_mirror=True)
    with pytest.raises(ValueError, match=r"1HLX_B \(1HLX\.cif\): no polymer chain 'B' \(chains: A"):
        load_structure_dataset(["1HLX_B"], files, binary=mkdssp)
    with pytest.raises(ValueError, match=r"'1hlx:A' and '1HLX_A' are the same chain 1HLX_A"):
        load_structure_dataset(["1HLX_A", "1hlx:A"], files, binary=mkdssp)
    with pytest.raises(ValueError, match=r"no mmCIF file for 2BTA"):
        load_structure_dataset(["2BTA_A"], files, binary=mkdssp)
    with pytest.raises(ValueError, match=r"split must be one of"):
        load_structure_dataset(["1HLX_A"], files, "dev", mkdssp)
    # an mmCIF with only atom_site: mkdssp 4 reads no chain from it
    with pytest.raises(RuntimeError, match=r"no protein residues in 3NOP\.cif.*pdbx_poly_seq"):
        load_structure_dataset(["3NOP_A"], files, binary=mkdssp)
    # multi-character chain ids do not fit the classic DSSP format (DSSP >= 4.3 refuses them)
    for chain in ("4LNG_AB", "4LNG_A"):
        with pytest.raises((ValueError, RuntimeError), match="told apart|won't fit"):
            load_structure_dataset([chain], files, binary=mkdssp)


def test_run_dssp_output(mkdssp: str, tmp_path: Path) -> None:
    path = tmp_path / "1HLX.cif"
    path.write_text(_entries()["1HLX"])
    text = run_dssp(path, mkdssp, tmp_path / "work")
    assert "  #  RESIDUE AA STRUCTURE" in text
    assert parse_dssp(text, "A")["sequence"].startswith("MEELL")
    assert pdb_ids.DEFAULT_URL.format(pdb="1HLX") == "https://files.rcsb.org/download/1HLX.cif"

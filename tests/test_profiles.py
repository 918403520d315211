"""Profiles: BLOSUM62 fallback, MMseqs2 DB + iterative search without self-hits, shards."""

from __future__ import annotations

import errno
import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from protrnn.core.alphabet import AMINO_ACIDS, sequence_hash
from protrnn.core.diskspace import NoSpaceLeft
from protrnn.core.tools import find_mmseqs, mmseqs_version
from protrnn.profiles.backends import mmseqs2
from protrnn.profiles.backends.mmseqs2 import (
    MMSEQS_ORDER,
    MMSEQS_TO_BLAST,
    build_mmseqs_db,
    search_mmseqs_db,
)
from protrnn.profiles.blosum import BLOSUM62, blosum_profile
from protrnn.profiles.service import profiles_for, search_setting
from protrnn.profiles.store import read_provenance, read_shard, write_shard
from tests.extras_checks import check_chimera, check_family
from tests.synthetic import mutate, random_seq

# --- BLOSUM62 -----------------------------------------------------------------------------


def _b(a: str, b: str) -> int:
    return int(BLOSUM62[AMINO_ACIDS.index(a), AMINO_ACIDS.index(b)])


def test_blosum62_hand_checked_entries() -> None:
    assert (_b("A", "A"), _b("W", "W"), _b("C", "C"), _b("P", "P")) == (4, 11, 9, 7)
    assert (_b("A", "R"), _b("W", "D"), _b("I", "V"), _b("E", "Q")) == (-1, -4, 3, 2)
    assert np.array_equal(BLOSUM62[:20], BLOSUM62[:20].T)
    assert BLOSUM62.shape == (21, 20)
    assert set(BLOSUM62[20].tolist()) == {-1}  # X row


def test_blosum_profile_rows_and_letters() -> None:
    prof = blosum_profile("AWu*x")
    assert prof.dtype == np.float32 and prof.shape == (5, 20)
    assert prof[0, 0] == 4 and prof[1, AMINO_ACIDS.index("W")] == 11  # BLAST column order
    assert np.array_equal(prof[2], BLOSUM62[AMINO_ACIDS.index("C")])  # U -> C, lower case
    assert np.all(prof[3:] == -1)  # unknown letters -> X row
    assert blosum_profile("").shape == (0, 20)


def test_mmseqs_column_permutation() -> None:
    mm = np.arange(20)[None, :]  # value = column index in MMseqs2 order
    blast = mm[:, MMSEQS_TO_BLAST]
    assert [MMSEQS_ORDER[i] for i in blast[0]] == list(AMINO_ACIDS)


# --- store ----------------------------------------------------------------------------------


def test_store_round_trip(tmp_path: Path) -> None:
    profiles = {sequence_hash("ACD"): blosum_profile("ACD"), sequence_hash("W"): np.ones((1, 20))}
    shard = tmp_path / "shard0.npz"
    write_shard(shard, profiles, {"tool": "test", "params": {"a": 1}})
    back = read_shard(shard)
    assert back.keys() == profiles.keys()
    for key, value in profiles.items():
        assert np.array_equal(back[key], value)
    prov = read_provenance(shard)
    assert prov["tool"] == "test" and prov["n_proteins"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shard0.json", "shard0.npz"]


def test_store_rejects_bad_shapes_and_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad"):
        write_shard(tmp_path / "s.npz", {"bad": np.zeros((3, 21))}, {})
    assert not (tmp_path / "s.npz").exists()
    (tmp_path / "broken.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="broken.npz"):
        read_shard(tmp_path / "broken.npz")
    with pytest.raises(FileNotFoundError, match="missing.json"):
        read_provenance(tmp_path / "missing.npz")


# --- MMseqs2 --------------------------------------------------------------------------------


def _mmseqs() -> str:
    try:
        return find_mmseqs()
    except FileNotFoundError as err:
        pytest.skip(f"MMseqs2 not available: {err}")


CONSERVED = 40  # every homologue has W here; the query has A


@pytest.fixture(scope="module")
def family() -> dict:
    """A query, 12 homologues (~70% identity, W at CONSERVED), 30 decoys and one orphan."""
    rng = np.random.default_rng(7)
    base = random_seq(rng, 160)
    homologs = []
    for _ in range(12):
        h = mutate(rng, base, 0.3)
        homologs.append(h[:CONSERVED] + "W" + h[CONSERVED + 1 :])
    query = base[:CONSERVED] + "A" + base[CONSERVED + 1 :]
    decoys = [random_seq(rng, 150) for _ in range(30)]
    return {"query": query, "homologs": homologs, "decoys": decoys, "orphan": random_seq(rng, 120)}


def _write_fasta_gz(path: Path, seqs: list[str]) -> Path:
    with gzip.open(path, "wt") as fh:
        for i, s in enumerate(seqs):
            fh.write(f">{path.stem}.{i} test\n{s}\n")
    return path


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory, family: dict) -> dict:
    """DB 'without' (homologues, decoys, orphan) and DB 'with' (the same plus the query)."""
    mmseqs = _mmseqs()
    root = tmp_path_factory.mktemp("profiles_db")
    others = family["homologs"] + family["decoys"] + [family["orphan"]]
    part1 = _write_fasta_gz(root / "part1.fasta.gz", others[:20])
    part2 = _write_fasta_gz(root / "part2.fasta.gz", others[20:])
    with_query = _write_fasta_gz(root / "query.fasta.gz", [family["query"]])
    without = build_mmseqs_db([part1, part2], root / "without" / "db", 2, mmseqs)
    with_ = build_mmseqs_db([part1, with_query, part2], root / "with" / "db", 2, mmseqs)
    return {"root": root, "mmseqs": mmseqs, "info_without": without, "info_with": with_}


def _search(databases: dict, which: str, seqs: list[str], params: dict | None = None) -> tuple:
    queries = {sequence_hash(s): s for s in seqs}
    prefix = databases["root"] / which / "db"
    work = databases["root"] / f"work_{which}"
    return search_mmseqs_db(queries, prefix, params or {}, 2, work, databases["mmseqs"])


def test_build_database_description(databases: dict, family: dict) -> None:
    info = databases["info_without"]
    n = len(family["homologs"]) + len(family["decoys"]) + 1
    assert info["n_sequences"] == n and databases["info_with"]["n_sequences"] == n + 1
    assert info["n_residues"] == sum(len(s) for s in family["homologs"] + family["decoys"]) + 120
    assert len(info["checksum"]) == 64 and info["checksum"] != databases["info_with"]["checksum"]
    prefix = databases["root"] / "without" / "db"
    assert json.loads(Path(f"{prefix}.json").read_text()) == info
    hashes = Path(f"{prefix}.hashes.tsv").read_text().split()
    assert sequence_hash(family["orphan"]) in hashes
    assert info["version"] == mmseqs_version(databases["mmseqs"])


def test_self_hit_never_contributes(databases: dict, family: dict) -> None:
    query, orphan = family["query"], family["orphan"]
    prof_without, stats = _search(databases, "without", [query, orphan])
    prof_with, stats_with = _search(databases, "with", [query, orphan])
    q, o = sequence_hash(query), sequence_hash(orphan)
    # the orphan is in the DB but has no homologues: exactly the BLOSUM62 fallback
    assert np.array_equal(prof_without[o], blosum_profile(orphan))
    assert np.array_equal(prof_with[o], blosum_profile(orphan))
    # the query has homologues: a real profile, identical whether or not the DB holds the query
    assert not np.array_equal(prof_without[q], blosum_profile(query))
    assert np.array_equal(prof_without[q], prof_with[q])
    assert stats["n_no_hits"] == 1 and stats_with["n_no_hits"] == 1
    assert stats_with["n_self_in_db"] == 2 and stats["n_self_in_db"] == 1
    assert len(stats["hits_per_iteration"]) == 3 and stats["mean_hits_per_query"] > 0
    # column order: the homologues' conserved W wins over the query's own A
    assert int(np.argmax(prof_without[q][CONSERVED])) == AMINO_ACIDS.index("W")
    assert prof_without[q].dtype == np.float32


def test_extra_columns(databases: dict, family: dict) -> None:
    """result2profile probabilities, information, depth and gap fraction: ranges, no-hit values,
    the conserved W, independent of the query's own copy, depth only where homologues align."""
    query, orphan = family["query"], family["orphan"]
    chimera = query[:80] + random_seq(np.random.default_rng(5), 80)
    with_db, _ = _search(databases, "with", [query, orphan, chimera])
    without_db, _ = _search(databases, "without", [query, orphan, chimera])
    names = {sequence_hash(query): "q", sequence_hash(orphan): "o", sequence_hash(chimera): "c"}
    for found in (with_db, without_db):
        found.extras = {names[k]: v for k, v in found.extras.items()}
    check_family(with_db, without_db, query, orphan, 12, CONSERVED)
    check_chimera(without_db.extras["c"], slice(0, 80), slice(80, 160))


def test_cigar_coverage_and_frequency_parsing(tmp_path: Path) -> None:
    """M aligns residues, I puts a query residue against a target gap, D covers no query
    position; the text profile maps MMseqs2's columns to BLAST order."""
    entry = (
        b"7\t50\t0.9\t1e-9\t1\t6\t8\t0\t5\t9\t2M2D1M2I1M\n3\t9\t0.5\t1e-3\t0\t1\t8\t0\t1\t9\t2M\n"
    )
    depth, gaps = mmseqs2.alignment_coverage(entry, 8)
    assert depth.tolist() == [1, 2, 1, 1, 0, 0, 1, 0]
    assert gaps.tolist() == [0, 0, 0, 0, 1, 1, 0, 0]
    rows = np.tile(np.arange(1, 21, dtype=np.float64) / 210, (2, 1))  # MMseqs2 order
    text = "Query profile of sequence 4\n" + "".join(f"{a:>7}" for a in MMSEQS_ORDER) + "\n"
    text += "".join(" ".join(f"{v:.4f}" for v in row) + " \n" for row in rows)
    (tmp_path / "freqs").write_text(text + "\0")
    parsed = mmseqs2.parse_frequencies(tmp_path / "freqs", {4: 2})
    assert np.allclose(parsed[4], rows[:, MMSEQS_TO_BLAST], atol=1e-4)
    with pytest.raises(RuntimeError, match="rows"):
        mmseqs2.parse_frequencies(tmp_path / "freqs", {4: 3})


def test_odd_letters_short_and_long_queries(databases: dict, family: dict) -> None:
    query = family["query"]
    odd = query[:10].lower() + "UOBZX*J" + query[17:100] + "xuoBZ" + query[105:]
    short, tiny = "MKV", "ACDEFGHI"
    long_seq = random_seq(np.random.default_rng(3), 5000)
    rng = np.random.default_rng(4)
    # over 10,000 residues, with the family's query inside: found and profiled whole
    giant = random_seq(rng, 6000) + query + random_seq(rng, 6000)
    seqs = [odd, short, tiny, long_seq, giant]
    profiles, stats = _search(databases, "with", seqs, {"num_iterations": 2})
    for s in seqs:
        assert profiles[sequence_hash(s)].shape == (len(s), 20)
    for s in (short, tiny, long_seq):
        assert np.array_equal(profiles[sequence_hash(s)], blosum_profile(s))
    assert not np.array_equal(profiles[sequence_hash(odd)], blosum_profile(odd))
    inside = slice(6000, 6000 + len(query))
    assert len(giant) > 12_000
    assert not np.array_equal(profiles[sequence_hash(giant)][inside], blosum_profile(query))
    assert stats["n_queries"] == 5 and stats["n_no_hits"] == 3
    assert len(stats["hits_per_iteration"]) == 2


def test_empty_query_between_others(databases: dict, family: dict) -> None:
    """An empty sequence among the queries gets an empty profile; the queries after it keep
    their own profiles (MMseqs2 numbers only the searched ones)."""
    query, orphan = family["query"], family["orphan"]
    queries = {"q": query, "empty": "", "o": orphan}
    prefix, work = databases["root"] / "without" / "db", databases["root"] / "work_empty"
    found, stats = search_mmseqs_db(queries, prefix, {}, 2, work, databases["mmseqs"])
    alone, _ = _search(databases, "without", [query, orphan])
    assert found["empty"].shape == (0, 20) and found.extras["empty"].shape[0] == 0
    assert np.array_equal(found["q"], alone[sequence_hash(query)])
    assert np.array_equal(found["o"], blosum_profile(orphan))
    assert stats["n_empty"] == 1 and stats["n_queries"] == 3


def test_search_rejects_unknown_params_and_missing_db(databases: dict, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bogus"):
        _search(databases, "with", ["ACDEFGHIKL"], {"bogus": 1})
    with pytest.raises(FileNotFoundError, match="nowhere"):
        search_mmseqs_db({"x": "ACD"}, tmp_path / "nowhere", {}, 1, tmp_path, databases["mmseqs"])


def test_find_mmseqs_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROTRNN_MMSEQS", str(tmp_path / "no_such_mmseqs"))
    with pytest.raises(FileNotFoundError, match="PROTRNN_MMSEQS"):
        find_mmseqs()


# --- the profile service ----------------------------------------------------------------------


def _service_queries(family: dict) -> dict[str, str]:
    seqs = [family["query"], family["homologs"][0][:90], family["orphan"]]
    return {sequence_hash(s): s for s in seqs}


def test_profiles_for_equals_the_backend_and_fills_the_cache(
    databases: dict, family: dict, tmp_path: Path
) -> None:
    """cache miss -> search -> store -> read gives the backend's arrays byte for byte; a second
    call searches nothing; the shard provenance records the setting."""
    queries = _service_queries(family)
    want, _ = _search(databases, "with", list(queries.values()))
    db_dir = databases["root"] / "with"
    first = profiles_for(queries, "mmseqs2", db_dir, {}, tmp_path / "cache", 2, chunk_size=2)
    assert first.n_from_cache == 0 and first.n_searched == 3 and len(first.runs) == 2
    for key in queries:
        assert first.profiles[key].dtype == np.float32
        assert first.profiles[key].tobytes() == want[key].tobytes()
        assert first.profiles.extras[key].tobytes() == want.extras[key].tobytes()
    again = profiles_for(queries, "mmseqs2", db_dir / "db", {}, tmp_path / "cache", 2)
    assert again.n_from_cache == 3 and again.runs == []
    assert all(again.profiles[k].tobytes() == want[k].tobytes() for k in queries)
    record = first.provenance()
    assert record["database"]["checksum"] == databases["info_with"]["checksum"]
    assert record["stats"]["n_searched"] == 3 and record["tool"] == "mmseqs2"
    assert record["cache"]["key"] == first.cache.key
    uncached = profiles_for(queries, "mmseqs2", db_dir, {}, None, 1)
    assert all(uncached.profiles[k].tobytes() == want[k].tobytes() for k in queries)
    assert all(uncached.profiles.extras[k].tobytes() == want.extras[k].tobytes() for k in queries)
    assert all(again.profiles.extras[k].tobytes() == want.extras[k].tobytes() for k in queries)


def test_cache_of_another_tool_version_is_not_used(
    databases: dict, family: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Profiles cached by another MMseqs2 build (e.g. a conda env's) are searched again, not
    reused; the same build finds them; the shard provenance names the version either way."""
    queries = _service_queries(family)
    db_dir, cache = databases["root"] / "with", tmp_path / "cache"
    first = profiles_for(queries, "mmseqs2", db_dir, {}, cache, 2)
    assert first.n_searched == 3
    version = mmseqs_version(find_mmseqs())
    assert first.provenance()["version"] == version
    again = profiles_for(queries, "mmseqs2", db_dir, {}, cache, 2)
    assert again.n_from_cache == 3 and again.provenance()["version"] == version
    monkeypatch.setattr(mmseqs2, "tool_version", lambda: "15-6f452")
    other = profiles_for(queries, "mmseqs2", db_dir, {}, cache, 2)
    assert other.n_from_cache == 0 and other.n_searched == 3
    assert other.cache.key != first.cache.key
    setting = json.loads((other.cache.folder / "setting.json").read_text())
    assert setting["tool_version"] == "15-6f452"


def test_cache_of_other_profile_code_is_not_used(
    databases: dict, family: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Profiles cached by another version of the backend's code are searched again."""
    from protrnn.profiles import service

    queries = _service_queries(family)
    db_dir, cache = databases["root"] / "with", tmp_path / "cache"
    first = profiles_for(queries, "mmseqs2", db_dir, {}, cache, 2)
    setting = json.loads((first.cache.folder / "setting.json").read_text())
    assert setting["code_version"] == service.module_digest(mmseqs2)
    monkeypatch.setattr(service, "module_digest", lambda module: "edited-code")
    other = profiles_for(queries, "mmseqs2", db_dir, {}, cache, 2)
    assert other.n_from_cache == 0 and other.n_searched == 3
    assert other.cache.key != first.cache.key


def test_installed_version_names_the_build_or_says_none_was_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rules' rerun trigger: the build's own version, and a stable word when there is none."""
    from protrnn.core.tools import MMSEQS_ENV, installed_version

    assert installed_version("mmseqs2") == mmseqs_version(find_mmseqs())
    other = tmp_path / "mmseqs"
    other.write_text("#!/bin/sh\necho 15-6f452\n")
    other.chmod(0o755)
    monkeypatch.setenv(MMSEQS_ENV, str(other))
    assert installed_version("mmseqs2") == "15-6f452"
    monkeypatch.setenv(MMSEQS_ENV, str(tmp_path / "absent"))
    assert installed_version("mmseqs2") == "not found (FileNotFoundError)"


def test_cache_entries_without_extra_columns_are_searched_again(
    databases: dict, family: dict, tmp_path: Path
) -> None:
    """An entry written before the extras existed (PSSM only) is never used without them: the
    protein is searched again, and PSSM and extras come back as the backend computes them."""
    queries = _service_queries(family)
    db_dir = databases["root"] / "with"
    first = profiles_for(queries, "mmseqs2", db_dir, {}, tmp_path / "cache", 2)
    for extras_file in (tmp_path / "cache").rglob("*.extras1.npy"):
        extras_file.unlink()
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 3  # the PSSMs are still there
    again = profiles_for(queries, "mmseqs2", db_dir, {}, tmp_path / "cache", 2)
    assert again.n_from_cache == 0 and again.n_searched == 3
    for key in queries:
        assert again.profiles[key].tobytes() == first.profiles[key].tobytes()
        assert again.profiles.extras[key].tobytes() == first.profiles.extras[key].tobytes()
    assert again.provenance()["extras"]["version"] == 1
    third = profiles_for(queries, "mmseqs2", db_dir, {}, tmp_path / "cache", 2)
    assert third.n_from_cache == 3


def test_profiles_for_checks_before_searching(databases: dict, tmp_path: Path) -> None:
    db_dir = databases["root"] / "with"
    with pytest.raises(ValueError, match="unknown profile backend 'blast'"):
        search_setting("blast", db_dir, {})
    with pytest.raises(ValueError, match="bogus"):
        search_setting("mmseqs2", db_dir, {"bogus": 1})
    with pytest.raises(FileNotFoundError, match="profile database .*nowhere"):
        search_setting("mmseqs2", tmp_path / "nowhere", {})
    with pytest.raises(FileNotFoundError, match="psiblast database .*db.pin is missing"):
        search_setting("psiblast", db_dir, {})  # an MMseqs2 folder is no BLAST database


def test_profiles_for_scratch_outside_outputs_and_removed_on_failure(
    databases: dict, family: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk during the search is one error naming the folder; the scratch folder (in
    $TMPDIR, not in any output folder) is gone afterwards and nothing is cached."""
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read $TMPDIR
    seen: list[Path] = []

    def full_disk(queries: dict, db_dir: Path, params: dict, threads: int, workdir: Path):
        seen.append(Path(workdir))
        (Path(workdir) / "partial").write_text("x")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mmseqs2, "search_profiles", full_disk)
    cache = tmp_path / "cache"
    with pytest.raises(NoSpaceLeft, match=f"no space left on {scratch}"):
        profiles_for(_service_queries(family), "mmseqs2", databases["root"] / "with", {}, cache, 1)
    assert seen and seen[0].parent == scratch
    assert list(scratch.iterdir()) == []
    assert list(cache.rglob("*.npy")) == []


def test_profile_database_env_follows_its_backend_wildcard(tmp_path: Path) -> None:
    """Rule profile_database builds any backend's database in that backend's conda env, whatever
    the configured backend (here mmseqs2)."""
    api = pytest.importorskip("snakemake.api")
    from snakemake.iocontainers import Wildcards  # snakemake.io before 9.17
    from snakemake.settings.types import DeploymentMethod, DeploymentSettings, ResourceSettings

    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "Snakefile").write_text(
        f"import sys\nsys.path.insert(0, {str(repo)!r})\nfrom protrnn import paths\n"
        'config.update({"profile_databases": {"seqdb": ["a"]}, '
        '"profiles": {"threads": 1, "cluster": None}})\n'
        'BACKEND = "mmseqs2"\nDATABASE_DIR = "resources/profile_db/seqdb/mmseqs2"\n'
        "def download_path(key):\n    return key\n"
        "def dataset_shards(dataset):\n    return 1\n"
        "def script_code(script):\n    return 'code'\n"
        "def tool_version(backend):\n    return 'version'\n"
        f"include: {str(repo / 'rules' / 'profiles.smk')!r}\n"
    )
    deployment = DeploymentSettings(deployment_method={DeploymentMethod.CONDA})
    with api.SnakemakeApi() as snakemake:
        workflow = snakemake.workflow(
            snakefile=tmp_path / "Snakefile",
            resource_settings=ResourceSettings(cores=1),
            deployment_settings=deployment,
            workdir=tmp_path,
        )
        rule = workflow._workflow.get_rule("profile_database")
        for backend in ("psiblast", "jackhmmer", "mmseqs2"):
            wildcards = Wildcards(fromdict={"database": "seqdb", "backend": backend})
            env = rule.expand_conda_env(wildcards).file.get_path_or_uri(secret_free=True)
            assert Path(env).resolve() == repo / "envs" / f"{backend}.yaml"

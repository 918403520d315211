"""Profiles: BLOSUM62 fallback, MMseqs2 DB + iterative search without self-hits, shards."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from protrnn.core.alphabet import AMINO_ACIDS, sequence_hash
from protrnn.profiles.backends.mmseqs2 import MMSEQS_ORDER, MMSEQS_TO_BLAST, search_profiles
from protrnn.profiles.blosum import BLOSUM62, blosum_profile
from protrnn.profiles.database import build_database, find_mmseqs, mmseqs_version
from protrnn.profiles.store import read_provenance, read_shard, write_shard
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
    without = build_database([part1, part2], root / "without" / "db", 2, mmseqs)
    with_ = build_database([part1, with_query, part2], root / "with" / "db", 2, mmseqs)
    return {"root": root, "mmseqs": mmseqs, "info_without": without, "info_with": with_}


def _search(databases: dict, which: str, seqs: list[str], params: dict | None = None) -> tuple:
    queries = {sequence_hash(s): s for s in seqs}
    prefix = databases["root"] / which / "db"
    work = databases["root"] / f"work_{which}"
    return search_profiles(queries, prefix, params or {}, 2, work, databases["mmseqs"])


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


def test_search_rejects_unknown_params_and_missing_db(databases: dict, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bogus"):
        _search(databases, "with", ["ACDEFGHIKL"], {"bogus": 1})
    with pytest.raises(FileNotFoundError, match="nowhere"):
        search_profiles({"x": "ACD"}, tmp_path / "nowhere", {}, 1, tmp_path, databases["mmseqs"])


def test_find_mmseqs_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROTRNN_MMSEQS", str(tmp_path / "no_such_mmseqs"))
    with pytest.raises(FileNotFoundError, match="PROTRNN_MMSEQS"):
        find_mmseqs()

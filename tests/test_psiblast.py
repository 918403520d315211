"""psiblast backend (NCBI BLAST+): database files, self-hit removal, PSSM parsing, odd inputs."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from protrnn.core.alphabet import AMINO_ACIDS, sequence_hash
from protrnn.profiles import extras as extra_columns
from protrnn.profiles.backends import psiblast
from protrnn.profiles.blosum import blosum_profile
from protrnn.profiles.database import file_sha256
from tests.extras_checks import check_chimera, check_family
from tests.synthetic import mutate, random_seq

W_ROW = [-3, -3, 1, 0, -3, -2, -2, 0, -2, -3, -1, -3, -2, 0, -4, -2, -2, 11, 1, -3]
W_PCT = [0, 0, 10, 9, 0, 0, 0, 8, 0, 0, 9, 0, 0, 0, 0, 0, 0, 65, 0, 0]
K_ROW = [-1, 1, -1, -1, 2, 2, 0, 0, -1, -3, -3, 5, -2, -4, -2, -1, -1, -3, -2, -3]
K_PCT = [0, 0, 0, 0, 8, 8, 0, 9, 0, 0, 0, 75, 0, 0, 0, 0, 0, 0, 0, 0]


def pssm_text(letters: str = AMINO_ACIDS, information: tuple[str, str] = ("0.51", "0.51")) -> str:
    """An ASCII PSSM as psiblast writes it (two rows, W and K), columns in ``letters`` order."""
    order = [AMINO_ACIDS.index(a) for a in letters]

    def cells(values: list[int]) -> str:
        return "".join(f"{values[i]:4d}" for i in order)

    head = " " * 9 + "".join(f"{a:>4}" for a in letters) * 2
    rows = [
        f"{pos:5d} {res}  {cells(sc)} {cells(pct)}  {info:>5} 0.08"
        for pos, res, sc, pct, info in (
            (1, "W", W_ROW, W_PCT, information[0]),
            (2, "K", K_ROW, K_PCT, information[1]),
        )
    ]
    title = "Last position-specific scoring matrix computed, weighted observed percentages ..."
    return "\n".join(["", title, head, *rows, "", " " * 22 + "K         Lambda", ""])


CONSERVED = 40  # every homologue has W here; the query has A
ODD_KEY = "odd key/with spaces;|'\"$(rm -rf x)*.fasta"


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
    chimera = query[:80] + random_seq(rng, 80)  # homologous N-terminal half only
    return {
        "query": query,
        "homologs": homologs,
        "decoys": decoys,
        "orphan": random_seq(rng, 120),
        "chimera": chimera,
    }


def _write_fasta_gz(path: Path, seqs: list[str]) -> Path:
    with gzip.open(path, "wt") as fh:
        for i, s in enumerate(seqs):
            fh.write(f">{path.stem}.{i} test\n{s[:70]}\n{s[70:]}\n")
    return path


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory, family: dict) -> dict:
    """DB 'without' (homologues, decoys, orphan) and DB 'with' (the same, query in the middle)."""
    if shutil.which("psiblast") is None or shutil.which("makeblastdb") is None:
        pytest.skip("NCBI BLAST+ (psiblast, makeblastdb) not on PATH; CI installs it with apt-get")
    root = tmp_path_factory.mktemp("psiblast db")  # a space in every path
    others = family["homologs"] + family["decoys"] + [family["orphan"]]
    part1 = _write_fasta_gz(root / "part1.fasta.gz", others[:20])
    part2 = _write_fasta_gz(root / "part2.fasta.gz", others[20:])
    with_query = _write_fasta_gz(root / "query.fasta.gz", [family["query"]])
    without = psiblast.build_database([part1, part2], root / "without", 1)
    with_ = psiblast.build_database([part1, with_query, part2], root / "with", 1)
    return {
        "root": root,
        "parts": [part1, part2],
        "info_without": without,
        "info_with": with_,
    }


def _search(databases: dict, which: str, queries: dict, params: dict | None = None) -> tuple:
    work = databases["root"] / f"work {which}"
    return psiblast.search_profiles(queries, databases["root"] / which, params or {}, 2, work)


def test_parse_ascii_pssm_maps_columns_by_letter() -> None:
    scores, observed, residues, information = psiblast.parse_ascii_pssm(pssm_text())
    assert residues == "WK" and scores.dtype == np.float32 and scores.shape == (2, 20)
    assert scores.tolist() == [W_ROW, K_ROW] and observed.tolist() == [W_PCT, K_PCT]
    assert information.tolist() == pytest.approx([0.51, 0.51])  # "information per position"
    # columns in another order are mapped by the letters of the header
    shuffled = "".join(np.random.default_rng(0).permutation(list(AMINO_ACIDS)))
    again, observed_again, _, _ = psiblast.parse_ascii_pssm(pssm_text(shuffled))
    assert np.array_equal(again, scores) and np.array_equal(observed_again, observed)
    with pytest.raises(ValueError, match="header"):
        psiblast.parse_ascii_pssm("no matrix here")
    # psiblast prints -0.01 at times where its profile is the background: read as 0 bits, so
    # the extra columns pass their range check (a whole shard failed on one such position)
    negative = psiblast.parse_ascii_pssm(pssm_text(information=("-0.01", "0.51")))
    assert negative.information.tolist() == pytest.approx([0.0, 0.51])
    extra_columns.check_extras("test", "negative", psiblast.pssm_extras(negative, []), 2)
    table = "# Iteration: 1\nx1\t1e-50\nx2\t0.5\n# Iteration: 2\nx1\t1e-60\nx3\t0.0\n"
    table += "\nSearch has CONVERGED!\n"
    assert psiblast.parse_hit_table(table, 1e-3) == [{"x1"}, {"x1", "x3"}]


def test_build_database_files(databases: dict, family: dict) -> None:
    info = databases["info_without"]
    n = len(family["homologs"]) + len(family["decoys"]) + 1
    assert info["tool"] == "psiblast" and info["version"][0].isdigit()
    assert info["n_sequences"] == n and databases["info_with"]["n_sequences"] == n + 1
    assert info["n_residues"] == sum(len(s) for s in family["homologs"] + family["decoys"]) + 120
    assert info["max_length"] == 160
    sums = [file_sha256(p) for p in databases["parts"]]
    assert info["checksum"] == hashlib.sha256("".join(sums).encode()).hexdigest()
    assert [s["sha256"] for s in info["sources"]] == sums
    folder = databases["root"] / "without"
    assert json.loads((folder / "db.json").read_text()) == info
    lines = (folder / "db.hashes.tsv").read_text().splitlines()
    assert lines[-1] == f"{n - 1}\t{sequence_hash(family['orphan'])}"
    names = sorted(p.name for p in folder.iterdir())
    assert "db.pin" in names and "db.psq" in names and not any(x.startswith(".") for x in names)
    assert not any(x.endswith(".fasta") for x in names)


def test_self_hit_never_contributes(databases: dict, family: dict) -> None:
    query, orphan = family["query"], family["orphan"]
    queries = {"q": query, "o": orphan}
    prof_without, stats = _search(databases, "without", queries)
    prof_with, stats_with = _search(databases, "with", queries)
    # the orphan is in the DB but has no homologues: exactly the BLOSUM62 fallback
    assert np.array_equal(prof_without["o"], blosum_profile(orphan))
    assert np.array_equal(prof_with["o"], blosum_profile(orphan))
    # the query has homologues: a real profile, identical whether or not the DB holds the query
    assert not np.array_equal(prof_without["q"], blosum_profile(query))
    assert np.array_equal(prof_without["q"], prof_with["q"])
    assert prof_without["q"].dtype == np.float32 and prof_without["q"].shape == (160, 20)
    assert stats["n_no_hits"] == 1 and stats_with["n_no_hits"] == 1
    assert stats_with["n_self_in_db"] == 2 and stats["n_self_in_db"] == 1
    assert stats["mean_hits_per_query"] == 6.0  # 12 homologues for q, none for o
    assert stats["hits_per_iteration"][0] == 12 and len(stats["hits_per_iteration"]) <= 3
    assert stats["version"] == databases["info_without"]["version"]
    for key in ("seconds", "params", "unit", "column_order", "tool", "version", "n_queries"):
        assert key in stats
    assert stats["column_order"] == AMINO_ACIDS and stats["params"]["num_iterations"] == 3
    # column order: the homologues' conserved W wins clearly over the query's own A
    row = prof_without["q"][CONSERVED]
    assert int(np.argmax(row)) == AMINO_ACIDS.index("W") and row[AMINO_ACIDS.index("W")] > 8


def own_residue_scores(profile: np.ndarray, sequence: str, shift: int) -> float:
    """Mean score of residue i + shift in row i (highest at shift 0: rows = query positions)."""
    own = np.array([AMINO_ACIDS.index(a) for a in sequence])
    rows = np.arange(max(0, -shift), len(sequence) - max(0, shift))
    return float(profile[rows, own[rows + shift]].mean())


def test_rows_follow_query_positions(databases: dict, family: dict) -> None:
    """Homologues cover the first half of the chimera only: rows are query positions (W at
    CONSERVED; each row favours its own residue, not its neighbour's)."""
    chimera = family["chimera"]
    prof, stats = _search(databases, "without", {"c": chimera})
    assert stats["n_no_hits"] == 0 and prof["c"].shape == (len(chimera), 20)
    assert int(np.argmax(prof["c"][CONSERVED])) == AMINO_ACIDS.index("W")
    for part in (slice(0, 80), slice(80, 160)):
        aligned = own_residue_scores(prof["c"][part], chimera[part], 0)
        for shift in (-1, 1):
            assert aligned > own_residue_scores(prof["c"][part], chimera[part], shift) + 2


def test_odd_letters_short_long_empty_and_keys(databases: dict, family: dict) -> None:
    query = family["query"]
    odd = query[:10].lower() + "UOBZX*J" + query[17:100] + "xuoBZ" + query[105:]
    long_seq = random_seq(np.random.default_rng(3), 10_500)
    queries = {ODD_KEY: odd, "short": "MKV", "tiny": "ACDEFGHI", "long": long_seq, "empty": ""}
    queries["all X"] = "XXBZJXXX"  # psiblast exits with an error on it: no homologue
    profiles, stats = _search(databases, "with", queries, {"num_iterations": 2})
    for key, seq in queries.items():
        assert profiles[key].shape == (len(seq), 20) and profiles[key].dtype == np.float32
    for key in ("short", "tiny", "long", "empty", "all X"):
        assert np.array_equal(profiles[key], blosum_profile(queries[key]))
    assert not np.array_equal(profiles[ODD_KEY], blosum_profile(odd))
    assert int(np.argmax(profiles[ODD_KEY][CONSERVED])) == AMINO_ACIDS.index("W")
    assert stats["n_queries"] == 6 and stats["n_no_hits"] == 5 and stats["n_empty"] == 1
    assert len(stats["hits_per_iteration"]) <= 2


def test_params_and_missing_database(databases: dict, tmp_path: Path) -> None:
    assert psiblast.check_params({}) == psiblast.DEFAULT_PARAMS
    assert psiblast.check_params({"evalue": 1})["evalue"] == 1.0
    bads = ({"bogus": 1}, {"num_iterations": 0}, {"inclusion_ethresh": -1}, {"evalue": "x"})
    for bad in bads + ({"comp_based_stats": 7}, {"pssm_after_last_round": "yes"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            psiblast.check_params(bad)
    with pytest.raises(ValueError, match="bogus"):
        _search(databases, "with", {"x": "ACDEFGHIKL"}, {"bogus": 1})
    with pytest.raises(FileNotFoundError, match="nowhere"):
        psiblast.search_profiles({"x": "ACD"}, tmp_path / "nowhere", {}, 1, tmp_path)


def test_agrees_with_mmseqs2(databases: dict, family: dict) -> None:
    """The query's PSI-BLAST and MMseqs2 profiles correlate (mean per-position Pearson r)."""
    from protrnn.core.tools import find_mmseqs
    from protrnn.profiles.backends import mmseqs2

    try:
        binary = find_mmseqs()
    except FileNotFoundError as err:
        pytest.skip(f"MMseqs2 not available: {err}")
    prefix = databases["root"] / "mmseqs2" / "db"
    mmseqs2.build_mmseqs_db(databases["parts"], prefix, 1, binary, create_index=False)
    queries = {"q": family["query"]}
    mm, _ = mmseqs2.search_mmseqs_db(queries, prefix, {}, 1, databases["root"] / "mm", binary)
    pb, _ = _search(databases, "without", queries)
    a, b = mm["q"], pb["q"]
    a = (a - a.mean(1, keepdims=True)) / a.std(1, keepdims=True)
    b = (b - b.mean(1, keepdims=True)) / b.std(1, keepdims=True)
    r = float(np.mean((a * b).mean(1)))
    print(f"psiblast vs mmseqs2: mean per-position Pearson r = {r:.3f}")
    assert r > 0.5


def test_extra_columns(databases: dict, family: dict) -> None:
    """Weighted observed frequencies, information, depth and gap fraction: ranges, no-hit values,
    the conserved W, independent of the query's own copy, depth only where homologues align."""
    queries = {"q": family["query"], "o": family["orphan"], "c": family["chimera"]}
    with_db, _ = _search(databases, "with", queries)
    without_db, _ = _search(databases, "without", queries)
    check_family(with_db, without_db, family["query"], family["orphan"], 12, CONSERVED)
    check_chimera(without_db.extras["c"], slice(0, 80), slice(80, 160))


def test_hit_alignments_give_depth_and_gaps() -> None:
    """Only the last round's included HSPs count; query gaps are skipped, subject gaps are gaps."""
    table = "# Iteration: 1\nx1\t1e-50\t1\t4\tACDE\tACDE\n# Iteration: 2\n"
    table += "x1\t1e-50\t2\t5\tCD-EF\tC-KE-\nx2\t0.5\t1\t3\tACD\tACD\nx3\t1e-9\t1\t2\tAC\tAC\n"
    rows = psiblast.parse_hit_alignments(table, 1e-3)
    assert rows == [(1, "CD-EF", "C-KE-"), (0, "AC", "AC")]
    text = pssm_text()  # two rows (W, K): the coverage of a 2-residue query
    pssm = psiblast.parse_ascii_pssm(text)
    extras = psiblast.pssm_extras(pssm, [(0, "WK", "W-"), (1, "K", "R")])
    assert extras[:, 21].tolist() == [1.0, 1.0]  # depth: W aligned once, K once (second HSP)
    assert extras[:, 22].tolist() == [0.0, 0.5]  # K: one gap of the two spanning segments
    assert np.allclose(extras[0, :20], np.array(W_PCT) / sum(W_PCT))
    assert extras[:, 20].tolist() == pytest.approx([0.51, 0.51], abs=1e-3)  # float16

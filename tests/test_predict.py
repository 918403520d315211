"""Prediction for new sequences: input checks, output formats, CLI, and agreement with evaluate.

One end-to-end CLI run (module fixture) against a tiny MMseqs2 database of a synthetic family
(a query, homologues, decoys) predicts: the family query (real profile), an orphan with
non-standard letters (BLOSUM62 fallback), two ids that collide as file names, and a
50,000-residue protein that holds the family in its middle.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from protrnn.cli import main
from protrnn.core.alphabet import SS3, SS8, sequence_hash, ss8_to_ss3
from protrnn.predict import (
    MAX_RESIDUES_PER_BATCH,
    SS2_HEADER,
    SS8_HEADER,
    format_ss2,
    read_predictions,
    read_query_fasta,
    round_rows,
    safe_ids,
)
from tests.synthetic import mutate, random_seq

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
LONG = 50_000
SEARCH = {"num_iterations": 2, "sensitivity": 4.0}  # as tests/data/tiny_config.yaml


# ---------------------------------------------------------------- helpers and fixtures
def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("predict")


@pytest.fixture(scope="module")
def config_path(root: Path) -> Path:
    """The repository config with the tiny test's search settings."""
    config = yaml.safe_load(REPO_CONFIG.read_text())
    config["profiles"]["mmseqs2"] = dict(SEARCH)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def model_path(root: Path) -> Path:
    """A tiny untrained GRU in training.load_model's format, its weights scaled up (seed chosen)
    so that its predictions vary along a protein and the comparisons below mean something."""
    torch = pytest.importorskip("torch")
    from protrnn.model.zoo import build_model

    torch.manual_seed(2)
    spec = {"type": "rnn", "cell": "gru", "hidden": 8, "layers": 1, "dropout": 0.0}
    model = build_model(spec, 41)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.startswith("heads.") and name.endswith("bias"):
                param.zero_()
            else:
                param.mul_(10.0 if name.startswith("heads.") else 3.0)
    path = root / "models" / "tiny" / "model.pt"
    path.parent.mkdir(parents=True)
    torch.save({"spec": spec, "state_dict": model.state_dict(), "features": 41}, path)
    return path


@pytest.fixture(scope="module")
def family() -> dict:
    rng = np.random.default_rng(11)
    base = random_seq(rng, 160)
    return {
        "base": base,
        "homologs": [mutate(rng, base, 0.3) for _ in range(12)],
        "decoys": [random_seq(rng, 150) for _ in range(25)],
        "orphan": random_seq(rng, 90) + "UOBZX",
        "other": random_seq(rng, 40),
        "long": random_seq(rng, 20_000) + base + random_seq(rng, LONG - 20_000 - len(base)),
    }


@pytest.fixture(scope="module")
def database(root: Path, family: dict) -> dict:
    from protrnn.core.tools import find_mmseqs
    from protrnn.profiles.backends.mmseqs2 import build_mmseqs_db

    try:
        mmseqs = find_mmseqs()
    except FileNotFoundError as err:
        pytest.skip(f"MMseqs2 not available: {err}")
    fasta = root / "db.fasta.gz"
    with gzip.open(fasta, "wt") as fh:
        for i, seq in enumerate(family["homologs"] + family["decoys"]):
            fh.write(f">db{i}\n{seq}\n")
    prefix = root / "profile_db" / "tiny" / "mmseqs2" / "db"
    build_mmseqs_db([fasta], prefix, 1, mmseqs, create_index=False)
    return {"prefix": prefix, "mmseqs": mmseqs}


@pytest.fixture(scope="module")
def queries(family: dict) -> list[tuple[str, str, str]]:
    """(header line, id, upper-case sequence) of the end-to-end queries, in file order."""
    return [
        ("sp|Q1|FAM_HUMAN family query", "sp|Q1|FAM_HUMAN", family["base"]),
        ("orphan/1", "orphan/1", family["orphan"]),
        ("a/b", "a/b", family["other"]),
        ("A_b duplicate sequence", "A_b", family["orphan"]),
        ("long", "long", family["long"]),
    ]


@pytest.fixture(scope="module")
def predicted(root: Path, queries: list, database: dict, model_path: Path, config_path: Path):
    """One CLI run over all queries; returns the output folder."""
    lines = []
    for header, _, seq in queries:
        body = seq.lower() if header.startswith("orphan") else seq  # lower case is accepted
        lines.append(f">{header}\n")
        lines += [body[i : i + 60] + "\n" for i in range(0, len(body), 60)]
    fasta = _write(root / "queries.fasta", "".join(lines))
    out = root / "out"
    code = main(
        ["predict", "--fasta", str(fasta), "--model", str(model_path),
         "--database", str(database["prefix"].parent), "--out", str(out),
         "--threads", "1", "--config", str(config_path)]
    )  # fmt: skip
    assert code == 0
    return out


def _read_vformat(path: Path, header: str, n_columns: int) -> tuple[str, str, np.ndarray]:
    """(residues, letters, L x n probabilities) of a .ss2/.ss8 file, checking the layout."""
    lines = path.read_text().splitlines()
    assert lines[0] == header and lines[1] == ""
    residues, letters, rows = [], [], []
    for i, line in enumerate(lines[2:], 1):
        index, residue, letter, *values = line.split()
        row = [float(v) for v in values]
        assert int(index) == i and len(row) == n_columns
        # exactly printf("%4d %c %c  %6.3f %6.3f ...") (the index widens past 9999, as in C)
        assert line == f"{i:4d} {residue} {letter}  " + " ".join(f"{v:6.3f}" for v in row)
        residues.append(residue)
        letters.append(letter)
        rows.append(row)
    return "".join(residues), "".join(letters), np.array(rows)


# ---------------------------------------------------------------- input validation
def test_read_query_fasta_accepts_and_normalizes(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.fa", ">p1 some protein\nacdE\nFG*\n\n>p2\nuoX\n")
    assert read_query_fasta(path) == [("p1", "ACDEFG"), ("p2", "UOX")]
    gz = tmp_path / "q.fa.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert read_query_fasta(gz) == read_query_fasta(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty file"),
        ("\n\n", "empty file"),
        (">p1\nACDE\n>p2\nAC1DE\n", r"record 'p2'.*'1' at residue 3"),
        (">p1\nAC-DE\n", r"record 'p1'.*'-'"),
        (">p1\nACÉ\n", r"record 'p1'"),
        (">p1\nACDE\n>p1 again\nWW\n", "duplicate id 'p1'"),
        (">p1\n>p2\nACD\n", r"record 'p1'.*empty sequence"),
        (">p1\n*\n", r"record 'p1'.*empty sequence"),
        ("ACDE\n>p1\nAC\n", "before the first"),
    ],
)
def test_read_query_fasta_rejects_bad_input(tmp_path: Path, text: str, match: str) -> None:
    path = _write(tmp_path / "bad_input.fa", text)
    with pytest.raises(ValueError, match=match) as info:
        read_query_fasta(path)
    assert str(path) in str(info.value)  # the file is named


def test_read_query_fasta_missing_and_binary(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothere.fa"):
        read_query_fasta(tmp_path / "nothere.fa")
    binary = tmp_path / "binary.fa"
    binary.write_bytes(b">p1\n\xff\xfe\x00\n")
    with pytest.raises(ValueError, match="binary.fa"):
        read_query_fasta(binary)


def test_safe_ids_mapping_and_collisions() -> None:
    ids = ["sp|P69905|HBA_HUMAN", "a/b", "a_b", "A_B", ".hidden", "-x", "ok.1-2", "é", "a" * 150]
    got = safe_ids(ids)
    assert got[:7] == ["sp_P69905_HBA_HUMAN", "a_b", "a_b_2", "A_B_3", "_hidden", "_x", "ok.1-2"]
    assert got[7] == "_" and got[8] == "a" * 100
    assert len({g.lower() for g in got}) == len(got)


# ---------------------------------------------------------------- output formats
def test_round_rows_sums_to_one_and_keeps_order() -> None:
    rng = np.random.default_rng(0)
    for k in (3, 8):
        p = rng.dirichlet(np.full(k, 0.3), size=2000).astype(np.float32)
        units = round_rows(p)
        assert np.all(units.sum(axis=1) == 1000)
        assert np.all(np.abs(units / 1000 - p) < 1e-3 + 1e-6)
        top = p.argmax(axis=1)
        assert np.all(units[np.arange(len(p)), top] == units.max(axis=1))
    assert round_rows(np.array([[1 / 3, 1 / 3, 1 / 3]])).tolist() == [[334, 333, 333]]


def test_format_ss2_exact_layout() -> None:
    prob = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])  # H E C
    assert format_ss2("MK", prob) == (
        f"{SS2_HEADER}\n\n   1 M H   0.100  0.700  0.200\n   2 K C   0.800  0.100  0.100\n"
    )


# ---------------------------------------------------------------- command line
def _cli(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, list[str]]:
    code = main(args)
    err = capsys.readouterr().err
    return code, err.splitlines()


def test_cli_user_errors_exit_2_with_one_line(
    tmp_path: Path, config_path: Path, model_path: Path, capsys: pytest.CaptureFixture
) -> None:
    good = _write(tmp_path / "good.fa", ">p1\nACDEFGHIK\n")
    bad = _write(tmp_path / "bad.fa", ">p1\nACDE\n>weird id\nAC1\n")
    db = tmp_path / "no_db" / "db"

    def run(fasta: Path, model: Path = model_path, config: Path = config_path) -> list[str]:
        args = ["predict", "--fasta", str(fasta), "--model", str(model), "--database", str(db),
                "--out", str(tmp_path / "out"), "--config", str(config)]  # fmt: skip
        code, lines = _cli(args, capsys)
        assert code == 2 and len(lines) == 1 and lines[0].startswith("protrnn: error: ")
        return lines

    assert "bad.fa" in run(bad)[0] and "'weird'" in run(bad)[0]
    assert "empty file" in run(_write(tmp_path / "empty.fa", ""))[0]
    assert "duplicate id" in run(_write(tmp_path / "dup.fa", ">x\nAC\n>x\nAC\n"))[0]
    assert "missing.pt" in run(good, model=tmp_path / "missing.pt")[0]
    assert "not a usable protrnn model" in run(good, model=good)[0]
    assert "profile database" in run(good)[0]  # the database does not exist
    assert "nothere.yaml" in run(good, config=tmp_path / "nothere.yaml")[0]
    broken = yaml.safe_load(config_path.read_text())
    broken["profiles"]["mmseqs2"]["evalue"] = "high"
    bad_config = _write(tmp_path / "bad_config.yaml", yaml.safe_dump(broken))
    assert "profiles.mmseqs2.evalue" in run(good, config=bad_config)[0]
    assert not (tmp_path / "out" / "predictions.fasta").exists()


# ---------------------------------------------------------------- end to end
def test_predictions_fasta_and_ids(predicted: Path, queries: list) -> None:
    records = read_predictions(predicted / "predictions.fasta")
    assert [r[0] for r in records] == [q[1] for q in queries]
    for (pid, seq, ss8, ss3), (_, _, want) in zip(records, queries, strict=True):
        assert seq == want and len(ss8) == len(ss3) == len(want), pid
        assert set(ss8) <= set(SS8) and set(ss3) <= set(SS3)
        assert len(set(ss8)) >= 2 and len(set(ss3)) >= 2, pid  # the model is not degenerate
    ids = pd.read_csv(predicted / "ids.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert ids["id"].tolist() == [q[1] for q in queries]
    assert ids["safe_id"].tolist() == ["sp_Q1_FAM_HUMAN", "orphan_1", "a_b", "A_b_2", "long"]
    assert ids["length"].astype(int).tolist() == [len(q[2]) for q in queries]
    assert sorted(p.name for p in (predicted / "ss2").iterdir()) == sorted(
        f"{s}.{ext}" for s in ids["safe_id"] for ext in ("ss2", "ss8")
    )
    leftovers = [p.name for p in predicted.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_ss2_and_ss8_files(predicted: Path, queries: list) -> None:
    records = read_predictions(predicted / "predictions.fasta")
    names = safe_ids([q[1] for q in queries])
    for name, (pid, seq, ss8, ss3) in zip(names, records, strict=True):
        residues, letters, prob = _read_vformat(predicted / "ss2" / f"{name}.ss2", SS2_HEADER, 3)
        assert residues == seq and letters == ss3 and prob.shape == (len(seq), 3), pid
        assert np.all(np.abs(prob.sum(axis=1) - 1) <= 1e-3)
        column = np.array(["CHE".index(c) for c in letters])  # PSIPRED order C, H, E
        assert np.all(prob[np.arange(len(seq)), column] == prob.max(axis=1))
        residues, letters, prob = _read_vformat(predicted / "ss2" / f"{name}.ss8", SS8_HEADER, 8)
        assert residues == seq and letters == ss8 and prob.shape == (len(seq), 8), pid
        assert np.all(np.abs(prob.sum(axis=1) - 1) <= 1e-3)
        column = np.array([SS8.index(c) for c in letters])
        assert np.all(prob[np.arange(len(seq)), column] == prob.max(axis=1))


def test_predictions_equal_predict_proba_on_the_encoded_features(
    predicted: Path, model_path: Path, queries: list
) -> None:
    from protrnn.encode import load_encoded
    from protrnn.model.inference import load_model, predict_proba

    encoded = load_encoded(predicted / "encoded.npz")
    assert encoded.ids.tolist() == [q[1] for q in queries]
    assert np.all(encoded.ss8 == -1) and np.all(encoded.ss3 == -1)  # no labels
    model = load_model(model_path, "cpu")
    records = read_predictions(predicted / "predictions.fasta")
    names = safe_ids([q[1] for q in queries])
    for i, (name, (pid, _, ss8, ss3)) in enumerate(zip(names, records, strict=True)):
        pred = predict_proba(model, encoded.select([i]), "cpu")[0]  # alone: no padding
        want8 = "".join(np.array(list(SS8))[pred["ss8"].argmax(1)])
        want3 = "".join(np.array(list(SS3))[pred["ss3"].argmax(1)])
        assert (ss8, ss3) == (want8, want3), pid
        _, _, prob = _read_vformat(predicted / "ss2" / f"{name}.ss2", SS2_HEADER, 3)
        assert np.abs(prob - pred["ss3"][:, [2, 0, 1]]).max() <= 1e-3 + 1e-6
        _, _, prob = _read_vformat(predicted / "ss2" / f"{name}.ss8", SS8_HEADER, 8)
        assert np.abs(prob - pred["ss8"]).max() <= 1e-3 + 1e-6


def test_long_protein_runs_alone_and_has_a_real_profile(predicted: Path, queries: list) -> None:
    import json

    from protrnn.encode import load_encoded
    from protrnn.model.batching import make_batches
    from protrnn.profiles.blosum import blosum_profile

    summary = json.loads((predicted / "summary.json").read_text())
    assert summary["n_residues"] == sum(len(q[2]) for q in queries)
    assert summary["n_unique_sequences"] == len(queries) - 1  # orphan/1 and A_b share a sequence
    encoded = load_encoded(predicted / "encoded.npz")
    lengths = encoded.lengths
    assert int(lengths[-1]) == LONG
    batches = make_batches(lengths, 32, MAX_RESIDUES_PER_BATCH)
    assert [b.tolist() for b in batches if len(lengths) - 1 in b] == [[len(lengths) - 1]]
    # the family part of the long protein found its homologues: not the BLOSUM62 fallback
    s = slice(int(encoded.offsets[-1]), int(encoded.offsets[-1]) + LONG)
    fallback = 1 / (1 + np.exp(-blosum_profile(queries[-1][2]).astype(np.float64)))
    assert not np.allclose(encoded.pssm[s].astype(np.float64), fallback, atol=1e-3)
    # the orphan got exactly the fallback
    i = [q[1] for q in queries].index("orphan/1")
    s = slice(int(encoded.offsets[i]), int(encoded.offsets[i]) + int(lengths[i]))
    fallback = 1 / (1 + np.exp(-blosum_profile(queries[i][2]).astype(np.float64)))
    assert np.allclose(encoded.pssm[s].astype(np.float64), fallback, atol=1e-3)


def test_predict_matches_evaluate_on_labelled_proteins(
    predicted: Path, root: Path, database: dict, model_path: Path, queries: list
) -> None:
    """The training path (profile_search -> encode_dataset -> evaluate_model) on the same short
    proteins, now with labels, gives the same features, predictions and Q3 as predict."""
    from protrnn.encode import encode_dataset, load_encoded
    from protrnn.evaluation.evaluate import evaluate_model
    from protrnn.profiles.backends.mmseqs2 import search_mmseqs_db

    short = [q for q in queries if q[1] != "long"]
    unique = {sequence_hash(seq): seq for _, _, seq in short}  # as rule profile_queries
    profiles, _ = search_mmseqs_db(
        unique, database["prefix"], dict(SEARCH), 1, root / "eval_work", database["mmseqs"]
    )
    rng = np.random.default_rng(5)
    ss8 = ["".join(rng.choice(list(SS8), size=len(seq))) for _, _, seq in short]
    table = pd.DataFrame({
        "id": [q[1] for q in short],
        "sequence": [q[2] for q in short],
        "ss8": ss8,
        "ss3": [ss8_to_ss3(s) for s in ss8],
        "eval_mask": ["1" * len(q[2]) for q in short],
        "split": "test",
    })  # fmt: skip
    labelled = root / "labelled.npz"
    encode_dataset(table, profiles, labelled)
    out = root / "eval" / "tiny" / "known"
    metrics = evaluate_model(model_path, labelled, out, device="cpu")

    mine = load_encoded(predicted / "encoded.npz")
    theirs = load_encoded(labelled)
    for i in range(len(theirs)):
        j = mine.ids.tolist().index(theirs.ids[i])
        a, b = mine.features(j), theirs.features(i)
        assert np.array_equal(a, b), theirs.ids[i]

    by_id = {r[0]: r for r in read_predictions(predicted / "predictions.fasta")}
    with np.load(out / "predictions.npz") as npz:
        for pid, p8, p3 in zip(npz["ids"], npz["pred_ss8"], npz["pred_ss3"], strict=True):
            assert by_id[str(pid)][2] == str(p8) and by_id[str(pid)][3] == str(p3), pid
    predicted_ss3 = "".join(by_id[q[1]][3] for q in short)
    known_ss3 = "".join(table["ss3"])
    correct = sum(a == b for a, b in zip(predicted_ss3, known_ss3, strict=True))
    q3 = correct / sum(len(q[2]) for q in short)
    assert q3 == pytest.approx(metrics["q3"], abs=1e-12)


# ---------------------------------------------------------------- pictures
def test_svg_pictures_and_index_page(predicted: Path, queries: list) -> None:
    import xml.etree.ElementTree as ET

    from protrnn.core.tracks import PALETTE, TRACK

    records = read_predictions(predicted / "predictions.fasta")
    names = safe_ids([q[1] for q in queries])
    assert sorted(p.name for p in (predicted / "svg").iterdir()) == sorted(
        f"{n}.svg" for n in names
    )
    page = (predicted / "index.html").read_text()
    for name, (pid, seq, ss8, _) in zip(names, records, strict=True):
        svg = (predicted / "svg" / f"{name}.svg").read_text()
        root = ET.fromstring(svg)
        title = root.find("{http://www.w3.org/2000/svg}title").text
        assert title.startswith(f"{pid} \u00b7 {len(seq)} residues"), pid
        # the predicted track is the 8-state string of predictions.fasta
        for state, (colour, _) in PALETTE.items():
            widths = [
                int(w)
                for p in root.iter("{http://www.w3.org/2000/svg}path")
                if p.get("stroke") == colour and p.get("stroke-width") == str(TRACK)
                for w in re.findall(r"h(\d+)", p.get("d"))
            ]
            assert sum(widths) == 12 * ss8.count(state), (pid, state)
        _, _, prob = _read_vformat(predicted / "ss2" / f"{name}.ss8", SS8_HEADER, 8)
        mean = prob.max(axis=1).mean()
        row = re.search(
            rf"<tr><td>{re.escape(pid)}</td><td class=num>{len(seq):,}</td>"
            rf'<td class=num>([\d.]+)</td><td><a href="svg/{name}.svg">',
            page,
        )
        assert row is not None, pid
        assert float(row.group(1)) == pytest.approx(mean, abs=2e-3)
    assert page.count("<img ") == len(queries)
    assert (predicted / "svg" / "long.svg").stat().st_size < 3_000_000  # 50,000 residues


def test_commit_run_replaces_own_pictures_and_keeps_the_users(tmp_path: Path) -> None:
    from protrnn.predict import commit_run

    out, staging = tmp_path / "out", tmp_path / "staging"
    for folder, files in ((out, ("old.svg", "mine.svg")), (staging, ("new.svg",))):
        (folder / "svg").mkdir(parents=True)
        (folder / "ss2").mkdir()
        for name in files:
            (folder / "svg" / name).write_text(f"{folder.name} {name}")
    (out / "ids.tsv").write_text("id\tsafe_id\tlength\nold\told\t5\n")
    (out / "index.html").write_text("old page")
    for name in ("ids.tsv", "encoded.npz", "summary.json", "index.html", "predictions.fasta"):
        (staging / name).write_text(f"new {name}")
    commit_run(staging, out)
    assert sorted(p.name for p in (out / "svg").iterdir()) == ["mine.svg", "new.svg"]
    assert (out / "svg" / "mine.svg").read_text() == "out mine.svg"
    assert (out / "index.html").read_text() == "new index.html"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []

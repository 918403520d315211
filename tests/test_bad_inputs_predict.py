"""Bad inputs and faults of prediction and profiles (issue 12 catalogue, stage predict).

Each case asserts the outcome (exit status 2 with one ``protrnn: error:`` line, or the
exception), that the message names the input (file, key, record), and that no partial output is
left: a failed run leaves the output folder as it was (absent, or the earlier complete run).
Cases that must fail before any search replace the profile service with one that fails the test.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml

torch = pytest.importorskip("torch")

from protrnn import cli  # noqa: E402
from protrnn import predict as predict_module  # noqa: E402
from protrnn.cli import main  # noqa: E402
from protrnn.config import ConfigError, load_config  # noqa: E402
from protrnn.core.diskspace import NoSpaceLeft  # noqa: E402
from protrnn.core.tools import find_mmseqs  # noqa: E402
from protrnn.encode import encoding_spec  # noqa: E402
from protrnn.model.zoo import build_model  # noqa: E402
from protrnn.predict import check_model_provenance, predict_fasta, read_predictions  # noqa: E402
from protrnn.profiles.backends import mmseqs2  # noqa: E402
from protrnn.profiles.backends.mmseqs2 import build_mmseqs_db  # noqa: E402
from protrnn.profiles.service import search_setting  # noqa: E402
from tests.synthetic import mutate, random_seq  # noqa: E402

REPO_CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
SEARCH = {"num_iterations": 1, "sensitivity": 4.0}


# ---------------------------------------------------------------- fixtures
def _save_model(path: Path, spec: dict, provenance: dict | None, classes: list[str]) -> Path:
    """A tiny untrained model in model.pt's layout (provenance as protrnn.model.checkpoint)."""
    torch.manual_seed(0)
    model = build_model(spec, 41, n_classes=len(classes) or None)
    content = {"spec": spec, "state_dict": model.state_dict(), "features": 41}
    content.update(task="per_protein" if classes else "per_residue", classes=classes)
    if provenance is not None:
        content["provenance"] = provenance
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(content, path)
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A tiny MMseqs2 database, a config, query FASTA files and models of every kind."""
    try:
        mmseqs = find_mmseqs()
    except FileNotFoundError as err:
        pytest.skip(f"MMseqs2 not available: {err}")
    root = tmp_path_factory.mktemp("bad_predict")
    rng = np.random.default_rng(3)
    base = random_seq(rng, 80)
    with gzip.open(root / "db.fasta.gz", "wt") as fh:
        for i, seq in enumerate([mutate(rng, base, 0.3) for _ in range(6)]):
            fh.write(f">d{i}\n{seq}\n")
    db = root / "profile_db" / "mmseqs2"
    build_mmseqs_db([root / "db.fasta.gz"], db / "db", 1, mmseqs, create_index=False)
    setting = search_setting("mmseqs2", db, SEARCH)
    config = yaml.safe_load(REPO_CONFIG.read_text())
    config["profiles"]["mmseqs2"] = dict(SEARCH)
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    (root / "good.fa").write_text(f">p1 query\n{base}\n>p2\n{random_seq(rng, 30)}\n")
    (root / "other.fa").write_text(f">q1\n{base[:50]}\n")
    spec = {"type": "rnn", "cell": "gru", "hidden": 8, "layers": 1, "dropout": 0.0}
    own = {"encoding": encoding_spec(), "profiles": setting.describe()}
    other_profiles = {
        **setting.describe(),
        "database_checksum": "0" * 64,
        "parameters": {**setting.params, "sensitivity": 7.5},
    }
    local = {"type": "rnn_last", "cell": "gru", "hidden": 8, "layers": 1}
    models = root / "models"
    return {
        "root": root,
        "db": db,
        "config": root / "config.yaml",
        "good": root / "good.fa",
        "other": root / "other.fa",
        "cache": root / "cache",
        "model": _save_model(models / "ok" / "model.pt", spec, own, []),
        "old_model": _save_model(models / "old" / "model.pt", spec, None, []),
        "foreign_encoding": _save_model(
            models / "enc" / "model.pt", spec, {**own, "encoding": {"version": 0}}, []
        ),
        "other_profiles": _save_model(
            models / "prof" / "model.pt", spec, {**own, "profiles": other_profiles}, []
        ),
        "localization": _save_model(
            models / "loc" / "model.pt", local, own, ["Cytoplasm", "Nucleus", "Membrane"]
        ),
    }


@pytest.fixture
def no_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if prediction gets as far as the profile search."""

    def searched(*args: object, **kwargs: object) -> None:
        raise AssertionError("the profile search started before the input was rejected")

    monkeypatch.setattr(predict_module, "search_with", searched)


def _predict(world: dict, out: Path, fasta: Path | None = None, model: str = "model", **kw):
    warnings: list[str] = []
    options = {"cache_dir": world["cache"], "warn": warnings.append, **kw}
    summary = predict_fasta(
        fasta or world["good"], world[model], world["db"], SEARCH, out, **options
    )
    return summary, warnings


def _cli(world: dict, capsys: pytest.CaptureFixture, out: Path, **given: object) -> list[str]:
    """Run ``protrnn predict``; assert exit status 2 and one error line; return stderr lines."""
    args = {"fasta": world["good"], "model": world["model"], "database": world["db"]}
    args.update({"out": out, "config": world["config"], **given})
    argv = ["predict", *[x for k, v in args.items() for x in (f"--{k}", str(v))]]
    code = main(argv)
    lines = capsys.readouterr().err.splitlines()
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("protrnn: error: "), lines
    return lines


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _no_leftovers(parent: Path) -> None:
    """No staging folder or temporary file next to the outputs."""
    assert [p.name for p in parent.iterdir() if p.name.startswith(".")] == []


# ---------------------------------------------------------------- cases that fail up front
def test_localization_model_rejected_before_search(
    world: dict, tmp_path: Path, capsys: pytest.CaptureFixture, no_search: None
) -> None:
    lines = _cli(world, capsys, tmp_path / "out", model=world["localization"])
    assert str(world["localization"]) in lines[0] and "per-protein (localization)" in lines[0]
    assert not (tmp_path / "out").exists()


def test_out_naming_an_existing_file(
    world: dict, tmp_path: Path, capsys: pytest.CaptureFixture, no_search: None
) -> None:
    target = tmp_path / "results.txt"
    target.write_text("keep me\n")
    lines = _cli(world, capsys, target)
    assert f"output folder {target} is an existing file" in lines[0]
    assert target.read_text() == "keep me\n"
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "ss2").write_text("a file\n")
    assert (
        f"{tmp_path / 'out' / 'ss2'} is an existing file"
        in _cli(world, capsys, tmp_path / "out")[0]
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", "empty file"),
        (">p1\nACDE\n>p2\nAC1DE\n", "record 'p2'"),
        (">p1\nACDE\n>p1 again\nWW\n", "duplicate id 'p1'"),
    ],
    ids=["empty", "digits", "duplicate-ids"],
)
def test_bad_fasta(
    world: dict,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    no_search: None,
    text: str,
    named: str,
) -> None:
    fasta = tmp_path / "queries.fa"
    fasta.write_text(text)
    lines = _cli(world, capsys, tmp_path / "out", fasta=fasta)
    assert str(fasta) in lines[0] and named in lines[0]
    assert not (tmp_path / "out").exists()


def test_missing_model_file(
    world: dict, tmp_path: Path, capsys: pytest.CaptureFixture, no_search: None
) -> None:
    missing = tmp_path / "nothere" / "model.pt"
    lines = _cli(world, capsys, tmp_path / "out", model=missing)
    assert f"model file {missing} does not exist" in lines[0]
    assert not (tmp_path / "out").exists()


def test_model_of_another_encoding_stops(
    world: dict, tmp_path: Path, capsys: pytest.CaptureFixture, no_search: None
) -> None:
    lines = _cli(world, capsys, tmp_path / "out", model=world["foreign_encoding"])
    assert str(world["foreign_encoding"]) in lines[0] and "feature encoding" in lines[0]
    assert not (tmp_path / "out").exists()


def test_database_folder_missing(
    world: dict, tmp_path: Path, capsys: pytest.CaptureFixture, no_search: None
) -> None:
    missing = tmp_path / "profile_db" / "mmseqs2"
    lines = _cli(world, capsys, tmp_path / "out", database=missing)
    assert f"profile database {missing} not found" in lines[0]
    assert not (tmp_path / "out").exists()


def test_unknown_backend_in_config(
    world: dict, tmp_path: Path, capsys: pytest.CaptureFixture, no_search: None
) -> None:
    config = yaml.safe_load(world["config"].read_text())
    config["profiles"]["backend"] = "blast"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    lines = _cli(world, capsys, tmp_path / "out", config=path)
    assert "profiles.backend" in lines[0] and "blast" in lines[0]
    with pytest.raises(ValueError, match="unknown profile backend 'blast'"):
        predict_fasta(
            world["good"], world["model"], world["db"], {}, tmp_path / "o", backend="blast"
        )
    assert not (tmp_path / "out").exists() and not (tmp_path / "o").exists()


# ---------------------------------------------------------------- faults during the run
def test_full_disk_while_searching(
    world: dict, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC inside the search: one line naming the scratch folder, scratch removed, no output."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)

    def full(queries: dict, db_dir: Path, params: dict, threads: int, workdir: Path):
        (Path(workdir) / "half_written").write_bytes(b"x" * 10)
        raise RuntimeError("mmseqs failed (exit 1): ... No space left on device")

    monkeypatch.setattr(mmseqs2, "search_profiles", full)
    lines = _cli(world, capsys, tmp_path / "out")
    assert f"no space left on {scratch}" in lines[0]
    assert list(scratch.iterdir()) == [] and not (tmp_path / "out").exists()


def test_scratch_is_not_in_the_output_folder(
    world: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real search works in a temporary folder outside ``out``, removed afterwards."""
    real, seen = mmseqs2.search_profiles, []

    def spy(queries: dict, db_dir: Path, params: dict, threads: int, workdir: Path):
        seen.append(Path(workdir))
        return real(queries, db_dir, params, threads, workdir)

    monkeypatch.setattr(mmseqs2, "search_profiles", spy)
    out = tmp_path / "out"
    summary, _ = _predict(world, out, fasta=world["other"], cache_dir=None)
    assert summary["profile_stats"]["n_searched"] == 1
    assert seen and out.resolve() not in seen[0].resolve().parents and not seen[0].exists()
    _no_leftovers(out)
    _no_leftovers(tmp_path)


def test_full_disk_while_writing_keeps_the_earlier_run(
    world: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    _predict(world, out)
    before = _snapshot(out)

    def full(sequence: str, prob: np.ndarray) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(predict_module, "format_ss8", full)
    with pytest.raises(NoSpaceLeft, match=f"no space left on {out}"):
        _predict(world, out, fasta=world["other"])
    assert _snapshot(out) == before
    _no_leftovers(tmp_path)


def test_failed_prediction_leaves_the_earlier_complete_run(
    world: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after encoding (the new encoded.npz exists) leaves the old run, not a mix."""
    out = tmp_path / "out"
    _predict(world, out)
    before = _snapshot(out)

    def broken(*args: object, **kwargs: object) -> list:
        raise RuntimeError("the model crashed")

    monkeypatch.setattr(predict_module, "predict_encoded", broken)
    with pytest.raises(RuntimeError, match="the model crashed"):
        _predict(world, out, fasta=world["other"])
    assert _snapshot(out) == before
    _no_leftovers(tmp_path)


def test_replacing_ss2_keeps_unrelated_files(world: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    _predict(world, out)
    assert (out / "ss2" / "p1.ss2").is_file()
    (out / "ss2" / "my_notes.txt").write_text("mine\n")
    (out / "ss2" / "psipred").mkdir()
    (out / "ss2" / "psipred" / "p1.ss2").write_text("PSIPRED's own\n")
    (out / "README").write_text("also mine\n")
    _predict(world, out, fasta=world["other"])
    assert sorted(p.name for p in (out / "ss2").iterdir()) == [
        "my_notes.txt", "psipred", "q1.ss2", "q1.ss8",
    ]  # fmt: skip
    assert (out / "ss2" / "my_notes.txt").read_text() == "mine\n"
    assert (out / "ss2" / "psipred" / "p1.ss2").read_text() == "PSIPRED's own\n"
    assert (out / "README").read_text() == "also mine\n"
    assert [r[0] for r in read_predictions(out / "predictions.fasta")] == ["q1"]
    _no_leftovers(out)
    _no_leftovers(tmp_path)


# ---------------------------------------------------------------- warnings (predicted anyway)
def test_inputs_that_cannot_be_proteins_warn(
    world: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fasta = tmp_path / "odd.fa"
    fasta.write_text(">dna\nACGTTGCANNACGU\n>unknown\nXXXXXXXX\n>real\nMKVLAAGIWW\n")
    out = tmp_path / "out"
    code = main(["predict", "--fasta", str(fasta), "--model", str(world["model"]),
                 "--database", str(world["db"]), "--out", str(out),
                 "--config", str(world["config"])])  # fmt: skip
    lines = capsys.readouterr().err.splitlines()
    assert code == 0
    assert len(lines) == 1 and lines[0].startswith("protrnn: warning: "), lines
    assert str(fasta) in lines[0] and "'dna'" in lines[0] and "'unknown' (only X)" in lines[0]
    assert "'real'" not in lines[0]
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["warnings"]) == 1 and "'dna'" in summary["warnings"][0]
    assert [r[0] for r in read_predictions(out / "predictions.fasta")] == ["dna", "unknown", "real"]


def test_model_without_provenance_warns(world: dict, tmp_path: Path) -> None:
    summary, warnings = _predict(world, tmp_path / "out", model="old_model")
    assert len(warnings) == 1 and "records no provenance" in warnings[0]
    assert str(world["old_model"]) in warnings[0]
    assert summary["warnings"] == warnings


def test_model_of_other_profiles_warns(world: dict, tmp_path: Path) -> None:
    summary, warnings = _predict(world, tmp_path / "out", model="other_profiles")
    assert len(warnings) == 1, warnings
    line = warnings[0]
    assert str(world["other_profiles"]) in line and "database checksum 000000000000" in line
    assert "sensitivity 7.5 -> 4.0" in line and "backend" not in line
    assert summary["warnings"] == warnings
    assert summary["model_profiles"]["database_checksum"] == "0" * 64


def test_model_of_the_same_profiles_is_silent(world: dict, tmp_path: Path) -> None:
    summary, warnings = _predict(world, tmp_path / "out")
    assert warnings == [] and summary["warnings"] == []
    assert summary["profiles"] == summary["model_profiles"]


def test_config_predict_model_of_localization(tmp_path: Path) -> None:
    """``predict_model=localization/...`` is refused when the config loads (before any job)."""
    overrides = {"predict_fasta": str(tmp_path / "q.fa"), "predict_model": "localization/deeploc"}
    with pytest.raises(ConfigError, match="predict_model: 'localization/deeploc' predicts per"):
        load_config(REPO_CONFIG, overrides)


def test_model_of_another_backend_warns_naming_it(world: dict) -> None:
    setting = search_setting("mmseqs2", world["db"], SEARCH)
    trained = {**setting.describe(), "backend": "psiblast", "parameters": {"evalue": 10.0}}
    provenance = {"encoding": encoding_spec(), "profiles": trained}
    (line,) = check_model_provenance(world["model"], provenance, setting)
    assert str(world["model"]) in line and "backend 'psiblast' -> 'mmseqs2'" in line
    assert "database checksum" not in line and "evalue 10.0 -> 0.001" in line
    assert check_model_provenance(world["model"], {**provenance, "profiles": None}, setting)


# ---------------------------------------------------------------- defaults: model and database
@pytest.fixture
def fresh_clone(world: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The CLI's repository moved to an empty folder (no models/, no resources/); a mirror
    holding the world's database FASTA, declared as the config's one database file."""
    repo = tmp_path / "clone"
    repo.mkdir()
    monkeypatch.setattr(cli, "REPO_ROOT", repo)
    monkeypatch.setattr(cli, "RELEASED_MODEL", repo / "models" / "secondary_structure" / "model.pt")
    mirror = tmp_path / "mirror"
    (mirror / "seqdb").mkdir(parents=True)
    source = world["root"] / "db.fasta.gz"
    (mirror / "seqdb" / "tiny.fasta.gz").write_bytes(source.read_bytes())
    config = yaml.safe_load(world["config"].read_text())
    config["files"]["tiny_db"] = {
        "url": None, "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "mirror_path": "seqdb/tiny.fasta.gz",
    }  # fmt: skip
    config["profile_databases"] = {"tiny": ["tiny_db"]}
    config["profiles"]["database"] = "tiny"
    path = tmp_path / "clone_config.yaml"
    path.write_text(yaml.safe_dump(config))
    return {"repo": repo, "mirror": mirror, "config": path, "db": repo / "resources" / "profile_db"}


def _run_default(world: dict, clone: dict, out: Path, extra: list[str], model: bool = True) -> int:
    """``protrnn predict`` without --database (and without --model unless ``model``)."""
    argv = ["predict", "--fasta", str(world["good"]), "--out", str(out)]
    argv += ["--config", str(clone["config"]), *extra]
    return main(argv + (["--model", str(world["model"])] if model else []))


def _mirror(clone: dict) -> list[str]:
    return ["--mirror", str(clone["mirror"])]


def _failed(code: int, capsys: pytest.CaptureFixture, n_lines: int = 1) -> list[str]:
    """Assert exit status 2 and ``n_lines`` lines on stderr, the last an error; return them."""
    lines = capsys.readouterr().err.splitlines()
    assert code == 2 and len(lines) == n_lines, lines
    assert lines[-1].startswith("protrnn: error: "), lines
    return lines


def test_no_model_given_uses_the_released_model(
    world: dict, fresh_clone: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Without --model: the released model of the repository, or one line naming it."""
    out = tmp_path / "out"
    lines = _failed(_run_default(world, fresh_clone, out, _mirror(fresh_clone), False), capsys)
    assert f"the released model {cli.RELEASED_MODEL} does not exist" in lines[0]
    assert not out.exists() and not fresh_clone["db"].exists()
    cli.RELEASED_MODEL.parent.mkdir(parents=True)
    cli.RELEASED_MODEL.write_bytes(world["model"].read_bytes())
    assert _run_default(world, fresh_clone, out, _mirror(fresh_clone), False) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == str(cli.RELEASED_MODEL) and summary["warnings"] == []


def test_default_database_is_built_once_from_the_mirror(
    world: dict, fresh_clone: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """No --database on a fresh clone: fetched (sha256 checked), built in place, one line; the
    second run reuses it silently, and its outputs equal those of the given database."""
    out = tmp_path / "out"
    assert _run_default(world, fresh_clone, out, _mirror(fresh_clone)) == 0
    lines = capsys.readouterr().err.splitlines()
    folder = fresh_clone["db"] / "tiny" / "mmseqs2"
    assert len(lines) == 1 and lines[0].startswith("protrnn: building the profile database tiny")
    assert str(folder) in lines[0] and str(fresh_clone["mirror"]) in lines[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["warnings"] == [] and summary["database"] == str(folder / "db")
    assert summary["profiles"] == summary["model_profiles"]
    assert (fresh_clone["repo"] / "resources" / "downloads" / "tiny_db").is_file()
    assert [p.name for p in (fresh_clone["db"] / "tiny").iterdir()] == ["mmseqs2"]
    assert _run_default(world, fresh_clone, tmp_path / "again", []) == 0  # no mirror needed now
    assert capsys.readouterr().err == ""
    _predict(world, tmp_path / "given", cache_dir=None)
    for name in ("predictions.fasta", "ss2/p1.ss2", "ss2/p1.ss8", "ss2/p2.ss8"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "given" / name).read_bytes()


def test_default_database_of_a_bad_mirror_file(
    world: dict, fresh_clone: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A mirror file of another checksum: one line naming the file key, nothing left behind."""
    (fresh_clone["mirror"] / "seqdb" / "tiny.fasta.gz").write_bytes(gzip.compress(b">x\nMKV\n"))
    code = _run_default(world, fresh_clone, tmp_path / "out", _mirror(fresh_clone))
    lines = _failed(code, capsys, n_lines=2)
    assert lines[0].startswith("protrnn: building") and "checksum mismatch for tiny_db" in lines[1]
    downloads = fresh_clone["repo"] / "resources" / "downloads"
    assert list(downloads.iterdir()) == [] and not fresh_clone["db"].exists()
    assert not (tmp_path / "out").exists()


def test_default_database_without_a_mirror(
    world: dict, fresh_clone: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A mirror-only file and no mirror: one line saying to give --mirror."""
    lines = _failed(_run_default(world, fresh_clone, tmp_path / "out", []), capsys, n_lines=2)
    assert "tiny_db is only available through a mirror" in lines[1]
    assert "give --mirror DIR" in lines[1] and not fresh_clone["db"].exists()


def test_bad_fasta_fails_before_the_database_is_built(
    world: dict, fresh_clone: dict, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fasta = tmp_path / "bad.fa"
    fasta.write_text(">p1\nAC1DE\n")
    code = main(["predict", "--fasta", str(fasta), "--out", str(tmp_path / "out"),
                 "--config", str(fresh_clone["config"]), "--model", str(world["model"]),
                 *_mirror(fresh_clone)])  # fmt: skip
    lines = _failed(code, capsys)
    assert str(fasta) in lines[0] and not (fresh_clone["repo"] / "resources").exists()

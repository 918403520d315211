"""encode.features: the feature-block registry, today's encoding kept key for key, the profiles'
extra columns through shards, cache and encoding, and training and prediction with other
features (a model never meets features it was not trained on)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from protrnn.config import ConfigError, encode_params, read_config_file, validate_config
from protrnn.config.encoding import dataset_features, default_features
from protrnn.config.schema import load_schema
from protrnn.core.alphabet import AA_ALPHABET, AMINO_ACIDS, sequence_hash
from protrnn.encode import (
    BASE_FEATURES,
    FEATURE_BLOCKS,
    N_FEATURES,
    encode_dataset,
    encoding_spec,
    features_of_encoding,
    load_encoded,
    scale_pssm,
)
from protrnn.model.checkpoint import read_model_provenance
from protrnn.model.inference import load_model, predict_proba
from protrnn.model.train import train
from protrnn.model.zoo import build_model
from protrnn.profiles import extras as ex
from protrnn.profiles.cache import ProfileCache
from protrnn.profiles.search import Profiles
from protrnn.profiles.store import read_provenance, read_shard, write_shard
from tests.extras_checks import dataset
from tests.synthetic import mutate, random_seq

REPO = Path(__file__).resolve().parents[1]
#: The encoding of every release before encode.features existed (a literal copy; never edit).
TODAYS_SPEC = {
    "version": 1,
    "features": ["onehot21", "pssm_logistic20"],
    "n_features": 41,
    "aa_alphabet": "ARNDCQEGHILKMFPSTWYVX",
    "pssm_columns": "ARNDCQEGHILKMFPSTWYV",
}
ALL = ("onehot", "pssm", "profile_probs", "information", "depth", "gap_fraction")
TINY_RNN = {"type": "rnn", "cell": "gru", "hidden": 8, "layers": 1, "dropout": 0.0}
PRESET = {"epochs": 1, "batch_size": 4, "lr": 0.01, "patience": 5, "threads": 1}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---------------------------------------------------------------- the registry and the default
def test_base_encoding_is_todays_key_for_key(tmp_path: Path) -> None:
    assert BASE_FEATURES == ("onehot", "pssm") and N_FEATURES == 41
    assert encoding_spec() == TODAYS_SPEC and encoding_spec(["onehot", "pssm"]) == TODAYS_SPEC
    table, pssms, extras = dataset(3)
    encode_dataset(table, pssms, tmp_path / "d.npz", extras=extras)  # extras unused
    with np.load(tmp_path / "d.npz") as data:
        assert "extra" not in data.files
        assert json.loads(str(data["provenance"]))["encoding"] == TODAYS_SPEC
    enc = load_encoded(tmp_path / "d.npz")
    assert enc.feature_blocks == BASE_FEATURES and enc.extra is None and enc.n_features == 41
    assert features_of_encoding(TODAYS_SPEC, "x") == BASE_FEATURES
    assert features_of_encoding(None, "x") == BASE_FEATURES  # files before provenance


def test_schema_config_and_rule_params_agree_with_the_registry() -> None:
    schema = load_schema()["properties"]
    experiment = schema["experiments"]["additionalProperties"]["properties"]["features"]
    assert schema["encode"]["properties"]["features"]["items"]["enum"] == list(FEATURE_BLOCKS)
    assert experiment["items"]["enum"] == list(FEATURE_BLOCKS)
    assert default_features() == list(FEATURE_BLOCKS)  # all six blocks, in registry order
    config = read_config_file(REPO / "config" / "config.yaml")
    assert config["encode"]["features"] == default_features()
    assert validate_config(config)["encode"]["features"] == default_features()
    for bad in (["onehot", "bogus"], ["pssm", "pssm"], []):
        with pytest.raises(ConfigError, match="encode.features"):
            validate_config({**config, "encode": {"features": bad}})
    del config["encode"]
    assert validate_config(config)["encode"]["features"] == default_features()


def test_only_the_base_encoding_leaves_rule_encode_without_a_param() -> None:
    """Outputs encoded before encode.features existed (one-hot ++ PSSM, no param) stay current;
    any other choice, the default of all six blocks included, is a param, so a workflow whose
    outputs were encoded with the base blocks re-encodes and retrains when the default changes."""
    base = {"encode": {"features": list(BASE_FEATURES)}}
    assert encode_params(base) == {}
    assert encode_params({}) == {"features": default_features()}
    assert encode_params({"encode": {"features": ["onehot", "depth"]}}) == {
        "features": ["onehot", "depth"]
    }


def test_extra_blocks_are_scaled_as_documented(tmp_path: Path) -> None:
    table, pssms, extras = dataset(3)
    encode_dataset(table, pssms, tmp_path / "d.npz", features=ALL, extras=extras)
    enc = load_encoded(tmp_path / "d.npz")
    spec = encoding_spec(ALL)
    assert enc.feature_blocks == ALL and enc.n_features == 64 == spec["n_features"]
    assert spec["features"] == [
        "onehot21", "pssm_logistic20", "profile_probs_identity20", "information_saturating1",
        "depth_log1", "gap_fraction_identity1",
    ]  # fmt: skip
    assert spec["extras_version"] == ex.EXTRAS_VERSION and enc.provenance["encoding"] == spec
    seq = table["sequence"][1]
    raw, pssm = extras[sequence_hash(seq)].astype(np.float64), pssms[sequence_hash(seq)]
    x = enc.features(1)
    assert x.shape == (len(seq), 64) and x.dtype == np.float32
    assert [AA_ALPHABET[j] for j in x[:, :21].argmax(1)] == list(seq)
    assert np.allclose(x[:, 21:41], scale_pssm(pssm), atol=1e-3)
    assert np.allclose(x[:, 41:61], raw[:, :20], atol=1e-3)
    assert np.allclose(x[:, 61], 1 - 2.0 ** -raw[:, 20], atol=1e-3)
    assert np.allclose(x[:, 62], np.minimum(np.log2(1 + raw[:, 21]) / 10, 1), atol=1e-3)
    assert np.allclose(x[:, 63], raw[:, 22], atol=1e-3)
    # another order is another encoding; the default set of the same table digests differently
    encode_dataset(table, pssms, tmp_path / "r.npz", features=("pssm", "onehot"))
    reordered = load_encoded(tmp_path / "r.npz")
    assert np.array_equal(reordered.features(1)[:, :20], enc.features(1)[:, 21:41])
    encode_dataset(table, pssms, tmp_path / "default.npz")
    digests = {load_encoded(tmp_path / f"{n}.npz").digest() for n in ("d", "r", "default")}
    assert len(digests) == 3


def test_no_hit_extras_are_background_and_zeros(tmp_path: Path) -> None:
    none = ex.no_hit_extras(4)
    assert np.allclose(none[:, ex.PROBS], ex.BACKGROUND) and not none[:, 20:].any()
    assert ex.BACKGROUND.shape == (20,) and ex.BACKGROUND.sum() == pytest.approx(1.0)
    assert ex.BACKGROUND[AMINO_ACIDS.index("L")] > ex.BACKGROUND[AMINO_ACIDS.index("W")]
    assert ex.relative_entropy(ex.BACKGROUND[None, :])[0] == pytest.approx(0.0, abs=1e-9)
    table, pssms, extras = dataset(1)
    key = sequence_hash(table["sequence"][0])
    extras[key] = ex.quantized(ex.no_hit_extras(len(table["sequence"][0])))
    encode_dataset(table, pssms, tmp_path / "d.npz", features=ALL, extras=extras)
    x = load_encoded(tmp_path / "d.npz").features(0)
    assert np.allclose(x[:, 41:61], ex.BACKGROUND, atol=1e-3) and not x[:, 61:].any()


def test_shards_store_extras_and_older_shards_are_refused(tmp_path: Path) -> None:
    _, pssms, extras = dataset(3)
    shard = tmp_path / "shard0.npz"
    write_shard(shard, Profiles(pssms, extras), {"backend": "mmseqs2"})
    back = read_shard(shard, extras=True)
    assert back.keys() == pssms.keys() and back.extras.keys() == pssms.keys()
    for key in pssms:
        assert np.array_equal(back[key], pssms[key])
        assert (
            np.array_equal(back.extras[key], extras[key]) and back.extras[key].dtype == np.float32
        )
    assert read_provenance(shard)["extras"] == {"version": 1, "columns": list(ex.EXTRA_COLUMNS)}
    assert read_shard(shard).keys() == pssms.keys()  # PSSMs only unless asked
    # a shard written before the extras existed: its PSSMs load, its extras are refused
    old = tmp_path / "shard1.npz"
    write_shard(old, dict(pssms), {"backend": "mmseqs2"})
    assert "extras" not in read_provenance(old) and read_shard(old).keys() == pssms.keys()
    with pytest.raises(ValueError, match=r"shard1\.npz holds no extra profile columns"):
        read_shard(old, extras=True)
    record = read_provenance(shard)
    record["extras"]["version"] = 0
    shard.with_suffix(".json").write_text(json.dumps(record))
    with pytest.raises(
        ValueError, match=r"shard0\.npz holds no extra profile columns of version 1"
    ):
        read_shard(shard, extras=True)


def test_cache_entries_without_extras_count_as_missing(tmp_path: Path) -> None:
    _, pssms, extras = dataset(2)
    cache = ProfileCache(tmp_path, "sum", "mmseqs2", {}, "18-8cc5c", "code")
    cache.put_many(Profiles(pssms, extras))
    keys = list(pssms)
    assert cache.missing(keys) == []
    lengths = {k: "A" * len(v) for k, v in pssms.items()}
    got = cache.get_profiles(lengths)
    assert all(np.array_equal(got.extras[k], extras[k]) for k in keys)
    cache.extras_path(keys[0]).unlink()  # as an entry written before the extras existed
    assert cache.path(keys[0]).is_file() and cache.missing(keys) == [keys[0]]
    assert cache.extras_path(keys[1]).name == f"{keys[1]}.extras1.npy"  # versioned name


# ---------------------------------------------------------------- training and prediction
def test_train_and_predict_with_other_features(tmp_path: Path) -> None:
    features = ("onehot", "profile_probs", "information", "depth", "gap_fraction")
    table, pssms, extras = dataset(12)
    data = tmp_path / "train.npz"
    encode_dataset(table, pssms, data, features=features, extras=extras)
    summary = train(TINY_RNN, PRESET, data, tmp_path / "m", seed=1, log=lambda s: None)
    assert summary
    saved = torch.load(tmp_path / "m" / "model.pt", weights_only=False)
    assert saved["features"] == 44
    assert read_model_provenance(tmp_path / "m" / "model.pt")["encoding"] == encoding_spec(features)
    model = load_model(tmp_path / "m" / "model.pt", "cpu")
    assert model.feature_blocks == features
    preds = predict_proba(model, load_encoded(data), "cpu")
    assert len(preds) == 12 and preds[0]["ss8"].shape == (len(table["sequence"][0]), 8)
    # the same proteins encoded with other features (even of the same width) are refused
    encode_dataset(table, pssms, tmp_path / "default.npz")
    with pytest.raises(ValueError, match="trained on features"):
        predict_proba(model, load_encoded(tmp_path / "default.npz"), "cpu")
    same_width = ("onehot", "pssm", "information", "depth", "gap_fraction")
    encode_dataset(table, pssms, tmp_path / "w.npz", features=same_width, extras=extras)
    with pytest.raises(ValueError, match="trained on features"):
        predict_proba(model, load_encoded(tmp_path / "w.npz"), "cpu")


def _save(path: Path, encoding: dict | None, n_features: int) -> Path:
    model = build_model(TINY_RNN, n_features)
    content = {"spec": TINY_RNN, "state_dict": model.state_dict(), "features": n_features}
    if encoding is not None:
        content["provenance"] = {"encoding": encoding, "profiles": None}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(content, path)
    return path


def test_models_of_todays_encoding_still_load_and_predict(tmp_path: Path) -> None:
    table, pssms, _ = dataset(2)
    encode_dataset(table, pssms, tmp_path / "d.npz")
    for encoding in (TODAYS_SPEC, None):  # today's model.pt, and one without provenance
        model = load_model(_save(tmp_path / "today" / "model.pt", encoding, 41), "cpu")
        assert model.feature_blocks == BASE_FEATURES
        assert len(predict_proba(model, load_encoded(tmp_path / "d.npz"), "cpu")) == 2


@pytest.fixture
def tiny_database(tmp_path: Path) -> tuple[Path, dict]:
    """An MMseqs2 database of a family (12 homologues of ``query``) and decoys."""
    from protrnn.core.tools import find_mmseqs
    from protrnn.profiles.backends.mmseqs2 import build_mmseqs_db

    try:
        mmseqs = find_mmseqs()
    except FileNotFoundError as err:
        pytest.skip(f"MMseqs2 not available: {err}")
    rng = np.random.default_rng(11)
    query = random_seq(rng, 120)
    fasta = tmp_path / "db.fasta.gz"
    with gzip.open(fasta, "wt") as fh:
        seqs = [mutate(rng, query, 0.3) for _ in range(12)]
        for i, seq in enumerate(seqs + [random_seq(rng, 110) for _ in range(20)]):
            fh.write(f">db{i}\n{seq}\n")
    prefix = tmp_path / "profile_db" / "mmseqs2" / "db"
    build_mmseqs_db([fasta], prefix, 1, mmseqs, create_index=False)
    return prefix, {"query": query, "orphan": random_seq(rng, 60)}


def test_protrnn_predict_encodes_with_the_models_features(
    tmp_path: Path, tiny_database: tuple[Path, dict]
) -> None:
    """A model trained on extra-column features gets exactly those from a real search."""
    from protrnn.predict import predict_fasta

    prefix, seqs = tiny_database
    features = ("onehot", "pssm", "profile_probs", "information", "depth", "gap_fraction")
    table, pssms, extras = dataset(8)
    encode_dataset(table, pssms, tmp_path / "train.npz", features=features, extras=extras)
    train(TINY_RNN, PRESET, tmp_path / "train.npz", tmp_path / "m", seed=1, log=lambda s: None)
    fasta = tmp_path / "q.fasta"
    fasta.write_text(f">fam\n{seqs['query']}\n>orphan\n{seqs['orphan']}\n")
    params = {"num_iterations": 2, "sensitivity": 4.0}
    summary = predict_fasta(fasta, tmp_path / "m" / "model.pt", prefix, params, tmp_path / "out")
    assert summary["n_proteins"] == 2
    encoded = load_encoded(tmp_path / "out" / "encoded.npz")
    assert encoded.feature_blocks == features and encoded.n_features == 64
    fam, orphan = encoded.features(0), encoded.features(1)
    assert fam[:, 62].max() > 0.3  # depth: the family's homologues align
    assert not orphan[:, 61:].any()  # no hits: information, depth, gap fraction 0
    assert np.allclose(orphan[:, 41:61], ex.BACKGROUND, atol=1e-3)


def encode_rule_params(tmp_path: Path, config: dict):
    """Rule encode's params through the Snakemake API, with ``config`` as the workflow's."""
    api = pytest.importorskip("snakemake.api")
    from snakemake.settings.types import ResourceSettings

    (tmp_path / "Snakefile").write_text(
        f"import sys\nsys.path.insert(0, {str(REPO)!r})\nfrom protrnn import paths\n"
        f"config.update({config!r})\n"
        "def profile_shards(dataset, pattern=None):\n    return []\n"
        "def script_code(script):\n    return 'code'\n"
        f"include: {str(REPO / 'rules' / 'encode.smk')!r}\n"
    )
    with api.SnakemakeApi() as snakemake:
        workflow = snakemake.workflow(
            snakefile=tmp_path / "Snakefile",
            resource_settings=ResourceSettings(cores=1),
            workdir=tmp_path,
        )
        return workflow._workflow.get_rule("encode").params


@pytest.mark.parametrize(
    ("features", "param"),
    [
        (None, list(FEATURE_BLOCKS)),  # the default: all six blocks
        (["onehot", "pssm"], None),
        (["onehot", "pssm", "depth"], ["onehot", "pssm", "depth"]),
    ],
)
def test_rule_encode_has_a_features_param_unless_base(
    tmp_path: Path, features: list[str] | None, param: list[str] | None
) -> None:
    """One-hot ++ PSSM adds no param (outputs encoded before encode.features existed stay
    current); any other choice, the default included, is the param ``features`` (a change
    reruns encode and what follows)."""
    encode = {"features": features} if features else {}
    params = encode_rule_params(
        tmp_path, {"encode": encode, "datasets": {"d": {"task": "per_residue"}}}
    )
    assert getattr(params, "features", None) == param
    assert params.task is not None  # the other params are there


def test_an_experiment_with_its_own_features_encodes_its_datasets_with_them() -> None:
    """experiments.*.features applies to the experiment's training and test datasets; the other
    datasets keep encode.features; two experiments that would encode one dataset two ways are a
    ConfigError naming both."""
    config = validate_config(read_config_file(REPO / "config" / "config.yaml"))
    config["experiments"]["localization"]["features"] = list(BASE_FEATURES)
    config = validate_config(config)
    chosen = dataset_features(config)
    assert chosen["deeploc2"] == chosen["deeploc1_test"] == list(BASE_FEATURES)
    assert chosen["cb513"] == chosen["netsurfp2_train"] == default_features()
    param = encode_params(config)["features"]
    assert param(SimpleNamespace(dataset="deeploc2")) == list(BASE_FEATURES)
    assert param(SimpleNamespace(dataset="ts115")) == default_features()
    twin = {**config["experiments"]["secondary_structure"], "features": ["onehot", "pssm"]}
    config["experiments"]["ss_twin"] = {
        **twin,
        "test_sets": {f"{k}_twin": v for k, v in twin["test_sets"].items()},
    }
    with pytest.raises(ConfigError, match=r"experiments.ss_twin.features .*'netsurfp2_train'.*"):
        validate_config(config)


def test_rule_encode_takes_each_datasets_features_from_its_experiment(tmp_path: Path) -> None:
    experiments = {
        "loc": {"train_dataset": "p", "test_sets": {"t": {"dataset": "p"}}, "features": ["onehot"]},
        "ss": {"train_dataset": "r", "test_sets": {"u": {"dataset": "r"}}},
    }
    datasets = {"p": {"task": "per_protein"}, "r": {"task": "per_residue"}}
    params = encode_rule_params(tmp_path, {"experiments": experiments, "datasets": datasets})
    assert params.features(SimpleNamespace(dataset="p")) == ["onehot"]
    assert params.features(SimpleNamespace(dataset="r")) == default_features()

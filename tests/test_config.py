"""Config validation: wrong keys and types stop the run with a message naming the key."""

from pathlib import Path

import pytest
import yaml

from protrnn.config import ConfigError, load_config, model_spec, validate_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "config.yaml"


def base() -> dict:
    return yaml.safe_load(CONFIG.read_text())


def test_default_config_is_valid_and_gets_defaults():
    config = load_config(CONFIG)
    assert config["profiles"]["mmseqs2"]["num_iterations"] == 3
    tests = config["experiments"]["secondary_structure"]["test_sets"]
    assert tests["cb513"]["mask"] == "eval_mask"
    assert config["datasets"]["cb513"]["split"] == "test"
    assert config["profiles"]["cache_dir"] == "resources/profile_cache"


def test_misspelled_key_is_named():
    config = base()
    config["presets"]["cpu"]["epochz"] = 3
    with pytest.raises(ConfigError, match=r"presets\.cpu.*'epochz' was unexpected"):
        validate_config(config)


def test_wrong_type_is_named():
    config = base()
    config["profiles"]["shards"] = "eight"
    with pytest.raises(ConfigError, match=r"profiles\.shards: 'eight' is not of type 'integer'"):
        validate_config(config)


def test_nested_command_line_values_are_read_as_yaml():
    """snakemake --config presets='{cpu: {epochs: 3, max_train_proteins: null}}' passes strings."""
    config = base()
    config["presets"]["cpu"]["epochs"] = "3"
    config["presets"]["cpu"]["max_train_proteins"] = "null"
    config["presets"]["cpu"]["lr"] = "1e-3"
    validated = validate_config(config)
    assert validated["presets"]["cpu"]["epochs"] == 3
    assert validated["presets"]["cpu"]["max_train_proteins"] is None
    assert validated["presets"]["cpu"]["lr"] == 0.001
    config["presets"]["cpu"]["epochs"] = "three"
    with pytest.raises(ConfigError, match=r"presets\.cpu\.epochs: 'three' is not of type"):
        validate_config(config)


def test_bad_checksum_format_is_named():
    config = base()
    config["files"]["netsurfp2_cb513_csv"]["sha256"] = "abc"
    with pytest.raises(ConfigError, match=r"files\.netsurfp2_cb513_csv\.sha256"):
        validate_config(config)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            ("experiments", "secondary_structure", "train_dataset"),
            "nope",
            r"experiments\.secondary_structure\.train_dataset: 'nope' is not in datasets",
        ),
        (("train", "experiments"), ["nope"], r"train\.experiments: 'nope' is not in experiments"),
        (("train", "preset"), "huge", r"train\.preset: 'huge' is not in presets"),
        (("profiles", "database"), "uniref", r"profiles\.database"),
        (
            ("experiments", "secondary_structure", "test_sets", "cb513", "dataset"),
            "nope",
            r"test_sets\.cb513\.dataset: 'nope' is not in datasets",
        ),
        (("datasets", "cb513", "files", "csv"), "missing_file", r"datasets\.cb513\.files\.csv"),
    ],
)
def test_cross_references(path, value, message):
    config = base()
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=message):
        validate_config(config)


def test_experiment_models_must_exist():
    config = base()
    config["experiments"]["secondary_structure"]["models"] = ["bigru", "transformer"]
    with pytest.raises(
        ConfigError, match=r"secondary_structure\.models: 'transformer' is not in models"
    ):
        validate_config(config)


def test_test_set_task_must_match_training_task():
    config = base()
    config["datasets"]["cb513"]["task"] = "per_protein"
    config["datasets"]["cb513"]["classes"] = ["a", "b"]
    with pytest.raises(ConfigError, match=r"test_sets\.cb513: dataset 'cb513' is per_protein"):
        validate_config(config)


def test_test_set_names_are_unique_across_experiments():
    config = base()
    exp = config["experiments"]["secondary_structure"]
    config["experiments"]["other"] = {**exp, "test_sets": {"cb513": {"dataset": "ts115"}}}
    with pytest.raises(ConfigError, match="test set name already used"):
        validate_config(config)


def test_training_datasets_get_their_profiles_first():
    """Priority = models training on the dataset: training starts early, test sets fill gaps."""
    from protrnn.config import jobs

    config = load_config(CONFIG)
    priority = {d: jobs.profile_priority(config, d) for d in ("netsurfp2_train", "deeploc2")}
    assert priority == {"netsurfp2_train": 6, "deeploc2": 3}
    assert jobs.profile_priority(config, "cb513") == jobs.profile_priority(config, "ts115") == 0
    config["train"]["experiments"] = ["localization"]
    assert jobs.profile_priority(config, "netsurfp2_train") == 0


def test_only_per_protein_datasets_are_cut_to_their_termini():
    config = base()
    config["datasets"]["ts115"]["max_length"] = 1000
    with pytest.raises(ConfigError, match=r"datasets\.ts115\.max_length: only per_protein"):
        validate_config(config)
    config = load_config(CONFIG)
    assert config["datasets"]["deeploc2"]["max_length"] == 1000
    assert config["datasets"]["deeploc1_test"]["max_length"] == 1000


def test_per_protein_dataset_needs_classes():
    config = base()
    config["datasets"]["ts115"]["task"] = "per_protein"
    with pytest.raises(ConfigError, match=r"datasets\.ts115\.classes: required"):
        validate_config(config)


def test_model_spec_follows_preset_size():
    config = load_config(CONFIG)
    assert model_spec(config, "cnn_bigru")["hidden"] == config["models"]["cnn_bigru"]["hidden"]
    config["train"]["preset"] = "gpu"
    full = model_spec(config, "cnn_bigru")
    assert full["hidden"] == 300 and full["layers"] == 3 and full["fc"] == [300, 300]
    assert "full" not in full and "small" not in full


def test_experiment_preset_overrides():
    from protrnn.config import active_preset

    config = load_config(CONFIG)
    assert active_preset(config, "localization")["max_train_proteins"] == 8000
    assert active_preset(config, "secondary_structure")["max_train_proteins"] is None
    bad = base()
    bad["experiments"]["localization"]["presets"] = {"cpu": {"epochz": 3}}
    with pytest.raises(ConfigError, match=r"localization\.presets\.cpu: .*'epochz'"):
        validate_config(bad)
    bad["experiments"]["localization"]["presets"] = {"tpu": {"epochs": 3}}
    with pytest.raises(ConfigError, match=r"localization\.presets\.tpu: not a preset"):
        validate_config(bad)


def test_per_model_preset_overrides():
    from protrnn.config import jobs, model_preset

    config = load_config(CONFIG)
    rnn = model_preset(config, "secondary_structure", "rnn")
    assert (rnn["max_train_proteins"], rnn["epochs"]) == (5000, 3) and "models" not in rnn
    bigru = model_preset(config, "secondary_structure", "bigru")
    assert (
        bigru["max_train_proteins"] is None
        and bigru["epochs"] == config["presets"]["cpu"]["epochs"]
    )
    # the dataset keeps what its most demanding model needs: all chains here
    assert jobs.dataset_max_train_proteins(config, "netsurfp2_train") is None
    only = load_config(CONFIG)
    only["experiments"]["secondary_structure"]["models"] = ["rnn", "cnn"]
    assert jobs.dataset_max_train_proteins(only, "netsurfp2_train") == 5000
    # an experiment's own per-model keys narrow its preset for that model only
    assert model_preset(config, "localization", "bilstm_last")["max_train_proteins"] == 2500
    assert model_preset(config, "localization", "cnn_bigru_pool")["max_train_proteins"] == 8000
    assert jobs.dataset_max_train_proteins(config, "deeploc2") == 8000
    # an experiment's per-model keys merge into the preset's, model by model
    config["experiments"]["localization"]["presets"]["cpu"]["models"] = {"deeploc": {"epochs": 2}}
    assert model_preset(config, "localization", "deeploc")["epochs"] == 2
    # the experiment's cap, as no model key narrows it any more
    assert model_preset(config, "localization", "deeploc")["max_train_proteins"] == 8000
    assert model_preset(config, "localization", "bilstm_last")["epochs"] == 8


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ({"bigrux": {"epochs": 2}}, r"presets\.cpu\.models\.bigrux: not a model"),
        ({"rnn": {"epochz": 2}}, r"presets\.cpu\.models\.rnn: .*'epochz' was unexpected"),
        ({"rnn": {"epochs": 0}}, r"presets\.cpu\.models\.rnn: 0 is less than the minimum"),
        ({"rnn": {"models": {}}}, r"presets\.cpu\.models\.rnn: per-model overrides cannot"),
    ],
)
def test_bad_per_model_preset_is_named(models: dict, message: str):
    config = base()
    config["presets"]["cpu"]["models"] = models
    with pytest.raises(ConfigError, match=message):
        validate_config(config)
    config = base()
    config["experiments"]["localization"]["presets"]["cpu"]["models"] = models
    with pytest.raises(ConfigError, match=message.replace("presets", "localization\\.presets", 1)):
        validate_config(config)


def test_model_type_must_fit_the_task():
    config = base()
    config["experiments"]["localization"]["models"] = ["bigru"]
    with pytest.raises(ConfigError, match=r"'bigru' \(type rnn\) does not fit the per_protein"):
        validate_config(config)


def test_folds_expand_into_one_experiment_per_partition():
    config = base()
    config["experiments"]["localization"]["folds"] = 5
    config["train"]["experiments"] = ["localization"]
    expanded = validate_config(config)
    names = [f"localization_fold{k}" for k in range(5)]
    assert [e for e in expanded["experiments"] if e.startswith("localization")] == names
    assert expanded["train"]["experiments"] == names
    fold = expanded["experiments"]["localization_fold3"]
    assert fold["train_dataset"] == "deeploc2_fold3" and fold["fold"] == 3
    assert fold["test_sets"]["deeploc2_holdout_fold3"]["dataset"] == "deeploc2_fold3"
    assert fold["test_sets"]["deeploc1_test_fold3"]["dataset"] == "deeploc1_test"
    assert expanded["datasets"]["deeploc2_fold3"]["options"]["test_partition"] == 3
    bad = base()
    bad["experiments"]["secondary_structure"]["folds"] = 5
    with pytest.raises(ConfigError, match=r"secondary_structure\.folds: 5 folds need"):
        validate_config(bad)


# -- reading files, merging overlays ----------------------------------------------------------


def test_overlays_merge_like_snakemake(tmp_path: Path):
    """Mappings merge key by key (tiny_config sets only some keys of a dataset); lists replace."""
    from protrnn.config import load_config_files, merge_config

    tiny = ROOT / "tests" / "data" / "tiny_config.yaml"
    config = load_config_files([CONFIG, tiny])
    assert config["datasets"]["cb513"]["max_proteins"] == 10
    assert config["datasets"]["cb513"]["format"] == "netsurfp_csv"  # kept from config.yaml
    assert config["experiments"]["localization"]["models"] == ["deeploc", "bilstm_last"]
    assert merge_config({"a": {"b": 1, "c": [1]}, "d": None}, {"a": {"c": [2]}, "d": {"e": 3}}) == {
        "a": {"b": 1, "c": [2]},
        "d": {"e": 3},
    }


def test_yaml_anchors_and_merge_keys_are_not_duplicates(tmp_path: Path):
    from protrnn.config import read_config_file

    path = tmp_path / "c.yaml"
    path.write_text("a: &x {p: 1, q: 2}\nb:\n  <<: *x\n  p: 3\n")
    assert read_config_file(path) == {"a": {"p": 1, "q": 2}, "b": {"p": 3, "q": 2}}


# -- the prediction model ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        (None, "secondary_structure/cnn_bigru"),
        ("bigru", "secondary_structure/bigru"),
        ("secondary_structure/rnn", "secondary_structure/rnn"),
    ],
)
def test_prediction_model(chosen, expected):
    from protrnn.config import prediction_model

    config = base()
    config.update(predict_fasta="p.fasta", predict_model=chosen)
    assert prediction_model(validate_config(config)) == expected


# -- the jobs of the configured run -----------------------------------------------------------


def test_rule_jobs_of_the_tiny_run():
    from protrnn import paths
    from protrnn.config import jobs, load_config_files

    config = load_config_files([CONFIG, ROOT / "tests" / "data" / "tiny_config.yaml"])
    found = jobs.rule_jobs(config)
    assert set(found) == set(paths.JOBS) - {"predict", "report"}
    assert found["train"][0] == {"experiment": "secondary_structure", "model": "bigru"}
    # two models and their ensemble per experiment, each on every test set
    assert len(found["evaluate"]) == 3 * 4 + 3 * 2
    assert found["ensemble"] == [
        {"experiment": "secondary_structure"},
        {"experiment": "localization"},
    ]
    assert {j["model"] for j in found["evaluate"]} == {
        "bigru",
        "cnn_bigru",
        "deeploc",
        "bilstm_last",
        "ensemble",
    }
    assert found["profile_database"] == [{"database": "tiny", "backend": "mmseqs2"}]
    shards = [j for j in found["profile_search"] if j["dataset"] == "cb513"]
    assert shards == [{"dataset": "cb513", "shard": 0}]  # tiny_config: cb513 has 1 shard
    assert found["download"][-1] == {"file": "seqdb_prokka_sprot_mitochondria"}
    assert jobs.dataset_max_train_proteins(config, "netsurfp2_train") == 40
    assert jobs.dataset_max_train_proteins(config, "cb513") is None


def test_ensemble_size_and_reserved_name():
    from protrnn.config import ensemble_size, scored_models

    config = base()
    config["experiments"]["secondary_structure"]["models"] = ["bigru", "cnn"]
    config["experiments"]["secondary_structure"]["ensemble"] = 3
    config = validate_config(config)
    assert ensemble_size(config, "secondary_structure") == 2  # capped at the model count
    assert scored_models(config, "secondary_structure") == ["bigru", "cnn", "ensemble"]
    config["experiments"]["secondary_structure"]["models"] = ["bigru"]
    assert ensemble_size(config, "secondary_structure") == 0  # one model: no ensemble
    bad = base()
    bad["models"]["ensemble"] = dict(bad["models"]["bigru"])
    with pytest.raises(ConfigError, match="models.ensemble: the name 'ensemble' is reserved"):
        validate_config(bad)


def test_structure_sources_of_pdb_datasets():
    from protrnn.config import jobs

    config = base()
    config["datasets"]["mine"] = {
        "format": "pdb_chains",
        "task": "per_residue",
        "chains": ["1abc_A", "1ABC_B", "2xyz:C"],
        "split": "test",
    }
    config["experiments"]["secondary_structure"]["test_sets"]["mine"] = {"dataset": "mine"}
    config = validate_config(config)
    sources = jobs.structure_sources(config)
    assert list(sources) == ["1ABC", "2XYZ"]
    assert sources["1ABC"]["mirror_path"] == "pdb/1ABC.cif"
    assert jobs.dataset_structures(config, "cb513") == {}


def test_what_the_dag_parse_imports_is_light():
    """rules/common.smk's imports load neither torch, pandas nor numpy (the DAG parse stays
    fast, and --lint / -n work without them)."""
    import re
    import subprocess
    import sys

    text = (ROOT / "rules" / "common.smk").read_text() + (ROOT / "Snakefile").read_text()
    modules = sorted(set(re.findall(r"^(?:from|import) (protrnn[\w.]*)", text, re.M)))
    assert "protrnn.config" in modules and "protrnn.paths" in modules
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules)
    code += "print(sorted(m for m in ('torch', 'pandas', 'numpy') if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def test_schema_formats_are_the_registry_formats():
    """The schema's format list and the format registry the checks read name the same formats."""
    from protrnn.config.schema import load_schema
    from protrnn.data.formats.options import FORMATS

    dataset = load_schema()["properties"]["datasets"]["additionalProperties"]
    assert set(dataset["properties"]["format"]["enum"]) == set(FORMATS)

"""The ``encode`` section and ``experiments.*.features``: the feature blocks of every dataset
(the schema's default, an experiment's own choice) and rule encode's params.

The feature registry itself is :data:`protrnn.encode.FEATURE_BLOCKS` (it needs numpy and pandas,
which the config must not import); the schema lists the same names (tested).
"""

from __future__ import annotations

from collections.abc import Callable

from protrnn.config.errors import ConfigError
from protrnn.config.schema import load_schema

#: One-hot ++ PSSM: the encoding of every file and model that records none (written before
#: ``encode.features`` existed) and of rule encode's outputs without a ``features`` param. Not the
#: workflow's default, which is the schema's (:func:`default_features`).
BASE_FEATURES: tuple[str, ...] = ("onehot", "pssm")


def default_features() -> list[str]:
    """``encode.features``' default in the schema (all six blocks since 2026-12-02)."""
    return list(load_schema()["properties"]["encode"]["properties"]["features"]["default"])


def global_features(config: dict) -> list[str]:
    """``encode.features`` (the schema's default when absent)."""
    return list(config.get("encode", {}).get("features", default_features()))


def dataset_features(config: dict) -> dict[str, list[str]]:
    """Feature blocks per dataset: those of the experiments that train or test on it (they must
    agree: one file, one encoding), else ``encode.features``; ConfigError names the conflict."""
    chosen = {name: global_features(config) for name in config.get("datasets", {})}
    owner: dict[str, str] = {}
    for name, exp in config.get("experiments", {}).items():
        features = list(exp.get("features", global_features(config)))
        used = [exp["train_dataset"], *(t["dataset"] for t in exp.get("test_sets", {}).values())]
        for dataset in used:
            if dataset in owner and chosen[dataset] != features:
                raise ConfigError(
                    f"experiments.{name}.features {features}: dataset {dataset!r} is also used by "
                    f"experiment {owner[dataset]!r} with features {chosen[dataset]}; one dataset "
                    "has one encoding (give both experiments the same features)"
                )
            chosen[dataset], owner[dataset] = features, owner.get(dataset, name)
    return chosen


def encode_params(config: dict) -> dict[str, list[str] | Callable]:
    """Rule encode's params of the feature blocks. Without ``experiments.*.features``: none for
    :data:`BASE_FEATURES` (outputs encoded before ``encode.features`` existed have that encoding
    and stay current), else ``features``, the default included (so a change, of the config or of
    the default, reruns encode and everything downstream). With any experiment's own features:
    ``features`` per dataset for every dataset (a first such setting re-encodes the base ones)."""
    if not any("features" in exp for exp in config.get("experiments", {}).values()):
        features = global_features(config)
        return {} if features == list(BASE_FEATURES) else {"features": features}
    chosen = dataset_features(config)
    return {"features": lambda wildcards: chosen[wildcards.dataset]}

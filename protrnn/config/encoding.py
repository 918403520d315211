"""The ``encode`` section: the default feature blocks (the schema's) and rule encode's params.

The feature registry itself is :data:`protrnn.encode.FEATURE_BLOCKS` (it needs numpy and pandas,
which the config must not import); the schema lists the same names (tested).
"""

from __future__ import annotations

from protrnn.config.schema import load_schema

#: One-hot ++ PSSM: the encoding of every file and model that records none (written before
#: ``encode.features`` existed) and of rule encode's outputs without a ``features`` param. Not the
#: workflow's default, which is the schema's (:func:`default_features`).
BASE_FEATURES: tuple[str, ...] = ("onehot", "pssm")


def default_features() -> list[str]:
    """``encode.features``' default in the schema (all six blocks since 2026-12-02)."""
    return list(load_schema()["properties"]["encode"]["properties"]["features"]["default"])


def encode_params(config: dict) -> dict:
    """Rule encode's params of ``encode.features``: none for :data:`BASE_FEATURES` (outputs
    encoded before the setting existed have that encoding and stay current), else ``features``,
    the default included (so a change, of the config or of the default, reruns encode and
    everything downstream)."""
    features = list(config.get("encode", {}).get("features", default_features()))
    return {} if features == list(BASE_FEATURES) else {"features": features}

"""The ``encode`` section: the default feature blocks (the schema's) and rule encode's params.

The feature registry itself is :data:`protrnn.encode.FEATURE_BLOCKS` (it needs numpy and pandas,
which the config must not import); the schema lists the same names (tested).
"""

from __future__ import annotations

from protrnn.config.schema import load_schema


def default_features() -> list[str]:
    """``encode.features``' default in the schema (today's encoding: one-hot ++ PSSM)."""
    return list(load_schema()["properties"]["encode"]["properties"]["features"]["default"])


def encode_params(config: dict) -> dict:
    """Rule encode's params of ``encode.features``: none for the default (outputs encoded before
    the setting existed have the default encoding and stay current), else ``features`` (so a
    change reruns encode and everything downstream)."""
    features = list(config.get("encode", {}).get("features", default_features()))
    return {} if features == default_features() else {"features": features}

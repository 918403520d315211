"""The fingerprint of a training run: a digest of everything that shapes its result (model spec,
merged preset, seed, training and validation set content, feature encoding, profile provenance).

A checkpoint is resumed only under an equal fingerprint (:mod:`protrnn.model.checkpoint`), and
``model.pt`` records it. Preset keys that say where training runs, not what it computes
(:data:`RUNTIME_KEYS`), are left out, so that a killed job may resume on another machine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from protrnn.encode import EncodedSet

#: Preset keys that do not shape the trained model.
RUNTIME_KEYS = ("threads", "device")
#: Fingerprint parts as named in log lines.
PART_NAMES = {
    "model_spec": "model spec",
    "preset": "preset",
    "seed": "seed",
    "data": "training/validation data",
    "encoding": "feature encoding",
    "profiles": "profile provenance",
}


def canonical_json(value: object) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class Fingerprint:
    """The parts of a training run's inputs (JSON-able) and their digest."""

    parts: dict

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON of :attr:`parts`."""
        return hashlib.sha256(canonical_json(self.parts).encode()).hexdigest()

    def differences(self, other_parts: dict) -> list[str]:
        """Names of the parts that differ from ``other_parts``; for dict parts with the keys
        that differ, e.g. ``preset (epochs)``."""
        found = []
        for key, name in PART_NAMES.items():
            mine, theirs = self.parts.get(key), other_parts.get(key)
            if canonical_json(mine) == canonical_json(theirs):
                continue
            if isinstance(mine, dict) and isinstance(theirs, dict):
                keys = sorted(
                    k
                    for k in set(mine) | set(theirs)
                    if canonical_json(mine.get(k)) != canonical_json(theirs.get(k))
                )
                name = f"{name} ({', '.join(keys)})"
            found.append(name)
        return found


def training_fingerprint(
    model_spec: dict,
    preset: dict,
    seed: int,
    data: EncodedSet,
    train_set: EncodedSet,
    valid_set: EncodedSet,
) -> Fingerprint:
    """The fingerprint of training ``model_spec`` with the merged ``preset`` and ``seed`` on the
    ``train_set``/``valid_set`` split of ``data``."""
    provenance = data.provenance or {}
    return Fingerprint(
        {
            "model_spec": model_spec,
            "preset": {k: v for k, v in preset.items() if k not in RUNTIME_KEYS},
            "seed": seed,
            "data": {"train": train_set.digest(), "valid": valid_set.digest()},
            "encoding": data.encoding(),
            "profiles": provenance.get("profiles"),
        }
    )

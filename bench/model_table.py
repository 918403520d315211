"""Print the models of a config with their parameter counts (markdown), for docs/models.md.

Usage: python bench/model_table.py [config/config.yaml]
Per-protein models are counted with DeepLoc's 10 classes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from protrnn.config import load_config, model_spec
from protrnn.model.zoo import build_model, count_parameters, model_task


def main(argv: list[str]) -> None:
    path = Path(argv[1]) if len(argv) > 1 else Path("config/config.yaml")
    config = load_config(path)
    print("| model | preset size | spec | parameters |")
    print("|---|---|---|---:|")
    for preset in ("cpu", "gpu"):
        if preset not in config["presets"]:
            continue
        config["train"]["preset"] = preset
        size = config["presets"][preset].get("model_size", "small")
        for name in config["models"]:
            spec = model_spec(config, name)
            per_protein = model_task(spec) == "per_protein"
            n = count_parameters(build_model(spec, n_classes=10 if per_protein else None))
            text = ", ".join(f"{k}={v}" for k, v in spec.items())
            print(f"| {name} | {size} ({preset} preset) | {text} | {n:,} |")


if __name__ == "__main__":
    main(sys.argv)

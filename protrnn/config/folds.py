"""Cross-validation folds: which formats have partitions, the check of ``experiments.X.folds``,
and the rewriting of one experiment with ``folds: K`` into K experiments ``{name}_fold{k}``."""

from __future__ import annotations

import copy

from protrnn.config.errors import require
from protrnn.data.formats.options import FOLD_OPTIONS


def _fold_formats() -> str:
    return ", ".join(f"{fmt} up to {n}" for fmt, (_, n) in FOLD_OPTIONS.items())


def check_folds(config: dict) -> None:
    """An experiment's ``folds`` needs a training dataset with at least that many partitions."""
    for name, exp in config["experiments"].items():
        folds = exp.get("folds")
        if not folds:
            continue
        fmt = config["datasets"][exp["train_dataset"]]["format"]
        option, most = FOLD_OPTIONS.get(fmt, (None, 0))
        require(
            option is not None and 2 <= folds <= most,
            f"config key experiments.{name}.folds: {folds} folds need a training dataset whose "
            f"format has partitions ({_fold_formats()})",
        )


def _fold_experiment(exp: dict, train_ds: str, fold_ds: str, k: int) -> dict:
    """Fold ``k`` of ``exp``: trains on ``fold_ds``; its test sets are renamed ``{test}_fold{k}``,
    and those on the training dataset test on ``fold_ds``."""
    tests = {
        f"{test}_fold{k}": {
            **entry,
            "dataset": fold_ds if entry["dataset"] == train_ds else entry["dataset"],
        }
        for test, entry in exp["test_sets"].items()
    }
    return {**copy.deepcopy(exp), "train_dataset": fold_ds, "test_sets": tests, "fold": k}


def expand_folds(config: dict) -> dict:
    """Copy of a checked ``config`` with each experiment with ``folds: K`` replaced by K
    experiments ``{name}_fold{k}``.

    Fold k holds out partition k of the training dataset (a copy ``{dataset}_fold{k}`` with the
    format's fold option set to k); test sets on that dataset become ``{test}_fold{k}``, other
    test sets are scored by every fold as ``{test}_fold{k}``. Profiles are shared through the
    cache, so the copies cost encoding and training only.
    """
    config = copy.deepcopy(config)
    for name, exp in list(config["experiments"].items()):
        folds = exp.pop("folds", None)
        if not folds:
            continue
        train_ds = exp["train_dataset"]
        spec = config["datasets"][train_ds]
        option, _ = FOLD_OPTIONS[spec["format"]]
        del config["experiments"][name]
        for k in range(folds):
            fold_ds = f"{train_ds}_fold{k}"
            config["datasets"][fold_ds] = copy.deepcopy(spec)
            config["datasets"][fold_ds]["options"] = {**spec.get("options", {}), option: k}
            config["experiments"][f"{name}_fold{k}"] = _fold_experiment(exp, train_ds, fold_ds, k)
        selected = config["train"].get("experiments")
        if selected and name in selected:
            config["train"]["experiments"] = [
                e
                for s in selected
                for e in ([f"{s}_fold{k}" for k in range(folds)] if s == name else [s])
            ]
    return config

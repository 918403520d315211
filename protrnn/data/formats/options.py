"""What each dataset format takes: its task, options, side files and fold option (plain data).

This module is the one place that lists the formats. It imports nothing heavy (no pandas, no
parser), so the config checks (:mod:`protrnn.config`) can check a dataset's format and options
when the workflow loads; :mod:`protrnn.data.registry` maps the same names to their parsers.

Options of every format: ``prefix`` (the workflow passes the dataset name; formats whose ids come
from the data ignore it) and the ones in :data:`FORMAT_INFO`. The workflow builds a dataset's
options from its config entry with :func:`dataset_options`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple


class FormatInfo(NamedTuple):
    """What one format is for and what it accepts."""

    #: ``per_residue``, ``per_protein`` or ``either`` (the config's ``task`` says which)
    task: str
    #: option names the parser accepts
    options: frozenset[str]
    #: (option, number of partitions) when the held-out part is chosen by an option
    fold_option: tuple[str, int] | None = None
    #: True when every record gets option ``split`` (default test); False when the data decides
    uniform_split: bool = True


FORMAT_INFO: dict[str, FormatInfo] = {
    "netsurfp_csv": FormatInfo("per_residue", frozenset({"member", "prefix", "split"})),
    "dcrnn_cb513_csv": FormatInfo("per_residue", frozenset({"prefix", "split"})),
    "three_line": FormatInfo("per_residue", frozenset({"prefix", "split", "labels"})),
    "tsv": FormatInfo("either", frozenset({"prefix", "split"}), uniform_split=False),
    "pdb_chains": FormatInfo("per_residue", frozenset({"prefix", "split", "chains"})),
    "deeploc2_csv": FormatInfo(
        "per_protein",
        frozenset({"test_partition", "valid_fraction", "valid_seed", "valid_partition", "prefix"}),
        ("test_partition", 5),
        uniform_split=False,
    ),
    "deeploc1_fasta": FormatInfo("per_protein", frozenset({"split", "prefix"})),
}
FORMATS: tuple[str, ...] = tuple(FORMAT_INFO)
#: Options each format takes.
FORMAT_OPTIONS: dict[str, frozenset[str]] = {k: v.options for k, v in FORMAT_INFO.items()}
#: Formats whose held-out part is chosen by an option (cross-validation folds):
#: format -> (option, number of partitions).
FOLD_OPTIONS: dict[str, tuple[str, int]] = {
    k: v.fold_option for k, v in FORMAT_INFO.items() if v.fold_option is not None
}
#: Per-protein localization formats (:mod:`protrnn.data.formats.deeploc`).
LOCALIZATION_FORMATS: tuple[str, ...] = tuple(
    k for k, v in FORMAT_INFO.items() if v.task == "per_protein"
)
#: Formats whose ids are ``{prefix}_{row:05d}``: the workflow passes the dataset name as prefix.
PREFIXED_FORMATS = ("netsurfp_csv", "dcrnn_cb513_csv")
#: Dataset config keys that are passed to the parser as options.
SPEC_OPTION_KEYS = ("member", "split")
#: ``files`` role of FLIP's splits.zip beside a netsurfp_csv file: FLIP then gives the splits.
FLIP_ROLE = "flip_splits"


def check_options(fmt: str, options: Mapping[str, Any]) -> None:
    """Raise ValueError for an unknown format or an option the format does not take."""
    if fmt not in FORMAT_INFO:
        raise ValueError(f"unknown dataset format {fmt!r}; expected one of {FORMATS}")
    allowed = FORMAT_OPTIONS[fmt]
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"{fmt}: unknown option(s) {sorted(unknown)}; allowed {sorted(allowed)}")


def uniform_split(fmt: str, files: Iterable[str], options: Mapping[str, Any]) -> str | None:
    """The split every record of a dataset gets, or None when its data decides.

    ``files``: the dataset's file roles. None for a tsv (its split column), a netsurfp_csv with
    FLIP's splits (role :data:`FLIP_ROLE`) and deeploc2_csv (its partitions); otherwise option
    ``split`` (default ``test``).
    """
    if not FORMAT_INFO[fmt].uniform_split or (fmt == "netsurfp_csv" and FLIP_ROLE in files):
        return None
    return options.get("split", "test")


def dataset_options(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The parser options of dataset ``name`` from its config entry ``spec``.

    ``options``, plus ``member`` and ``split`` when the entry sets them, ``prefix`` = the dataset
    name for :data:`PREFIXED_FORMATS` (unless given) and ``chains`` for pdb_chains.
    """
    options = dict(spec.get("options") or {})
    options.update({k: spec[k] for k in SPEC_OPTION_KEYS if k in spec})
    if spec["format"] in PREFIXED_FORMATS:
        options.setdefault("prefix", name)
    if spec["format"] == "pdb_chains":
        options["chains"] = list(spec["chains"])
    return options


def main_file(
    fmt: str, files: Mapping[str, str | os.PathLike[str]], side: Iterable[str] = ()
) -> Path:
    """The data file among ``files``: key ``data``, or the only key not in ``side``."""
    if "data" in files:
        return Path(files["data"])
    side = set(side)
    others = [k for k in files if k not in side]
    if len(others) != 1:
        raise ValueError(f"{fmt}: cannot tell the data file among {sorted(files)}; name it 'data'")
    return Path(files[others[0]])

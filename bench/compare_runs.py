"""Compare the outputs of two workflow runs file by file (e.g. the tiny run before and after).

Usage: python bench/compare_runs.py OLD_RUN NEW_RUN [--under results]

Every file under ``OLD_RUN/<under>`` is compared with the same path in ``NEW_RUN`` by content:
gzip files decompressed (the gzip header's name and time are not content), ``.npz`` array by array,
``.pt`` (torch) entry by entry with tensors compared exactly, ``.json`` as parsed values,
``.tsv`` row by row (every old row must appear again; rows the new run adds, e.g. for a new model,
are listed as new), everything else byte for byte. Keys that record the commit, times, versions
or host (:data:`VOLATILE`) are left out. Each file gets one line: ``same``, ``differs: <where>``
or ``only in old``; files only in the new run are listed as ``new``. Exit status 0 when nothing
differs or is missing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

#: Keys (anywhere in a JSON or torch dict) that record when/where/with what a file was made.
VOLATILE = {"commit", "git_commit", "date", "time", "seconds", "created", "host", "versions"}


def _strip(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _compare_values(old: object, new: object, where: str = "") -> list[str]:
    """Paths inside two nested values where they differ (tensors and arrays exactly)."""
    if hasattr(old, "numpy") and hasattr(new, "numpy"):
        old, new = old.detach().cpu().numpy(), new.detach().cpu().numpy()
    if isinstance(old, np.ndarray) or isinstance(new, np.ndarray):
        same = np.shape(old) == np.shape(new) and np.array_equal(old, new, equal_nan=True)
        return [] if same else [where or "(array)"]
    if isinstance(old, dict) and isinstance(new, dict):
        diffs = [f"{where}.{k} only in old" for k in old.keys() - new.keys() if k not in VOLATILE]
        for key in sorted(old.keys() & new.keys(), key=str):
            if key not in VOLATILE:
                diffs += _compare_values(old[key], new[key], f"{where}.{key}")
        return diffs
    if isinstance(old, list | tuple) and isinstance(new, list | tuple) and len(old) == len(new):
        return [
            d
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for d in _compare_values(a, b, f"{where}[{i}]")
        ]
    return [] if old == new else [where or "(value)"]


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    nan_ok = a.dtype.kind == "f" and b.dtype.kind == "f"
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=nan_ok)


def _tsv_rows(path: Path) -> tuple[list[str], list[tuple[str, ...]]]:
    """Header and rows of a TSV, without the columns that record times (:data:`VOLATILE`)."""
    lines = [line.split("\t") for line in path.read_text().splitlines()]
    keep = [i for i, name in enumerate(lines[0]) if name not in VOLATILE]
    return [lines[0][i] for i in keep], [tuple(r[i] for i in keep if i < len(r)) for r in lines[1:]]


def compare_tsv(old: Path, new: Path) -> tuple[list[str], list[str]]:
    """Same header and every old row again (rows the new run adds, e.g. a new model, are
    reported as extra, not as a difference)."""
    (head_a, rows_a), (head_b, rows_b) = _tsv_rows(old), _tsv_rows(new)
    if head_a != head_b:
        return [f"columns {head_a} -> {head_b}"], []
    missing = [r for r in rows_a if r not in set(rows_b)]
    extra = len(rows_b) - (len(rows_a) - len(missing))
    return ([f"{len(missing)} of {len(rows_a)} rows changed"] if missing else []), (
        [f"{extra} rows"] if extra else []
    )


def _new_keys(old: dict, new: dict) -> list[str]:
    return sorted(str(k) for k in new.keys() - old.keys())


def compare_file(old: Path, new: Path) -> tuple[list[str], list[str]]:
    """(differences, keys only the new file has) of two files of the same name."""
    name = old.name
    if name.endswith(".npz"):
        with np.load(old, allow_pickle=False) as a, np.load(new, allow_pickle=False) as b:
            diffs = [f"{k} only in old" for k in set(a.files) - set(b.files)]
            diffs += [k for k in sorted(set(a.files) & set(b.files)) if not _same_array(a[k], b[k])]
            return diffs, sorted(set(b.files) - set(a.files))
    if name.endswith(".pt"):
        import torch

        a = torch.load(old, map_location="cpu", weights_only=True)
        b = torch.load(new, map_location="cpu", weights_only=True)
        return _compare_values(a, b), _new_keys(a, b)
    if name.endswith(".json"):
        a, b = json.loads(old.read_text()), json.loads(new.read_text())
        extra = _new_keys(a, b) if isinstance(a, dict) and isinstance(b, dict) else []
        return _compare_values(_strip(a), _strip(b)), extra
    if name.endswith(".tsv"):
        return compare_tsv(old, new)
    if name.endswith(".gz"):
        return (
            []
            if gzip.decompress(old.read_bytes()) == gzip.decompress(new.read_bytes())
            else ["content"]
        ), []
    if zipfile.is_zipfile(old) and name.endswith(".zip"):
        return ([] if old.read_bytes() == new.read_bytes() else ["bytes"]), []
    return ([] if old.read_bytes() == new.read_bytes() else ["bytes"]), []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--under", default="results")
    args = parser.parse_args()
    old_files = {p.relative_to(args.old) for p in (args.old / args.under).rglob("*") if p.is_file()}
    new_files = {p.relative_to(args.new) for p in (args.new / args.under).rglob("*") if p.is_file()}
    bad = 0
    for rel in sorted(old_files):
        if rel not in new_files:
            print(f"only in old  {rel}")
            bad += 1
            continue
        diffs, extra = compare_file(args.old / rel, args.new / rel)
        note = f" (new: {', '.join(extra)})" if extra else ""
        if diffs:
            bad += 1
            print(f"differs      {rel}: {', '.join(diffs[:6])}{' ...' if len(diffs) > 6 else ''}")
        else:
            print(f"same         {rel}{note}")
    for rel in sorted(new_files - old_files):
        print(f"new          {rel}")
    print(f"{len(old_files)} files of the old run: {len(old_files) - bad} same, {bad} not")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

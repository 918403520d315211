"""Encode a canonical dataset table + raw profiles into one compressed npz, and read it back.

Model input per residue: one-hot(residue, 21) ++ scaled PSSM (20) = 41 float32 features, built per
protein on demand (:meth:`EncodedSet.features`) so that a whole dataset is never expanded at once.

Targets: per residue ``ss8``/``ss3`` (int8, -1 unknown), ``eval_mask``/``cb513_mask`` and ``rsa``
(float32 relative solvent accessibility, NaN unknown; ``has_rsa`` says whether any residue has
one); per protein ``label`` (int64 index into ``classes``, -1 unknown; always -1 for per-residue
sets) and ``membrane`` (int64: 1 membrane, 0 soluble, -1 unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from protrnn.core.alphabet import (
    AA_ALPHABET,
    N_AA,
    N_AA_TOKENS,
    SS3,
    SS8,
    encode_sequence,
    sequence_hash,
)
from protrnn.core.fileio import atomic_path

#: PSSM scaling applied at encoding: logistic ``1 / (1 + exp(-x))`` of the raw log-odds score x,
#: stored as float16 in [0, 1] (raw 0 -> 0.5).
SCALING = "logistic"
N_FEATURES = N_AA_TOKENS + N_AA  # 41
TASKS = ("per_residue", "per_protein")
_RESIDUE_COLUMNS = ("ss8", "ss3", "eval_mask", "cb513_mask", "rsa")
#: Canonical ``membrane`` values -> encoded value.
MEMBRANE = {"membrane": 1, "soluble": 0, "unknown": -1, "": -1}


def scale_pssm(raw: np.ndarray) -> np.ndarray:
    """Logistic scaling of raw log-odds (see :data:`SCALING`), float32."""
    return (1.0 / (1.0 + np.exp(-np.asarray(raw, dtype=np.float64)))).astype(np.float32)


def _text(value: object) -> str:
    """A table cell as a string; NaN/None (empty cell) -> ''."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _labels(text: str, alphabet: str, length: int) -> np.ndarray:
    """Label indices (int8); letters outside ``alphabet`` and an empty string -> -1 (unknown)."""
    if not text:
        return np.full(length, -1, dtype=np.int8)
    lookup = np.full(256, -1, dtype=np.int8)
    for i, c in enumerate(alphabet):
        lookup[ord(c)] = i
    return lookup[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]


def _mask(text: str, length: int, default: int) -> np.ndarray:
    """A '0'/'1' string as uint8; empty -> all ``default``."""
    if not text:
        return np.full(length, default, dtype=np.uint8)
    arr = np.frombuffer(text.encode("ascii"), dtype=np.uint8) - ord("0")
    if arr.size and arr.max() > 1:
        raise ValueError("mask strings may only hold '0' and '1'")
    return arr.astype(np.uint8)


def _rsa(text: str, length: int) -> np.ndarray:
    """Comma-separated RSA values in [0, 1] or ``nan`` as float32; empty -> all NaN."""
    if not text:
        return np.full(length, np.nan, dtype=np.float32)
    try:
        values = np.asarray(text.split(","), dtype=np.float32)
    except ValueError:
        raise ValueError("rsa values must be decimals or 'nan'") from None
    if len(values) != length:
        raise ValueError(f"rsa has {len(values)} values, sequence has {length}")
    if ((values < 0) | (values > 1)).any():  # NaN compares False
        raise ValueError("rsa values must lie in [0, 1]")
    return values


def _protein_classes(table: pd.DataFrame, task: str, classes: list[str] | None) -> list[str]:
    """The class names of a per-protein set: ``classes``, else the sorted labels of ``table``."""
    if task != "per_protein":
        if classes:
            raise ValueError("classes apply to per_protein datasets only")
        return []
    if classes is None:
        labels = table["label"] if "label" in table.columns else []
        return sorted({_text(v) for v in labels} - {""})
    classes = [str(c) for c in classes]
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes must be unique, got {classes}")
    return classes


def encode_dataset(
    table: pd.DataFrame,
    profiles: dict[str, np.ndarray],
    out_path: Path,
    task: str = "per_residue",
    classes: list[str] | None = None,
) -> dict:
    """Write the encoded dataset npz (docs/architecture.md) for ``table``; return a summary.

    Per-protein sets (``task="per_protein"``): ``label`` becomes the index of the protein's class
    name in ``classes`` (default: the table's labels, sorted; pass the dataset's declared classes
    so that training and test sets agree), -1 when empty; a label outside ``classes`` is an error
    naming the protein. ``classes`` are stored with the arrays.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    missing = {"id", "sequence", "split"} - set(table.columns)
    if missing:
        raise ValueError(f"dataset table lacks column(s) {sorted(missing)}")
    n = len(table)
    lengths = np.array([len(_text(s)) for s in table["sequence"]], dtype=np.int32)
    offsets = np.zeros(n, dtype=np.int64)
    offsets[1:] = np.cumsum(lengths, dtype=np.int64)[:-1]
    total = int(lengths.sum())
    aa = np.empty(total, dtype=np.uint8)
    pssm = np.empty((total, N_AA), dtype=np.float16)
    ss8 = np.empty(total, dtype=np.int8)
    ss3 = np.empty(total, dtype=np.int8)
    eval_mask = np.empty(total, dtype=np.uint8)
    cb513_mask = np.empty(total, dtype=np.uint8)
    rsa = np.empty(total, dtype=np.float32)
    label = np.full(n, -1, dtype=np.int64)
    membrane = np.full(n, -1, dtype=np.int64)
    classes = _protein_classes(table, task, classes)
    class_index = {c: k for k, c in enumerate(classes)}
    row_get = {c: (table[c].tolist() if c in table.columns else [""] * n) for c in _RESIDUE_COLUMNS}
    label_col = table["label"].tolist() if "label" in table.columns else [""] * n
    membrane_col = table["membrane"].tolist() if "membrane" in table.columns else [""] * n

    for i, (pid, seq) in enumerate(zip(table["id"].astype(str), table["sequence"], strict=True)):
        seq = _text(seq)
        length = len(seq)
        if length == 0:
            raise ValueError(f"protein {pid!r}: empty sequence")
        key = sequence_hash(seq)
        if key not in profiles:
            raise KeyError(f"protein {pid!r}: no profile for sequence hash {key}")
        prof = np.asarray(profiles[key])
        if prof.shape != (length, N_AA):
            raise ValueError(
                f"protein {pid!r}: profile shape {prof.shape} does not match "
                f"length {length} x {N_AA}"
            )
        texts = {c: _text(row_get[c][i]) for c in _RESIDUE_COLUMNS}
        for column, text in texts.items():
            if text and column != "rsa" and len(text) != length:
                raise ValueError(
                    f"protein {pid!r}: {column} has length {len(text)}, sequence has {length} "
                    "(read the table with dtype=str so that masks keep leading zeros)"
                )
        s = slice(offsets[i], offsets[i] + length)
        aa[s] = encode_sequence(seq)
        pssm[s] = scale_pssm(prof)
        ss8[s] = _labels(texts["ss8"], SS8, length)
        ss3[s] = _labels(texts["ss3"], SS3, length)
        try:
            eval_mask[s] = _mask(texts["eval_mask"], length, default=1)
            cb513_mask[s] = _mask(texts["cb513_mask"], length, default=0)
            rsa[s] = _rsa(texts["rsa"], length)
        except ValueError as err:
            raise ValueError(f"protein {pid!r}: {err}") from None
        name = _text(label_col[i])
        if task == "per_protein" and name:
            if name not in class_index:
                raise ValueError(f"protein {pid!r}: label {name!r} is not one of {classes}")
            label[i] = class_index[name]
        flag = _text(membrane_col[i])
        if flag not in MEMBRANE:
            raise ValueError(f"protein {pid!r}: membrane {flag!r} not in {sorted(MEMBRANE)[1:]}")
        membrane[i] = MEMBRANE[flag]

    arrays = {
        "ids": np.array(table["id"].astype(str).tolist(), dtype=str),
        "split": np.array(table["split"].astype(str).tolist(), dtype=str),
        "lengths": lengths,
        "offsets": offsets,
        "aa": aa,
        "pssm": pssm,
        "ss8": ss8,
        "ss3": ss3,
        "eval_mask": eval_mask,
        "cb513_mask": cb513_mask,
        "rsa": rsa,
        "has_rsa": np.array(bool(np.isfinite(rsa).any())),
        "label": label,
        "membrane": membrane,
        "classes": np.array(classes, dtype=str),
        "scaling": np.array(SCALING),
        "aa_alphabet": np.array(AA_ALPHABET),
        "task": np.array(task),
    }
    with atomic_path(out_path) as tmp:
        np.savez_compressed(tmp, **arrays)
    return {"n_proteins": n, "n_residues": total}


@dataclass(frozen=True)
class EncodedSet:
    """Proteins of an encoded dataset. Residue arrays are shared; proteins index into them.

    ``label`` and ``membrane`` are per protein (-1 unknown); ``rsa`` is per residue (NaN unknown).
    Fields after ``cb513_mask`` have defaults (a per-residue set without RSA).
    """

    ids: np.ndarray
    split: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    label: np.ndarray
    aa: np.ndarray
    pssm: np.ndarray
    ss8: np.ndarray
    ss3: np.ndarray
    eval_mask: np.ndarray
    cb513_mask: np.ndarray
    scaling: str = SCALING
    task: str = "per_residue"
    classes: tuple[str, ...] = ()
    membrane: np.ndarray | None = None
    rsa: np.ndarray | None = None
    has_rsa: bool = False

    def __post_init__(self) -> None:
        if self.membrane is None:
            object.__setattr__(self, "membrane", np.full(len(self.ids), -1, dtype=np.int64))
        if self.rsa is None:
            object.__setattr__(self, "rsa", np.full(len(self.aa), np.nan, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, indices: np.ndarray | list[int]) -> EncodedSet:
        """The proteins at ``indices`` (residue arrays are not copied)."""
        idx = np.asarray(indices, dtype=np.int64)
        return replace(
            self,
            ids=self.ids[idx],
            split=self.split[idx],
            lengths=self.lengths[idx],
            offsets=self.offsets[idx],
            label=self.label[idx],
            membrane=self.membrane[idx],
        )

    def subset(self, split: str) -> EncodedSet:
        """The proteins whose split is ``split`` (train, valid or test)."""
        return self.select(np.flatnonzero(self.split == split))

    def _slice(self, i: int) -> slice:
        start = int(self.offsets[i])
        return slice(start, start + int(self.lengths[i]))

    def features(self, i: int) -> np.ndarray:
        """L x 41 float32: one-hot(residue, 21) ++ scaled PSSM (20)."""
        s = self._slice(i)
        out = np.zeros((int(self.lengths[i]), N_FEATURES), dtype=np.float32)
        out[np.arange(out.shape[0]), self.aa[s]] = 1.0
        out[:, N_AA_TOKENS:] = self.pssm[s]
        return out

    def targets(self, i: int) -> dict[str, np.ndarray]:
        """Per-residue ss8/ss3 (int8, -1 unknown), eval_mask/cb513_mask (uint8), rsa (float32,
        NaN unknown)."""
        s = self._slice(i)
        return {
            "ss8": self.ss8[s],
            "ss3": self.ss3[s],
            "eval_mask": self.eval_mask[s],
            "cb513_mask": self.cb513_mask[s],
            "rsa": self.rsa[s],
        }


def load_encoded(path: Path) -> EncodedSet:
    """Read an encoded dataset npz written by :func:`encode_dataset`.

    Files written before RSA and per-protein classes existed load as per-residue sets without
    RSA; an old per-protein file (numeric labels, no classes) is an error: encode it again.
    """
    with np.load(path, allow_pickle=False) as data:
        scaling = str(data["scaling"]) if "scaling" in data else SCALING
        if scaling != SCALING:
            raise ValueError(f"{path}: PSSM scaling {scaling!r}, this code expects {SCALING!r}")
        task = str(data["task"]) if "task" in data else "per_residue"
        n = len(data["ids"])
        if "classes" in data:
            label, classes = data["label"], tuple(str(c) for c in data["classes"])
        elif task == "per_residue":  # older layout: float labels, NaN for per-residue sets
            label, classes = np.full(n, -1, dtype=np.int64), ()
        else:
            raise ValueError(
                f"{path}: per-protein set written by an older protrnn (no class names); "
                "delete it and encode it again"
            )
        return EncodedSet(
            ids=data["ids"],
            split=data["split"],
            lengths=data["lengths"],
            offsets=data["offsets"],
            label=label,
            aa=data["aa"],
            pssm=data["pssm"],
            ss8=data["ss8"],
            ss3=data["ss3"],
            eval_mask=data["eval_mask"],
            cb513_mask=data["cb513_mask"],
            scaling=scaling,
            task=task,
            classes=classes,
            membrane=data.get("membrane"),
            rsa=data.get("rsa"),
            has_rsa=bool(data["has_rsa"]) if "has_rsa" in data else False,
        )

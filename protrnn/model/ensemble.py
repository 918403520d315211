"""Ensembles of an experiment's trained models: members chosen by validation score, predictions
averaged as probabilities.

An ensemble file is a ``model.pt`` like any other (``results/models/{experiment}/ensemble/``):
it embeds every member's saved content, so it stands alone (no reference to files that may
change), and :func:`protrnn.model.inference.load_model` returns an :class:`Ensemble`, which
evaluation and ``protrnn predict`` use as they use one model. Members are picked by the
validation metric their training selected the best epoch by (``valid_q8`` per residue,
``valid_accuracy`` per protein), never by a test score.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from protrnn.model.checkpoint import load_torch_file, save_torch_file
from protrnn.model.loss import CLASS_HEADS, SELECTION

#: The saved validation metric that ranks candidate members, per task: the one training picked
#: the best epoch by.
SAVED_SELECTION = {task: f"valid_{metric}" for task, metric in SELECTION.items()}


class Ensemble(nn.Module):
    """Mean of the members' probabilities, returned as log-probabilities so that a softmax of
    the output (what :func:`~protrnn.model.inference.predict_proba` applies) gives the mean.
    RSA is the mean over the members with an RSA head."""

    def __init__(self, members: list[nn.Module], names: list[str]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.names = list(names)
        self.classes = tuple(getattr(members[0], "classes", ()) or ())

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs = [member(x, lengths) for member in self.members]
        mean: dict[str, torch.Tensor] = {}
        for head in outputs[0]:
            values = [out[head].float() for out in outputs if head in out]
            if head in CLASS_HEADS:
                probs = torch.stack([torch.softmax(v, -1) for v in values]).mean(0)
                mean[head] = torch.log(probs.clamp_min(1e-12))
            else:
                mean[head] = torch.stack(values).mean(0)
        return mean


def member_score(content: dict, path: Path) -> float:
    """The validation score a saved model is ranked by."""
    key = SAVED_SELECTION[content.get("task", "per_residue")]
    if key not in content:
        raise ValueError(f"{path}: no {key} recorded; train it again to use it in an ensemble")
    return float(content[key])


def choose_members(scores: dict[str, float], size: int) -> list[str]:
    """The ``size`` best names by validation score (ties by name)."""
    ranked = sorted(scores, key=lambda name: (-scores[name], name))
    return ranked[: max(size, 0)]


def _check_compatible(contents: dict[str, dict]) -> None:
    """Members must share task, classes, features and feature encoding."""
    first_name, first = next(iter(contents.items()))
    for name, content in contents.items():
        for key in ("task", "classes", "features"):
            if content.get(key) != first.get(key):
                raise ValueError(
                    f"ensemble members {first_name!r} and {name!r} differ in {key}: "
                    f"{first.get(key)!r} vs {content.get(key)!r}"
                )
        encoding = (content.get("provenance") or {}).get("encoding")
        if encoding != (first.get("provenance") or {}).get("encoding"):
            raise ValueError(
                f"ensemble members {first_name!r} and {name!r} were trained on different encodings"
            )


def load_candidates(candidates: dict[str, Path], size: int) -> dict[str, dict]:
    """The saved content of each candidate (name -> model.pt), checked compatible."""
    if len(candidates) < 2 or size < 2:
        raise ValueError(
            f"an ensemble needs at least 2 members (candidates: {sorted(candidates)}, size {size})"
        )
    contents = {name: load_torch_file(path) for name, path in candidates.items()}
    _check_compatible(contents)
    return contents


def saved_scores(contents: dict[str, dict], candidates: dict[str, Path]) -> dict[str, float]:
    """Each candidate's own recorded validation score (:func:`member_score`)."""
    return {name: member_score(c, candidates[name]) for name, c in contents.items()}


def save_ensemble(out_path: Path, contents: dict[str, dict], description: dict) -> None:
    """The ensemble file of ``description['members']`` (their contents embedded)."""
    members = description["members"]
    first = contents[members[0]]
    saved = {
        "ensemble": description,
        "member_models": [{**contents[m], "name": m} for m in members],
        "task": first.get("task", "per_residue"),
        "classes": first.get("classes", []),
        "features": first.get("features"),
        "rsa": any(contents[m].get("rsa", False) for m in members),
        "provenance": first.get("provenance"),
    }
    save_torch_file(saved, Path(out_path))


def write_ensemble(out_path: Path, candidates: dict[str, Path], size: int) -> dict:
    """Choose ``size`` of ``candidates`` (name -> model.pt) by their saved validation scores and
    write the ensemble file; returns its description (members, scores, selection metric). With
    validation proteins shared by all candidates,
    :func:`protrnn.model.ensemble_select.make_ensemble` ranks and sizes on those instead."""
    contents = load_candidates(candidates, size)
    scores = saved_scores(contents, candidates)
    members = choose_members(scores, size)
    description = {
        "members": members,
        "selection": SAVED_SELECTION[contents[members[0]].get("task", "per_residue")],
        "candidate_scores": scores,
        "size": size,
    }
    save_ensemble(out_path, contents, description)
    return description

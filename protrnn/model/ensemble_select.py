"""Which trained models make up an experiment's ensemble, decided on shared validation proteins.

A model's own saved validation score comes from the validation proteins of its own training run;
models capped at different numbers of proteins saw different validation subsets, so those scores
do not compare. Here every candidate, and every candidate ensemble, is scored on the same
proteins: the training dataset's split 'valid', which no model trains on (a model's cap keeps
train and valid proteins apart). The candidates are ranked by that score; the ensemble is the
first k of the ranking (1 <= k <= size) whose mean of probabilities scores highest on those
proteins, ties to the smaller k, so a candidate joins only when it raises the validation score
(k = 1: the best model alone). A training dataset without 'valid' proteins carves each model's
validation proteins out of its own training proteins; there the saved scores rank and the
ensemble takes ``size`` members (:func:`protrnn.model.ensemble.write_ensemble`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from protrnn.encode import EncodedSet
from protrnn.model.ensemble import (
    Ensemble,
    choose_members,
    load_candidates,
    save_ensemble,
    saved_scores,
    write_ensemble,
)
from protrnn.model.inference import check_model_features, model_from_content
from protrnn.model.loss import SELECTION, evaluate, loss_weights

#: Proteins per batch when scoring on the validation proteins (the cpu preset's batch size).
VALID_BATCH = 32


def validation_proteins(data: EncodedSet) -> EncodedSet | None:
    """The proteins with split 'valid' of an encoded training set (None when it has none)."""
    valid = data.subset("valid")
    return valid if len(valid) else None


def validation_score(model: nn.Module, valid_set: EncodedSet) -> float:
    """The selection metric (Q8 per residue, accuracy per protein, in %) on ``valid_set``."""
    device = torch.device("cpu")
    metrics = evaluate(
        model.to(device), valid_set, device, loss_weights(valid_set.task, None), VALID_BATCH
    )
    return float(metrics[SELECTION[valid_set.task]])


def select_on_validation(contents: dict[str, dict], valid_set: EncodedSet, size: int) -> dict:
    """Rank the candidates and size the ensemble on ``valid_set`` (module doc); the description
    saved in the ensemble file."""
    models = {}
    for name, content in contents.items():
        models[name] = model_from_content(content, Path(name)).eval()
        check_model_features(models[name], valid_set)
    scores = {name: validation_score(model, valid_set) for name, model in models.items()}
    ranked = choose_members(scores, size)
    by_size = {1: scores[ranked[0]]}
    for k in range(2, len(ranked) + 1):
        members = ranked[:k]
        by_size[k] = validation_score(Ensemble([models[m] for m in members], members), valid_set)
    best = max(by_size, key=lambda k: (by_size[k], -k))
    return {
        "members": ranked[:best],
        "selection": f"valid_{SELECTION[valid_set.task]} on the training dataset's "
        f"{len(valid_set)} 'valid' proteins",
        "candidate_scores": scores,
        "ensemble_scores": {str(k): v for k, v in by_size.items()},
        "size": size,
    }


def make_ensemble(
    out_path: Path, candidates: dict[str, Path], size: int, valid_set: EncodedSet | None
) -> dict:
    """Write the ensemble of ``candidates`` (name -> model.pt): chosen on ``valid_set`` when
    there is one, else by the saved scores; returns its description."""
    if valid_set is None:
        return write_ensemble(out_path, candidates, size)
    contents = load_candidates(candidates, size)
    description = select_on_validation(contents, valid_set, size)
    description["saved_scores"] = saved_scores(contents, candidates)
    save_ensemble(out_path, contents, description)
    return description

"""Did each model's training converge? The report's rule, applied to a history.tsv and the epoch
limit of the model's preset; ``convergence.tsv`` and the marks of the accuracy tables.

The rule: a model is *not converged* when its training ended at the epoch limit (it ran
``epochs`` epochs, so early stopping did not end it) and its validation selection metric
(Q8 per residue, accuracy per protein; percent) rose by more than :data:`RISE_POINTS` points
over its last two epochs (the last epoch's value minus the value two epochs earlier; with two
epochs, minus the first). A model that ran one epoch only and
ended at the limit cannot show that it stopped rising, so it is not converged either. Its
comparison with the other models is provisional.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from protrnn.report.load import HISTORY_METRICS

#: Largest rise (percentage points) of the validation metric over the last two epochs of a
#: model that ended at its epoch limit and still counts as converged.
RISE_POINTS = 0.2
CONVERGENCE_COLUMNS = [
    "model",
    "task",
    "metric",
    "epochs",
    "epoch_limit",
    "ended_by",
    "previous",
    "last",
    "rise",
    "converged",
    "verdict",
]


@dataclass(frozen=True)
class Convergence:
    """One model's training as the rule sees it: its validation metric per epoch and limit."""

    model: str
    task: str
    metric: str
    values: tuple[float, ...]
    epoch_limit: int | None

    @property
    def epochs(self) -> int:
        return len(self.values)

    @property
    def at_limit(self) -> bool | None:
        """Whether training ran to the epoch limit (None: limit unknown)."""
        return None if self.epoch_limit is None else self.epochs >= self.epoch_limit

    @property
    def ended_by(self) -> str:
        """ "epoch limit", "early stopping" or "unknown" (no epoch limit given)."""
        return {None: "unknown", True: "epoch limit", False: "early stopping"}[self.at_limit]

    @property
    def rise(self) -> float:
        """The rise over the last two epochs: the last epoch's validation metric minus the value
        two epochs earlier (minus the first with two epochs; NaN with one), rounded to the 6
        decimals history.tsv is written with, so that 63.2 - 63.0 is 0.2, not more."""
        if self.epochs < 2:
            return math.nan
        return round(self.values[-1] - self.values[-min(3, self.epochs)], 6)

    @property
    def converged(self) -> bool | None:
        """The rule's answer (None: the epoch limit is unknown)."""
        if self.at_limit is None:
            return None
        if not self.at_limit:
            return True
        return not (math.isnan(self.rise) or self.rise > RISE_POINTS)

    @property
    def verdict(self) -> str:
        """The answer in words."""
        if self.at_limit is None:
            return "not judged: epoch limit unknown"
        if not self.at_limit:
            return f"converged: early stopping after {self.epochs} of {self.epoch_limit} epochs"
        if self.epochs < 2:
            return "not converged: a single epoch, at the epoch limit"
        if math.isnan(self.rise):
            return "not converged: no validation score in the last two epochs"
        rise = f"{self.rise:+.2f} points over the last two epochs"
        if self.converged:
            return f"converged: flat at the epoch limit ({rise})"
        return f"not converged: still rising at the epoch limit ({rise})"


def judge(model: str, history: pd.DataFrame, epoch_limit: int | None) -> Convergence:
    """Apply the rule to one history.tsv (:func:`protrnn.report.load.load_history`)."""
    task = history.attrs["task"]
    metric = HISTORY_METRICS[task][0][0]
    values = tuple(float(v) for v in pd.to_numeric(history[metric], errors="coerce"))
    if not values:
        raise ValueError(f"history of {model!r} has no epoch")
    return Convergence(model, task, metric, values, epoch_limit)


def training_runs(
    histories: Mapping[str, pd.DataFrame], epoch_limits: Mapping[str, int]
) -> dict[str, Convergence]:
    """Learning-curve name -> the rule's view of that model's training."""
    return {name: judge(name, h, epoch_limits.get(name)) for name, h in histories.items()}


def experiment_of(metrics: Mapping) -> str | None:
    """The experiment of an evaluation, from its ``model_path``
    (``results/models/{experiment}/{model}/model.pt``)."""
    path = metrics.get("model_path")
    return Path(path).parent.parent.name if path else None


def by_model(evals: list[dict], runs: Mapping[str, Convergence]) -> dict[str, Convergence]:
    """Model name -> its training, for the models of ``evals`` whose history is known (named
    by the model, or by ``experiment/model`` when the report covers several experiments)."""
    found = {}
    for e in evals:
        names = (e["model"], f"{experiment_of(e)}/{e['model']}")
        run = next((runs[n] for n in names if n in runs), None)
        if run is not None:
            found[e["model"]] = run
    return found


def convergence_table(runs: Mapping[str, Convergence]) -> pd.DataFrame:
    """convergence.tsv: one row per trained model (validation metric in percent)."""
    rows = [
        {
            "model": name,
            "task": run.task,
            "metric": run.metric,
            "epochs": run.epochs,
            "epoch_limit": run.epoch_limit,
            "ended_by": run.ended_by,
            "previous": run.values[-min(3, run.epochs)] if run.epochs >= 2 else math.nan,
            "last": run.values[-1],
            "rise": run.rise,
            "converged": run.converged,
            "verdict": run.verdict,
        }
        for name, run in runs.items()
    ]
    return pd.DataFrame(rows, columns=CONVERGENCE_COLUMNS)

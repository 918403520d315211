"""HTML of the models' training: learning-curve sparklines (inline SVG, beside each model's
scores), the convergence table of the learning-curve section, and the notice that names the
models whose comparison is provisional."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from protrnn.report.common import escape as e
from protrnn.report.common import fmt, wide
from protrnn.report.convergence import Convergence
from protrnn.report.load import HISTORY_METRICS

SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 96, 26, 3
CONVERGENCE_HEAD = (
    "<tr><th>Model</th><th>Validation metric</th><th>Learning curve</th><th>Epochs run</th>"
    "<th>Epoch limit</th><th>Ended by</th><th>Last two epochs (%)</th>"
    "<th>Rise (points)</th><th>Verdict</th></tr>"
)


def metric_title(run: Convergence) -> str:
    """ "validation Q8" or "validation accuracy"."""
    return dict(HISTORY_METRICS[run.task])[run.metric]


def sparkline(values: Iterable[float], title: str) -> str:
    """The values as a small inline SVG line (last point dotted); "" without a finite value."""
    values = list(values)
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return ""
    low, span = min(finite), (max(finite) - min(finite)) or 1.0
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(values) - 1, 1)
    scale = (SPARK_HEIGHT - 2 * SPARK_PAD) / span
    points = [
        (SPARK_PAD + k * step, SPARK_HEIGHT - SPARK_PAD - scale * (v - low))
        for k, v in enumerate(values)
        if not math.isnan(v)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    x, y = points[-1]
    return (
        f'<svg class="spark" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" '
        f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" role="img"><title>{e(title)}</title>'
        f'<polyline fill="none" stroke="#345" stroke-width="1.5" points="{line}"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="#c77d00"/></svg>'
    )


def curve(run: Convergence) -> str:
    """The run's validation metric per epoch as a sparkline, with the values as its tooltip."""
    values = ", ".join(f"{v:.1f}" for v in run.values)
    return sparkline(run.values, f"{metric_title(run)} per epoch (%): {values}")


def training_cell(run: Convergence | None) -> str:
    """Learning-curve cell of a model's row: sparkline and epochs run of the limit."""
    if run is None:
        return "&ndash;"
    limit = f" of {run.epoch_limit}" if run.epoch_limit is not None else ""
    return f"{curve(run)}<br><small>{run.epochs}{limit} epochs</small>"


def not_converged_notice(trained: Mapping[str, Convergence]) -> str:
    """The sentence that names the models whose comparison is provisional ("" if none)."""
    marked = [m for m, run in trained.items() if run.converged is False]
    if not marked:
        return ""
    names = ", ".join(f"<b>{e(m)}</b>" for m in marked)
    verb, their = ("is", "its") if len(marked) == 1 else ("are", "their")
    return (
        f'<p class="warning">{names} {verb} marked <em>not converged</em>: '
        f"{their} training ended at the epoch limit before the validation score levelled off, "
        f"so {their} comparison with the other models is provisional.</p>"
    )


def convergence_html(runs: Mapping[str, Convergence]) -> str:
    """One row per trained model: its curve, epochs, how training ended and the verdict."""
    body = []
    for name, run in runs.items():
        previous = run.values[-min(3, run.epochs)] if run.epochs >= 2 else math.nan
        limit = run.epoch_limit if run.epoch_limit is not None else "&ndash;"
        cls = ' class="warn"' if run.converged is False else ""
        body.append(
            f"<tr><td>{e(name)}</td><td>{e(metric_title(run))}</td><td>{curve(run)}</td>"
            f'<td class="num">{run.epochs}</td><td class="num">{limit}</td><td>{run.ended_by}</td>'
            f'<td class="num">{fmt(previous, 2)} &rarr; {fmt(run.values[-1], 2)}</td>'
            f'<td class="num">{fmt(run.rise, 2)}</td><td{cls}>{e(run.verdict)}</td></tr>'
        )
    return wide(f"<table>{CONVERGENCE_HEAD}{''.join(body)}</table>")

"""Formatting, figure-file and TSV helpers shared by every part of the report (no report logic).

Units used throughout the report: accuracies, SOV and ECE in percent; F1, MCC and macro-F1 as
fractions in [0, 1]. metrics.json files hold fractions; published rows are given in percent.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from protrnn.core.fileio import atomic_path  # noqa: E402

#: Significance level of the paired bootstrap tests.
ALPHA = 0.05
#: ``source`` of the rows this workflow computed (published rows carry their own).
OWN_SOURCE = "this workflow"


def missing(value: Any) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, (float, np.floating)) and np.isnan(value))


def pct(value: Any) -> float:
    """Fraction -> percent (None -> NaN)."""
    return float("nan") if value is None else 100.0 * float(value)


def num(value: Any) -> float:
    """A number as float (None -> NaN)."""
    return float("nan") if value is None else float(value)


def ci_pair(metrics: Mapping[str, Any], key: str, scale: float = 100.0) -> tuple[float, float]:
    """(low, high) of ``{key}_ci`` times ``scale``; NaN when metrics.json has no interval."""
    ci = metrics.get(f"{key}_ci")
    if not ci or len(ci) != 2 or any(v is None for v in ci):
        return float("nan"), float("nan")
    return scale * float(ci[0]), scale * float(ci[1])


def escape(value: Any) -> str:
    """HTML-escaped text of a value."""
    return html.escape(str(value), quote=True)


def wide(table: str) -> str:
    """A table in a box that scrolls sideways when the table is wider than the page."""
    return f'<div class="wide">{table}</div>'


def fmt(value: Any, digits: int = 1) -> str:
    """Numbers for tables: floats with ``digits`` decimals, NaN/None as an en dash."""
    if missing(value):
        return "&ndash;"
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}f}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return escape(value)


def fmt_ci(value: Any, low: Any, high: Any, digits: int = 1) -> str:
    """ "71.2 [70.1, 72.3]"; the bare value when there is no interval."""
    text = fmt(value, digits)
    if any(missing(v) for v in (value, low, high)):
        return text
    return f"{text} [{low:.{digits}f}, {high:.{digits}f}]"


def p_value_text(p: Any, n_boot: Any) -> str:
    """A bootstrap p-value for a table; "&le; p" at the smallest value ``n_boot`` can give."""
    if missing(p):
        return "&ndash;"
    if n_boot and p <= 2.0 / (n_boot + 1) + 1e-12:
        return f"&le; {p:.3f}"
    return f"{p:.3f}"


def int_or_none(value: Any) -> int | None:
    """Counts as int; missing (None/NaN) as None."""
    return None if missing(value) else int(value)


def hms(seconds: float) -> str:
    """Seconds as h:mm:ss."""
    if np.isnan(seconds):
        return "-"
    total = int(round(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def img(path: Path, caption: str) -> str:
    """A <figure> with the PNG embedded as a base64 data URI."""
    path = Path(path)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{escape(path.stem)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def safe_name(name: str) -> str:
    """File-name-safe version of a model or test-set name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Save a figure as PNG atomically and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def write_tsv(frame: pd.DataFrame, path: Path, float_format: str = "%.4f") -> None:
    """Write a table as TSV atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=False, float_format=float_format)


def by_test_set(frame: pd.DataFrame, test_set: str) -> pd.DataFrame:
    """The rows of one test set."""
    return frame[frame["test_set"] == test_set]


def row_normalized(matrix: np.ndarray) -> np.ndarray:
    """Each true-class row divided by its support (rows without support -> NaN)."""
    m = np.asarray(matrix, dtype=float)
    sums = m.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums > 0, m / sums, np.nan)


def verdict(a: str, b: str, p: float, diff: float) -> str:
    """Plain-words verdict of one paired test."""
    if np.isnan(p):
        return "not tested"
    if p < ALPHA:
        return f"significant at {ALPHA:g}: {a if diff > 0 else b} is better"
    return f"not significant at {ALPHA:g}"

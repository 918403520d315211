"""Formatting and figure helpers shared by the report's sections (report.py, report_proteins.py)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from protrnn.core.fileio import atomic_path  # noqa: E402

#: Significance level of the paired bootstrap tests.
ALPHA = 0.05


def missing(value: Any) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, (float, np.floating)) and np.isnan(value))


def pct(value: Any) -> float:
    """Fraction -> percent (None -> NaN)."""
    return float("nan") if value is None else 100.0 * float(value)


def escape(value: Any) -> str:
    """HTML-escaped text of a value."""
    return html.escape(str(value), quote=True)


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


def int_or_none(value: Any) -> int | None:
    """Counts as int; missing (None/NaN) as None."""
    return None if missing(value) else int(value)


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

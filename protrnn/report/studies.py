"""Benchmark studies shown in the report (config ``report.studies``).

A study is a directory written by a benchmark run separate from the workflow's own models (e.g.
``bench/accuracy_study.py`` or ``bench/feature_table.py``, curated under ``docs/studies/``):
``study.md`` (required: a ``# title`` line, the text naming command, machine, commit and date, and
the table) and any ``*.png`` figures, shown after the table in name order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from protrnn.config.studies import STUDY_TEXT, study_files


@dataclass(frozen=True)
class Study:
    """One study directory: its title, markdown text and figures."""

    path: Path
    title: str
    markdown: str
    figures: tuple[Path, ...]


def load_study(directory: Path) -> Study:
    """A study directory; FileNotFoundError or ValueError naming the file when it has no table."""
    text_path = Path(directory) / STUDY_TEXT
    if not text_path.is_file():
        raise FileNotFoundError(f"{text_path}: a study directory needs its {STUDY_TEXT}")
    markdown = text_path.read_text()
    if not any(line.lstrip().startswith("|") for line in markdown.splitlines()):
        raise ValueError(f"{text_path}: no markdown table (a study shows its results as one)")
    title, body = _split_title(markdown, Path(directory).name)
    return Study(Path(directory), title, body, tuple(study_files(directory)[1:]))


def _split_title(markdown: str, fallback: str) -> tuple[str, str]:
    """The first ``# `` heading line as the title, and the text without it."""
    lines = markdown.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("# "):
            return line[2:].strip(), "\n".join(lines[:i] + lines[i + 1 :])
    return fallback, markdown

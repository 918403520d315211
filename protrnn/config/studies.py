"""The benchmark study directories of ``report.studies``, found on disk.

A relative entry is taken from the working directory when it is there, else from the workflow's
own directory (so the default studies under ``docs/studies/`` are found when the workflow runs in
another working directory). An entry found in neither, or without its ``study.md``, is a
:class:`ConfigError` naming it.
"""

from __future__ import annotations

from pathlib import Path

from protrnn.config.errors import ConfigError

#: The text every study directory holds (protrnn.report.studies reads it).
STUDY_TEXT = "study.md"


def study_files(directory: Path) -> list[Path]:
    """The files of a study directory that the report reads: its text, then its figures."""
    directory = Path(directory)
    return [directory / STUDY_TEXT, *sorted(directory.glob("*.png"))]


def study_dir(entry: str, workflow_dir: Path, work_dir: Path | None = None) -> Path:
    """The directory of one ``report.studies`` entry (relative when found in the working one)."""
    path, here = Path(entry), Path(work_dir) if work_dir else Path.cwd()
    options = [path] if path.is_absolute() else [path, Path(workflow_dir) / path]
    for option in options:
        if (here / option / STUDY_TEXT).is_file():
            return option
    looked = " or ".join(str(here / option) for option in options)
    raise ConfigError(f"report.studies: {entry!r}: no {STUDY_TEXT} in {looked}")


def study_dirs(config: dict, workflow_dir: Path, work_dir: Path | None = None) -> list[Path]:
    """The directories of every ``report.studies`` entry, in config order."""
    entries = config.get("report", {}).get("studies", [])
    return [study_dir(entry, workflow_dir, work_dir) for entry in entries]

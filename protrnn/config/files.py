"""Reading config files: YAML whose errors name the file and the line.

An empty file, a file that is not YAML, a top level that is not a mapping of keys and a key
given twice in one mapping (YAML would keep the last one silently) each raise
:class:`ConfigError` with one line naming the file (and the line, where YAML tells it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from protrnn.config.errors import ConfigError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping of a config file names one key twice."""


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                seen = key in first_line
            except TypeError:  # an unhashable key: the base class reports it
                continue
            if seen:
                raise DuplicateKeyError(
                    None,
                    None,
                    f"key {key!r} given twice (first on line {first_line[key]})",
                    key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _line(mark: yaml.Mark | None) -> str:
    return f", line {mark.line + 1}" if mark is not None else ""


def _yaml_problem(path: Path, err: yaml.YAMLError) -> str:
    """One line: the file, the line and what YAML found there."""
    problem = " ".join(str(getattr(err, "problem", None) or err).split())
    where = f"config file {path}{_line(getattr(err, 'problem_mark', None))}"
    if isinstance(err, DuplicateKeyError):
        return f"{where}: {problem}"
    context = getattr(err, "context", None)
    if context:
        problem += f" ({context}{_line(getattr(err, 'context_mark', None))})"
    return f"{where}: not valid YAML: {problem}"


def read_config_file(path: str | os.PathLike[str]) -> dict:
    """The mapping the YAML (or JSON) config file at ``path`` holds, checked as above."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder, not a file") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise ConfigError(f"config file {path} cannot be read: {err.strerror}") from None
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as err:
        raise ConfigError(_yaml_problem(path, err)) from None
    if data is None:
        raise ConfigError(
            f"config file {path} is empty: give at least one key (key: value) or leave it out"
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path}: the top level must be keys (key: value), not a "
            f"{type(data).__name__}"
        )
    return data


def check_config_files(paths: list[str | os.PathLike[str]], missing_ok: bool = False) -> None:
    """Read every file of ``paths`` once (those that exist, with ``missing_ok``), raising
    ConfigError on the first bad one."""
    seen: set[Path] = set()
    for path in paths:
        if Path(path).resolve() in seen or (missing_ok and not Path(path).exists()):
            continue
        seen.add(Path(path).resolve())
        read_config_file(path)

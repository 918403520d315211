"""The configuration's error type and the one-line check helper that raises it."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is missing, misspelled or inconsistent."""


def require(condition: bool, message: str) -> None:
    """Raise :class:`ConfigError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ConfigError(message)

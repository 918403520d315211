"""A full disk as one clear error: ``no space left on <path>``.

Writes of our own raise ``OSError(ENOSPC)`` (often without a file name); external programs exit
with an error whose output holds the system's message. :func:`no_space_left_on` turns both into
:class:`NoSpaceLeft` naming the folder being written.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

#: What the C library says for ENOSPC; external tools print it in their error output.
ENOSPC_TEXT = os.strerror(errno.ENOSPC)


class NoSpaceLeft(OSError):
    """The file system holding ``path`` is full."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(errno.ENOSPC, ENOSPC_TEXT, str(path))
        self.path = Path(path)

    def __str__(self) -> str:
        return f"no space left on {self.path}: free some space there (or choose another folder)"


def is_no_space(err: BaseException) -> bool:
    """Whether ``err`` is a full disk: ENOSPC, or a tool failure that reports it."""
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        return True
    return isinstance(err, RuntimeError) and ENOSPC_TEXT in str(err)


@contextlib.contextmanager
def no_space_left_on(path: str | os.PathLike[str]) -> Iterator[None]:
    """Re-raise a full disk inside the block as :class:`NoSpaceLeft` naming ``path``."""
    try:
        yield
    except NoSpaceLeft:
        raise
    except (OSError, RuntimeError) as err:
        if is_no_space(err):
            raise NoSpaceLeft(path) from err
        raise

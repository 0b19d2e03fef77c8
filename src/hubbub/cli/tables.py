"""The Rich console every command prints its tables through."""

from __future__ import annotations

import errno
import os

from rich.console import Console


class _TableConsole(Console):
    def on_broken_pipe(self) -> None:
        # Rich's own handler points stdout at /dev/null and exits 1, before the
        # command's reader guard (hubbub.launch.stop_when_reader_leaves) can end it
        # as coreutils do (SIGPIPE, 141); hand the error on to that guard instead.
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


def table_console() -> Console:
    """A console on standard output for tables of network text: no markup (network
    text is hostile and must never be read as Rich markup), no highlighting."""
    return _TableConsole(markup=False, highlight=False)

"""Text from the networks made safe to show on a terminal.

Posts, handles, server error messages and names users typed can carry escape
sequences (``ESC]0;title BEL`` renames the window, ``ESC[2J`` clears the
screen, OSC 8 forges links), other C0/C1 controls, and bidi overrides that make
text read differently from what it is. A terminal obeys them all, so every
line the CLI prints for a person passes network text through :func:`plain`.
Machine formats (JSON, JSONL, CSV) keep the data exact: their encoders escape it.

Unsafe characters are replaced by U+FFFD rather than dropped, so a reader sees
that something was there (the inbox commands and the audit log do the same).
"""

from __future__ import annotations

import logging
import re

REPLACEMENT = "\ufffd"

# C0 and C1 controls (ESC, BEL, CSI 0x9b…), DEL; the bidi embeddings, overrides
# and isolates and the implicit marks (LRM, RLM, ALM); line and paragraph
# separators (some terminals break lines on them); lone surrogates, which
# cannot even be encoded for output.
_UNSAFE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff"
)
_UNSAFE_ONE_LINE = re.compile(f"[\t\n{_UNSAFE}]")
# Multi-line text (a post shown whole, a traceback) keeps its tabs as well.
_UNSAFE_KEEP_LINES = re.compile(f"[{_UNSAFE}]")


def plain(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` with every control, bidi and surrogate character replaced by
    U+FFFD. One line unless ``keep_newlines`` (a post's text shown whole, or a
    multi-line message such as a query error with its caret line), which keeps
    newlines and tabs; ``None`` is ``""``."""
    if text is None:
        return ""
    value = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE_KEEP_LINES if keep_newlines else _UNSAFE_ONE_LINE
    return pattern.sub(REPLACEMENT, value)


class PlainFormatter(logging.Formatter):
    """Log records as :func:`plain` text, for a log read on a terminal
    (``hubbub worker``): a message may quote a server; a traceback keeps its lines."""

    def format(self, record: logging.LogRecord) -> str:
        return plain(super().format(record), keep_newlines=True)


def log_to_terminal(logger: str = "", level: int = logging.INFO) -> None:
    """Send ``logger``'s records (the root's by default) to standard error as
    :class:`PlainFormatter` lines, at ``level`` and above."""
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    target = logging.getLogger(logger or None)
    target.addHandler(handler)
    target.setLevel(level)

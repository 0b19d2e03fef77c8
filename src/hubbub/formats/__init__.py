"""Raw network JSON → ``hubbub.post`` records.

One module per network (``x``, ``bluesky``, ``mastodon``), each exposing pure
functions per format it reads:

- ``detect…(obj) -> bool``: does this decoded JSON value look like that payload?
- ``parse…(obj, ctx) -> list[Item]``: the posts, deletions and skipped records in it.
  Raises ``FormatError`` when the value is of that format but unusable.

(``x`` has ``detect_v2/parse_v2`` and ``detect_v1/parse_v1``; the others
``detect/parse``.)

``parse_value`` picks the module (auto-detection per value) and ``records`` in
``formats.reader`` splits a file into values (JSONL lines, one JSON document, SSE events).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hubbub.post import Item

FORMATS = ("auto", "x-v2", "x-v1", "bluesky", "mastodon", "hubbub")


class FormatError(ValueError):
    """A value that could not be read as any known payload."""


@dataclass(slots=True)
class Context:
    """Where a payload came from. ``server`` is the host a Mastodon payload was
    fetched from (status ids are local to it); when unknown, parsers infer it."""

    source: str = "-"
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    server: str | None = None


def _formats() -> dict[str, tuple[Callable[[Any], bool], Callable[[Any, Context], list[Item]]]]:
    # Imported lazily so importing hubbub.formats stays cheap and cycle-free.
    from hubbub.formats import bluesky, hubbub, mastodon, x

    return {
        "hubbub": (hubbub.detect, hubbub.parse),
        "x-v2": (x.detect_v2, x.parse_v2),
        "x-v1": (x.detect_v1, x.parse_v1),
        "bluesky": (bluesky.detect, bluesky.parse),
        "mastodon": (mastodon.detect, mastodon.parse),
    }


def detect_format(obj: Any) -> str | None:
    """Name of the format ``obj`` is in, or None."""
    for name, (detect, _parse) in _formats().items():
        if detect(obj):
            return name
    return None


def parse_value(obj: Any, ctx: Context, fmt: str = "auto") -> list[Item]:
    """Parse one decoded JSON value. ``fmt`` forces a format (``auto`` detects)."""
    return parse_record(obj, ctx, fmt)[1]


def parse_record(obj: Any, ctx: Context, fmt: str = "auto") -> tuple[str, list[Item]]:
    """Like ``parse_value``, also naming the format that was used."""
    if fmt == "auto":
        name = detect_format(obj)
        if name is None:
            raise FormatError("not a recognised X, Bluesky or Mastodon payload")
    else:
        name = fmt
    formats = _formats()
    if name not in formats:
        raise FormatError(f"unknown format {name!r}")
    detect, parse = formats[name]
    if fmt != "auto" and not detect(obj):
        raise FormatError(f"not a {name} payload")
    return name, parse(obj, ctx)

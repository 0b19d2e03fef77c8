"""Raw network JSON → ``hubbub.post`` records.

One module per network (``x``, ``bluesky``, ``mastodon``), each exposing pure
functions per format it reads:

- ``detect…(obj) -> bool``: does this decoded JSON value look like that payload?
- ``parse…(obj, ctx) -> list[Item]``: the posts, deletions and skipped records in it.
  Raises ``FormatError`` when the value is of that format but unusable.

One bad post does not cost the others of its page: a parser that reads a page
or list skips a post it cannot map and records a ``BadPost`` (its id, the
field, why) in ``ctx.problems``; only a value with nothing usable left raises
(``finish``), carrying its bad posts on the ``FormatError``.

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


@dataclass(frozen=True, slots=True)
class BadPost:
    """One post of a page that was skipped: which one (its id as sent, when it
    had a usable one), which field was wrong, and why (said in full by ``str``)."""

    network: str
    post: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        article = "an" if self.network[:1] in "AEIOUX" else "a"  # "an X post"
        who = f"{self.network} post {self.post}" if self.post else f"{article} {self.network} post"
        where = f" (field {self.field!r})" if self.field else ""
        return f"{who} skipped{where}: {self.reason}"


class FormatError(ValueError):
    """A value that could not be read as any known payload. ``problems`` are
    the bad posts of a page none of whose posts could be read."""

    def __init__(self, message: str, problems: tuple[BadPost, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class PostError(FormatError):
    """One post is unusable; raised inside a parser and turned into a
    ``BadPost`` by the page loop that catches it."""

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@dataclass(slots=True)
class Context:
    """Where a payload came from. ``server`` is the host a Mastodon payload was
    fetched from (status ids are local to it); when unknown, parsers infer it.
    ``problems``: the posts the last ``parse_record`` skipped (it empties the
    list first, so a context reused for a whole stream does not grow)."""

    source: str = "-"
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    server: str | None = None
    problems: list[BadPost] = field(default_factory=list)


def shown(value: Any) -> str:
    """A hostile value as an error message may quote it: short strings in
    quotes (cut at 40 characters), anything else by its kind."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a list" if isinstance(value, list) else "an object"


def bad_post(network: str, post: str | None, exc: Exception) -> BadPost:
    """The ``BadPost`` for a post whose mapping raised ``exc``. Any exception
    counts (a parser bug on one hostile post must not lose its page); only a
    ``PostError`` knows the field."""
    if isinstance(exc, PostError):
        return BadPost(network, post, exc.field, exc.reason)
    if isinstance(exc, FormatError):
        return BadPost(network, post, None, str(exc))
    return BadPost(network, post, None, f"unreadable ({type(exc).__name__}: {exc})")


def finish(items: list[Item], problems: list[BadPost], ctx: Context) -> list[Item]:
    """End a page's parse: its items, with its bad posts added to ``ctx``;
    a page whose every post was bad raises, so callers that only look at
    exceptions still see that nothing was read."""
    if problems and not items:
        more = f" (and {len(problems) - 1} more bad posts)" if len(problems) > 1 else ""
        raise FormatError(f"{problems[0]}{more}", tuple(problems))
    ctx.problems.extend(problems)
    return items


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
    ctx.problems.clear()
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

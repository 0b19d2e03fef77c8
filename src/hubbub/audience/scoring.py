"""``hubbub audience score``: score a file of profiles, without a database.

Input: X API v2 user objects (one per line, or twarc2 pages with ``data``
and ``includes.users``), X v1.1 user objects, Mastodon Account JSON, Bluesky
profile views, one JSON value per line or one JSON document. Output: one row
per account, in input order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

import orjson

from hubbub.audience.bot_model import score
from hubbub.audience.profile import (
    fetched_time,
    profile_from_object,
    profiles_in_document,
)

MAX_DOCUMENT = 64 * 1024 * 1024  # bytes; a larger single document is refused


@dataclass(frozen=True, slots=True)
class Row:
    network: str
    id: str
    handle: str
    suspicion: float | None  # None: not scored (no post or follower counts)
    suspicious: bool | None  # None: unknown
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "network": self.network,
            "id": self.id,
            "handle": self.handle,
            "suspicion": self.suspicion,
            "suspicious": self.suspicious,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    message: str


def _rows(doc: object, now: datetime | None) -> Iterator[Row]:
    when = fetched_time(doc)
    for obj in profiles_in_document(doc):
        profile = profile_from_object(obj, when)
        if profile is None:
            continue
        result = score(profile, now)
        yield Row(
            profile.network,
            profile.id,
            profile.handle,
            result.suspicion,
            result.suspicious,
            result.reasons,
        )


def score_stream(fh: IO[bytes], now: datetime | None = None) -> Iterator[Row | Problem]:
    """Rows (and problems, with their line) for every profile in the file."""
    first = fh.readline(MAX_DOCUMENT + 1)
    if not first:
        return
    try:
        doc = orjson.loads(first)
        single = False
    except orjson.JSONDecodeError:
        single = True  # a pretty-printed document: read it whole, within the cap
    if single:
        rest = fh.read(MAX_DOCUMENT + 1 - len(first))
        data = first + rest
        if len(data) > MAX_DOCUMENT:
            yield Problem(1, f"a single JSON document over {MAX_DOCUMENT} bytes")
            return
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            yield Problem(1, f"not JSON lines nor one JSON document: {exc}")
            return
        yield from _rows_of(doc, now, 1)
        return
    yield from _rows_of(doc, now, 1)
    for number, line in enumerate(fh, start=2):
        if not line.strip():
            continue
        if len(line) > MAX_DOCUMENT:
            yield Problem(number, f"line over {MAX_DOCUMENT} bytes")
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield Problem(number, f"invalid JSON: {exc}")
            continue
        yield from _rows_of(doc, now, number)


def _rows_of(doc: object, now: datetime | None, line: int) -> Iterator[Row | Problem]:
    """The rows of one document, or a problem naming its line when it holds no
    account at all (``[1,2]``, ``null``, a status timeline): such a line used to
    vanish from the output with exit status 0."""
    found = False
    for item in _rows(doc, now):
        found = True
        yield item
    if not found:
        yield Problem(
            line,
            "no account profile here (expected X user objects, twarc2 pages,"
            " Mastodon accounts or Bluesky profile views)",
        )

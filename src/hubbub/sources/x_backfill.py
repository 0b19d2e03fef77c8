"""Recent-search backfill shared by ``x:stream`` and ``x:search``: per-rule
cursors, snowflake rewinds, paging, local filtering of widened queries.

Cursor discipline (what makes SIGKILL lose nothing): a rule's cursor moves
only when a backfill of it has fetched every page. The pages are handed on
as they arrive, except the last, which is held back and handed on with the
new cursor, so the cursor is committed in the same transaction as the last
posts it covers and never before the older pages of the same backfill.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from hubbub.formats import Context, parse_record
from hubbub.networks.clock import Clock
from hubbub.networks.x import SearchPage, XClient, XLimits
from hubbub.post import Post
from hubbub.query import ast
from hubbub.query.evaluate import matches
from hubbub.sources.base import RawItem

TWITTER_EPOCH_MS = 1288834974657


def snowflake_ms(post_id: str) -> int | None:
    try:
        return (int(post_id) >> 22) + TWITTER_EPOCH_MS
    except ValueError:
        return None


def rewound(post_id: str, seconds: float) -> str:
    """An id ``seconds`` older than ``post_id`` (X ids are time-ordered:
    the stream may deliver late and out of order, so a gap backfill starts a
    little before the newest stored post)."""
    try:
        value = int(post_id)
    except ValueError:
        return post_id
    return str(max(1, value - (int(seconds * 1000) << 22)))


def id_key(post_id: str) -> int:
    try:
        return int(post_id)
    except ValueError:
        return -1


@dataclass(slots=True)
class Cursors:
    """Newest covered post id per key (rule tag, or "q" for x:search)."""

    by_key: dict[str, str] = field(default_factory=dict)
    _text: str | None = None  # dump() cached until a cursor moves

    @classmethod
    def parse(cls, text: str | None) -> Cursors:
        if not text:
            return cls()
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return cls()
        rules = value.get("rules") if isinstance(value, dict) else None
        if not isinstance(rules, dict):
            return cls()
        return cls({str(k): str(v) for k, v in rules.items() if isinstance(v, str | int)})

    def dump(self) -> str:
        if self._text is None:
            self._text = orjson.dumps({"rules": self.by_key}, option=orjson.OPT_SORT_KEYS).decode()
        return self._text

    def get(self, key: str) -> str | None:
        return self.by_key.get(key)

    def advance(self, key: str, post_id: str | None) -> bool:
        """Move ``key`` forward to ``post_id`` (never back); True if it moved."""
        if post_id is None:
            return False
        current = self.by_key.get(key)
        if current is not None and id_key(current) >= id_key(post_id):
            return False
        self.by_key[key] = post_id
        self._text = None
        return True

    def keep_only(self, keys: set[str]) -> None:
        for key in list(self.by_key):
            if key not in keys:
                del self.by_key[key]
                self._text = None


def start_of(cursor: str | None, limits: XLimits, clock: Clock) -> tuple[str | None, str | None]:
    """(since_id, start_time) for a backfill from ``cursor``: a rewound
    since_id, or the last ``first_backfill_hours`` when there is none. Never
    older than the search window (X refuses that)."""
    now = datetime.fromtimestamp(clock.time(), UTC)
    oldest = now - timedelta(days=limits.search_days) + timedelta(minutes=1)
    if cursor is None:
        start = max(now - timedelta(hours=limits.first_backfill_hours), oldest)
        return None, start.strftime("%Y-%m-%dT%H:%M:%SZ")
    ms = snowflake_ms(cursor)
    if ms is not None and datetime.fromtimestamp(ms / 1000, UTC) < oldest:
        return None, oldest.strftime("%Y-%m-%dT%H:%M:%SZ")
    return rewound(cursor, limits.rewind_seconds), None


def _filtered(page: SearchPage, node: ast.Node, source: str) -> dict:
    """The page with only the posts ``node`` matches (widened queries)."""
    ctx = Context(source=source)
    keep: set[str] = set()
    for tweet in page.value.get("data") or []:
        one = {"data": [tweet], "includes": page.value.get("includes") or {}}
        try:
            _fmt, items = parse_record(one, ctx, "x-v2")
        except Exception:  # noqa: BLE001 - unreadable: keep it, the pipeline reports it
            keep.add(str(tweet.get("id")))
            continue
        for item in items:
            if isinstance(item, Post) and not item.embedded and matches(node, item):
                keep.add(item.id)
    value = dict(page.value)
    value["data"] = [t for t in page.value.get("data") or [] if str(t.get("id")) in keep]
    return value


async def backfill(
    client: XClient,
    queries: list[str],
    node: ast.Node | None,
    since_id: str | None,
    start_time: str | None,
    source: str,
    clock: Clock,
    on_page: Callable[[int], None] | None = None,
) -> AsyncIterator[tuple[RawItem | None, str | None]]:
    """Pages of a recent-search backfill as (item, None), then one final
    (held-back item or None, newest id seen). ``node``: filter locally."""
    newest: str | None = None
    held: RawItem | None = None
    for query in queries:
        token: str | None = None
        while True:
            page = await client.search_recent(
                query, since_id=since_id, start_time=start_time, next_token=token
            )
            if page.ids:
                top = max(page.ids, key=id_key)
                if newest is None or id_key(top) > id_key(newest):
                    newest = top
            if on_page is not None:
                on_page(len(page.ids))
            if page.ids:
                if node is not None:
                    value, raw = _filtered(page, node, source), None
                else:
                    value, raw = page.value, page.body
                ctx = Context(source=source, fetched_at=datetime.fromtimestamp(clock.time(), UTC))
                if held is not None:
                    yield held, None
                held = RawItem(value, ctx, fmt="x-v2", raw=raw)
            token = page.next_token
            if token is None:
                break
    yield held, newest

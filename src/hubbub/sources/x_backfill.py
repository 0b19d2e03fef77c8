"""Recent-search backfill shared by ``x:stream`` and ``x:search``: per-rule
cursors with the holes still to fill, snowflake rewinds, paging, local
filtering of widened queries.

Cursor discipline (what makes SIGKILL lose nothing): for each rule the
cursor holds the newest post id seen and, when posts may be missing, a
*hole* ``[since, until)`` still to fetch. A gap (a reconnect, a damaged line,
a first start) opens a hole from the newest id (rewound a few seconds: the
stream delivers late and out of order) to "now". Recent search returns the
hole newest first; after each page the hole's upper end moves down to the
page's oldest id, and that cursor is committed in the transaction that
stores the page. A restart therefore fetches exactly what is left of the
hole, and the stream can move the cursor forward meanwhile without losing it.
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
    """Newest covered post id per key (rule tag, or "q" for x:search), and
    the holes still to fill: key → [since_id or "" (the first-start window),
    until_id or "" (up to now)]."""

    by_key: dict[str, str] = field(default_factory=dict)
    holes: dict[str, list[str]] = field(default_factory=dict)
    _text: str | None = None  # dump() cached until something moves

    @classmethod
    def parse(cls, text: str | None) -> Cursors:
        if not text:
            return cls()
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return cls()
        if not isinstance(value, dict):
            return cls()
        rules = value.get("rules")
        holes = value.get("holes")
        out = cls()
        if isinstance(rules, dict):
            out.by_key = {str(k): str(v) for k, v in rules.items() if isinstance(v, str | int)}
        if isinstance(holes, dict):
            for key, hole in holes.items():
                if isinstance(hole, list) and len(hole) == 2:
                    out.holes[str(key)] = [str(hole[0] or ""), str(hole[1] or "")]
        return out

    def dump(self) -> str:
        if self._text is None:
            value: dict[str, object] = {"rules": self.by_key}
            if self.holes:
                value["holes"] = self.holes
            self._text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
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

    def open_hole(self, key: str, since: str) -> None:
        """Posts after ``since`` ("" = the first-start window) may be missing.
        An open hole widens to cover both."""
        hole = self.holes.get(key)
        if hole is not None and (
            hole[0] == "" or (since != "" and id_key(hole[0]) <= id_key(since))
        ):
            since = hole[0]
        self.holes[key] = [since, ""]
        self._text = None

    def narrow_hole(self, key: str, until: str) -> None:
        """Everything from ``until`` up is stored: what is left is below it."""
        hole = self.holes.get(key)
        if hole is not None and (hole[1] == "" or id_key(until) < id_key(hole[1])):
            hole[1] = until
            self._text = None

    def close_hole(self, key: str) -> None:
        if self.holes.pop(key, None) is not None:
            self._text = None

    def keep_only(self, keys: set[str]) -> None:
        for table in (self.by_key, self.holes):
            for key in list(table):
                if key not in keys:
                    del table[key]
                    self._text = None


def start_of(
    cursor: str | None, limits: XLimits, clock: Clock, *, rewind: bool = True
) -> tuple[str | None, str | None]:
    """(since_id, start_time) for a backfill from ``cursor``: since_id
    (rewound unless ``rewind`` is False), or the last ``first_backfill_hours``
    when there is none. Never older than the search window (X refuses that)."""
    now = datetime.fromtimestamp(clock.time(), UTC)
    oldest = now - timedelta(days=limits.search_days) + timedelta(minutes=1)
    if cursor is None:
        start = max(now - timedelta(hours=limits.first_backfill_hours), oldest)
        return None, start.strftime("%Y-%m-%dT%H:%M:%SZ")
    ms = snowflake_ms(cursor)
    if ms is not None and datetime.fromtimestamp(ms / 1000, UTC) < oldest:
        return None, oldest.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (rewound(cursor, limits.rewind_seconds) if rewind else cursor), None


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


async def fill_hole(
    client: XClient,
    cursors: Cursors,
    key: str,
    queries: list[str],
    node: ast.Node | None,
    source: str,
    clock: Clock,
    on_page: Callable[[int], None] | None = None,
) -> AsyncIterator[RawItem]:
    """Fetch what is left of ``key``'s hole, page by page, newest first; each
    item carries the cursor as it stands after its page (hole narrowed, or
    closed after the last page). ``node``: filter the pages locally."""
    hole = cursors.holes.get(key)
    if hole is None:
        return
    lo, hi = hole
    since_id, start_time = start_of(lo or None, client.limits, clock, rewind=False)
    # With several queries (a long OR split up) the hole cannot shrink from
    # the top page by page: one query's oldest page says nothing of another's.
    narrow = len(queries) == 1
    for index, query in enumerate(queries):
        token: str | None = None
        while True:
            page = await client.search_recent(
                query,
                since_id=since_id,
                start_time=start_time,
                until_id=hi or None,
                next_token=token,
            )
            token = page.next_token
            last = token is None and index == len(queries) - 1
            if page.ids:
                cursors.advance(key, max(page.ids, key=id_key))
                if narrow:
                    cursors.narrow_hole(key, min(page.ids, key=id_key))
            if on_page is not None:
                on_page(len(page.ids))
            if last:
                cursors.close_hole(key)
            if page.ids or last:
                if not page.ids:
                    value, raw = {"data": [], "meta": {"result_count": 0}}, None
                elif node is not None:
                    value, raw = _filtered(page, node, source), None
                else:
                    value, raw = page.value, page.body
                ctx = Context(source=source, fetched_at=datetime.fromtimestamp(clock.time(), UTC))
                yield RawItem(value, ctx, fmt="x-v2", raw=raw, cursor=cursors.dump())
            if token is None:
                break

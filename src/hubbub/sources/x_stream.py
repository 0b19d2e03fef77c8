"""``x:stream`` — X's filtered stream, kept in step with the workspace.

Three tasks feed one queue that the pipeline reads:

- **rules**: every ``rules_check_seconds`` the saved queries and public
  rooms are read and X's rule set is brought in step (only rules tagged
  ``hubbub:``; foreign rules are left alone). New rules are backfilled.
  The stream waits for the first sync, so until then a failing sync is
  the source's health (reconnecting, attempt, reason, next try), backed
  off as a failing stream connection is. Later the state is the stream's,
  and a failing sync shows beside it (``rules_error``, the last good sync,
  the next try), retried with the same backoff.
- **stream**: one connection (X allows one per app; it is never opened twice),
  read line by line with a 20 s stall limit. A dropped connection reconnects
  at once, failed attempts back off as X documents (``X_POLICY``). Every
  reconnect is a gap: every rule is backfilled.
- **backfill**: recent search per pending rule from its cursor (rewound a
  minute) or the last 24 h; see ``x_backfill``.

Cursor: ``{"rules": {tag: newest id}, "holes": {tag: [since, until]}}``,
committed with the posts: a gap opens a hole per rule before the stream
moves on, and backfill pages shrink it (``x_backfill``), so a crash at any
moment leaves exactly the unfilled part to fetch after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from datetime import UTC, datetime
from typing import Any

import orjson

from hubbub.formats import Context
from hubbub.networks.backoff import X_POLICY, Failure, Reconnect
from hubbub.networks.env import Lease, SourceEnv
from hubbub.networks.stall import Stalled, next_within
from hubbub.networks.x import XClient, XError, XLimits
from hubbub.sources.base import RawItem, describe_error, redact
from hubbub.sources.x_backfill import Cursors, fill_hole, rewound
from hubbub.sources.x_rules import WantedRule, is_ours, search_queries, wanted_rules

log = logging.getLogger(__name__)

_QUEUE = 2000
LEASE_RETRY = 15.0  # seconds between looks at another process's stream lease


class _Stop(Exception):
    """The source cannot go on (refused token): end it, do not restart."""


class XStreamSource:
    def __init__(
        self, client: XClient, env: SourceEnv, *, name: str = "x:stream", lease: str = "x-stream"
    ) -> None:
        self.name = name
        self.lease_name = lease  # one per X app (token): held while connected
        self.client = client
        self.env = env
        self.clock = env.clock
        self.limits: XLimits = client.limits
        self.health = env.health.tracker(name, "x")
        self.cursors = Cursors()
        self.rules: dict[str, WantedRule] = {}  # tag → rule, as last synced
        self._wake = asyncio.Event()
        self._synced = asyncio.Event()
        self._queue: asyncio.Queue[RawItem | BaseException] = asyncio.Queue(maxsize=_QUEUE)
        self.connections = 0  # successful stream connections (tests)
        self.gap_open = False

    def resume_from(self, cursor: str | None) -> None:
        self.cursors = Cursors.parse(cursor)

    # -- the iterator the pipeline reads ------------------------------------------

    async def _lease(self) -> Lease:
        """Wait until no other process runs this app's stream (X allows one
        connection); a crashed holder lets go at once (see store.leases)."""
        while True:
            lease = await asyncio.to_thread(self.env.lease, self.lease_name)
            if lease is not None:
                return lease
            self.health.reconnecting(
                0, LEASE_RETRY, "another Hubbub process runs this X app's stream (one per app)"
            )
            await self.clock.sleep(LEASE_RETRY)

    async def __aiter__(self) -> AsyncIterator[RawItem]:
        lease = await self._lease()
        try:
            async for item in self._run():
                yield item
        finally:
            lease.release()

    async def _run(self) -> AsyncIterator[RawItem]:
        self._synced = asyncio.Event()
        self.rules = {}  # every rule is "added" again: a (re)start is a gap
        tasks = [
            asyncio.create_task(self._guard(self._rules_loop()), name=f"{self.name}:rules"),
            asyncio.create_task(self._guard(self._stream_loop()), name=f"{self.name}:stream"),
            asyncio.create_task(self._guard(self._backfill_loop()), name=f"{self.name}:backfill"),
        ]
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _Stop):
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.client.aclose()

    async def _guard(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, which raises it
            await self._queue.put(exc)

    def _item(self, value: object, raw: bytes | None) -> RawItem:
        ctx = Context(source=self.name, fetched_at=datetime.fromtimestamp(self.clock.time(), UTC))
        return RawItem(value, ctx, fmt="x-v2", raw=raw, cursor=self.cursors.dump())

    # -- rules -------------------------------------------------------------------

    async def _rules_loop(self) -> None:
        failures = Reconnect(X_POLICY)
        while True:
            try:
                if await self._sync_rules() or failures.failures:
                    self.health.rules_synced()
                failures.connected()
                self._synced.set()
                await self.clock.sleep(self.limits.rules_check_seconds)
            except XError as exc:
                if exc.fatal:
                    self.health.stopped(f"X refused the token: {exc}")
                    await self._queue.put(_Stop())
                    return
                delay = failures.failed(exc.kind, reset_in=exc.reset_in)
                log.warning("%s: rules not synced (%s); again in %.1f s", self.name, exc, delay)
                # Once the stream runs, its state is the connection's: a sync
                # that keeps failing (new queries and rooms not followed) is
                # shown beside it, with the last good sync and the next try.
                self.health.rules_failed(failures.failures, delay, str(exc))
                if not self._synced.is_set():
                    # The stream waits for a first sync, so until then this
                    # failure is what the source is doing: say so as a stream
                    # failure would (it said "starting" for as long as X was
                    # unreachable). Later, the stream loop reports its own.
                    self._backing_off(failures, exc, delay)
                await self.clock.sleep(delay)

    async def _sync_rules(self) -> bool:
        """Bring X's rules in step; False when nothing had to change."""
        follows = await asyncio.to_thread(self.env.follows)
        wanted, problems = wanted_rules(follows.queries, follows.hashtags, self.limits.rule_chars)
        for problem in problems:
            log.warning("%s: %s", self.name, problem)
        by_tag = {rule.tag: rule for rule in wanted}
        if set(by_tag) == set(self.rules) and self._synced.is_set():
            return False
        current = await self.client.get_rules()
        ours = {r.value: r for r in current if is_ours(r.tag)}
        foreign = [r for r in current if not is_ours(r.tag)]
        room = max(0, self.limits.max_rules - len(foreign))
        if len(wanted) > room:
            log.warning(
                "%s: %d rules wanted, room for %d: the rest are not followed",
                self.name,
                len(wanted),
                room,
            )
            wanted = wanted[:room]
            by_tag = {rule.tag: rule for rule in wanted}
        values = {rule.value for rule in wanted}
        stale = [r.id for value, r in ours.items() if value not in values]
        if stale:
            await self.client.delete_rules(stale)
        present = set(ours) | {r.value for r in foreign}
        new = [(rule.value, rule.tag) for rule in wanted if rule.value not in present]
        for start in range(0, len(new), 100):
            await self.client.add_rules(new[start : start + 100])
        added = set(by_tag) - set(self.rules)
        self.rules = by_tag
        self.cursors.keep_only(set(by_tag))
        if added:
            # New rules (all of them at a (re)start) are backfilled from their
            # cursor, or the last 24 h.
            for tag in added:
                self._open(tag)
            self._wake.set()
        return True

    # -- stream ------------------------------------------------------------------

    async def _stream_loop(self) -> None:
        await self._synced.wait()
        reconnect = Reconnect(X_POLICY)
        attempt_failed = False
        while True:
            established = False
            reason = ""
            try:
                async with self.client.stream() as lines:
                    established = True
                    self.connections += 1
                    reconnect.connected()
                    self.health.connected()
                    if self.connections > 1 or attempt_failed:
                        self._gap()
                    attempt_failed = False
                    while True:
                        try:
                            line = await next_within(lines, self.limits.stall_seconds, self.clock)
                        except StopAsyncIteration:
                            reason = "the server closed the stream"
                            break
                        if line and not await self._line(line):
                            reason = "X asked us to reconnect"
                            break
            except Stalled as exc:
                self.health.stalled(exc.seconds)
                reason = str(exc)
            except XError as exc:
                if exc.fatal:
                    self.health.stopped(f"X refused the stream: {exc}")
                    await self._queue.put(_Stop())
                    return
                reason = str(exc)
                if not established:
                    attempt_failed = True
                    delay = reconnect.failed(exc.kind, reset_in=exc.reset_in)
                    self._backing_off(reconnect, exc, delay)
                    await self.clock.sleep(delay)
                    continue
            # An established stream that ended: reconnect at once (X's rule).
            log.info("%s: stream ended (%s); reconnecting", self.name, reason)
            self.health.reconnecting(0, reconnect.dropped(), reason or "disconnected")
            attempt_failed = True  # whatever comes next, posts may have been missed

    def _backing_off(self, failures: Reconnect, exc: XError, delay: float) -> None:
        """Health for an attempt that failed (rules or stream) and the wait
        before the next; ``exc``'s text is already free of the token."""
        if exc.kind is Failure.RATE_LIMIT:
            self.health.rate_limited(delay, redact(str(exc)))
        else:
            self.health.reconnecting(failures.failures, delay, str(exc))

    def _open(self, tag: str) -> None:
        cursor = self.cursors.get(tag)
        self.cursors.open_hole(tag, rewound(cursor, self.limits.rewind_seconds) if cursor else "")

    def _gap(self) -> None:
        self.health.gap_found()
        self.gap_open = True
        for tag in self.rules:
            self._open(tag)
        self._wake.set()

    async def _line(self, line: bytes) -> bool:
        """Handle one stream line; False when X says to reconnect."""
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError:
            # A damaged line is a post we did not get: backfill covers it.
            log.warning("%s: a damaged line (%d bytes); backfilling", self.name, len(line))
            self._gap()
            return True
        if not isinstance(value, dict):
            return True
        data = value.get("data")
        if not isinstance(data, dict):
            if value.get("errors"):
                log.warning(
                    "%s: X sent errors: %s",
                    self.name,
                    describe_error(Exception(str(value["errors"])[:200])),
                )
                return False  # e.g. operational-disconnect: reconnect and backfill
            return True
        post_id = str(data.get("id", ""))
        for rule in value.get("matching_rules") or []:
            tag = rule.get("tag") if isinstance(rule, dict) else None
            if isinstance(tag, str) and tag in self.rules:
                self.cursors.advance(tag, post_id)
        self.health.events(1)
        await self._queue.put(self._item(value, line))
        return True

    # -- backfill -------------------------------------------------------------------

    async def _backfill_loop(self) -> None:
        failures = Reconnect(X_POLICY)
        await self._synced.wait()
        while True:
            await self._wake.wait()
            self._wake.clear()
            while holes := [tag for tag in self.cursors.holes if tag in self.rules]:
                rule = self.rules[min(holes)]
                try:
                    await self._backfill_rule(rule)
                    failures.connected()
                except XError as exc:
                    if exc.fatal:
                        self.health.stopped(f"X refused recent search: {exc}")
                        await self._queue.put(_Stop())
                        return
                    delay = failures.failed(exc.kind, reset_in=exc.reset_in)
                    if exc.kind is Failure.RATE_LIMIT:
                        self.health.rate_limited(delay, f"backfill: {exc}")
                    log.warning("%s: backfill failed (%s); again in %.0f s", self.name, exc, delay)
                    await self.clock.sleep(delay)
            if self.gap_open:
                self.gap_open = False
                self.health.gap_backfilled()

    async def _backfill_rule(self, rule: WantedRule) -> None:
        queries, wide = search_queries(rule, self.limits.query_chars)
        if not queries:
            self.cursors.close_hole(rule.tag)
            return
        pages = fill_hole(
            self.client,
            self.cursors,
            rule.tag,
            queries,
            rule.node if wide else None,
            self.name,
            self.clock,
            on_page=self.health.events,
        )
        async for item in pages:
            await self._queue.put(item)

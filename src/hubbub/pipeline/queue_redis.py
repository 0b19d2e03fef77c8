"""RedisRawQueue: a durable queue of RawItems over a Redis Stream with
consumer groups, so sources (producers) and pipeline workers (consumers) can
run in different processes.

    producer:  await queue.put(item)                    XADD … MAXLEN ~ maxlen
    worker:    async for item, ack in queue.consume("pipeline", "worker-1"):
                   … store it (with the rest of its batch) …
                   await ack()                          XACK

Delivery is at least once; the store's upsert on each post's identity makes
it exactly once in the data:

- An entry is pending until acked. A worker that restarts under the same
  consumer name first gets its own pending entries again.
- Entries pending longer than ``claim_idle`` seconds on any consumer (one
  that died, or hung) are claimed by a live one with XAUTOCLAIM. So a worker
  that keeps items unacked longer than ``claim_idle`` may see them delivered
  elsewhere too: pick ``claim_idle`` well above a batch's store time.
- An entry that cannot be decoded, or that was claimed more than
  ``max_deliveries`` times (it keeps killing its workers), is copied to a
  dead-letter stream ``…:raw:dead`` with the reason, acked, logged and counted
  in ``health()``; the consumer goes on.
- ``maxlen`` bounds the stream (approximately, which is cheap). Trimming does
  not care whether an entry was consumed, so it must exceed the backlog the
  workers may fall behind by; ``lag()`` shows that backlog.

Connection failures while consuming are retried with a doubling delay and
shown in ``health()``; ``put`` raises (after redis-py's own retries) so the
producer knows the item was not queued.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, TypedDict, cast

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from hubbub.formats import FORMATS, Context
from hubbub.post import parse_time, rfc3339
from hubbub.sources.base import RawItem, describe_error, redact

log = logging.getLogger(__name__)

ENTRY_VERSION = 1
_FIELD = b"item"  # the one stream field holding the encoded RawItem
_DEAD_MAXLEN = 100_000


class BadEntry(ValueError):
    """A stream entry that is not a RawItem this version can read."""


def raw_stream(workspace: str, prefix: str = "hubbub") -> str:
    return f"{prefix}:{workspace}:raw"


def encode_raw(item: RawItem) -> bytes:
    """A RawItem as the bytes stored in the stream, losslessly.

    ``value`` goes in as JSON; when orjson cannot write it (an integer beyond
    64 bits, a lone surrogate) it goes in as stdlib JSON text, which reads
    back exactly. ``raw`` goes in as text when it is UTF-8 (readable in
    redis-cli), else base64."""
    ctx = item.ctx
    entry: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "source": ctx.source,
        "fetched_at": rfc3339(ctx.fetched_at, exact=True),
        "server": ctx.server,
        "fmt": item.fmt,
        "cursor": item.cursor,
    }
    if item.raw is not None:
        try:
            entry["raw"] = item.raw.decode("utf-8")
        except UnicodeDecodeError:
            entry["raw_b64"] = base64.b64encode(item.raw).decode("ascii")
    try:
        return orjson.dumps({**entry, "value": item.value})
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        entry["value_json"] = json.dumps(item.value)
        return orjson.dumps(entry)


def _opt_str(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise BadEntry(f"{key} must be a string or null")
    return value


def decode_raw(data: bytes) -> RawItem:
    """``encode_raw``'s bytes back to the RawItem; BadEntry otherwise."""
    try:
        entry = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadEntry(f"not JSON: {exc}") from None
    if not isinstance(entry, dict) or entry.get("v") != ENTRY_VERSION:
        raise BadEntry("not a hubbub raw item of version 1")
    source = entry.get("source")
    if not isinstance(source, str):
        raise BadEntry("source must be a string")
    fetched_at = parse_time(_opt_str(entry, "fetched_at"))
    if fetched_at is None:
        raise BadEntry("fetched_at missing or unreadable")
    fmt = entry.get("fmt")
    if fmt not in FORMATS:
        raise BadEntry(f"unknown fmt {fmt!r}")
    if "value_json" in entry:
        text = _opt_str(entry, "value_json")
        try:
            value = json.loads(text or "")
        except ValueError as exc:
            raise BadEntry(f"value_json unreadable: {exc}") from None
    elif "value" in entry:
        value = entry["value"]
    else:
        raise BadEntry("no value")
    raw: bytes | None = None
    if "raw" in entry:
        raw = (_opt_str(entry, "raw") or "").encode("utf-8")
    elif "raw_b64" in entry:
        try:
            raw = base64.b64decode(_opt_str(entry, "raw_b64") or "", validate=True)
        except ValueError as exc:
            raise BadEntry(f"raw_b64 unreadable: {exc}") from None
    ctx = Context(source=source, fetched_at=fetched_at, server=_opt_str(entry, "server"))
    return RawItem(value, ctx, fmt, raw, _opt_str(entry, "cursor"))


@dataclass(slots=True, frozen=True)
class Ack:
    """Acknowledges one delivered entry: ``await ack()`` once it is stored."""

    queue: RedisRawQueue
    group: str
    id: str

    async def __call__(self) -> None:
        await self.queue.ack(self.group, self.id)


def _id(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# The replies as this client gets them. redis-py types each reply for every
# protocol and for decode_responses on and off at once (str or bytes, ids as
# ints, None everywhere); this client is bytes-only (no decode_responses), so
# the casts below name the one shape it can receive.
_RawEntry = tuple[bytes, dict[bytes, bytes] | None]  # fields None: entry trimmed meanwhile
# XREADGROUP, RESP2 or RESP3 (see _read); None when the block timed out.
_ReadReply = list[tuple[bytes, list[_RawEntry]]] | dict[bytes, list[list[_RawEntry]]] | None


class _PendingEntry(TypedDict):
    """One XPENDING … start end count row as redis-py parses it."""

    message_id: bytes
    consumer: bytes
    time_since_delivered: int
    times_delivered: int


class RedisRawQueue:
    """A stream of RawItems for one workspace (see module doc)."""

    def __init__(
        self,
        url: str,
        workspace: str = "default",
        *,
        prefix: str = "hubbub",
        maxlen: int = 1_000_000,
        claim_idle: float = 60.0,
        block: float = 1.0,
        count: int = 100,
        max_deliveries: int = 5,
        reconnect_delay: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        if maxlen < 1 or count < 1 or claim_idle <= 0 or block <= 0 or max_deliveries < 1:
            raise ValueError("maxlen, count, max_deliveries ≥ 1; claim_idle, block > 0")
        self.url = url
        self.stream = raw_stream(workspace, prefix)
        self.dead_stream = self.stream + ":dead"
        self.maxlen = maxlen
        self.claim_idle = claim_idle
        self.block = block
        self.count = count
        self.max_deliveries = max_deliveries
        self.reconnect_delay = reconnect_delay
        self.max_backoff = max_backoff
        # A blocking XREADGROUP holds the socket for ``block`` seconds; the
        # read timeout must be longer or every idle poll would look like a failure.
        self._client: aioredis.Redis = aioredis.Redis.from_url(url, socket_timeout=block + 5.0)
        self._groups: set[str] = set()
        # health
        self.state = "idle"  # idle | ok | backing_off | closed
        self.retry_at: float | None = None
        self.last_error: str | None = None
        self.put_count = 0
        self.delivered = 0
        self.acked = 0
        self.claimed = 0
        self.dead = 0  # entries moved to the dead-letter stream (bad or poison)
        self.reconnects = 0

    # -- producing -----------------------------------------------------------

    async def put(self, item: RawItem) -> str:
        """Append ``item``; returns its entry id."""
        entry_id = await self._client.xadd(
            self.stream, {_FIELD: encode_raw(item)}, maxlen=self.maxlen, approximate=True
        )
        self.put_count += 1
        return _id(entry_id)

    async def put_many(self, items: list[RawItem]) -> list[str]:
        """Append ``items`` in one round trip (a pipeline, not a transaction)."""
        async with self._client.pipeline(transaction=False) as pipe:
            for item in items:
                pipe.xadd(
                    self.stream, {_FIELD: encode_raw(item)}, maxlen=self.maxlen, approximate=True
                )
            ids = await pipe.execute()
        self.put_count += len(items)
        return [_id(i) for i in ids]

    # -- consuming -----------------------------------------------------------

    async def ensure_group(self, group: str) -> None:
        """Create ``group`` (and the stream) if missing. New groups start at
        the stream's beginning, so items queued before any worker ran are kept."""
        try:
            await self._client.xgroup_create(self.stream, group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(group)

    async def consume(self, group: str, consumer: str) -> AsyncGenerator[tuple[RawItem, Ack], None]:
        """Yield (item, ack) forever: this consumer's own pending entries
        first, then stale entries of other consumers and new entries. Stop by
        leaving the loop (or cancelling the task)."""
        batches = self.consume_batches(group, consumer)
        try:
            async for batch in batches:
                for pair in batch:
                    yield pair
        finally:
            await batches.aclose()

    async def consume_batches(
        self, group: str, consumer: str
    ) -> AsyncGenerator[list[tuple[RawItem, Ack]], None]:
        """Like ``consume`` but one non-empty list per read from Redis (at most
        ``count`` items): what arrived together, ready to store as one batch
        and ack with one ``ack(group, *ids)``."""
        backlog: str | None = "0"  # own pending entries, read from this id onward
        claim_cursor = "0-0"
        next_claim = 0.0
        claim_every = max(self.claim_idle / 2, 0.01)
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            entries: list[tuple[str, dict[bytes, bytes] | None]] = []
            claimed = False
            try:
                if group not in self._groups:
                    await self.ensure_group(group)
                if backlog is not None:
                    entries = await self._read(group, consumer, backlog, block=None)
                    backlog = entries[-1][0] if entries else None
                if not entries and loop.time() >= next_claim:
                    claim_cursor, entries = await self._claim(group, consumer, claim_cursor)
                    claimed = bool(entries)
                    if claim_cursor == "0-0":
                        next_claim = loop.time() + claim_every
                if not entries:
                    # Never block past the next claim round, or a small
                    # claim_idle would wait for a whole ``block``.
                    wait = min(self.block, max(next_claim - loop.time(), 0.001))
                    entries = await self._read(group, consumer, ">", block=wait)
                if claimed:
                    entries = await self._drop_poison(group, entries)
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    self._groups.discard(group)  # stream or group deleted: recreate
                failures += 1
                await self._back_off(failures, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - Redis going away is reported and retried
                failures += 1
                await self._back_off(failures, exc)
                continue
            if failures:
                self.reconnects += 1
            failures = 0
            self.state, self.retry_at = "ok", None
            batch: list[tuple[RawItem, Ack]] = []
            for entry_id, fields in entries:
                item = await self._item_or_skip(group, entry_id, fields)
                if item is not None:
                    batch.append((item, Ack(self, group, entry_id)))
            if batch:
                self.delivered += len(batch)
                yield batch

    async def ack(self, group: str, *ids: str) -> int:
        """Acknowledge entries (they will not be delivered again)."""
        if not ids:
            return 0
        done = int(await self._client.xack(self.stream, group, *ids))
        self.acked += done
        return done

    # -- looking -------------------------------------------------------------

    async def pending(self, group: str) -> int:
        """Entries delivered to ``group`` and not acked yet."""
        summary = await self._client.xpending(self.stream, group)
        return int(summary["pending"])

    async def lag(self, group: str) -> int | None:
        """Entries not yet delivered to ``group`` (Redis ≥ 7; None if unknown)."""
        for info in await self._client.xinfo_groups(self.stream):
            if _id(info["name"]) == group:
                lag = info.get("lag")
                return None if lag is None else int(lag)
        return None

    async def dead_letters(self, count: int = 100) -> list[dict[str, str]]:
        """The newest dead-lettered entries: id, group, reason, item (as text)."""
        # Bytes replies (see _RawEntry); a dead letter is written with its fields.
        rows = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            await self._client.xrevrange(self.dead_stream, count=count),
        )
        return [
            {_id(k): v.decode("utf-8", "replace") for k, v in fields.items()}
            for _entry_id, fields in rows
        ]

    def health(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "url": redact(self.url),
            "state": self.state,
            "retry_at": self.retry_at,
            "last_error": self.last_error,
            "put": self.put_count,
            "delivered": self.delivered,
            "acked": self.acked,
            "claimed": self.claimed,
            "dead": self.dead,
            "reconnects": self.reconnects,
        }

    async def close(self) -> None:
        self.state = "closed"
        await self._client.aclose()

    async def __aenter__(self) -> RedisRawQueue:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- internals -----------------------------------------------------------

    async def _read(
        self, group: str, consumer: str, start: str, block: float | None
    ) -> list[tuple[str, dict[bytes, bytes] | None]]:
        response = cast(
            _ReadReply,
            await self._client.xreadgroup(
                group,
                consumer,
                {self.stream: start},
                count=self.count,
                block=None if block is None else max(1, int(block * 1000)),
            ),
        )
        # RESP2: [[stream, [(id, fields), …]]]; RESP3: {stream: [[(id, fields), …]]}.
        if isinstance(response, dict):
            batches = [entries for value in response.values() for entries in value]
        else:
            batches = [entries for _stream, entries in response or ()]
        return [(_id(i), f) for entries in batches for i, f in entries]

    async def _claim(
        self, group: str, consumer: str, cursor: str
    ) -> tuple[str, list[tuple[str, dict[bytes, bytes] | None]]]:
        response = await self._client.xautoclaim(
            self.stream,
            group,
            consumer,
            min_idle_time=max(1, int(self.claim_idle * 1000)),
            start_id=cursor,
            count=self.count,
        )
        next_cursor, entries = _id(response[0]), response[1]
        claimed = [(_id(i), f) for i, f in entries]
        if claimed:
            self.claimed += len(claimed)
            log.info("%s: claimed %d stale entries for %s", self.stream, len(claimed), consumer)
        return next_cursor, claimed

    async def _drop_poison(
        self, group: str, entries: list[tuple[str, dict[bytes, bytes] | None]]
    ) -> list[tuple[str, dict[bytes, bytes] | None]]:
        """Dead-letter claimed entries delivered more than ``max_deliveries``
        times: they keep killing the workers that take them."""
        rows = cast(
            list[_PendingEntry],
            await self._client.xpending_range(
                self.stream, group, min=entries[0][0], max=entries[-1][0], count=len(entries)
            ),
        )
        times = {_id(row["message_id"]): int(row["times_delivered"]) for row in rows}
        keep = []
        for entry_id, fields in entries:
            if times.get(entry_id, 0) > self.max_deliveries:
                data = (fields or {}).get(_FIELD, b"")
                reason = f"delivered {times[entry_id]} times without an ack"
                await self._dead_letter(group, entry_id, data, reason)
            else:
                keep.append((entry_id, fields))
        return keep

    async def _item_or_skip(
        self, group: str, entry_id: str, fields: dict[bytes, bytes] | None
    ) -> RawItem | None:
        """The entry's RawItem, or None after setting aside one there is
        nothing to deliver of."""
        try:
            if fields is None:
                # Trimmed (MAXLEN) while pending: nothing left to deliver.
                await self.ack(group, entry_id)
                return None
            data = fields.get(_FIELD)
            try:
                if data is None:
                    raise BadEntry(f"no {_FIELD.decode()!r} field")
                return decode_raw(data)
            except BadEntry as exc:
                await self._dead_letter(group, entry_id, data or b"", f"bad entry: {exc}")
                return None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - left pending: claimed and retried later
            self.last_error = describe_error(exc)
            log.warning("%s: could not set %s aside: %s", self.stream, entry_id, self.last_error)
            return None

    async def _dead_letter(self, group: str, entry_id: str, data: bytes, reason: str) -> None:
        self.dead += 1
        self.last_error = redact(f"{entry_id}: {reason}")
        log.warning("%s: entry skipped to %s: %s", self.stream, self.dead_stream, self.last_error)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.dead_stream,
                {"id": entry_id, "group": group, "reason": reason, "item": data},
                maxlen=_DEAD_MAXLEN,
                approximate=True,
            )
            pipe.xack(self.stream, group, entry_id)
            await pipe.execute()

    async def _back_off(self, failures: int, exc: BaseException) -> None:
        self.last_error = describe_error(exc)
        if failures == 1:
            log.warning("%s: consuming failed: %s", self.stream, self.last_error)
        delay = min(self.reconnect_delay * 2 ** (failures - 1), self.max_backoff)
        self.state, self.retry_at = "backing_off", time.time() + delay
        await asyncio.sleep(delay)

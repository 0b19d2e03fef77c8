"""Mastodon sources: ``mastodon:tag:TAG@SERVER[,SERVER…]``,
``mastodon:public@SERVER`` and ``mastodon:home@SERVER``.

A hashtag shows only what reached the server you ask, so a tag is read from
every server named and the statuses are deduplicated by their ``uri`` (the
same post has a different local id on each server).

Per server:

- **With a token for that server** (the workspace's Mastodon account whose
  server it is): streaming (SSE, or WebSocket with ``?via=ws``), token in a
  header. Streaming has no replay, so after *every* connection the server's
  timeline is read over REST from the last position (``min_id``, following
  pages) before streamed events are taken; repeats are dropped by ``uri``.
  Silence past twice the 15 s ``:thump`` heartbeat is a stall.
- **Without one**: polling the public timeline (every ``poll_seconds``, 40 a
  page, ``min_id`` paging), after reading ``/api/v2/instance``: a server
  whose hashtag feeds need a login or are off is reported (stopped, with the
  reason) rather than hammered; one that opens only local posts is polled
  with ``local=true``.

Every server's requests go through its 300-per-5-minutes budget and honour
``X-RateLimit-*``. Failures back off (network 1 s doubling to 60 s, HTTP 5 s
to 320 s, 429 until the server's reset) and never stop the other servers.

The cursor is one JSON object ``{host: last status id}``, each id the largest
passed on for that server; it never goes back, and every restart or
reconnection resumes a few seconds earlier (Mastodon ids are time-ordered
snowflakes: ``rewind`` seconds are subtracted from the id) so nothing around
the break is missed. Backfilled statuses are stored whatever their age.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import websockets

from hubbub.formats import Context
from hubbub.networks.backoff import Failure, Policy, Reconnect, generic_policy
from hubbub.networks.budget import WindowBudget
from hubbub.networks.clock import Clock, SystemClock
from hubbub.networks.env import SourceEnv
from hubbub.networks.health import HealthTracker
from hubbub.networks.mastodon import (
    PAGE_LIMIT,
    REQUESTS_PER_WINDOW,
    WINDOW_SECONDS,
    Instance,
    MastodonAuthFailed,
    MastodonClient,
    MastodonError,
    MastodonRateLimited,
    base_url,
    id_key,
)
from hubbub.networks.mastodon_streaming import (
    HEARTBEAT_SECONDS,
    StreamBroken,
    StreamEvent,
    sse_events,
    streaming_healthy,
    ws_events,
)
from hubbub.networks.stall import Stalled, next_within
from hubbub.query import ast
from hubbub.query.parser import parse
from hubbub.query.tokens import fold
from hubbub.sources.base import RawItem, Source, describe_error
from hubbub.sources.network_specs import NetworkSpec
from hubbub.store import Store
from hubbub.store.network_accounts import AccountInfo

log = logging.getLogger(__name__)

NETWORK = "mastodon"
POLL_SECONDS = 10.0
REWIND_SECONDS = 5.0
_MAX_CATCH_UP_PAGES = 500  # one backfill; the budget paces it, this only bounds a runaway
_REMEMBER = 100_000
STEADY_SECONDS = 60.0  # a stream up this long worked, even on a quiet hashtag
_SNOWFLAKE_MIN = 1 << 40  # smaller numeric ids are not time-ordered snowflakes


class ServerStopped(Exception):
    """This server cannot be read as configured (reason for people)."""


@dataclass(slots=True)
class _Found:
    """Something a server produced, on its way to the merged stream."""

    host: str
    local_id: str | None  # status id on that server (None for a deletion)
    uri: str | None  # status uri (None for a deletion)
    item: RawItem


class _Recent:
    def __init__(self, size: int) -> None:
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def add(self, key: str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)


def streaming_allowed(streaming: str, base: str) -> bool:
    """May the token go to the streaming URL the instance names? Only on the
    server's own host or a subdomain of it (``streaming.mastodon.social``),
    and never over plain ws when the server is https: a hostile answer must
    not send the user's token elsewhere."""
    stream, server = urlsplit(streaming), urlsplit(base)
    host, own = (stream.hostname or "").lower(), (server.hostname or "").lower()
    if not host or not (host == own or host.endswith("." + own)):
        return False
    if server.scheme == "https":
        return stream.scheme in ("wss", "https")
    return stream.scheme in ("ws", "wss", "http", "https")


def rewound(status_id: str, seconds: float) -> str:
    """A ``min_id`` ``seconds`` before ``status_id`` (snowflake ids encode
    milliseconds above 16 bits); other ids are returned unchanged."""
    if not status_id.isdigit() or int(status_id) < _SNOWFLAKE_MIN:
        return status_id
    return str(max(0, int(status_id) - (int(seconds * 1000) << 16)))


class MastodonSource:
    def __init__(
        self,
        kind: str,
        clients: list[MastodonClient],
        *,
        tag: str | None = None,
        name: str | None = None,
        clock: Clock | None = None,
        health: HealthTracker | None = None,
        policy: Policy | None = None,
        via: str = "sse",
        poll_seconds: float = POLL_SECONDS,
        stall_seconds: float = 2 * HEARTBEAT_SECONDS,
        ws_silence_seconds: float = 300.0,
        rewind: float = REWIND_SECONDS,
    ) -> None:
        if kind not in ("tag", "public", "home"):
            raise ValueError(f"unknown Mastodon timeline {kind!r}")
        if kind == "tag" and not tag:
            raise ValueError("a Mastodon tag source needs a tag")
        if not clients:
            raise ValueError("a Mastodon source needs at least one server")
        if via not in ("sse", "ws"):
            raise ValueError("via must be sse or ws")
        self.kind, self.tag, self.clients = kind, tag, clients
        self.name = name or f"mastodon:{kind}" + (f":{tag}" if tag else "")
        self.clock = clock or SystemClock()
        self.health = health or HealthTracker(self.name, NETWORK, self.clock)
        self.policy = policy or generic_policy()
        self.via = via
        self.poll_seconds = poll_seconds
        self.stall_seconds = stall_seconds
        self.ws_silence_seconds = ws_silence_seconds
        self.rewind = rewind
        self.positions: dict[str, str] = {}  # host → largest status id passed on
        self.duplicates = 0  # statuses dropped as already passed on (any server)
        self.delays: list[tuple[str, float]] = []  # (host, backoff delay slept)
        self.connections: dict[str, int] = {}  # host → streaming connections opened
        self.stopped: dict[str, str] = {}  # host → why it is not read
        self._seen = _Recent(_REMEMBER)
        self._known_ids: dict[str, _Recent] = {}  # host → local ids passed on (for deletes)
        self._fetched: dict[str, str] = {}  # host → largest id fetched (paging)
        self._new: dict[str, int] = {}  # host → statuses fetched that moved _fetched on

    # -- cursor ----------------------------------------------------------------

    def resume_from(self, cursor: str | None) -> None:
        if not cursor:
            return
        try:
            stored = orjson.loads(cursor)
        except orjson.JSONDecodeError:
            return
        if not isinstance(stored, dict):
            return
        for host, value in stored.items():
            if isinstance(host, str) and isinstance(value, str) and value:
                self._advance(self.positions, host, value)

    @staticmethod
    def _advance(positions: dict[str, str], host: str, status_id: str) -> None:
        current = positions.get(host)
        if current is None or id_key(status_id) > id_key(current):
            positions[host] = status_id

    def _cursor(self) -> str:
        return orjson.dumps(dict(sorted(self.positions.items()))).decode()

    # -- the merged stream -------------------------------------------------------

    async def __aiter__(self) -> AsyncIterator[RawItem]:
        queue: asyncio.Queue[_Found] = asyncio.Queue(maxsize=1000)
        self._fetched = dict(self.positions)
        tasks = [
            asyncio.create_task(self._run_server(client, queue), name=f"{self.name}@{client.host}")
            for client in self.clients
        ]
        try:
            while True:
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        # A bug, not a network failure: the pipeline restarts the source.
                        raise task.exception()  # type: ignore[misc]
                if all(task.done() for task in tasks) and queue.empty():
                    return  # every server stopped (reasons in health)
                try:
                    # asyncio.timeout, not wait_for: Python 3.11's wait_for can
                    # swallow a cancellation that races a result, and then the
                    # pipeline's stop waits for this source forever.
                    async with asyncio.timeout(1.0):
                        found = await queue.get()
                except TimeoutError:
                    continue
                item = self._pass_on(found)
                if item is not None:
                    yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _pass_on(self, found: _Found) -> RawItem | None:
        if found.local_id is not None:
            self._advance(self.positions, found.host, found.local_id)
        if found.uri is not None:
            if found.uri in self._seen:
                self.duplicates += 1
                return None
            self._seen.add(found.uri)
            if found.local_id is not None:
                self._known_ids.setdefault(found.host, _Recent(_REMEMBER)).add(found.local_id)
            self.health.events(1)
        found.item.cursor = self._cursor()
        return found.item

    # -- one server --------------------------------------------------------------

    async def _run_server(self, client: MastodonClient, queue: asyncio.Queue[_Found]) -> None:
        reconnect = Reconnect(self.policy)
        try:
            instance = await self._retry(client, reconnect, client.instance)
            reconnect.connected()
            local = self._check_access(client, instance)
            if client.has_token:
                await self._stream(client, instance, reconnect, queue)
            else:
                await self._poll(client, reconnect, queue, local)
        except ServerStopped as exc:
            reason = f"{client.host}: {exc}"
            self.stopped[client.host] = reason
            log.warning("%s: %s", self.name, reason)
            if len(self.stopped) == len(self.clients):
                self.health.stopped(reason)
        finally:
            await client.aclose()

    def _check_access(self, client: MastodonClient, instance: Instance) -> bool:
        """True when only local posts are public (poll with ``local=true``)."""
        if self.kind == "home":
            if not client.has_token:
                raise ServerStopped("the home timeline needs an account on this server")
            return False
        if client.has_token:
            return False
        access = instance.feed_access("hashtag" if self.kind == "tag" else "live")
        if access["remote"] == "public":
            return False
        if access["local"] == "public":
            return True
        feeds = "hashtag" if self.kind == "tag" else "live"
        if "authenticated" in (access["local"], access["remote"]):
            raise ServerStopped(
                f"this server opens its {feeds} feeds only to logged-in users; "
                "add a Mastodon account on it to read them"
            )
        raise ServerStopped(f"this server has turned its {feeds} feeds off")

    async def _retry(
        self, client: MastodonClient, reconnect: Reconnect, call: Callable[[], Awaitable[Instance]]
    ) -> Instance:
        while True:
            try:
                return await call()
            except MastodonAuthFailed as exc:
                raise ServerStopped(f"refused ({exc})") from None
            except MastodonRateLimited as exc:
                await self._back_off(client, reconnect, Failure.RATE_LIMIT, str(exc), exc.reset_in)
            except MastodonError as exc:
                kind = Failure.NETWORK if exc.status == 0 else Failure.HTTP
                await self._back_off(client, reconnect, kind, str(exc), None)

    async def _back_off(
        self,
        client: MastodonClient,
        reconnect: Reconnect,
        kind: Failure,
        reason: str,
        retry_after: float | None,
    ) -> None:
        delay = reconnect.failed(kind, reset_in=retry_after)
        reason = f"{client.host}: {reason}"
        if kind is Failure.RATE_LIMIT:
            self.health.rate_limited(delay, reason)
        else:
            self.health.reconnecting(reconnect.failures, delay, reason)
        self.delays.append((client.host, delay))
        await self.clock.sleep(delay)

    async def _catch_up(
        self, client: MastodonClient, queue: asyncio.Queue[_Found], *, local: bool = False
    ) -> int:
        """Read the timeline from the last position (rewound) up to now; returns statuses read."""
        position = self._fetched.get(client.host)
        if position is None:
            # First start: the newest page, then onwards from it.
            page = await client.timeline(self.kind, tag=self.tag, local=local)
            statuses = list(reversed(page.statuses))
            await self._emit_statuses(client, queue, statuses)
            if not statuses:
                self._fetched[client.host] = "0"
                return 0
            count = len(statuses)
        else:
            count = 0
        min_id: str | None = rewound(self._fetched[client.host], self.rewind)
        for _ in range(_MAX_CATCH_UP_PAGES):
            page = await client.timeline(self.kind, tag=self.tag, min_id=min_id, local=local)
            statuses = sorted(page.statuses, key=lambda s: id_key(str(s.get("id", ""))))
            await self._emit_statuses(client, queue, statuses)
            count += len(statuses)
            if len(statuses) < PAGE_LIMIT:
                break  # the last page: the rest is newer than anything on the server
            newest = str(statuses[-1].get("id", ""))
            min_id = page.newer or newest
            if id_key(min_id) < id_key(newest):
                min_id = newest  # a link that would page backwards is not followed
        return count

    async def _emit_statuses(
        self, client: MastodonClient, queue: asyncio.Queue[_Found], statuses: list[dict[str, Any]]
    ) -> None:
        for status in statuses:
            await self._emit_status(client, queue, status)

    async def _emit_status(
        self, client: MastodonClient, queue: asyncio.Queue[_Found], status: dict[str, Any]
    ) -> None:
        local_id, uri = status.get("id"), status.get("uri")
        if not isinstance(local_id, str) or not isinstance(uri, str) or not uri:
            log.warning("%s: %s sent a status without id/uri; skipped", self.name, client.host)
            return
        previous = self._fetched.get(client.host)
        self._advance(self._fetched, client.host, local_id)
        if self._fetched[client.host] != previous:
            self._new[client.host] = self._new.get(client.host, 0) + 1
        ctx = Context(source=self.name, fetched_at=datetime.now(UTC), server=client.host)
        await queue.put(_Found(client.host, local_id, uri, RawItem(status, ctx, fmt="mastodon")))

    async def _poll(
        self,
        client: MastodonClient,
        reconnect: Reconnect,
        queue: asyncio.Queue[_Found],
        local: bool,
    ) -> None:
        while True:
            try:
                await self._catch_up(client, queue, local=local)
            except MastodonAuthFailed as exc:
                raise ServerStopped(f"refused ({exc})") from None
            except MastodonRateLimited as exc:
                await self._back_off(client, reconnect, Failure.RATE_LIMIT, str(exc), exc.reset_in)
                continue
            except MastodonError as exc:
                kind = Failure.NETWORK if exc.status == 0 else Failure.HTTP
                await self._back_off(client, reconnect, kind, str(exc), None)
                continue
            reconnect.connected()
            self.health.connected()
            await self.clock.sleep(self.poll_seconds)

    # -- streaming ---------------------------------------------------------------

    def _stream_name(self) -> str:
        return {"tag": "hashtag", "public": "public", "home": "user"}[self.kind]

    async def _stream(
        self,
        client: MastodonClient,
        instance: Instance,
        reconnect: Reconnect,
        queue: asyncio.Queue[_Found],
    ) -> None:
        streaming = client.base
        if instance.streaming and streaming_allowed(instance.streaming, client.base):
            streaming = instance.streaming
        elif instance.streaming:
            log.warning(
                "%s: %s names a streaming server elsewhere; streaming from the server itself",
                self.name,
                client.host,
            )
        http = httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=10.0))
        try:
            while True:
                await self._stream_once(client, streaming, http, reconnect, queue)
        finally:
            await http.aclose()

    async def _stream_once(
        self,
        client: MastodonClient,
        streaming: str,
        http: httpx.AsyncClient,
        reconnect: Reconnect,
        queue: asyncio.Queue[_Found],
    ) -> None:
        """One streaming connection: connect, backfill over REST, read until it breaks."""
        if not await streaming_healthy(http, streaming):
            await self._back_off(
                client, reconnect, Failure.NETWORK, "streaming health check failed", None
            )
            return
        if self.via == "ws":
            events = ws_events(streaming, self._stream_name(), self.tag, client.auth_headers())
            silence = self.ws_silence_seconds
        else:
            events = sse_events(
                http, streaming, self._stream_name(), self.tag, client.auth_headers()
            )
            silence = self.stall_seconds
        new_before = self._new.get(client.host, 0)
        connected_at: float | None = None
        reason = "closed by the server"
        try:
            await next_within(events, silence, self.clock)  # connected (subscribed)
            connected_at = self.clock.monotonic()
            self.connections[client.host] = self.connections.get(client.host, 0) + 1
            again = self.connections[client.host] > 1
            if again:
                self.health.gap_found()
            await self._catch_up(client, queue)  # no replay in streaming: REST fills the gap
            if again:
                self.health.gap_backfilled()
            self.health.connected()
            while True:
                event = await next_within(events, silence, self.clock)
                await self._on_event(client, queue, event)
        except StopAsyncIteration:
            pass
        except Stalled as exc:
            self.health.stalled(exc.seconds)
            reason = str(exc)
        except MastodonAuthFailed as exc:
            raise ServerStopped(f"streaming refused the token ({exc})") from None
        except MastodonRateLimited as exc:
            await self._back_off(client, reconnect, Failure.RATE_LIMIT, str(exc), exc.reset_in)
            return
        except MastodonError as exc:
            kind = Failure.NETWORK if exc.status == 0 else Failure.HTTP
            await self._back_off(client, reconnect, kind, str(exc), None)
            return
        except (StreamBroken, httpx.HTTPError, websockets.WebSocketException, OSError) as exc:
            reason = describe_error(exc)
        finally:
            # Exception, not BaseException: a cancellation must go on cancelling.
            with contextlib.suppress(Exception):
                await events.aclose()
        # A connection worked when it brought new statuses or stayed up a while;
        # one that is dropped at once with nothing new is a failed attempt
        # (backed off), so a flapping server is not redialled in a loop.
        lived = connected_at is not None and (
            self.clock.monotonic() - connected_at >= STEADY_SECONDS
        )
        if lived or self._new.get(client.host, 0) > new_before:
            reconnect.connected()
            delay = reconnect.dropped()
            self.health.reconnecting(0, delay, f"{client.host}: {reason}")
        else:
            await self._back_off(client, reconnect, Failure.NETWORK, reason, None)

    async def _on_event(
        self, client: MastodonClient, queue: asyncio.Queue[_Found], event: StreamEvent
    ) -> None:
        if event.event in ("update", "status.update"):
            try:
                status = orjson.loads(event.payload)
            except orjson.JSONDecodeError:
                raise StreamBroken(f"a {event.event} event whose payload is not JSON") from None
            if not isinstance(status, dict):
                raise StreamBroken(f"a {event.event} event whose payload is not a status")
            if event.event == "status.update":
                # An edit: passed on even though its uri was seen (the store keeps versions).
                ctx = Context(source=self.name, fetched_at=datetime.now(UTC), server=client.host)
                value = {"event": event.event, "payload": status}
                await queue.put(_Found(client.host, None, None, RawItem(value, ctx, "mastodon")))
                return
            await self._emit_status(client, queue, status)
        elif event.event == "delete":
            local_id = event.payload.strip().strip('"')
            known = self._known_ids.get(client.host)
            if known is None or local_id not in known:
                return  # a status this source never passed on
            ctx = Context(source=self.name, fetched_at=datetime.now(UTC), server=client.host)
            value = {"event": "delete", "payload": local_id}
            await queue.put(_Found(client.host, None, None, RawItem(value, ctx, "mastodon")))
        # Other events (notification, filters_changed, announcements…) are not posts.


_OPTIONS = ("account", "via", "poll")


def source_from_spec(spec: NetworkSpec, env: SourceEnv) -> Source:
    """``mastodon:tag:TAG@SERVER[,SERVER…]``, ``mastodon:public@SERVER``,
    ``mastodon:home@SERVER`` (``?account=NAME&via=sse|ws&poll=SECONDS``)."""
    spec.reject_unknown(_OPTIONS)
    what, at, servers_text = spec.body.partition("@")
    if not at or not what or not servers_text:
        raise ValueError(
            f"source {spec.text!r}: expected mastodon:tag:TAG@SERVER[,SERVER…], "
            "mastodon:public@SERVER or mastodon:home@SERVER"
        )
    kind, _, tag = what.partition(":")
    tag = tag.lstrip("#")
    if kind == "tag":
        if not tag or not all(ch.isalnum() or ch == "_" for ch in tag) or len(tag) > 100:
            raise ValueError(f"source {spec.text!r}: a hashtag is letters, digits and _")
    elif kind not in ("public", "home") or tag:
        raise ValueError(f"source {spec.text!r}: unknown Mastodon timeline {what!r}")
    bases: list[str] = []
    for server in servers_text.split(","):
        try:
            base = base_url(server)
        except ValueError as exc:
            raise ValueError(f"source {spec.text!r}: {exc}") from None
        if base not in bases:
            bases.append(base)
    if kind != "tag" and len(bases) > 1:
        raise ValueError(f"source {spec.text!r}: {kind} timelines are read from one server")
    credentials = env.account(NETWORK, spec.option("account"))
    token_base = None
    if credentials is not None and credentials.server:
        with contextlib.suppress(ValueError):
            token_base = base_url(credentials.server)
    if kind == "home" and token_base not in bases:
        raise ValueError(
            f"source {spec.text!r}: the home timeline needs a Mastodon account on that server "
            "(hubbub account add mastodon --name NAME --server URL)"
        )
    via = spec.option("via", "sse") or "sse"
    if via not in ("sse", "ws"):
        raise ValueError(f"via={via!r} in source {spec.text!r}: sse or ws")
    poll = spec.option("poll")
    poll_seconds = env.limit("mastodon_poll_seconds", POLL_SECONDS)
    if poll is not None:
        try:
            poll_seconds = float(poll)
        except ValueError:
            raise ValueError(f"poll={poll!r} in source {spec.text!r} is not a number") from None
        if not poll_seconds >= 1:
            raise ValueError(f"poll={poll!r} in source {spec.text!r}: at least 1 second")
    per_window = int(env.limit("mastodon_requests_per_5min", REQUESTS_PER_WINDOW))
    clients = [
        MastodonClient(
            base,
            token=credentials.secret.strip() if credentials and base == token_base else None,
            clock=env.clock,
            budget=WindowBudget(max(1, per_window), WINDOW_SECONDS, env.clock),
        )
        for base in bases
    ]
    return MastodonSource(
        kind,
        clients,
        tag=tag or None,
        name=spec.text,
        clock=env.clock,
        health=env.health.tracker(spec.text, NETWORK),
        via=via,
        poll_seconds=poll_seconds,
        stall_seconds=env.limit("mastodon_stall_seconds", 2 * HEARTBEAT_SECONDS),
        ws_silence_seconds=env.limit("mastodon_ws_silence_seconds", 300.0),
        rewind=env.limit("mastodon_rewind_seconds", REWIND_SECONDS),
    )


AUTO_TAG_LIMIT = 20  # hashtags followed per server without naming sources (one stream each)
_over_limit: dict[str, int] = {}  # workspace → how many hashtags it asked for when last warned


def auto_specs(store: Store, workspace: str, accounts: Sequence[AccountInfo]) -> list[str]:
    """What a connected Mastodon account turns on: on its server, the
    hashtags of the workspace's public rooms and the hashtags its active
    saved queries ask for (Mastodon streams hashtags, not keywords), each
    streamed with the account's token. Read when the runtime starts, when the
    workspace's accounts change and every 30 s (``Followed.refresh``)."""
    from hubbub.runtime import workspace_follows

    follows = workspace_follows(store, workspace)
    tags = {fold(tag.lstrip("#")) for tag in follows.hashtags}
    for _name, text in follows.queries:
        try:
            tags |= wanted_hashtags(parse(text))
        except ValueError:
            continue  # a saved query that no longer parses follows nothing
    chosen = sorted(tag for tag in tags if tag and all(ch.isalnum() or ch == "_" for ch in tag))
    if len(chosen) > AUTO_TAG_LIMIT:
        # Once per count: this runs every 30 s (Followed.refresh).
        if _over_limit.get(workspace) != len(chosen):
            _over_limit[workspace] = len(chosen)
            log.warning(
                "mastodon: following the first %d of %d hashtags; name sources for the rest",
                AUTO_TAG_LIMIT,
                len(chosen),
            )
        chosen = chosen[:AUTO_TAG_LIMIT]
    return [
        f"mastodon:tag:{tag}@{account.server}?account={account.name}"
        for account in accounts
        if account.server
        for tag in chosen
    ]


def wanted_hashtags(node: ast.Node) -> set[str]:
    """Hashtags a query asks for (not those it excludes with ``-``)."""
    if isinstance(node, ast.Hashtag):
        return {node.tag}
    if isinstance(node, ast.And | ast.Or):
        out: set[str] = set()
        for child in node.children:
            out |= wanted_hashtags(child)
        return out
    return set()

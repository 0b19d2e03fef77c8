"""Bluesky sources: ``bluesky:jetstream`` (live) and ``bluesky:search:QUERY`` (backfill).

**Jetstream** (``JetstreamSource``) reads Jetstream v2 where an instance has
it and v1 where it does not, and never loses a post to a disconnect:

- each instance is asked for v2 (``subscribeEvents``) first; one that
  answers "no such endpoint" (404 and the like) is asked for v1
  (``/subscribe``) from then on, for as long as the source runs;
- the cursor is the largest ``time_us`` processed (it never goes back, even
  when events arrive out of order), with the v2 seq of the last event and
  the instance that issued it (``JetstreamCursor``), committed with the posts;
- a reconnection to the instance that issued the seq asks for that seq (v2
  replays it inclusively: repeats at or below it are dropped); anywhere else,
  and on v1, it asks for the time minus ``rewind`` seconds, so the events
  around the break are sent again; they are recognised by identity (repo,
  revision, record path: ``event_identity``) and dropped;
- a v2 server that no longer keeps the seq (``CursorTooOld``) or the time
  (``#info OutdatedCursor``) is followed from its oldest event on, and the
  hole is reported in health with the time it spans;
- a connection that stays silent past ``stall_seconds``, a cut, a message that
  is not an event (truncated JSON): all mean "reconnect and replay"; a
  connection that delivered something reconnects at once, failed attempts back
  off (``generic_policy``: network 1 s doubling to 60 s, HTTP 5 s to 320 s,
  429 from 60 s or the server's ``Retry-After``) and move to the next instance.

Posts (and reposts) are kept when ``keep`` says so (a saved query or a public
room's hashtag matches, see ``bluesky_follow``) or all of them with ``keep=None``
(``?all=1``); a deletion is passed on for posts kept earlier by this process
(or all deletions with ``?all=1``). Events not kept still move the cursor.

**Search** (``BlueskySearchSource``) pages authenticated ``searchPosts``
(newest first, 100 a page) back to the newest post of the previous run (the
cursor, an ISO time given as ``since``). The cursor is committed only with the
last page, so a run cut short is repeated whole rather than leaving a hole.
Old posts are stored like new ones: nothing is dropped for its age.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import websockets

from hubbub.formats import Context
from hubbub.formats import bluesky as bluesky_format
from hubbub.networks.backoff import Failure, Policy, Reconnect, generic_policy
from hubbub.networks.bluesky import (
    DEFAULT_SERVICE,
    AuthFailed,
    BlueskyClient,
    RateLimited,
    Session,
    XrpcError,
    split_secret,
)
from hubbub.networks.bluesky_jetstream import (
    MAX_COLLECTIONS,
    POST_COLLECTIONS,
    PUBLIC_INSTANCES,
    BadEvent,
    Refused,
    decode_event,
    event_identity,
    open_stream,
    subscribe_url,
)
from hubbub.networks.bluesky_jetstream_v2 import (
    CURSOR_TOO_OLD,
    NO_SUCH_ENDPOINT,
    OUTDATED_CURSOR,
    SUBPROTOCOL,
    Event,
    Info,
    ServerError,
    Skipped,
    decode_frame,
    events_url,
    floor_seq,
    instance_of,
    printable,
    time_cursor,
)
from hubbub.networks.clock import Clock, SystemClock
from hubbub.networks.env import SourceEnv
from hubbub.networks.health import HealthTracker
from hubbub.networks.stall import Stalled, next_within
from hubbub.post import Deletion, Post
from hubbub.sources.base import RawItem, Source, describe_error
from hubbub.sources.bluesky_follow import FollowFilter
from hubbub.sources.jetstream_cursor import JetstreamCursor
from hubbub.sources.network_specs import NetworkSpec
from hubbub.store import Store
from hubbub.store.network_accounts import AccountInfo

log = logging.getLogger(__name__)

PostFilter = Callable[[Post], bool]

NETWORK = "bluesky"
REWIND_SECONDS = 5.0  # resume this far before the last processed event
STALL_SECONDS = 60.0  # a post-filtered firehose is never quiet this long
WINDOW_SECONDS = 24 * 3600.0  # what Jetstream keeps for replay (event-ttl; operators vary)
_REMEMBER = 100_000  # identities (and kept post URIs) remembered for dropping repeats


class _Recent:
    """A bounded set: the last ``size`` keys added."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._keys: OrderedDict[int | str, None] = OrderedDict()

    def __contains__(self, key: int | str) -> bool:
        return key in self._keys

    def add(self, key: int | str) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)


class JetstreamSource:
    def __init__(
        self,
        urls: tuple[str, ...] = PUBLIC_INSTANCES,
        *,
        name: str = "bluesky:jetstream",
        collections: tuple[str, ...] = POST_COLLECTIONS,
        keep: PostFilter | None = None,
        clock: Clock | None = None,
        health: HealthTracker | None = None,
        policy: Policy | None = None,
        rewind: float = REWIND_SECONDS,
        stall_seconds: float = STALL_SECONDS,
        window: float = WINDOW_SECONDS,
    ) -> None:
        if not urls:
            raise ValueError("bluesky:jetstream needs at least one instance URL")
        for url in urls:
            subscribe_url(url, collections, None)  # ValueError for a URL that is not ws(s)://
        self.urls = urls
        self.name = name
        self.collections = collections
        self.keep = keep
        self.clock = clock or SystemClock()
        self.health = health or HealthTracker(name, NETWORK, self.clock)
        self.policy = policy or generic_policy()
        self.rewind_us = int(rewind * 1_000_000)
        self.stall_seconds = stall_seconds
        self.window = window
        self.cursor: int | None = None  # largest time_us processed
        self.seq: int | None = None  # v2: seq of the last event processed on seq_instance
        self.seq_instance: str | None = None
        self.protocols: dict[str, str] = {}  # instance → "v1" once it answered the v2 probe so
        self.protocol: str | None = None  # what the current (last) connection speaks
        self.duplicates = 0  # events dropped as repeats
        self.fresh = 0  # events not seen before (kept or not)
        self.bad_messages = 0  # messages that were not events (each forced a reconnect)
        self.skipped = 0  # v2 frames passed over (unknown types, unusable events)
        self.server_errors: list[str] = []  # v2 error frames received, as shown
        self.connections = 0
        self.delays: list[float] = []  # backoff delays slept, in order (for health and tests)
        self._seen = _Recent(_REMEMBER)
        self._kept = _Recent(_REMEMBER)
        self._instance = 0
        self._time_refused: set[str] = set()  # instances that refused a time cursor
        self._gap_since: int | None = None  # time_us before a hole the server reported
        self._gap_reason = ""

    def resume_from(self, cursor: str | None) -> None:
        """Continue after the stored cursor (never before what was processed here)."""
        stored = JetstreamCursor.load(cursor)
        if stored is None:
            return
        if self.cursor is None or stored.time_us >= self.cursor:
            self.seq, self.seq_instance = stored.seq, stored.instance
        self.cursor = stored.time_us if self.cursor is None else max(self.cursor, stored.time_us)

    def subscribe_url(self) -> str:
        """The URL of the next connection (see ``_plan``)."""
        return self._plan()[2]

    def _plan(self) -> tuple[str, str, str, str]:
        """The next connection: (instance, protocol, URL, how it resumes).

        v2 is tried first on every instance not yet known to lack it. A v2
        seq resumes exactly, but only on the instance that issued it;
        anywhere else, and on v1, the resume is by time minus ``rewind``
        (the replayed events are dropped by identity). ``how`` is "seq",
        "time" or "tail" (no cursor: the live tail)."""
        instance = instance_of(self.urls[self._instance % len(self.urls)])
        protocol = self.protocols.get(instance, "v2")
        since = None if self.cursor is None else max(0, self.cursor - self.rewind_us)
        if protocol == "v1":
            url = subscribe_url(instance, self.collections, since)
            return instance, protocol, url, "tail" if since is None else "time"
        if self.seq is not None and self.seq_instance == instance:
            return instance, protocol, events_url(instance, self.collections, self.seq), "seq"
        if since is not None and instance not in self._time_refused:
            url = events_url(instance, self.collections, time_cursor(since))
            return instance, protocol, url, "time"
        return instance, protocol, events_url(instance, self.collections, None), "tail"

    async def __aiter__(self) -> AsyncIterator[RawItem]:
        reconnect = Reconnect(self.policy)
        while True:
            instance, protocol, url, how = self._plan()
            offer = (SUBPROTOCOL,) if protocol == "v2" else ()
            try:
                ws = await open_stream(url, subprotocols=offer)
            except Refused as exc:
                if protocol == "v2" and exc.status in NO_SUCH_ENDPOINT:
                    # Not a failure: this instance speaks v1 only. Ask it that way at once.
                    self.protocols[instance] = "v1"
                    log.info(
                        "%s: no Jetstream v2 at %s (HTTP %d): using v1",
                        self.name,
                        instance,
                        exc.status,
                    )
                    continue
                if protocol == "v2" and exc.error == CURSOR_TOO_OLD and how != "tail":
                    # The next request differs (by time, then none): this cannot loop.
                    self._cursor_too_old(instance, how, exc.message)
                    continue
                kind = Failure.RATE_LIMIT if exc.status == 429 else Failure.HTTP
                await self._back_off(reconnect, kind, str(exc), exc.retry_after)
                continue
            except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
                await self._back_off(reconnect, Failure.NETWORK, describe_error(exc), None)
                continue
            self.connections += 1
            via = f"jetstream {protocol} at {urlsplit(instance).netloc}"
            if self.protocol != protocol:
                log.info("%s: connected to %s", self.name, via)
            self.protocol = protocol
            await self._refresh_follows()
            self.health.connected(via)
            replaying = how != "tail"
            too_old = self._beyond_window() if protocol == "v1" else None
            if too_old is not None:
                # Jetstream v1 starts at its oldest event: what came before is lost to it.
                self.health.gap_found()
                self.health.reconnecting(0, 0.0, too_old)
                self.health.connected(via)
                log.warning("%s: %s", self.name, too_old)
                replaying = False
            elif replaying and self.connections > 1 and self._gap_since is None:
                self.health.gap_found()
            fresh_before = self.fresh
            reason = "closed by the server"
            try:
                messages = aiter(ws)
                while True:
                    message = await next_within(messages, self.stall_seconds, self.clock)
                    if protocol == "v2":
                        frame = decode_frame(message)
                        if not isinstance(frame, Event):
                            self._aside(frame, how, via)
                            continue
                        event, seq = frame.event, frame.seq
                        raw = orjson.dumps(event)
                    else:
                        event, seq = decode_event(message), None
                        raw = message.encode() if isinstance(message, str) else message
                    if self._gap_since is not None:
                        self._gap_closed(event["time_us"], via)
                        replaying = False
                    if replaying:
                        replaying = False
                        if self.connections > 1 and self._overlaps(event["time_us"], seq, how):
                            self.health.gap_backfilled()  # the replay overlaps: no hole
                    await self._refresh_follows()
                    item = self._process(event, raw, instance, seq)
                    if reconnect.failures and self.fresh > fresh_before:
                        reconnect.connected()  # it works: failure counts start again
                    if item is not None:
                        yield item
            except StopAsyncIteration:
                pass
            except Stalled as exc:
                self.health.stalled(exc.seconds)
                reason = str(exc)
            except BadEvent as exc:
                self.bad_messages += 1
                reason = f"bad message: {exc}"
                log.warning("%s: %s; reconnecting to replay", self.name, reason)
            except ServerError as exc:
                reason = f"error from the server: {exc}"
                self.server_errors.append(str(exc))
                log.warning("%s: %s; reconnecting", self.name, reason)
            except (websockets.ConnectionClosed, OSError) as exc:
                reason = describe_error(exc)
            finally:
                # Dropped, never closed politely: a close handshake would wait
                # behind the messages still queued on a connection we distrust.
                ws.transport.abort()
            # Only new events count as a connection that worked: a server that
            # replays the same few events and drops us again must back off.
            if self.fresh > fresh_before:
                delay = reconnect.dropped()
                self.health.reconnecting(0, delay, reason)
                self.delays.append(delay)
            else:
                await self._back_off(reconnect, Failure.NETWORK, reason, None)

    def _overlaps(self, time_us: int, seq: int | None, how: str) -> bool:
        """The first event of a resumed connection was one processed before."""
        if how == "seq" and seq is not None and self.seq is not None:
            return seq <= self.seq
        return self.cursor is not None and time_us <= self.cursor

    def _aside(self, frame: Info | Skipped, how: str, via: str) -> None:
        """A v2 frame that is not an event to process."""
        if isinstance(frame, Info):
            log.info("%s: %s says %s: %s", self.name, via, frame.name, frame.message)
            if frame.name == OUTDATED_CURSOR and how == "time" and self._gap_since is None:
                # The time asked for is older than the server keeps: it starts at its oldest.
                self._open_gap(
                    f"{via} no longer keeps events from the stored position ({frame.message})"
                )
            return
        # Passed over, the cursor left where it is: the next event moves it
        # past this one, and a replay that sends it again skips it again.
        self.skipped += 1
        at = f" (seq {frame.seq})" if frame.seq is not None else ""
        log.info("%s: frame skipped%s: %s", self.name, at, frame.why)

    def _cursor_too_old(self, instance: str, how: str, message: str | None) -> None:
        """A v2 server refused the resume position: it no longer keeps it."""
        if how == "seq":
            floor = floor_seq(message)
            lost = f"seq {self.seq} to {floor}" if floor is not None else f"from seq {self.seq}"
            self.seq = self.seq_instance = None  # resume by time: the server clamps it
        else:
            self._time_refused.add(instance)  # not what v2 does with a time; go to the tail
            lost = "from the stored time"
        host = urlsplit(instance).netloc
        if self._gap_since is None:
            self._open_gap(f"cursor too old at {host}: events {lost} are gone from it")
        log.warning(
            "%s: %s refused the cursor as too old (%s)", self.name, host, printable(message)
        )

    def _open_gap(self, why: str) -> None:
        """A hole the server reported: count it now, say how long when the next event comes."""
        self.health.gap_found()
        self._gap_since = self.cursor
        self._gap_reason = why
        self.health.reconnecting(0, 0.0, f"{why}; resuming at its oldest event")

    def _gap_closed(self, time_us: int, via: str) -> None:
        """The first event after a reported hole: how much time the hole spans."""
        since = self._gap_since
        self._gap_since = None
        if since is None or time_us <= since:
            return
        seconds = (time_us - since) / 1_000_000
        span = (
            f"{seconds / 3600:.1f} h"
            if seconds >= 3600
            else f"{seconds / 60:.0f} min"
            if seconds >= 60
            else f"{seconds:.1f} s"
        )
        start = datetime.fromtimestamp(since / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        end = datetime.fromtimestamp(time_us / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        reason = (
            f"{self._gap_reason}: {span} lost, {start} to {end} UTC "
            "(bluesky:search:QUERY can fill it); following from there"
        )
        self.health.reconnecting(0, 0.0, reason)
        self.health.connected(via)
        log.warning("%s: %s", self.name, reason)

    def _beyond_window(self) -> str | None:
        """Why the resume cannot be complete, when the cursor is older than the
        replay window Jetstream keeps (about a day; ``window`` seconds)."""
        if self.cursor is None:
            return None
        behind = self.clock.time() - self.cursor / 1_000_000
        if behind <= self.window:
            return None
        return (
            f"resumed {behind / 3600:.0f} h after the last stored event; Jetstream keeps "
            f"about {self.window / 3600:.0f} h, so older posts may be missing "
            "(bluesky:search:QUERY can fill them)"
        )

    async def _refresh_follows(self) -> None:
        if isinstance(self.keep, FollowFilter):
            await self.keep.refresh()

    async def _back_off(
        self, reconnect: Reconnect, kind: Failure, reason: str, retry_after: float | None
    ) -> None:
        delay = reconnect.failed(kind, reset_in=retry_after)
        if kind is Failure.RATE_LIMIT:
            self.health.rate_limited(delay, reason)
        else:
            self.health.reconnecting(reconnect.failures, delay, reason)
        self._instance += 1  # fail over: the next attempt goes to the next instance
        self.delays.append(delay)
        await self.clock.sleep(delay)

    def _process(
        self, event: dict[str, Any], raw: bytes, instance: str, seq: int | None
    ) -> RawItem | None:
        """Cursor, dedupe, filter: the item to pass on, if any."""
        if seq is None:
            self.seq = self.seq_instance = None  # a v1 stream: only the time travels
        elif self.seq_instance == instance and self.seq is not None and seq <= self.seq:
            # v2 replays inclusively and in seq order: at or below the last seq is a repeat.
            self.duplicates += 1
            return None
        else:
            self.seq, self.seq_instance = seq, instance
        time_us = event["time_us"]
        if self.cursor is None or time_us > self.cursor:
            self.cursor = time_us
        identity = hash(event_identity(event))
        if identity in self._seen:
            self.duplicates += 1
            return None
        self._seen.add(identity)
        self.fresh += 1
        commit = event.get("commit")
        if event.get("kind") != "commit" or not isinstance(commit, dict):
            return None
        if commit.get("collection") not in POST_COLLECTIONS:
            return None
        ctx = Context(source=self.name, fetched_at=datetime.now(UTC))
        if not self._wanted(event, ctx):
            return None
        posts = 1 if commit.get("operation") != "delete" else 0
        self.health.events(posts)
        cursor = JetstreamCursor(self.cursor, self.seq, self.seq_instance).dump()
        return RawItem(event, ctx, fmt="bluesky", raw=raw, cursor=cursor)

    def _wanted(self, event: dict[str, Any], ctx: Context) -> bool:
        commit = event["commit"]
        uri = f"at://{event['did']}/{commit.get('collection')}/{commit.get('rkey')}"
        if commit.get("operation") == "delete":
            return self.keep is None or uri in self._kept
        if self.keep is None:
            return True
        try:
            items = bluesky_format.parse(event, ctx)
        except Exception:  # noqa: BLE001 - unreadable here is unreadable in the pipeline too
            return False
        for item in items:
            if isinstance(item, Post) and not item.embedded and self.keep(item):
                self._kept.add(uri)
                return True
            if isinstance(item, Deletion):
                return uri in self._kept
        return False


class BlueskySearchSource:
    def __init__(
        self,
        client: BlueskyClient,
        query: str,
        *,
        name: str | None = None,
        clock: Clock | None = None,
        health: HealthTracker | None = None,
        policy: Policy | None = None,
        max_pages: int = 50,
    ) -> None:
        if not query.strip():
            raise ValueError("bluesky:search needs a query")
        self.client = client
        self.query = query
        self.name = name or f"bluesky:search:{query}"
        self.clock = clock or client.clock or SystemClock()
        self.health = health or HealthTracker(self.name, NETWORK, self.clock)
        self.policy = policy or generic_policy()
        self.max_pages = max_pages
        self.since: str | None = None  # newest indexedAt of the last complete run
        self.pages = 0
        self.delays: list[float] = []

    def resume_from(self, cursor: str | None) -> None:
        if cursor and (self.since is None or cursor > self.since):
            self.since = cursor

    async def __aiter__(self) -> AsyncIterator[RawItem]:
        try:
            async for item in self._pages():
                yield item
        finally:
            await self.client.aclose()

    async def _pages(self) -> AsyncIterator[RawItem]:
        reconnect = Reconnect(self.policy)
        page_cursor: str | None = None
        newest = self.since
        pages = 0
        while pages < self.max_pages:
            try:
                page = await self.client.search_posts(
                    self.query, cursor=page_cursor, since=self.since
                )
            except AuthFailed as exc:
                self.health.stopped(f"login refused: {exc}")
                return
            except RateLimited as exc:
                await self._back_off(reconnect, Failure.RATE_LIMIT, str(exc), exc.reset_in)
                continue
            except XrpcError as exc:
                kind = Failure.NETWORK if exc.status == 0 else Failure.HTTP
                await self._back_off(reconnect, kind, str(exc), None)
                continue
            reconnect.connected()
            self.health.connected()
            pages += 1
            self.pages += 1
            posts = page["posts"]
            for view in posts:
                stamp = view.get("indexedAt") if isinstance(view, dict) else None
                if isinstance(stamp, str) and (newest is None or stamp > newest):
                    newest = stamp
            next_cursor = page.get("cursor")
            older = _all_older(posts, self.since)
            last = not posts or not isinstance(next_cursor, str) or not next_cursor or older
            self.health.events(len(posts))
            ctx = Context(source=self.name, fetched_at=datetime.now(UTC))
            yield RawItem(page, ctx, fmt="bluesky", cursor=newest if last else None)
            if last:
                break
            page_cursor = next_cursor
        if newest is not None:
            self.since = newest

    async def _back_off(
        self, reconnect: Reconnect, kind: Failure, reason: str, retry_after: float | None
    ) -> None:
        delay = reconnect.failed(kind, reset_in=retry_after)
        if kind is Failure.RATE_LIMIT:
            self.health.rate_limited(delay, reason)
        else:
            self.health.reconnecting(reconnect.failures, delay, reason)
        self.delays.append(delay)
        await self.clock.sleep(delay)


def _all_older(posts: list[Any], since: str | None) -> bool:
    """Every post on the page was indexed before ``since`` (the server ignored
    ``since``): the pages after it are older still."""
    if since is None or not posts:
        return False
    stamps = [p.get("indexedAt") for p in posts if isinstance(p, dict)]
    return all(isinstance(s, str) and s < since for s in stamps)


_JETSTREAM_OPTIONS = ("url", "collections", "all", "account")
_SEARCH_OPTIONS = ("account", "url", "pages")


def source_from_spec(spec: NetworkSpec, env: SourceEnv) -> Source:
    """``bluesky:jetstream[?url=WS_URL[,WS_URL…]&collections=A,B&all=1]`` or
    ``bluesky:search:QUERY[?account=NAME&url=PDS&pages=N]``."""
    if spec.body == "jetstream":
        spec.reject_unknown(_JETSTREAM_OPTIONS)
        urls = tuple(u.strip() for u in (spec.option("url") or "").split(",") if u.strip())
        collections = tuple(
            c.strip() for c in (spec.option("collections") or "").split(",") if c.strip()
        )
        if len(collections) > MAX_COLLECTIONS:
            raise ValueError(f"source {spec.text!r}: at most {MAX_COLLECTIONS} collections")
        everything = spec.option("all", "0") in ("1", "true", "yes")
        keep = None if everything else FollowFilter(env.follows, env.clock)
        name = spec.text
        for url in urls:
            if not url.startswith(("ws://", "wss://")):
                raise ValueError(f"source {spec.text!r}: not a WebSocket URL: {url!r}")
        return JetstreamSource(
            urls or PUBLIC_INSTANCES,
            name=name,
            collections=collections or POST_COLLECTIONS,
            keep=keep,
            clock=env.clock,
            health=env.health.tracker(name, NETWORK),
            rewind=env.limit("bluesky_jetstream_rewind_seconds", REWIND_SECONDS),
            stall_seconds=env.limit("bluesky_jetstream_stall_seconds", STALL_SECONDS),
            window=env.limit("bluesky_jetstream_window_seconds", WINDOW_SECONDS),
        )
    kind, colon, query = spec.body.partition(":")
    if kind != "search" or not colon:
        raise ValueError(
            f"unknown source {spec.text!r}: expected bluesky:jetstream[?url=…] "
            "or bluesky:search:QUERY"
        )
    spec.reject_unknown(_SEARCH_OPTIONS)
    if not query.strip():
        raise ValueError(f"source {spec.text!r}: bluesky:search needs a query")
    credentials = env.account(NETWORK, spec.option("account"))
    if credentials is None:
        raise ValueError(
            f"source {spec.text!r}: Bluesky search needs a login since 2025; add an account "
            "with `hubbub account add bluesky --name NAME` (handle and app password on stdin)"
        )
    identifier, password = split_secret(credentials.secret)
    service = spec.option("url") or credentials.server or DEFAULT_SERVICE
    pages = spec.option("pages", "50") or "50"
    if not pages.isdigit() or int(pages) < 1:
        raise ValueError(f"pages={pages!r} in source {spec.text!r} must be a whole number ≥ 1")
    client = BlueskyClient(
        identifier,
        password,
        service=service,
        clock=env.clock,
        session=_kept_session(env, credentials.name),
        on_session=lambda session: _keep_session(env, credentials.name, session),
    )
    return BlueskySearchSource(
        client,
        query,
        name=spec.text,
        clock=env.clock,
        health=env.health.tracker(spec.text, NETWORK),
        max_pages=int(pages),
    )


def _kept_session(env: SourceEnv, account: str) -> Session | None:
    """The session kept with the account by an earlier run, if still readable."""
    try:
        data = env.load_session(account)
        return Session.from_json(orjson.loads(data)) if data else None
    except Exception as exc:  # noqa: BLE001 - no usable session: log in (within the budget)
        log.info("bluesky account %s: no kept session (%s)", account, describe_error(exc))
        return None


def _keep_session(env: SourceEnv, account: str, session: Session) -> None:
    try:
        env.save_session(account, orjson.dumps(session.as_json()))
    except Exception as exc:  # noqa: BLE001 - keeping it is an optimisation, never a failure
        log.warning("bluesky account %s: session not kept (%s)", account, describe_error(exc))


def auto_specs(store: Store, workspace: str, accounts: Sequence[AccountInfo]) -> list[str]:
    """What a connected Bluesky account turns on: the firehose, filtered to
    the workspace's saved queries and public rooms. (Jetstream itself needs
    no login; the account is the operator's consent to dial out.)"""
    return ["bluesky:jetstream"] if accounts else []

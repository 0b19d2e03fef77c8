"""A loopback X API v2 server speaking what the X connector relies on, over
real HTTP/1.1 on a loopback socket (``asyncio`` streams, no framework):

- ``GET /2/tweets/search/stream``: a chunked response, one JSON object per
  ``\\r\\n``-terminated line with ``matching_rules``, a blank keep-alive line
  every ``keepalive`` seconds; one connection at a time (a second one is
  refused with 429 ``TooManyConnections``, as X does);
- ``GET|POST /2/tweets/search/stream/rules`` with ``add`` / ``delete``,
  ``meta.summary``, duplicate values refused per rule;
- ``GET /2/tweets/search/recent``: newest first, ``since_id`` /
  ``start_time``, ``max_results`` (10..100), ``next_token`` paging,
  ``x-rate-limit-*`` headers;
- ``GET /2/users/me``.

Like X, a served tweet carries ``note_tweet`` (a long post's whole text and
its entities; ``text`` is then cut at 280 characters) only when the
request's ``tweet.fields`` asks for it: on the search request, or on the
stream's URL for every line of that connection.

The posts it serves are the recorded tweets in ``../shared/data/payloads``
(``x_v2_twarc2`` pages and stream lines, ``x_api_responses``) and posts
generated from them with new time-ordered ids (``publish_generated``, and
``publish_long`` for a long post).
A post matches a rule or query that is one hashtag or one word it contains.

Faults (``Fault``), consumed in order by the next stream connection or
request: a disconnect in the middle of a line, a stall (silence, no
keep-alive), 429 with ``x-rate-limit-reset``, 5xx, any status with an X
problem body, a truncated JSON line, duplicates, out-of-order delivery.

The oracle is ``served_ids()``: every post published that matches a rule
Hubbub asked for (what X would have had for us).
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import copy
import itertools
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

TWITTER_EPOCH_MS = 1288834974657


# Fault kinds that refuse a request (or a stream connection) with a status.
_REFUSALS = ("429", "5xx", "problem")

_LEAN = ("author_id", "lang", "public_metrics", "source", "text")

# Tweet fields X sends only when ``tweet.fields`` names them. The others this
# server always sends, as the clients under test ask for them anyway.
_ON_REQUEST_ONLY = ("note_tweet",)


def requested_fields(query: dict[str, str]) -> frozenset[str]:
    """The ``tweet.fields`` a request asked for."""
    return frozenset(f.strip() for f in query.get("tweet.fields", "").split(",") if f.strip())


def as_requested(tweet: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """``tweet`` as X would serve it to a request asking for ``fields``."""
    left_out = [f for f in _ON_REQUEST_ONLY if f in tweet and f not in fields]
    if not left_out:
        return tweet
    return {k: v for k, v in tweet.items() if k not in left_out}


def snowflake(ms: int, seq: int) -> str:
    return str(((ms - TWITTER_EPOCH_MS) << 22) | (seq & 0x3FFFFF))


def load_recorded_tweets(payloads: Path) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(tweet, its users) from the recorded X v2 payloads, in file order."""
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    folder = payloads / "x_v2_twarc2"
    for name in ("streaming_output_with_error.jsonl", "2sets.jsonl", "cashtags.jsonl"):
        for line in (folder / name).read_bytes().splitlines():
            try:
                page = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # the recorded file ends in a truncated line
            data = page.get("data")
            users = (page.get("includes") or {}).get("users") or []
            for tweet in data if isinstance(data, list) else [data]:
                if isinstance(tweet, dict) and "id" in tweet and "author_id" in tweet:
                    mine = [u for u in users if u.get("id") == tweet["author_id"]]
                    out.append((tweet, mine))
    search = orjson.loads(
        (payloads / "x_api_responses" / "v2_test_client_get_tweets.json").read_bytes()
    )
    for tweet in search.get("data") or []:
        out.append((tweet, []))
    return out


@dataclass(slots=True)
class Fault:
    """One injected fault. ``kind``: ``cut`` (disconnect mid-line), ``stall``
    (``seconds`` of silence, then close), ``429`` (refuse with
    x-rate-limit-reset ``seconds`` ahead), ``5xx`` (refuse with 503),
    ``truncated`` (a line cut short, then go on), ``duplicate`` (send the
    next ``count`` posts twice), ``shuffle`` (send the next ``count`` posts
    in random order), ``problem`` (refuse with ``status`` and ``body``, an
    X problem or v1 error body, as X words a failure). ``on``: ``stream``,
    ``search`` or ``rules`` (where ``cut`` closes the connection before
    answering)."""

    kind: str
    on: str = "stream"
    seconds: float = 0.0
    count: int = 5
    status: int = 400
    body: Any = None


@dataclass(slots=True)
class Rule:
    id: str
    value: str
    tag: str | None


@dataclass
class XServer:
    recorded: list[tuple[dict[str, Any], list[dict[str, Any]]]]
    keepalive: float = 20.0
    seed: int = 7
    # Stream-side pacing: posts sent per write burst.
    burst: int = 50
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → tweet
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)  # ids in publication order
    rules: dict[str, Rule] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    token: str = "loopback-token"  # noqa: S105 - a test server's own token
    stream_connections: int = 0
    open_streams: int = 0
    max_open_streams: int = 0
    refused: list[int] = field(default_factory=list)  # statuses of refused attempts
    search_requests: int = 0
    rules_posts: int = 0
    rules_requests: int = 0  # GET and POST, refused ones too
    connect_times: list[float] = field(default_factory=list)
    # The clock its rate-limit resets are computed on (a test's FakeClock.time).
    now: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._ids = itertools.count()
        self._ms = int(time.time() * 1000) - 3_600_000  # published an hour ago and on
        self._listeners: list[asyncio.Queue[str]] = []
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0

    # -- content -----------------------------------------------------------------

    def publish_generated(
        self, count: int, tag: str = "hubchat", step_ms: int = 50, *, lean: bool = False
    ) -> list[str]:
        """``count`` new posts copied from recorded tweets, each with #tag,
        new time-ordered ids; pushed to the open stream. Returns their ids.
        ``lean`` keeps only the core fields (for runs of 100,000 posts)."""
        ids: list[str] = []
        for _ in range(count):
            base, users = self.recorded[next(self._ids) % len(self.recorded)]
            self._ms += step_ms
            post_id = snowflake(self._ms, next(self._ids))
            if lean:
                base = {k: base[k] for k in _LEAN if k in base}
            tweet = copy.deepcopy(base)
            tweet["id"] = post_id
            tweet["edit_history_tweet_ids"] = [post_id]
            tweet["conversation_id"] = post_id
            tweet.pop("referenced_tweets", None)
            tweet["created_at"] = time.strftime(
                "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self._ms / 1000)
            )
            text = f"#{tag} " + str(base.get("text", ""))
            tweet["text"] = text
            tweet["entities"] = {"hashtags": [{"start": 0, "end": len(tag) + 1, "tag": tag}]}
            self._publish(tweet, users)
            ids.append(post_id)
        return ids

    def publish_long(self, text: str, tag: str = "hubchat") -> str:
        """A long post (over 280 characters) starting ``#tag``, as X serves
        one: its ``text`` cut at 280 characters ending ``…``, with entities
        of that cut part only; ``note_tweet`` holds the whole ``#tag text``
        with its hashtag and mention entities. Pushed to the open stream; returns its id."""
        base, users = self.recorded[next(self._ids) % len(self.recorded)]
        self._ms += 50
        post_id = snowflake(self._ms, next(self._ids))
        whole = f"#{tag} {text}"
        if len(whole) <= 280:
            raise ValueError("a long post has more than 280 characters")
        cut = whole[:279] + "…"
        tweet = {
            "id": post_id,
            "author_id": base["author_id"],
            "edit_history_tweet_ids": [post_id],
            "conversation_id": post_id,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self._ms / 1000)),
            "lang": "en",
            "text": cut,
            "entities": _entities(cut[:-1]),
            "note_tweet": {"text": whole, "entities": _entities(whole)},
        }
        self._publish(tweet, users)
        return post_id

    def _publish(self, tweet: dict[str, Any], users: list[dict[str, Any]]) -> None:
        post_id = tweet["id"]
        self.posts[post_id] = tweet
        for user in users:
            self.users[user["id"]] = user
        self.published.append(post_id)
        for queue in self._listeners:
            queue.put_nowait(post_id)

    def _matches(self, value: str, tweet: dict[str, Any]) -> bool:
        value = value.strip().lower()
        text = str(tweet.get("text", "")).lower()
        if value.startswith("#"):
            tags = {
                h.get("tag", "").lower() for h in (tweet.get("entities") or {}).get("hashtags", [])
            }
            return value[1:] in tags
        return value in text.split()

    def matching_rules(self, tweet: dict[str, Any]) -> list[Rule]:
        return [r for r in self.rules.values() if self._matches(r.value, tweet)]

    def served_ids(self, query: str | None = None) -> set[str]:
        """Every published post that matches a rule (or ``query``): what X
        would have for a client following them."""
        return {
            i
            for i in self.published
            if (query and self._matches(query, self.posts[i])) or self.matching_rules(self.posts[i])
        }

    def _line(self, post_id: str, fields: frozenset[str]) -> bytes:
        tweet = self.posts[post_id]
        users = [self.users[tweet["author_id"]]] if tweet.get("author_id") in self.users else []
        rules = [{"id": r.id, "tag": r.tag} for r in self.matching_rules(tweet)]
        data = as_requested(tweet, fields)
        return orjson.dumps({"data": data, "includes": {"users": users}, "matching_rules": rules})

    # -- server --------------------------------------------------------------------

    async def start(self) -> str:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def _fault(self, on: str) -> Fault | None:
        for i, fault in enumerate(self.faults):
            if fault.on == on:
                return self.faults.pop(i)
        return None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                if headers.get("authorization") != f"Bearer {self.token}":
                    await self._send(writer, 401, {"title": "Unauthorized", "status": 401})
                    continue
                url = urlsplit(target)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                if url.path == "/2/tweets/search/stream" and method == "GET":
                    await self._stream(reader, writer, requested_fields(query))
                    return
                if url.path == "/2/tweets/search/stream/rules":
                    self.rules_requests += 1
                    fault = self._fault("rules")
                    if fault is not None and fault.kind == "cut":
                        return  # no answer: the client sees the connection drop
                    refusal = self._refusal(fault)
                    if refusal is not None:
                        await self._send(writer, *refusal)
                        continue
                    await self._rules(writer, method, body)
                elif url.path == "/2/tweets/search/recent" and method == "GET":
                    await self._search(writer, query)
                elif url.path == "/2/users/me":
                    await self._send(
                        writer, 403, {"title": "Unsupported Authentication", "status": 403}
                    )
                else:
                    await self._send(writer, 404, {"title": "Not Found"})
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        value: Any,
        extra: dict[str, str] | None = None,
    ) -> None:
        body = orjson.dumps(value)
        reason = {
            200: "OK",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            429: "Too Many Requests",
            503: "Service Unavailable",
        }.get(status, "Status")
        head = [
            f"HTTP/1.1 {status} {reason}",
            "content-type: application/json",
            f"content-length: {len(body)}",
        ]
        for k, v in (extra or {}).items():
            head.append(f"{k}: {v}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    def _refusal(self, fault: Fault | None) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        if fault is None:
            return None
        if fault.kind == "429":
            reset = int(self.now() + fault.seconds)
            return (
                429,
                {"title": "Too Many Requests"},
                {"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"},
            )
        if fault.kind == "5xx":
            return 503, {"title": "Service Unavailable"}, {}
        if fault.kind == "problem":
            return fault.status, fault.body, {}
        return None

    # -- endpoints -------------------------------------------------------------------

    async def _rules(self, writer: asyncio.StreamWriter, method: str, body: bytes) -> None:
        if method == "GET":
            data = [
                {"id": r.id, "value": r.value, **({"tag": r.tag} if r.tag else {})}
                for r in self.rules.values()
            ]
            await self._send(
                writer, 200, {"data": data, "meta": {"sent": "now", "result_count": len(data)}}
            )
            return
        self.rules_posts += 1
        request = orjson.loads(body or b"{}")
        created, not_created, deleted = [], 0, 0
        for rule in request.get("add") or []:
            if (
                any(r.value == rule["value"] for r in self.rules.values())
                or len(rule["value"]) > 1024
            ):
                not_created += 1
                continue
            rule_id = str(1_000_000 + len(self.rules) + self.rules_posts * 1000 + len(created))
            self.rules[rule_id] = Rule(rule_id, rule["value"], rule.get("tag"))
            created.append({"id": rule_id, "value": rule["value"], "tag": rule.get("tag")})
        for rule_id in (request.get("delete") or {}).get("ids") or []:
            if self.rules.pop(str(rule_id), None) is not None:
                deleted += 1
        summary = {
            "created": len(created),
            "not_created": not_created,
            "valid": len(created),
            "invalid": not_created,
        }
        if request.get("delete"):
            summary = {"deleted": deleted, "not_deleted": len(request["delete"]["ids"]) - deleted}
        await self._send(
            writer, 200, {"data": created, "meta": {"sent": "now", "summary": summary}}
        )

    async def _search(self, writer: asyncio.StreamWriter, query: dict[str, str]) -> None:
        self.search_requests += 1
        refusal = self._refusal(self._fault("search"))
        if refusal is not None:
            await self._send(writer, *refusal)
            return
        q = query.get("query", "")
        size = max(10, min(100, int(query.get("max_results", "10"))))
        since = int(query["since_id"]) if "since_id" in query else None
        start_ms = None
        if "start_time" in query:
            start_ms = (
                calendar.timegm(time.strptime(query["start_time"], "%Y-%m-%dT%H:%M:%SZ")) * 1000
            )
        bounds = [int(query["next_token"][1:])] if "next_token" in query else []
        bounds += [int(query["until_id"])] if "until_id" in query else []
        until = min(bounds) if bounds else None
        hits = []
        for post_id in reversed(self.published):  # newest first
            n = int(post_id)
            if until is not None and n >= until:
                continue
            if since is not None and n <= since:
                break
            if start_ms is not None and (n >> 22) + TWITTER_EPOCH_MS < start_ms:
                break
            if self._matches(q, self.posts[post_id]):
                hits.append(post_id)
                if len(hits) > size:
                    break
        page, more = hits[:size], len(hits) > size
        fields = requested_fields(query)
        data = [as_requested(self.posts[i], fields) for i in page]
        users = {self.posts[i].get("author_id") for i in page}
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0], oldest_id=page[-1])
        if more:
            meta["next_token"] = "t" + page[-1]
        value: dict[str, Any] = {"meta": meta}
        if data:
            value["data"] = data
            value["includes"] = {"users": [self.users[u] for u in users if u in self.users]}
        reset = str(int(self.now()) + 900)
        await self._send(
            writer,
            200,
            value,
            {
                "x-rate-limit-limit": "450",
                "x-rate-limit-remaining": "400",
                "x-rate-limit-reset": reset,
            },
        )

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, fields: frozenset[str]
    ) -> None:
        self.connect_times.append(time.monotonic())
        if self.open_streams >= 1:
            self.refused.append(429)
            await self._send(
                writer,
                429,
                {"title": "ConnectionException", "detail": "TooManyConnections"},
                {"x-rate-limit-reset": str(int(self.now()) + 1)},
            )
            return
        fault = None
        if self.faults and self.faults[0].on == "stream" and self.faults[0].kind in _REFUSALS:
            fault = self.faults.pop(0)
        refusal = self._refusal(fault)
        if refusal is not None:
            self.refused.append(refusal[0])
            await self._send(writer, *refusal)
            return
        self.stream_connections += 1
        self.open_streams += 1
        self.max_open_streams = max(self.max_open_streams, self.open_streams)
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._listeners.append(queue)
        try:
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            )
            await writer.drain()
            # The client sends nothing more: EOF means it is gone (X notices a
            # dead connection too), so a restarted client is not refused.
            pump = asyncio.ensure_future(self._pump(writer, queue, fields))
            gone = asyncio.ensure_future(reader.read(1))
            await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
            for task in (pump, gone):
                task.cancel()
            await asyncio.gather(pump, gone, return_exceptions=True)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._listeners.remove(queue)
            self.open_streams -= 1

    def _live_fault(self) -> Fault | None:
        """The next fault for an open stream (refusals wait for a connection)."""
        for i, fault in enumerate(self.faults):
            if fault.on == "stream":
                return self.faults.pop(i) if fault.kind not in _REFUSALS else None
        return None

    async def _pump(
        self, writer: asyncio.StreamWriter, queue: asyncio.Queue[str], fields: frozenset[str]
    ) -> None:
        def chunk(data: bytes) -> bytes:
            return f"{len(data):x}\r\n".encode() + data + b"\r\n"

        fault: Fault | None = None
        sent = 0  # posts sent since the fault became active
        while True:
            try:
                post_id = await asyncio.wait_for(queue.get(), self.keepalive)
            except TimeoutError:
                writer.write(chunk(b"\r\n"))  # keep-alive
                await writer.drain()
                continue
            if fault is None:
                fault = self._live_fault()
                sent = 0
            pending = [post_id]
            while not queue.empty() and len(pending) < self.burst:
                pending.append(queue.get_nowait())
            if fault is not None and fault.kind == "shuffle":
                self._rng.shuffle(pending)
                fault = None
            out = b""
            for pid in pending:
                line = self._line(pid, fields) + b"\r\n"
                sent += 1
                if fault is not None and fault.kind == "duplicate":
                    out += line
                    fault.count -= 1
                    if fault.count <= 0:
                        fault = None
                elif fault is not None and fault.kind == "truncated" and sent == 3:
                    out += line[: len(line) // 2] + b"\r\n"
                    fault = None
                    continue
                elif fault is not None and fault.kind == "cut" and sent == 3:
                    writer.write(chunk(out + line[: len(line) // 2]))
                    await writer.drain()
                    writer.transport.abort()
                    return
                elif fault is not None and fault.kind == "stall" and sent == 3:
                    writer.write(chunk(out))
                    await writer.drain()
                    await asyncio.sleep(fault.seconds)
                    writer.transport.abort()
                    return
                out += line
            writer.write(chunk(out))
            await writer.drain()


def _entities(text: str) -> dict[str, list[dict[str, Any]]]:
    """X v2 hashtag and mention entities of ``text``: each word starting with
    ``#`` or ``@``, indexed in characters as X does."""
    out: dict[str, list[dict[str, Any]]] = {"hashtags": [], "mentions": []}
    for match in re.finditer(r"([#@])(\w+)", text):
        mark, name = match.group(1), match.group(2)
        if mark == "#":
            out["hashtags"].append({"start": match.start(), "end": match.end(), "tag": name})
        else:
            out["mentions"].append({"start": match.start(), "end": match.end(), "username": name})
    return {k: v for k, v in out.items() if v}


@contextlib.contextmanager
def serve_in_thread(server: XServer) -> Iterator[str]:
    """Run ``server`` on its own event loop in a thread (for subprocess tests)."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, str] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        holder["url"] = loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield holder["url"]
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def call_in_loop(server: XServer, fn, *args):  # noqa: ANN001, ANN201 - test helper
    """Run ``fn(*args)`` on the server's loop thread (publishing from a test)."""
    assert server._loop is not None
    done = threading.Event()
    result: dict[str, Any] = {}

    def go() -> None:
        result["v"] = fn(*args)
        done.set()

    server._loop.call_soon_threadsafe(go)
    done.wait(10)
    return result.get("v")

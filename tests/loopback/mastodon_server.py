"""A loopback Mastodon server (Starlette under uvicorn, in its own thread)
speaking the parts of the API the connector uses:

- ``GET /api/v2/instance`` with ``configuration.urls.streaming`` and
  ``configuration.timelines_access`` (hashtag/live feeds: public,
  authenticated or disabled, per local/remote);
- ``GET /api/v1/timelines/tag/:tag``, ``/public``, ``/home`` with ``min_id`` /
  ``max_id`` / ``since_id`` / ``limit`` (≤ 40), newest first, a ``Link``
  header (``next`` = older, ``prev`` = newer) and ``X-RateLimit-Limit/
  Remaining/Reset`` (ISO 8601) on every answer, 429 past the budget;
- ``GET /api/v1/accounts/verify_credentials``;
- streaming: ``/api/v1/streaming/health`` (``OK``), SSE at
  ``/api/v1/streaming/{hashtag,public,user}`` (``:)`` on connect, ``:thump``
  heartbeats, ``event:``/``data:`` frames) and WebSocket at
  ``/api/v1/streaming`` (``subscribe`` message, ``{stream, event, payload}``
  frames). Streaming needs the token in the ``Authorization`` header and, as
  on Mastodon, replays nothing: only statuses posted while connected.

Statuses are the recorded ones in ``../shared/data/payloads/mastodon`` and
statuses generated from them (``generated_statuses``); each server gives a
posted status its own local id (time-ordered snowflakes), so one status on
two servers has one ``uri`` and two ids, as in the fediverse.

Faults: REST (``RestFault``: 429 with a reset, 5xx, truncated JSON) and
streaming (``StreamFault``: cut mid-line, stall, truncated JSON, duplicate,
out-of-order, clean close).
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

EPOCH_MS = 1_780_000_000_000  # local ids are (milliseconds << 16): Mastodon's snowflakes


def load_templates(folder: Path) -> list[dict[str, Any]]:
    """Recorded Status entities: the tag timeline, the documented example and
    the statuses in the recorded streaming updates."""
    statuses: list[dict[str, Any]] = []
    statuses += orjson.loads((folder / "localhost_api_v1_timelines_tag_hoot.json").read_bytes())
    statuses.append(orjson.loads((folder / "status_entity_example.json").read_bytes()))
    for event in orjson.loads((folder / "streaming_events_from_docs.parsed.json").read_bytes()):
        if event.get("event") == "update" and isinstance(event.get("payload"), dict):
            statuses.append(event["payload"])
    return statuses


def generated_statuses(
    templates: list[dict[str, Any]],
    count: int,
    *,
    tag: str,
    origin: str = "origin.example",
    first: int = 0,
) -> list[dict[str, Any]]:
    """``count`` statuses made from the recorded ones, each with a fresh
    ``uri`` on ``origin`` and the hashtag ``#tag`` in its content and tags."""
    out: list[dict[str, Any]] = []
    for n in range(first, first + count):
        status = copy.deepcopy(templates[n % len(templates)])
        status["uri"] = f"https://{origin}/users/u{n % 7}/statuses/{n}"
        status["url"] = f"https://{origin}/@u{n % 7}/{n}"
        status["content"] = (
            f'<p>generated {n} <a href="https://{origin}/tags/{tag}" class="mention hashtag">'
            f"#<span>{tag}</span></a></p>"
        )
        status["tags"] = [{"name": tag, "url": f"https://{origin}/tags/{tag}"}]
        status["reblog"] = None
        status["created_at"] = (
            datetime.fromtimestamp((EPOCH_MS + n * 1000) / 1000, UTC)
            .isoformat()
            .replace("+00:00", "Z")
        )
        out.append(status)
    return out


def run_in_thread(app: Any, name: str) -> tuple[str, Callable[[], None]]:
    """Serve ``app`` with uvicorn on a free loopback port in a daemon thread;
    returns the base URL and a function that stops it."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name=f"loopback-{name}")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"loopback {name} server did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=20)

    return f"http://127.0.0.1:{port}", stop


def _has_tag(status: dict[str, Any], tag: str) -> bool:
    tags = status.get("tags") or []
    return any(isinstance(t, dict) and str(t.get("name", "")).lower() == tag.lower() for t in tags)


@dataclass
class RestFault:
    """``kind`` ``429`` | ``503`` | ``truncate`` on the ``at``-th timeline request (1-based)."""

    kind: str
    at: int
    reset_in: float = 30.0
    fired: bool = False


@dataclass
class StreamFault:
    """``kind`` ``cut`` | ``stall`` | ``truncate`` | ``duplicate`` | ``reorder`` | ``close``,
    fired when ``at`` events have been streamed in all."""

    kind: str
    at: int
    fired: bool = False


@dataclass
class _Subscriber:
    stream: str
    tag: str | None
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)


class MastodonServer:
    def __init__(
        self,
        *,
        token: str | None = None,
        hashtag_access: tuple[str, str] = ("public", "public"),  # (local, remote)
        now: Callable[[], float] = time.time,
        heartbeat: float = 0.2,
        budget: int = 300,
        version: str = "4.5.0",
    ) -> None:
        self.token = token
        self.hashtag_access = hashtag_access
        self.now = now
        self.heartbeat = heartbeat
        self.budget = budget
        self.version = version
        self.statuses: list[dict[str, Any]] = []  # in id order
        self.rest_faults: list[RestFault] = []
        self.stream_faults: list[StreamFault] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (path, query, headers)
        self.timeline_requests = 0
        self.over_budget = 0  # requests answered 429 because the client overspent
        self._window: deque[float] = deque()
        self.streamed = 0
        self.stream_connections = 0
        self.drop_streams = 0  # the next N SSE streams end right after they open
        self.streaming_url: str | None = None  # what /api/v2/instance names (default: itself)
        self._lock = threading.Lock()
        self._next = 0
        self._subscribers: list[_Subscriber] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: Callable[[], None] | None = None
        self.base = ""
        self.host = ""

    # -- control (from the test's thread) ----------------------------------------

    def start(self) -> str:
        self.base, self._stop = run_in_thread(self._app(), "mastodon")
        self.host = self.base.removeprefix("http://")
        return self.base

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()

    def __enter__(self) -> MastodonServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def post(self, statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Statuses arrive on this server: each gets a local id here, joins
        the timelines and is pushed to streaming subscribers."""
        posted: list[dict[str, Any]] = []
        with self._lock:
            for status in statuses:
                copy_ = copy.deepcopy(status)
                self._next += 1
                copy_["id"] = str((EPOCH_MS + self._next) << 16)
                self.statuses.append(copy_)
                posted.append(copy_)
        if self._loop is not None:
            for status in posted:
                self._loop.call_soon_threadsafe(self._push, "update", status)
        return posted

    def edit(self, local_id: str, content: str) -> dict[str, Any]:
        """A status is edited: its content changes and ``status.update`` is streamed."""
        with self._lock:
            status = next(s for s in self.statuses if s["id"] == local_id)
            status["content"] = content
            status["edited_at"] = datetime.fromtimestamp(self.now(), UTC).isoformat()
            edited = copy.deepcopy(status)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._push, "status.update", edited)
        return edited

    def delete(self, local_id: str) -> None:
        with self._lock:
            self.statuses = [s for s in self.statuses if s["id"] != local_id]
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._push, "delete", local_id)

    def uris(self, tag: str | None = None) -> set[str]:
        with self._lock:
            return {s["uri"] for s in self.statuses if tag is None or _has_tag(s, tag)}

    # -- the app (in the server's thread) -----------------------------------------

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v2/instance", self._instance),
                Route("/api/v1/timelines/tag/{tag}", self._timeline),
                Route("/api/v1/timelines/{kind:str}", self._timeline),
                Route("/api/v1/accounts/verify_credentials", self._verify),
                Route("/api/v1/streaming/health", self._health),
                Route("/api/v1/streaming/hashtag", self._sse),
                Route("/api/v1/streaming/public", self._sse),
                Route("/api/v1/streaming/user", self._sse),
                WebSocketRoute("/api/v1/streaming", self._ws),
            ],
        )

    def _log(self, request: Request) -> None:
        # The server's loop, for pushes from the test's thread (set by the first request).
        self._loop = asyncio.get_running_loop()
        self.requests.append(
            (
                request.url.path,
                request.url.query,
                {k.lower(): v for k, v in request.headers.items()},
            )
        )

    def _authorised(self, headers: Any) -> bool:
        return self.token is not None and headers.get("authorization") == f"Bearer {self.token}"

    async def _instance(self, request: Request) -> Response:
        self._log(request)
        local, remote = self.hashtag_access
        body = {
            "domain": self.host,
            "version": self.version,
            "configuration": {
                "urls": {"streaming": self.streaming_url or f"ws://{self.host}"},
                "timelines_access": {
                    "live_feeds": {"local": "public", "remote": "public"},
                    "hashtag_feeds": {"local": local, "remote": remote},
                    "trending_link_feeds": {"local": "public", "remote": "public"},
                },
            },
        }
        return Response(orjson.dumps(body), media_type="application/json")

    async def _verify(self, request: Request) -> Response:
        self._log(request)
        if not self._authorised(request.headers):
            return _error(401, "The access token is invalid")
        body = {"id": "1", "username": "hubbub", "acct": "hubbub", "display_name": "Hubbub"}
        return Response(orjson.dumps(body), media_type="application/json")

    async def _health(self, request: Request) -> Response:
        return PlainTextResponse("OK")

    def _spend(self) -> bool:
        """Count a timeline request in the 5-minute window; False when over budget."""
        now = self.now()
        while self._window and self._window[0] <= now - 300:
            self._window.popleft()
        if len(self._window) >= self.budget:
            self.over_budget += 1
            return False
        self._window.append(now)
        return True

    def _rate_headers(self) -> dict[str, str]:
        start = self._window[0] if self._window else self.now()
        reset = datetime.fromtimestamp(start + 300, UTC).isoformat()
        return {
            "X-RateLimit-Limit": str(self.budget),
            "X-RateLimit-Remaining": str(max(0, self.budget - len(self._window))),
            "X-RateLimit-Reset": reset,
        }

    async def _timeline(self, request: Request) -> Response:
        self._log(request)
        tag = request.path_params.get("tag")
        kind = "tag" if tag is not None else request.path_params.get("kind")
        if kind not in ("tag", "public", "home"):
            return _error(404, "Record not found")
        self.timeline_requests += 1
        if not self._spend():
            return _error(429, "Too many requests", self._rate_headers())
        fault = next(
            (f for f in self.rest_faults if not f.fired and self.timeline_requests >= f.at), None
        )
        if fault is not None:
            fault.fired = True
            if fault.kind == "429":
                reset = datetime.fromtimestamp(self.now() + fault.reset_in, UTC).isoformat()
                headers = {**self._rate_headers(), "X-RateLimit-Remaining": "0"}
                headers["X-RateLimit-Reset"] = reset
                return _error(429, "Too many requests", headers)
            if fault.kind == "503":
                return _error(503, "Service unavailable", self._rate_headers())
        if kind == "home" and not self._authorised(request.headers):
            return _error(401, "This method requires an authenticated user")
        if kind == "tag":
            local_only = request.query_params.get("local") in ("true", "1")
            access = self.hashtag_access[0] if local_only else self.hashtag_access[1]
            if access == "disabled":
                return _error(403, "This feed is disabled")
            if access == "authenticated" and not self._authorised(request.headers):
                return _error(401, "This method requires an authenticated user")
        page, link = self._page(request, kind, tag)
        headers = self._rate_headers()
        if link:
            headers["Link"] = link
        body = orjson.dumps(page)
        if fault is not None and fault.kind == "truncate":
            body = body[: max(1, len(body) // 2)]
        return Response(body, media_type="application/json", headers=headers)

    def _page(
        self, request: Request, kind: str, tag: str | None
    ) -> tuple[list[dict[str, Any]], str]:
        q = request.query_params
        try:
            limit = max(1, min(int(q.get("limit", "20")), 40))
        except ValueError:
            limit = 20
        with self._lock:
            pool = [s for s in self.statuses if kind != "tag" or _has_tag(s, tag or "")]
        key = lambda s: int(s["id"])  # noqa: E731
        pool.sort(key=key)
        if q.get("min_id"):
            after = int(q["min_id"])
            chosen = [s for s in pool if key(s) > after][:limit]
        else:
            if q.get("max_id"):
                pool = [s for s in pool if key(s) < int(q["max_id"])]
            if q.get("since_id"):
                pool = [s for s in pool if key(s) > int(q["since_id"])]
            chosen = pool[-limit:]
        chosen = sorted(chosen, key=key, reverse=True)
        if not chosen:
            return [], ""
        url = f"{self.base}{request.url.path}"
        link = (
            f'<{url}?max_id={chosen[-1]["id"]}>; rel="next", '
            f'<{url}?min_id={chosen[0]["id"]}>; rel="prev"'
        )
        return chosen, link

    # -- streaming ---------------------------------------------------------------

    def _push(self, event: str, value: Any) -> None:
        for sub in list(self._subscribers):
            if (
                event in ("update", "status.update")
                and sub.stream.startswith("hashtag")
                and not _has_tag(value, sub.tag or "")
            ):
                continue
            sub.queue.put_nowait({"event": event, "value": value})

    def _next_fault(self) -> StreamFault | None:
        for fault in self.stream_faults:
            if not fault.fired and self.streamed >= fault.at:
                fault.fired = True
                return fault
        return None

    async def _sse(self, request: Request) -> Response:
        self._log(request)
        if not self._authorised(request.headers):
            return _error(401, "Missing access token")
        stream = request.url.path.rsplit("/", 1)[-1]
        sub = _Subscriber(stream, request.query_params.get("tag"))
        self._subscribers.append(sub)
        self.stream_connections += 1

        drop = self.drop_streams > 0
        self.drop_streams -= drop

        async def frames():  # type: ignore[no-untyped-def]
            try:
                yield b":)\n"
                if drop:
                    return  # a flapping streaming server: ends every stream at once
                held: bytes | None = None
                while True:
                    try:
                        message = await asyncio.wait_for(sub.queue.get(), self.heartbeat)
                    except TimeoutError:
                        if held is not None:  # a delayed event goes out late, not never
                            yield held
                            held = None
                        yield b":thump\n"
                        continue
                    frame = _sse_frame(message)
                    fault = self._next_fault() if message["event"] == "update" else None
                    self.streamed += message["event"] == "update"
                    if fault is None:
                        yield frame
                    elif fault.kind == "cut":
                        yield frame[: len(frame) // 2]
                        raise ConnectionAbortedError("loopback cut")
                    elif fault.kind == "stall":
                        await asyncio.sleep(3600)
                    elif fault.kind == "truncate":
                        yield (
                            b"event: update\ndata: " + orjson.dumps(message["value"])[:40] + b"\n\n"
                        )
                    elif fault.kind == "duplicate":
                        yield frame + frame
                    elif fault.kind == "reorder":
                        held = frame
                        continue
                    elif fault.kind == "close":
                        return
                    if held is not None:
                        yield held
                        held = None
            finally:
                self._subscribers.remove(sub)

        return StreamingResponse(frames(), media_type="text/event-stream")

    async def _ws(self, websocket: WebSocket) -> None:
        self._loop = asyncio.get_running_loop()
        if not self._authorised(websocket.headers):
            await websocket.close(code=4001)
            return
        await websocket.accept()
        try:
            hello = orjson.loads(await websocket.receive_text())
        except (orjson.JSONDecodeError, WebSocketDisconnect):
            return
        sub = _Subscriber(str(hello.get("stream", "")), hello.get("tag"))
        self._subscribers.append(sub)
        self.stream_connections += 1
        try:
            while True:
                message = await sub.queue.get()
                stream = [sub.stream] + ([sub.tag] if sub.tag else [])
                payload = message["value"]
                text = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
                frame = orjson.dumps(
                    {"stream": stream, "event": message["event"], "payload": text}
                ).decode()
                fault = self._next_fault() if message["event"] == "update" else None
                self.streamed += message["event"] == "update"
                if fault is None:
                    await websocket.send_text(frame)
                elif fault.kind in ("cut", "close"):
                    await websocket.close(code=1011)
                    return
                elif fault.kind == "stall":
                    await asyncio.sleep(3600)
                elif fault.kind == "truncate":
                    await websocket.send_text(frame[: len(frame) // 2])
                elif fault.kind == "duplicate":
                    await websocket.send_text(frame)
                    await websocket.send_text(frame)
                else:
                    await websocket.send_text(frame)
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            self._subscribers.remove(sub)


def _sse_frame(message: dict[str, Any]) -> bytes:
    value = message["value"]
    data = value.encode() if isinstance(value, str) else orjson.dumps(value)
    return b"event: " + message["event"].encode() + b"\ndata: " + data + b"\n\n"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps({"error": message}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )

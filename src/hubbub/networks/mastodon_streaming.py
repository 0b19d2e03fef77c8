"""Mastodon's streaming API on the wire: Server-Sent Events and WebSocket.

- **SSE**: ``GET {streaming}/api/v1/streaming/{hashtag|public|user}`` with
  the token in the ``Authorization`` header (never ``?access_token=``). Events
  are ``event: NAME`` + ``data: PAYLOAD`` lines ended by a blank line; the
  server sends a ``:thump`` comment every 15 s, so silence for twice that
  means a dead stream. An event cut off before its blank line is discarded,
  never half-dispatched.
- **WebSocket**: ``{streaming}/api/v1/streaming`` (ws/wss) with the token in
  the ``Authorization`` header, then ``{"type": "subscribe", "stream": …}``;
  messages are ``{"stream": [...], "event": NAME, "payload": "<JSON text>"}``.
- ``GET /api/v1/streaming/health`` answers ``OK`` when the streaming server
  is up: asked before connecting, so a down streaming server costs one cheap
  request per attempt rather than a hanging connection.

Streaming has no replay: the source backfills over REST after every
(re)connection. Every read here yields ``HEARTBEAT`` for keep-alive traffic
so the caller's stall check (``stall.next_within``) sees the stream is alive.
Lines are capped (``MAX_LINE_BYTES``): a server that never ends a line is
cut off, not buffered.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
import websockets
from websockets.asyncio.client import connect

from hubbub.networks.mastodon import MastodonAuthFailed, MastodonError
from hubbub.networks.user_agent import USER_AGENT

MAX_LINE_BYTES = 1024 * 1024
HEARTBEAT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class StreamEvent:
    event: str
    payload: str  # as sent: a JSON text for statuses, a bare id for delete


HEARTBEAT = StreamEvent("heartbeat", "")


class StreamBroken(Exception):
    """The stream sent something that is not the protocol (a line too long, bad JSON framing)."""


def stream_params(stream: str, tag: str | None) -> dict[str, str]:
    params = {"stream": stream}
    if tag:
        params["tag"] = tag
    return params


def _http_base(streaming: str) -> str:
    parts = urlsplit(streaming)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _ws_base(streaming: str) -> str:
    parts = urlsplit(streaming)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


async def streaming_healthy(http: httpx.AsyncClient, streaming: str) -> bool:
    try:
        response = await http.get(
            _http_base(streaming) + "/api/v1/streaming/health",
            headers={"User-Agent": USER_AGENT},
        )
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.content.strip()[:2] == b"OK"


async def sse_events(
    http: httpx.AsyncClient,
    streaming: str,
    stream: str,
    tag: str | None,
    headers: dict[str, str],
) -> AsyncGenerator[StreamEvent, None]:
    """Events of one SSE connection, ``HEARTBEAT`` for comments (Mastodon
    opens with ``:)``); ends when the server closes. ``MastodonError`` when
    the server refuses."""
    path = "/api/v1/streaming/" + stream.replace(":", "/")
    url = _http_base(streaming) + path
    params = {"tag": tag} if tag else None
    request_headers = {**headers, "Accept": "text/event-stream", "User-Agent": USER_AGENT}
    timeout = httpx.Timeout(None, connect=10.0)
    async with http.stream(
        "GET", url, params=params, headers=request_headers, timeout=timeout
    ) as response:
        if response.status_code != 200:
            await response.aread()
            raise _refused(response.status_code)
        yield HEARTBEAT  # connected: the caller may backfill now
        name = "message"
        data: list[str] = []
        async for line in _lines(response.aiter_bytes()):
            if not line:
                if data:
                    yield StreamEvent(name, "\n".join(data))
                name, data = "message", []
                continue
            if line.startswith(":"):
                yield HEARTBEAT
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)


async def _lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Complete lines (LF or CRLF) of a byte stream; a last line without its
    newline is dropped (the connection was cut in the middle of it)."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            line, buffer = buffer[:end], buffer[end + 1 :]
            yield line.rstrip(b"\r").decode("utf-8", "replace")
        if len(buffer) > MAX_LINE_BYTES:
            raise StreamBroken(f"a line longer than {MAX_LINE_BYTES} bytes")


async def ws_events(
    streaming: str, stream: str, tag: str | None, headers: dict[str, str]
) -> AsyncGenerator[StreamEvent, None]:
    """Events of one WebSocket connection subscribed to ``stream``."""
    url = _ws_base(streaming) + "/api/v1/streaming"
    try:
        ws = await connect(
            url,
            additional_headers=headers,
            user_agent_header=USER_AGENT,
            open_timeout=15,
            max_size=MAX_LINE_BYTES,
            ping_interval=HEARTBEAT_SECONDS,
            ping_timeout=HEARTBEAT_SECONDS,
            close_timeout=2,
            proxy=None,
        )
    except websockets.InvalidStatus as exc:
        raise _refused(exc.response.status_code) from None
    try:
        subscribe = {"type": "subscribe", **stream_params(stream, tag)}
        await ws.send(orjson.dumps(subscribe).decode())
        yield HEARTBEAT  # subscribed: the caller may backfill now
        async for message in ws:
            try:
                value = orjson.loads(message)
            except orjson.JSONDecodeError:
                raise StreamBroken("a message that is not JSON") from None
            if not isinstance(value, dict) or not isinstance(value.get("event"), str):
                raise StreamBroken("a message without an event")
            payload = value.get("payload")
            if payload is not None and not isinstance(payload, str):
                payload = orjson.dumps(payload).decode()
            yield StreamEvent(value["event"], payload or "")
    finally:
        ws.transport.abort()


def _refused(status: int) -> MastodonError:
    """401/403 mean the token was refused (revoked, or the feed needs another):
    the source stops and says so instead of reconnecting with it for ever."""
    if status in (401, 403):
        return MastodonAuthFailed(status)
    return MastodonError(status, "streaming refused")

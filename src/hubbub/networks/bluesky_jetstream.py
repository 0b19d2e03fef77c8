"""Jetstream v1 on the wire: subscribe URLs, connecting, reading one event.

Jetstream (``bluesky-social/jetstream``) turns the AT Protocol firehose into
one JSON object per WebSocket text message at ``/subscribe``:

- ``wantedCollections`` (repeatable, up to 100, ``prefix.*`` allowed) filters
  commit events; identity and account events always come;
- ``cursor`` is a unix time in microseconds (an event's ``time_us``): the
  server replays from there (a cursor older than its window, about a day,
  silently starts at the oldest event it has; none, or one in the future,
  is the live tail). Being a time, it is valid on every instance, which is
  what makes failover between the four public instances safe.

Events are not signed: they are untrusted input like any other network text.
A message that is not a JSON object with a ``did`` and an integer
``time_us`` is refused here (``BadEvent``), and the caller reconnects and
replays rather than guess.

Jetstream v2 (``/xrpc/network.bsky.jetstream.subscribeEvents``, sequence
cursors) is in ``bluesky_jetstream_v2``; the connection, the refusals and
the first step of reading a message (``open_stream``, ``Refused``,
``json_object``) are shared by both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from hubbub.networks.user_agent import USER_AGENT

PUBLIC_INSTANCES = (
    "wss://jetstream1.us-east.bsky.network",
    "wss://jetstream2.us-east.bsky.network",
    "wss://jetstream1.us-west.bsky.network",
    "wss://jetstream2.us-west.bsky.network",
)
POST_COLLECTIONS = ("app.bsky.feed.post", "app.bsky.feed.repost")
MAX_COLLECTIONS = 100
# Largest message accepted: records are small; a huge frame is refused at the edge.
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
# An error answer's body is read for its XRPC error name only; a longer one is not looked at.
_MAX_ERROR_BODY = 64 * 1024
_ERROR_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,99}")


class BadEvent(ValueError):
    """A message that is not a Jetstream v1 event."""


class Refused(Exception):
    """The server answered the upgrade with an HTTP error; ``error`` and
    ``message`` are its XRPC error envelope (``{"error": NAME, "message":
    TEXT}``), when the body was one (v2 answers so, v1 with plain text)."""

    def __init__(
        self,
        status: int,
        retry_after: float | None,
        error: str | None = None,
        message: str | None = None,
    ) -> None:
        super().__init__(f"HTTP {status}" + (f" {error}" if error else ""))
        self.status, self.retry_after = status, retry_after
        self.error, self.message = error, message


def subscribe_url(base: str, collections: tuple[str, ...], cursor: int | None) -> str:
    """``base`` (``wss://host`` or ``ws://127.0.0.1:port``, with or without a
    path) → its ``/subscribe`` URL with the filter and cursor."""
    parts = urlsplit(base)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"not a WebSocket URL: {base!r}")
    path = parts.path.rstrip("/")
    if not path.endswith("/subscribe"):
        path += "/subscribe"
    query: list[tuple[str, str]] = [("wantedCollections", c) for c in collections]
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


async def open_stream(
    url: str, *, open_timeout: float = 15.0, subprotocols: Sequence[str] = ()
) -> ClientConnection:
    """Connect; ``Refused`` on an HTTP answer, ``OSError``/``TimeoutError`` on
    network failure. With ``subprotocols`` they are offered and a server that
    picks another one fails the handshake (``websockets.InvalidHandshake``), as
    RFC 6455 says; one that picks none is accepted (v2's default framing is
    the offered one). Per-message deflate is offered to v1 only: v2 never
    negotiates it."""
    try:
        return await connect(
            url,
            subprotocols=[Subprotocol(p) for p in subprotocols] or None,
            compression=None if subprotocols else "deflate",
            open_timeout=open_timeout,
            max_size=MAX_MESSAGE_BYTES,
            user_agent_header=USER_AGENT,
            # Liveness of the TCP connection; silence in the data is the caller's stall check.
            ping_interval=20,
            ping_timeout=20,
            proxy=None,
        )
    except websockets.InvalidStatus as exc:
        response = exc.response
        retry = response.headers.get("Retry-After")
        try:
            retry_after = float(retry) if retry is not None else None
        except ValueError:
            retry_after = None
        error, message = _xrpc_error(response.body)
        raise Refused(response.status_code, retry_after, error, message) from None


def _xrpc_error(body: bytes | bytearray | None) -> tuple[str | None, str | None]:
    """The ``error`` name and ``message`` of an XRPC error body, if it is one."""
    if not body or len(body) > _MAX_ERROR_BODY:
        return None, None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(value, dict):
        return None, None
    error, message = value.get("error"), value.get("message")
    # An XRPC error name is an identifier; anything else is not one (and is
    # not repeated into logs and health).
    named = isinstance(error, str) and _ERROR_NAME.fullmatch(error) is not None
    return (
        error if named else None,
        message[:1000] if isinstance(message, str) else None,
    )


def json_object(message: str | bytes, noun: str) -> dict[str, Any]:
    """A WebSocket message parsed as a JSON object, or ``BadEvent`` naming it
    (``noun``: "message" for v1, "frame" for v2). Both wires start here."""
    try:
        value = orjson.loads(message)
    except orjson.JSONDecodeError as exc:
        raise BadEvent(f"{noun} is not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise BadEvent(f"{noun} is not a JSON object")
    return value


def decode_event(message: str | bytes) -> dict[str, Any]:
    """One message → its event object, or ``BadEvent``."""
    value = json_object(message, "message")
    did, time_us = value.get("did"), value.get("time_us")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise BadEvent("event without a did")
    if not isinstance(time_us, int) or isinstance(time_us, bool) or time_us <= 0:
        raise BadEvent("event without a time_us")
    return value


def event_identity(event: dict[str, Any]) -> tuple[str, ...]:
    """What makes an event the same event on any instance and any replay:
    the repo, the commit revision and the record path (``time_us`` differs
    between instances, so it is not part of it)."""
    commit = event.get("commit")
    if event.get("kind") == "commit" and isinstance(commit, dict):
        return (
            event["did"],
            str(commit.get("rev", "")),
            str(commit.get("operation", "")),
            str(commit.get("collection", "")),
            str(commit.get("rkey", "")),
        )
    return (event["did"], str(event.get("kind", "")), str(event["time_us"]))

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
cursors) is not spoken yet; v1's ``/subscribe`` stays on the public hosts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson
import websockets
from websockets.asyncio.client import ClientConnection, connect

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


class BadEvent(ValueError):
    """A message that is not a Jetstream v1 event."""


class Refused(Exception):
    """The server answered the upgrade with an HTTP error."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.retry_after = status, retry_after


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


async def open_stream(url: str, *, open_timeout: float = 15.0) -> ClientConnection:
    """Connect; ``Refused`` on an HTTP answer, ``OSError``/``TimeoutError`` on network failure."""
    try:
        return await connect(
            url,
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
        raise Refused(response.status_code, retry_after) from None


def decode_event(message: str | bytes) -> dict[str, Any]:
    """One message → its event object, or ``BadEvent``."""
    try:
        value = orjson.loads(message)
    except orjson.JSONDecodeError as exc:
        raise BadEvent(f"message is not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise BadEvent("message is not a JSON object")
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

"""Limits at the edge: a request body larger than the configured maximum is
refused with 413 before anyone reads it.

This is plain ASGI middleware placed outside every other one, so it runs
before the CSRF check (which may read a form body) and before FastAPI parses
JSON. A declared ``Content-Length`` over the limit is refused without reading
a byte (the server itself never delivers more than the declared length); a
body without one (chunked transfer) is read here as it streams in and
refused as soon as it passes the limit, so at most the limit plus one chunk
is ever held in memory.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hubbub.web.security import SECURITY_HEADERS


def describe_bytes(limit: int) -> str:
    """``1 MB (1048576 bytes)``: the limit as people and programs read it."""
    for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit} ({limit} bytes)"
    return f"{limit} bytes"


class BodyLimit:
    """Refuse HTTP request bodies over ``max_bytes`` with 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.max_bytes:
                await self._refuse(send)
                return
            # The server delivers no more than the declared length.
            await self.app(scope, receive, send)
            return
        # No length (chunked, or no body at all): read up to the limit here,
        # then hand the app what was read. Refusing from inside the app's
        # own read would turn into FastAPI's 400 "error parsing the body".
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away; let the app see it
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        detail = f"request body over the limit of {describe_bytes(self.max_bytes)}"
        body = json.dumps({"detail": detail, "limit": self.max_bytes}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # The rest of the body is not read: the connection cannot be reused.
            (b"connection", b"close"),
            *((name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None

"""What the loopback Jetstream servers (v1 in ``jetstream_server``, v2 in
``jetstream_v2_server``) share: the listening socket, handshake refusals on
demand, the serving loop that sends the log and follows it live, and the
faults that mean the same on both wires (a frame cut mid-message, a truncated
frame, events sent again). Each server adds what its protocol says: which
path it answers, how a cursor picks the first event, what a frame looks like,
and the faults only its wire has (``_inject``).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, Self, TypeVar

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol


@dataclass
class Fault:
    """One injected fault, fired once when the server has sent ``at`` frames in all.

    kinds both servers know:
      ``cut``       half of the next frame is written, then the TCP connection is dropped
      ``truncate``  the next event goes out as truncated JSON (the full one stays in the log)
      ``duplicate`` the next event, then the last ``span`` events are sent again

    Each server documents the kinds only its protocol has.
    """

    kind: str
    at: int
    span: int = 3
    fired: bool = False


@dataclass
class Refusal:
    """A handshake answered with an HTTP error instead of the upgrade."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


class Subscription(Protocol):
    """An accepted connection as a server notes it: how many frames it got."""

    sent: int


LogEntry = TypeVar("LogEntry")  # what a server's log holds
Conn = TypeVar("Conn", bound=Subscription)  # what it notes of a connection


@dataclass(frozen=True)
class Carry:
    """How the serving loop goes on after a protocol's own fault."""

    position: int  # the log index read next
    remember: bool = True  # whether the frame counts among those a ``duplicate`` repeats


class JetstreamLoopback(Generic[LogEntry, Conn]):
    """A WebSocket server on 127.0.0.1 (an ephemeral port) that serves
    ``self.log`` from a position, then waits for ``_wake`` to serve more."""

    def __init__(self) -> None:
        self.log: list[LogEntry] = []
        self.faults: list[Fault] = []
        self.refusals: list[Refusal] = []  # consumed one per upgrade attempt at the endpoint
        self.connections: list[Conn] = []  # accepted subscriptions, in order
        self.sent = 0  # frames sent in all (faulty ones included)
        self._appended = asyncio.Event()
        self._server: Server | None = None
        self.url = ""

    # -- control ---------------------------------------------------------------

    async def start(self) -> str:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            select_subprotocol=self._select_subprotocol,
            compression=None,
            ping_interval=None,
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _wake(self) -> None:
        """Tell every connection waiting at the end of the log that it grew."""
        self._appended.set()
        self._appended = asyncio.Event()

    # -- what each protocol defines ----------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        raise NotImplementedError

    def _select_subprotocol(
        self, connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        # No sub-protocol, whatever is offered: what websockets does when a
        # server names none.
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        raise NotImplementedError

    def _frame_at(self, index: int, conn: Conn) -> str | None:
        """The frame for the log entry at ``index``, or None when this
        connection is not sent it."""
        raise NotImplementedError

    async def _inject(
        self, ws: ServerConnection, conn: Conn, fault: Fault, index: int, frame: str
    ) -> Carry | None:
        """Fire a fault only this protocol has, in place of sending ``frame``
        (the entry at ``index``); None when the connection ends with it."""
        raise ValueError(f"the loopback server has no fault {fault.kind!r}")

    # -- serving -----------------------------------------------------------------

    def _refusal(self, connection: ServerConnection) -> Response | None:
        """The next refusal on demand, if any is left."""
        if not self.refusals:
            return None
        refusal = self.refusals.pop(0)
        response = connection.respond(refusal.status, "refused by the loopback server\n")
        for name, value in refusal.headers.items():
            response.headers[name] = value
        return response

    async def _serve(
        self, ws: ServerConnection, conn: Conn, position: int, first: list[str]
    ) -> None:
        """Send ``first``, then the log from ``position`` on, then what is
        published while the client stays, firing the faults as they fall due."""
        recent: list[str] = []
        try:
            for opening in first:
                await self._send(ws, conn, opening)
            while True:
                while position < len(self.log):
                    index, position = position, position + 1
                    frame = self._frame_at(index, conn)
                    if frame is None:
                        continue
                    fault = self._due()
                    if fault is None:
                        await self._send(ws, conn, frame)
                    elif fault.kind == "cut":
                        write_partial_frame(ws, frame.encode())
                        return
                    elif fault.kind == "truncate":
                        await self._send(ws, conn, frame[: len(frame) // 2])
                    elif fault.kind == "duplicate":
                        await self._send(ws, conn, frame)
                        for again in recent[-fault.span :]:
                            await self._send(ws, conn, again)
                    else:
                        carry = await self._inject(ws, conn, fault, index, frame)
                        if carry is None:
                            return
                        position = carry.position
                        if not carry.remember:
                            continue
                    recent = [*recent[-9:], frame]
                if await self._wait_for_more(ws):
                    return
        except Exception:  # noqa: BLE001, S110 - the client went away: nothing to serve
            return

    async def _wait_for_more(self, ws: ServerConnection) -> bool:
        """Wait for new events; True when the client left instead."""
        appended = asyncio.ensure_future(self._appended.wait())
        closed = asyncio.ensure_future(ws.wait_closed())
        done, pending = await asyncio.wait({appended, closed}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return closed in done

    def _due(self) -> Fault | None:
        for fault in self.faults:
            if not fault.fired and self.sent >= fault.at:
                fault.fired = True
                return fault
        return None

    async def _send(self, ws: ServerConnection, conn: Conn, frame: str) -> None:
        await ws.send(frame)
        conn.sent += 1
        self.sent += 1


def collection_wanted(collection: str, patterns: list[str]) -> bool:
    """Whether a collection NSID matches one of the filter's patterns (an
    exact NSID, or ``prefix.*``). Both protocols filter commits this way."""
    for pattern in patterns:
        if pattern.endswith(".*"):
            if collection.startswith(pattern[:-1]):
                return True
        elif collection == pattern:
            return True
    return False


def write_partial_frame(ws: ServerConnection, frame: bytes) -> None:
    """Half of a text frame on the wire, then the TCP connection dropped:
    what a client sees when a server or proxy dies mid-message."""
    length = len(frame)
    if length < 126:
        header = bytes([0x81, length])
    elif length < 65536:
        header = bytes([0x81, 126]) + struct.pack("!H", length)
    else:
        header = bytes([0x81, 127]) + struct.pack("!Q", length)
    transport = ws.transport
    transport.write(header + frame[: length // 2])
    transport.abort()

"""Live fan-out straight to the sockets: frames built once per post, written
once per client and event-loop turn, slow clients cut off; and the real
server configuration (``hubbub serve``'s uvicorn protocol) end to end."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from pathlib import Path

import orjson
import pytest
import websockets

from hubbub.web.hub import CLIENT_BUFFER, RoomHub, text_frame
from hubbub.web.rooms import Room
from tests.web.conftest import free_port, make_post


class FakeWriter:
    def __init__(self, buffered: int = 0, open_: bool = True) -> None:
        self.writes: list[bytes] = []
        self._buffered, self._open = buffered, open_

    def write(self, data: bytes) -> bool:
        if not self._open:
            return False
        self.writes.append(data)
        return True

    def buffered(self) -> int:
        return self._buffered


def _in_own_loop(coro_fn):  # noqa: ANN001, ANN202
    """Run ``coro_fn()`` in a fresh event loop on its own thread: Playwright's
    sync API may own this thread's loop (see test_security.py)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn())).result(timeout=60)


def _payloads(data: bytes) -> list[bytes]:
    """Split unmasked server frames (as a client would read them)."""
    out = []
    while data:
        assert data[0] == 0x81  # FIN + text, no RSV bits (uncompressed)
        n, at = data[1], 2
        assert n & 0x80 == 0  # a server never masks
        if n == 126:
            n, at = int.from_bytes(data[2:4], "big"), 4
        elif n == 127:
            n, at = int.from_bytes(data[2:10], "big"), 10
        out.append(data[at : at + n])
        data = data[at + n :]
    return out


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_text_frame_lengths(size: int) -> None:
    payload = b"x" * size
    assert _payloads(text_frame(payload)) == [payload]


def test_broadcast_encodes_once_and_writes_once_per_client_per_turn() -> None:
    _in_own_loop(_broadcast_encodes_once)


async def _broadcast_encodes_once() -> None:
    hub = RoomHub(None, Room(None, "hubchat"))  # type: ignore[arg-type]
    direct = [hub.join(FakeWriter()) for _ in range(3)]
    queued = hub.join()  # no writer: the queue and send-task path
    posts = [make_post("hubchat", f"post {n}") for n in range(5)]
    for post in posts:
        hub.broadcast(post, 1.0)
    assert all(not c.writer.writes for c in direct)  # type: ignore[union-attr]
    await asyncio.sleep(0)  # one loop turn: the flush
    for client in direct:
        writes = client.writer.writes  # type: ignore[union-attr]
        assert len(writes) == 1
        got = [orjson.loads(p) for p in _payloads(writes[0])]
        assert [g["id"] for g in got] == [p.id for p in posts]
        assert all(g["entered_at"] == 1.0 for g in got)
    # Every client gets the very same bytes: the frame is built once per post.
    assert len({c.writer.writes[0] for c in direct}) == 1  # type: ignore[union-attr]
    texts = [queued.queue.get_nowait() for _ in range(5)]
    assert [json.loads(t)["id"] for t in texts] == [p.id for p in posts]


def test_a_client_too_far_behind_is_closed_and_skipped() -> None:
    _in_own_loop(_too_far_behind)


async def _too_far_behind() -> None:
    hub = RoomHub(None, Room(None, "hubchat"))  # type: ignore[arg-type]
    slow = hub.join(FakeWriter(buffered=CLIENT_BUFFER + 1))
    ok = hub.join(FakeWriter())
    gone = hub.join(FakeWriter(open_=False))
    hub.broadcast(make_post("hubchat", "one"))
    await asyncio.sleep(0)
    assert slow.overflowed and slow.queue.get_nowait() is None  # the sender closes with 1013
    assert not ok.overflowed and not gone.overflowed and not gone.writer.writes  # type: ignore[union-attr]
    hub.broadcast(make_post("hubchat", "two"))
    await asyncio.sleep(0)
    assert len(slow.writer.writes) == 1 and len(ok.writer.writes) == 2  # type: ignore[union-attr]


def test_served_configuration_delivers_every_post_in_order(tmp_path: Path) -> None:
    import uvicorn

    from hubbub.cli.serve import uvicorn_config, websocket_protocol
    from hubbub.settings import Settings
    from hubbub.web import create_app

    port = free_port()
    settings = Settings(
        db=str(tmp_path / "hubbub.db"), host="127.0.0.1", port=port, rooms=("frames",)
    )
    app = create_app(settings)
    config = uvicorn_config(app, "127.0.0.1", port)
    assert config.ws is websocket_protocol()
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.05)
    posts = [make_post("frames", f"live {n} " + "é" * (n * 40)) for n in range(20)]
    url = f"ws://127.0.0.1:{port}/api/rooms/frames/live"

    async def client() -> list[dict]:
        async with websockets.connect(url) as a, websockets.connect(url) as b:
            for post in posts:
                fut = asyncio.run_coroutine_threadsafe(
                    app.state.pipeline.submit(post), app.state.loop
                )
                await asyncio.wrap_future(fut)
            got = []
            for ws in (a, b):
                got.append([json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in posts])
            return got

    try:
        got = _in_own_loop(client)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    for messages in got:
        assert [m["id"] for m in messages] == [p.id for p in posts]
        assert [m["text"] for m in messages] == [p.text for p in posts]
        assert all(m["received_at"].endswith("Z") and m["entered_at"] > 0 for m in messages)

"""Open WebSockets lose a private room when their access ends (issue 7):
a socket opened before a logout or a revoke from another process stops
receiving the room within a few seconds (closed with 1008); so does an
anonymous socket once a host makes its room private; a live session keeps it.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import closing

import pytest
import websockets

from hubbub.web.user_sessions import revoke_sessions
from tests.web.conftest import Server, make_post
from tests.web.test_room_access import configure, in_thread, sign_in, ws_url

# Generous: the server re-checks open sockets every few seconds; this bound
# only keeps a broken server from hanging the test.
ENDED_WITHIN = 60.0


def _cookie_header(client) -> dict[str, str]:  # noqa: ANN001
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}


def _socket_ends_after(server: Server, tag: str, headers: dict[str, str], end_access) -> int:  # noqa: ANN001
    """Open a live socket on ``tag``, see one post arrive, call ``end_access``
    (blocking), then keep feeding the room until the server closes the
    socket. Returns the close code; fails if it stays open."""

    async def run() -> int:
        async with websockets.connect(ws_url(server, tag), additional_headers=headers) as ws:
            await asyncio.to_thread(server.submit, make_post(tag, "before the end"))
            first = await asyncio.wait_for(ws.recv(), 15)
            assert "before the end" in first
            await asyncio.to_thread(end_access)
            deadline = time.monotonic() + ENDED_WITHIN
            while time.monotonic() < deadline:
                await asyncio.to_thread(server.submit, make_post(tag, "after the end"))
                try:
                    await asyncio.wait_for(ws.recv(), 1)
                except TimeoutError:
                    continue
                except websockets.exceptions.ConnectionClosed:
                    break
            else:
                pytest.fail("the socket kept streaming the room after access ended")
            assert ws.close_code is not None
            return ws.close_code

    return in_thread(run, timeout=ENDED_WITHIN + 30)


def test_a_socket_opened_before_logout_stops_streaming_a_private_room(
    server: Server, tag: str
) -> None:
    configure(server, tag, public=False)
    client, token = sign_in(server)
    with closing(client):
        headers = _cookie_header(client)

        def logout() -> None:
            assert client.post("/logout", data={"csrf": token}).status_code == 303

        code = _socket_ends_after(server, tag, headers, logout)
    assert code == 1008


def test_a_socket_of_a_session_revoked_elsewhere_stops_streaming(server: Server, tag: str) -> None:
    """``hubbub user revoke`` runs in another process: only the rows change."""
    configure(server, tag, public=False)
    client, _ = sign_in(server)
    with closing(client):
        headers = _cookie_header(client)
        store = server.app.state.store  # type: ignore[attr-defined]
        user = client.get(f"/api/rooms/{tag}/state").json()["me"]["name"]
        from hubbub.web.accounts import find_user

        uid = find_user(store, "default", user).id  # type: ignore[union-attr]

        def revoke() -> None:
            assert revoke_sessions(store, "default", uid) >= 1

        code = _socket_ends_after(server, tag, headers, revoke)
        assert code == 1008
        assert client.get(f"/api/rooms/{tag}/state").status_code == 404


def test_an_anonymous_socket_stops_when_its_room_turns_private(server: Server, tag: str) -> None:
    code = _socket_ends_after(server, tag, {}, lambda: configure(server, tag, public=False))
    assert code == 1008


def test_a_signed_in_socket_keeps_a_private_room(server: Server, tag: str) -> None:
    """The re-check ends revoked sessions only: a live one keeps streaming."""
    configure(server, tag, public=False)
    client, _ = sign_in(server)
    with closing(client):
        headers = _cookie_header(client)

        async def run() -> int:
            async with websockets.connect(ws_url(server, tag), additional_headers=headers) as ws:
                got = 0
                # Across several re-checks (asked for at once by a refresh).
                for n in range(4):
                    await asyncio.to_thread(configure, server, tag, public=False)
                    await asyncio.to_thread(server.submit, make_post(tag, f"still here {n}"))
                    while "still here" not in await asyncio.wait_for(ws.recv(), 15):
                        pass
                    got += 1
                return got

        assert in_thread(run) == 4

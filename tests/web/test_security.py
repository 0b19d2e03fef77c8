"""Refusals a user never sees but an attacker tries: POSTs without a session
or CSRF token, cross-origin WebSockets, missing security headers."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re

import pytest
import websockets

from tests.web.conftest import PASSWORD, http_client, make_post

STATE_CHANGES = [
    ("/api/rooms/{tag}/settings", {"allow_guests": True}),
    ("/api/rooms/{tag}/people", {"role": "blocked", "network": "x", "who": "x-author-1"}),
    ("/api/rooms/{tag}/decide", {"network": "x", "id": "1", "approve": True}),
    ("/api/rooms/{tag}/posts", {"text": "hello", "name": "mallory"}),
]


def _csrf(client, path: str = "/") -> str:
    html = client.get(path).text
    m = re.search(r'name="csrf" value="([^"]+)"', html) or re.search(r'data-csrf="([^"]+)"', html)
    assert m, "page carries a CSRF token"
    return m.group(1)


@pytest.mark.parametrize(("path", "body"), STATE_CHANGES)
def test_post_without_session_or_token_is_refused(server, tag, path, body):
    with http_client(server) as client:
        r = client.post(path.format(tag=tag), json=body)
        assert r.status_code in (401, 403)
        # A session cookie but no token: still refused.
        client.get(f"/rooms/{tag}")
        r = client.post(path.format(tag=tag), json=body)
        assert r.status_code == 403
        # A token from someone else's session: refused.
        r = client.post(path.format(tag=tag), json=body, headers={"X-CSRF-Token": "forged"})
        assert r.status_code == 403


@pytest.mark.parametrize(("path", "body"), STATE_CHANGES[:3])
def test_host_actions_need_a_login_even_with_a_token(server, tag, path, body):
    with http_client(server) as client:
        token = _csrf(client, f"/rooms/{tag}")
        r = client.post(path.format(tag=tag), json=body, headers={"X-CSRF-Token": token})
        assert r.status_code == 401


def test_login_form_needs_csrf_and_rejects_foreign_origin(server):
    with http_client(server) as client:
        r = client.post("/login", data={"name": "host", "password": PASSWORD})
        assert r.status_code == 403
        token = _csrf(client, "/login")
        r = client.post(
            "/login",
            data={"name": "host", "password": PASSWORD, "csrf": token},
            headers={"Origin": "https://evil.example"},
        )
        assert r.status_code == 403
        r = client.post(
            "/login", data={"name": "host", "password": "wrong password", "csrf": token}
        )
        assert r.status_code == 401
        r = client.post("/login", data={"name": "host", "password": PASSWORD, "csrf": token})
        assert r.status_code == 303
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie


def test_guest_post_refused_unless_room_allows(server, tag):
    with http_client(server) as client:
        token = _csrf(client, f"/rooms/{tag}")
        r = client.post(
            f"/api/rooms/{tag}/posts",
            json={"text": "hi", "name": "Guest"},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 403


def test_security_headers_on_pages_and_api(server, tag):
    with http_client(server) as client:
        for path in ("/", f"/rooms/{tag}", f"/api/rooms/{tag}/posts", "/login", "/static/room.js"):
            r = client.get(path)
            assert r.status_code == 200, path
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"]


def test_posts_api_contract(server, tag):
    post = make_post(
        tag, "Q1: what brings you here?", network="bluesky", handle="ann.bsky.social", name="Ann"
    )
    server.submit(post)
    with http_client(server) as client:
        data = client.get(f"/api/rooms/{tag}/posts", params={"limit": 5}).json()
    assert data[0]["id"] == post.id
    for key in ("network", "id", "author", "author_name", "text", "created_at"):
        assert key in data[0]
    assert data[0]["author"] == "ann.bsky.social" and data[0]["created_at"].endswith("Z")


def test_cross_origin_websocket_refused_same_origin_accepted(server, tag):
    ws_url = server.url.replace("http://", "ws://") + f"/api/rooms/{tag}/live"

    async def run() -> dict:
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(ws_url, origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        async with websockets.connect(ws_url, origin=server.url) as ws:
            await asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(
                    server.app.state.pipeline.submit(make_post(tag, "live one")), server.loop
                )
            )
            return json.loads(await asyncio.wait_for(ws.recv(), 10))

    # Its own thread: Playwright's sync API may own this thread's event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        message = pool.submit(lambda: asyncio.run(run())).result(timeout=60)
    assert message["text"].startswith("live one")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["received_at"])


def test_guest_rate_limit_follows_the_setting(tmp_path):
    from tests.web.conftest import start_server, stop_server

    srv = start_server(tmp_path, guest_rate=2)
    try:
        srv.app.state.rooms.update("limited", allow_guests=True)
        srv.call(srv.app.state.hubs.refresh("limited"))
        with http_client(srv) as client:
            token = _csrf(client, "/rooms/limited")
            codes = [
                client.post(
                    "/api/rooms/limited/posts",
                    json={"text": f"hello {i}", "name": "Guest"},
                    headers={"X-CSRF-Token": token, "X-Forwarded-For": f"10.0.0.{i}"},
                ).status_code
                for i in range(3)
            ]
        # A spoofed X-Forwarded-For does not reset the limit.
        assert codes == [201, 201, 429]
    finally:
        stop_server(srv)

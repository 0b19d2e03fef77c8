"""Rooms as an attacker hits them (issue 7, cases 1-4, and viewers and
anonymous reads): over HTTP and WebSocket against a real server.

1. Asking for a room does not create it: unknown tags are 404 and leave no
   live state; limits on live rooms and readers answer 503 for the newcomer
   and leave live rooms alone; idle rooms are evicted, fed rooms stay.
2. Tags the query language cannot search are refused at the edge (404),
   never a 500, the WebSocket handshake included.
3. A guest's post lands only where every room it names takes guests; a held
   post is public nowhere until a host approves it.
4. A blocked guest stays blocked with a fresh cookie (address, name), and
   hosts close guest posting everywhere at once.
Also: stored posts are not readable anonymously through a tag nobody opened
or a private room. Viewers posting as guests: tests/web/test_viewer_and_guest_posts.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime

import httpx
import orjson
import pytest
import websockets

from hubbub.post import Author, Post
from hubbub.web.accounts import create_user
from tests.web.conftest import (
    PASSWORD,
    Server,
    http_client,
    make_post,
    open_room,
    start_server,
    stop_server,
)

_users = iter(range(1, 10_000))


# -- helpers -------------------------------------------------------------------


def csrf_of(html: str) -> str:
    m = re.search(r'<meta name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf" value="([^"]+)"', html
    )
    assert m, "the page carries a CSRF token"
    return m.group(1)


def visitor(server: Server) -> tuple[httpx.Client, str]:
    """A fresh anonymous browser: a new cookie and its CSRF token."""
    client = http_client(server)
    return client, csrf_of(client.get("/login").text)


def sign_in(server: Server, name: str = "host") -> tuple[httpx.Client, str]:
    client, token = visitor(server)
    r = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": token, "next": "/"})
    assert r.status_code == 303, r.text
    return client, csrf_of(client.get("/").text)


def new_user(server: Server, role: str) -> str:
    name = f"{role}{next(_users)}"
    create_user(server.app.state.store, "default", name, PASSWORD, role=role)  # type: ignore[attr-defined]
    return name


def configure(server: Server, tag: str, **settings: bool) -> None:
    server.app.state.rooms.update(tag, **settings)  # type: ignore[attr-defined]
    server.call(server.app.state.hubs.refresh(tag))  # type: ignore[attr-defined]


def texts(client: httpx.Client, tag: str) -> list[str]:
    r = client.get(f"/api/rooms/{tag}/posts", params={"limit": 100})
    assert r.status_code == 200, (tag, r.status_code, r.text)
    return [p["text"] for p in r.json()]


def wait_until(check, what: str, timeout: float = 15.0):  # noqa: ANN001, ANN201
    """Poll ``check`` until it returns something true (the server is asynchronous)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


def guest_post(client: httpx.Client, token: str, tag: str, text: str, name: str = "Gus"):
    return client.post(
        f"/api/rooms/{tag}/posts",
        json={"text": text, "name": name},
        headers={"X-CSRF-Token": token},
    )


def in_thread(coro_fn, timeout: float = 60):  # noqa: ANN001, ANN201
    """Run an async client in its own thread (Playwright may own this one's loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn())).result(timeout=timeout)


def ws_url(server: Server, tag: str) -> str:
    return server.url.replace("http://", "ws://") + f"/api/rooms/{tag}/live"


def ws_status(server: Server, tag: str, cookies: httpx.Cookies | None = None) -> int:
    """101 when the handshake succeeds, else the HTTP status it was refused with."""
    headers = {}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())

    async def run() -> int:
        try:
            async with websockets.connect(ws_url(server, tag), additional_headers=headers):
                return 101
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code

    return in_thread(run)


def submit_from_thread(server: Server, post: Post):  # noqa: ANN201
    return asyncio.wrap_future(
        asyncio.run_coroutine_threadsafe(server.app.state.pipeline.submit(post), server.loop)  # type: ignore[attr-defined]
    )


def multi_tag_post(tags: tuple[str, ...], text: str) -> Post:
    n = next(_users)
    return Post(
        network="x",
        id=str(9 * 10**15 + n),
        author=Author(network="x", id=f"x-multi-{n}", handle=f"multi{n}", display_name="Multi"),
        text=text + " " + " ".join("#" + t for t in tags),
        created_at=datetime.now(UTC),
        hashtags=tags,
    )


@pytest.fixture
def host(server: Server) -> Iterator[tuple[httpx.Client, str]]:
    client, token = sign_in(server)
    yield client, token
    client.close()


# -- case 1: rooms are not created by URLs; limits; eviction --------------------


@pytest.mark.slow  # 1,005 requests
def test_unknown_rooms_create_nothing_and_never_block_a_known_room(tmp_path) -> None:
    srv = start_server(tmp_path, rooms=("fed",), max_live_rooms=3)
    hubs = srv.app.state.hubs  # type: ignore[attr-defined]
    try:
        live, known = hubs.live_tags(), set(hubs.rooms)
        assert live == {"fed"}
        with http_client(srv) as client:
            codes = {client.get(f"/api/rooms/r{i}x/state").status_code for i in range(1005)}
            assert codes == {404}
            assert hubs.live_tags() == live and set(hubs.rooms) == known  # no state was made
            # The same address still reads the configured room.
            assert client.get("/api/rooms/fed/state").status_code == 200
            srv.submit(make_post("fed", "still readable"))
            assert any(t.startswith("still readable") for t in texts(client, "fed"))
            assert client.get("/rooms/nosuchroom").status_code == 404
            assert client.get("/api/rooms/nosuchroom/posts").status_code == 404
        assert ws_status(srv, "nosuchroom") == 404
        assert ws_status(srv, "fed") == 101
        assert hubs.live_tags() == live
    finally:
        stop_server(srv)


def test_limits_answer_503_for_the_newcomer_only(tmp_path) -> None:
    srv = start_server(tmp_path, max_live_rooms=2, max_readers=2, room_idle_seconds=3600)
    try:
        for t in ("ra", "rb", "rc"):
            open_room(srv, t)
        with http_client(srv) as client:
            assert client.get("/api/rooms/ra/state").status_code == 200
            assert client.get("/api/rooms/rb/state").status_code == 200
            full = client.get("/api/rooms/rc/state")
            assert full.status_code == 503 and "limit 2" in full.json()["detail"]
            assert int(full.headers["retry-after"]) > 0
            assert client.get("/api/rooms/ra/posts").status_code == 200  # untouched
        assert ws_status(srv, "rc") == 503

        async def readers() -> tuple[int, list[str]]:
            async with (
                websockets.connect(ws_url(srv, "ra")) as one,
                websockets.connect(ws_url(srv, "ra")) as two,
            ):
                try:
                    async with websockets.connect(ws_url(srv, "rb")):
                        third = 101
                except websockets.exceptions.InvalidStatus as exc:
                    third = exc.response.status_code
                await submit_from_thread(srv, make_post("ra", "after the refusal"))
                got = [
                    json.loads(await asyncio.wait_for(ws.recv(), 10))["text"] for ws in (one, two)
                ]
                return third, got

        third, got = in_thread(readers)
        assert third == 503
        assert all(t.startswith("after the refusal") for t in got)  # readers undisturbed
    finally:
        stop_server(srv)


def test_idle_rooms_are_evicted_fed_rooms_stay(tmp_path) -> None:
    srv = start_server(tmp_path, rooms=("fed",), max_live_rooms=1, room_idle_seconds=0.5)
    hubs = srv.app.state.hubs  # type: ignore[attr-defined]
    try:
        open_room(srv, "ra")
        open_room(srv, "rb")
        with http_client(srv) as client:
            assert client.get("/api/rooms/ra/state").status_code == 200
            assert "ra" in hubs.live_tags()
            deadline = time.monotonic() + 10
            while "ra" in hubs.live_tags():
                assert time.monotonic() < deadline, "an unread room stays live"
                time.sleep(0.1)
            assert "fed" in hubs.live_tags()  # fed rooms stay live
            assert client.get("/api/rooms/rb/state").status_code == 200  # its slot is free
            assert client.get("/api/rooms/ra/state").status_code in (200, 503)
    finally:
        stop_server(srv)


def test_a_replay_file_names_its_rooms(tmp_path) -> None:
    from hubbub.sources.sim import SimSource

    capture = tmp_path / "capture.jsonl"
    with capture.open("wb") as fh:
        for item in SimSource("ReplayRoom", limit=20).items():
            fh.write(orjson.dumps(item.value) + b"\n")
    srv = start_server(tmp_path, sources=(f"replay:{capture}?speed=1000",))
    hubs = srv.app.state.hubs  # type: ignore[attr-defined]
    try:
        wait_until(lambda: "replayroom" in hubs.rooms, "the replay's hashtag as a room")
        with http_client(srv) as client:
            assert client.get("/api/rooms/replayroom/state").status_code == 200  # public
            wait_until(lambda: texts(client, "replayroom"), "replayed posts")
            assert client.get("/api/rooms/notinthefile/state").status_code == 404
        assert "replayroom" in hubs.live_tags()  # fed: stays live
    finally:
        stop_server(srv)


# -- case 2: one validation of a tag ---------------------------------------------

BAD_TAGS = [
    "-",
    "(",
    ")",
    "*",
    ":",
    "a)",
    "%E2%80%8B",  # zero-width space
    "%C2%AF",  # macron: folds to a space
    "%CC%81",  # a lone combining mark: folds to nothing
    "_",
    "a-b",
    "%F0%9F%98%80",
    "x" * 101,
    "%00",
]


@pytest.mark.parametrize("raw", BAD_TAGS)
def test_unsearchable_tags_are_404_never_500(server: Server, raw: str) -> None:
    anon, anon_token = visitor(server)
    host, host_token = sign_in(server)
    with closing(anon), closing(host):
        for client, token in ((anon, anon_token), (host, host_token)):
            for path in (
                f"/api/rooms/{raw}/posts",
                f"/api/rooms/{raw}/state",
                f"/api/rooms/{raw}/pending",
                f"/rooms/{raw}",
                f"/rooms/{raw}/projector",
                f"/rooms?tag={raw}",
            ):
                r = client.get(path)
                assert r.status_code in (401, 404, 422), (path, r.status_code)
            for path, body in (
                (f"/api/rooms/{raw}/posts", {"text": "hi", "name": "Gus"}),
                (f"/api/rooms/{raw}/open", {}),
                (f"/api/rooms/{raw}/settings", {"allow_guests": True}),
                (f"/api/rooms/{raw}/people", {"role": "host", "network": "x", "who": "a"}),
                (f"/api/rooms/{raw}/decide", {"network": "x", "id": "1", "approve": True}),
            ):
                r = client.post(path, json=body, headers={"X-CSRF-Token": token})
                assert r.status_code in (401, 403, 404, 422), (path, r.status_code)
            r = client.post(f"/rooms/{raw}/open", data={"csrf": token, "public": "1"})
            assert r.status_code in (401, 403, 404, 422), r.status_code
        assert ws_status(server, raw) == 404
        assert ws_status(server, raw, host.cookies) == 404
    assert not any(t.startswith(("x" * 101, "a-b")) for t in server.app.state.hubs.rooms)  # type: ignore[attr-defined]


def test_refused_handshakes_under_serve_log_no_error(tmp_path) -> None:
    """``hubbub serve``'s WebSocket protocol: a 404 handshake is an answer,
    not an error to log (anyone could flood the log with them)."""
    import logging
    import threading

    import uvicorn

    from hubbub.cli.serve import uvicorn_config
    from hubbub.settings import Settings
    from hubbub.web import create_app
    from tests.web.conftest import free_port

    port = free_port()
    app = create_app(Settings(db=str(tmp_path / "h.db"), port=port, rooms=("fed",)))
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign]
    thread.start()
    try:
        wait_until(lambda: server.started, "the server")
        logging.getLogger("uvicorn.error").addHandler(handler)
        fake = Server(f"http://127.0.0.1:{port}", app, thread, server, tmp_path)
        assert ws_status(fake, "nosuchroom") == 404
        assert ws_status(fake, "a)") == 404
        assert ws_status(fake, "fed") == 101
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
        server.should_exit = True
        thread.join(timeout=30)
    assert [r.getMessage() for r in records] == []


def test_a_tag_has_one_folded_form(server: Server, host) -> None:
    client, token = host
    r = client.post("/api/rooms/%C5%81%C3%B3d%C5%BA/open", json={}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200 and r.json()["tag"] == "lodz"
    for spelling in ("lodz", "LODZ", "%C5%81%C3%93D%C5%B9", "%23lodz"):
        assert client.get(f"/api/rooms/{spelling}/state").json()["tag"] == "lodz"
    server.submit(make_post("Łódź", "accented spelling"))
    with http_client(server) as anon:
        assert any("accented spelling" in t for t in texts(anon, "lodz"))


# -- case 3: a post lands only where its author may post --------------------------


def test_guest_cannot_reach_a_closed_room_through_an_open_one(server: Server, tag: str) -> None:
    closed = tag + "closed"
    open_room(server, closed)  # public, guests not allowed
    configure(server, tag, allow_guests=True)
    guest, token = visitor(server)
    with closing(guest):
        r = guest_post(guest, token, tag, f"sneaking into #{closed}")
        assert r.status_code == 403 and closed in r.json()["detail"]
        r = guest_post(guest, token, tag, "and into #neveropened")
        assert r.status_code == 403  # a tag nobody opened takes no guest posts either
        r = guest_post(guest, token, closed, "straight in")
        assert r.status_code == 403
        assert guest_post(guest, token, tag, "a fair post").status_code == 201
        wait_until(lambda: any("a fair post" in t for t in texts(guest, tag)), "the fair post")
        assert not any("sneaking" in t for t in texts(guest, closed))
        assert not any("sneaking" in t for t in texts(guest, tag))


def test_a_held_post_is_public_nowhere_until_approved(server: Server, tag: str, host) -> None:
    queued = tag + "q"
    open_room(server, queued)
    configure(server, tag, allow_guests=True)
    configure(server, queued, allow_guests=True, approval=True)
    host_client, host_token = host

    async def watch() -> list[str]:
        async with websockets.connect(ws_url(server, tag)) as ws:
            guest, token = visitor(server)
            with closing(guest):
                r = await asyncio.to_thread(guest_post, guest, token, tag, f"wait for it #{queued}")
            assert r.status_code == 201 and r.json()["held"] is True
            held_id = r.json()["id"]
            await submit_from_thread(server, make_post(tag, "marker after the held post"))
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))["text"]
            with http_client(server) as anon:
                for room in (tag, queued):
                    shown = await asyncio.to_thread(texts, anon, room)
                    assert not any("wait for it" in t for t in shown), room
            pending = await asyncio.to_thread(host_client.get, f"/api/rooms/{queued}/pending")
            assert held_id in [p["id"] for p in pending.json()]
            r = await asyncio.to_thread(
                host_client.post,
                f"/api/rooms/{queued}/decide",
                json={"network": "web", "id": held_id, "approve": True},
                headers={"X-CSRF-Token": host_token},
            )
            assert r.json()["published"] is True
            second = json.loads(await asyncio.wait_for(ws.recv(), 10))["text"]
            return [first, second]

    first, second = in_thread(watch)
    assert first.startswith("marker") and second.startswith("wait for it")
    with http_client(server) as anon:
        for room in (tag, queued):
            assert any("wait for it" in t for t in texts(anon, room)), room


def test_a_network_post_naming_a_queued_room_waits_everywhere(
    server: Server, tag: str, host
) -> None:
    queued = tag + "q"
    open_room(server, queued)
    configure(server, queued, approval=True)
    post = multi_tag_post((tag, queued), "from the network")
    server.submit(post)
    client, token = host
    wait_until(
        lambda: post.id in [p["id"] for p in client.get(f"/api/rooms/{queued}/pending").json()],
        "the post in the queue",
    )
    with http_client(server) as anon:
        assert not any("from the network" in t for t in texts(anon, tag))
    r = client.post(
        f"/api/rooms/{queued}/decide",
        json={"network": "x", "id": post.id, "approve": True},
        headers={"X-CSRF-Token": token},
    )
    assert r.json()["published"] is True
    with http_client(server) as anon:
        assert any("from the network" in t for t in texts(anon, tag))


# -- case 4: blocks hold against a fresh cookie; closing guest posting --------------


def test_a_blocked_guest_stays_blocked_with_a_fresh_cookie(server: Server, tag: str, host) -> None:
    configure(server, tag, allow_guests=True)
    troll, token = visitor(server)
    with closing(troll):
        r = guest_post(troll, token, tag, "first troll post", name="Mallory")
        assert r.status_code == 201
        author_id = r.json()["author_id"]
    client, host_token = host
    r = client.post(
        f"/api/rooms/{tag}/people",
        json={"role": "blocked", "network": "web", "who": author_id, "label": "@Mallory"},
        headers={"X-CSRF-Token": host_token},
    )
    assert r.status_code == 200
    for name in ("Mallory", "Someone Nice"):
        fresh, fresh_token = visitor(server)  # a new cookie, the same address
        with closing(fresh):
            r = guest_post(fresh, fresh_token, tag, "back again", name=name)
            assert r.status_code == 403, name
    with http_client(server) as anon:
        assert not any("troll post" in t for t in texts(anon, tag))


def test_a_blocked_guests_name_follows_them_to_another_address(
    server: Server, tag: str, host
) -> None:
    configure(server, tag, allow_guests=True)
    repo = server.app.state.rooms  # type: ignore[attr-defined]
    # The guest posted from another address (a phone, say) as "Mallory"...
    repo.note_guest("web:guest:elsewhere", "203.0.113.9", "Mallory")
    client, host_token = host
    r = client.post(
        f"/api/rooms/{tag}/people",
        json={"role": "blocked", "network": "web", "who": "web:guest:elsewhere"},
        headers={"X-CSRF-Token": host_token},
    )
    assert r.status_code == 200
    # ... and comes back from this address with a new cookie, under the same name.
    fresh, token = visitor(server)
    with closing(fresh):
        assert guest_post(fresh, token, tag, "hello again", name="  MALLORY ").status_code == 403
        assert guest_post(fresh, token, tag, "hello", name="Mallory Not").status_code == 201


def test_hosts_close_guest_posting_everywhere_at_once(server: Server, tag: str, host) -> None:
    other = tag + "b"
    open_room(server, other)
    configure(server, tag, allow_guests=True)
    configure(server, other, allow_guests=True)
    guest, token = visitor(server)
    client, host_token = host
    with closing(guest):
        assert guest_post(guest, token, tag, "open for now").status_code == 201
        r = client.post("/api/guests/close", json={}, headers={"X-CSRF-Token": host_token})
        assert r.status_code == 200 and {tag, other} <= set(r.json()["closed"])
        for room in (tag, other):
            assert guest_post(guest, token, room, "too late").status_code == 403
            assert guest.get(f"/api/rooms/{room}/state").json()["allow_guests"] is False
    with http_client(server) as anon:
        r = anon.post("/api/guests/close", json={}, headers={"X-CSRF-Token": token})
    assert r.status_code in (401, 403)


# -- also: private rooms, stored posts behind tags nobody opened -------------------


def test_stored_posts_are_not_public_through_tags_nobody_opened(
    server: Server, tag: str, host
) -> None:
    archive = tag + "archive"
    server.submit(make_post(archive, "an imported archive post"))
    anon = http_client(server)
    with anon:
        for path in (
            f"/api/rooms/{archive}/posts",
            f"/api/rooms/{archive}/state",
            f"/rooms/{archive}",
        ):
            assert anon.get(path).status_code == 404, path
        assert ws_status(server, archive) == 404
        client, host_token = host
        page = client.get(f"/rooms/{archive}")
        assert (
            page.status_code == 404 and f"/rooms/{archive}/open" in page.text
        )  # a host may open it
        assert client.get(f"/api/rooms/{archive}/posts").status_code == 404
        r = client.post(
            f"/api/rooms/{archive}/open",
            json={"public": False},
            headers={"X-CSRF-Token": host_token},
        )
        assert r.status_code == 200 and r.json()["public"] is False
        # Private: signed-in users read it, anonymous visitors still get 404.
        assert any("archive post" in t for t in texts(client, archive))
        assert anon.get(f"/api/rooms/{archive}/posts").status_code == 404
        assert ws_status(server, archive) == 404
        assert ws_status(server, archive, client.cookies) == 101
        assert archive not in anon.get("/").text
        viewer, _ = sign_in(server, new_user(server, "viewer"))
        with closing(viewer):
            assert any("archive post" in t for t in texts(viewer, archive))
        r = client.post(
            f"/api/rooms/{archive}/settings",
            json={"public": True},
            headers={"X-CSRF-Token": host_token},
        )
        assert r.json()["public"] is True
        assert any("archive post" in t for t in texts(anon, archive))


def test_a_host_opens_a_room_with_the_form(server: Server, tag: str, host) -> None:
    fresh = tag + "new"
    client, token = host
    r = client.post(f"/rooms/{fresh}/open", data={"csrf": token, "public": "1"})
    assert r.status_code == 303 and r.headers["location"] == f"/rooms/{fresh}"
    with http_client(server) as anon:
        assert anon.get(f"/rooms/{fresh}").status_code == 200
        assert anon.post(f"/rooms/{tag}x/open", data={"csrf": "forged"}).status_code == 403

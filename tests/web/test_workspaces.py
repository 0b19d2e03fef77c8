"""Two workspaces on one server (issue 10), on SQLite and PostgreSQL.

Workspaces ``default`` and ``acme`` each have an owner, an agent and a
viewer; the agents of both are called ``sam`` (names are unique within a
workspace only). Both workspaces open a room with the same tag. Checked over
real HTTP against a real server: sign-in to each, the rooms kept apart
(settings, posts, the live socket), another workspace's objects answering
404 (never 403), viewers refused 403 on every change (posting where guests
may aside), an unknown workspace answering 404 and creating nothing,
/openapi.json for anyone, English by default, "Sign out" on signed-in
pages, and the audit log of sign-ins.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from hubbub.settings import Settings
from hubbub.store import open_store
from hubbub.store.audit import AuditLog
from hubbub.store.scope import existing_scope
from hubbub.web.accounts import create_user
from tests.conftest import PG_ADMIN_URL
from tests.web.conftest import PASSWORD, Server, free_port, stop_server

TAG = "launch"
USERS = {
    "default": {"olga": "owner", "sam": "agent", "vic": "viewer"},
    "acme": {"ann": "owner", "sam": "agent", "val": "viewer"},
}


def _start(db: str) -> Server:
    import uvicorn

    from hubbub.web import create_app

    with open_store(db) as store:
        for workspace, people in USERS.items():
            for name, role in people.items():
                create_user(store, workspace, name, PASSWORD, role=role)
    port = free_port()
    settings = Settings(
        db=db,
        host="127.0.0.1",
        port=port,
        guest_posts_per_minute=100_000,
        secret_key=uuid.uuid4().hex,  # PostgreSQL has no file to keep one beside
    )
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="hubbub-ws-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    return Server(f"http://127.0.0.1:{port}", app, thread, server, Path(db))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def two(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server, two workspaces, on each backend."""
    if request.param == "sqlite":
        srv = _start(str(tmp_path_factory.mktemp("ws") / "hubbub.db"))
        yield srv
        stop_server(srv)
        return
    admin = request.getfixturevalue("_pg_admin")
    name = f"hubbub_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        srv = _start(
            make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        )
        yield srv
        stop_server(srv)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=15)


def _csrf(client: httpx.Client, path: str = "/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def sign_in(server: Server, name: str, workspace: str | None) -> tuple[httpx.Client, str]:
    client = _client(server)
    form = {"name": name, "password": PASSWORD, "csrf": _csrf(client), "next": "/"}
    if workspace is not None:
        form["workspace"] = workspace
    r = client.post("/login", data=form)
    assert r.status_code == 303, (name, workspace, r.status_code, r.text[:200])
    return client, _csrf(client, "/account")


def _open(client: httpx.Client, token: str, tag: str = TAG, public: bool = True) -> None:
    r = client.post(
        f"/api/rooms/{tag}/open", json={"public": public}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 200, r.text


def _wait_for(predicate, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 15
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def people(two: Server) -> Iterator[dict[tuple[str, str], tuple[httpx.Client, str]]]:
    """Every user signed in (and both rooms opened by the agents)."""
    signed = {(ws, name): sign_in(two, name, ws) for ws, names in USERS.items() for name in names}
    for ws in USERS:
        client, token = signed[(ws, "sam")]
        _open(client, token)
    yield signed
    for client, _token in signed.values():
        client.close()


def test_the_same_name_signs_in_to_each_workspace(two: Server, people) -> None:  # noqa: ANN001
    for ws in USERS:
        client, _ = people[(ws, "sam")]
        me = client.get("/account")
        assert me.status_code == 200
        assert "Sign out" in me.text
        sessions = client.get("/api/account/sessions").json()
        assert len(sessions) == 1 and sessions[0]["current"]


def test_a_name_in_one_workspace_needs_no_workspace_field(two: Server) -> None:
    # ann exists only in acme; sam exists in both, so without the field sam
    # is the default workspace's sam.
    client, _ = sign_in(two, "ann", None)
    with closing(client):
        r = client.get("/api/listen/queries")
        assert r.status_code == 200
        state = client.get(f"/api/rooms/{TAG}/state").json()
        assert state["me"]["name"] == "ann"


def test_wrong_workspace_or_unknown_workspace_is_a_wrong_password(two: Server) -> None:
    with closing(_client(two)) as client:
        form = {"name": "ann", "password": PASSWORD, "csrf": _csrf(client), "workspace": "default"}
        assert client.post("/login", data=form).status_code == 401
        form["workspace"] = "no-such-ws"
        assert client.post("/login", data=form).status_code == 401
    with open_store(_db(two)) as store:
        assert store.find_workspace("no-such-ws") is None


def test_rooms_with_the_same_tag_are_separate(two: Server, people) -> None:  # noqa: ANN001
    a_client, a_token = people[("default", "sam")]
    b_client, b_token = people[("acme", "sam")]
    r = b_client.post(
        f"/api/rooms/{TAG}/settings", json={"allow_guests": True}, headers={"X-CSRF-Token": b_token}
    )
    assert r.status_code == 200 and r.json()["allow_guests"] is True
    assert a_client.get(f"/api/rooms/{TAG}/state").json()["allow_guests"] is False
    mark = uuid.uuid4().hex[:8]
    r = b_client.post(
        f"/api/rooms/{TAG}/posts",
        json={"text": f"acme only {mark}"},
        headers={"X-CSRF-Token": b_token},
    )
    assert r.status_code == 201, r.text

    def texts(client: httpx.Client, path: str) -> list[str]:
        return [p["text"] for p in client.get(path).json()]

    _wait_for(
        lambda: any(mark in t for t in texts(b_client, f"/api/rooms/{TAG}/posts")), "acme post"
    )
    assert not any(mark in t for t in texts(a_client, f"/api/rooms/{TAG}/posts"))
    # Anonymous readers: the default's room at /rooms, acme's at /w/acme/rooms.
    with closing(_client(two)) as anon:
        assert any(mark in t for t in texts(anon, f"/w/acme/api/rooms/{TAG}/posts"))
        assert not any(mark in t for t in texts(anon, f"/api/rooms/{TAG}/posts"))
        page = anon.get(f"/w/acme/rooms/{TAG}")
        assert page.status_code == 200 and 'data-base="/w/acme"' in page.text


def test_live_posts_reach_only_their_workspace(two: Server, people) -> None:  # noqa: ANN001
    from websockets.sync.client import connect

    b_client, b_token = people[("acme", "sam")]
    ws_url = two.url.replace("http://", "ws://")
    mark = uuid.uuid4().hex[:8]
    with (
        connect(f"{ws_url}/api/rooms/{TAG}/live") as default_ws,
        connect(f"{ws_url}/w/acme/api/rooms/{TAG}/live") as acme_ws,
    ):
        r = b_client.post(
            f"/api/rooms/{TAG}/posts",
            json={"text": f"live {mark}"},
            headers={"X-CSRF-Token": b_token},
        )
        assert r.status_code == 201
        assert mark in acme_ws.recv(timeout=15)
        # A post of the default workspace after it: the default's socket
        # gets that one first, never acme's.
        a_client, a_token = people[("default", "sam")]
        r = a_client.post(
            f"/api/rooms/{TAG}/posts",
            json={"text": f"default {mark}"},
            headers={"X-CSRF-Token": a_token},
        )
        assert r.status_code == 201
        first = default_ws.recv(timeout=15)
        assert f"default {mark}" in first and f"live {mark}" not in first


def test_another_workspaces_objects_answer_404(two: Server, people) -> None:  # noqa: ANN001
    a_client, a_token = people[("default", "olga")]
    b_client, b_token = people[("acme", "ann")]
    # acme's private room: not in the default workspace at all.
    _open(b_client, b_token, "acmesecret", public=False)
    assert b_client.get("/api/rooms/acmesecret/state").status_code == 200
    assert a_client.get("/api/rooms/acmesecret/state").status_code == 404
    headers = {"X-CSRF-Token": a_token}
    assert (
        a_client.post(
            "/api/rooms/acmesecret/settings", json={"public": True}, headers=headers
        ).status_code
        == 404
    )
    # Naming acme in the URL while signed in to default: 404, reading or writing.
    assert a_client.get(f"/w/acme/api/rooms/{TAG}/state").status_code == 404
    assert a_client.get(f"/w/acme/rooms/{TAG}").status_code == 404
    r = a_client.post(f"/w/acme/api/rooms/{TAG}/settings", json={"public": False}, headers=headers)
    assert r.status_code == 404
    assert b_client.get(f"/api/rooms/{TAG}/state").json()["public"] is True
    # A saved query of acme is not the default's to delete.
    r = b_client.post(
        "/api/listen/queries",
        json={"name": "acmeq", "query": "acme"},
        headers={"X-CSRF-Token": b_token},
    )
    assert r.status_code == 201, r.text
    assert a_client.delete("/api/listen/queries/acmeq", headers=headers).status_code == 404
    assert "acmeq" not in [q["name"] for q in a_client.get("/api/listen/queries").json()]
    assert "acmeq" in [q["name"] for q in b_client.get("/api/listen/queries").json()]


def test_unknown_workspace_is_404_and_creates_nothing(two: Server) -> None:
    with closing(_client(two)) as anon:
        assert anon.get(f"/w/nowhere/rooms/{TAG}").status_code == 404
        assert anon.get(f"/w/nowhere/api/rooms/{TAG}/posts").status_code == 404
        assert anon.get("/w/%00/api/rooms/x/posts").status_code == 404
    with open_store(_db(two)) as store:
        assert store.find_workspace("nowhere") is None


@pytest.mark.parametrize("ws,viewer", [("default", "vic"), ("acme", "val")])
def test_viewers_read_but_every_change_is_403(two: Server, people, ws: str, viewer: str) -> None:  # noqa: ANN001
    client, token = people[(ws, viewer)]
    headers = {"X-CSRF-Token": token}
    assert client.get(f"/api/rooms/{TAG}/posts").status_code == 200
    assert client.get("/api/listen/queries").status_code == 200
    changes = [
        ("post", f"/api/rooms/{TAG}/open", {"public": True}),
        ("post", f"/api/rooms/{TAG}/settings", {"approval": True}),
        ("post", f"/api/rooms/{TAG}/people", {"role": "host", "network": "x", "who": "me"}),
        ("post", f"/api/rooms/{TAG}/decide", {"network": "web", "id": "x", "approve": True}),
        ("post", f"/api/rooms/{TAG}/pin", {"network": "web", "id": "x"}),
        ("post", f"/api/rooms/{TAG}/remove", {"network": "web", "id": "x"}),
        ("post", "/api/guests/close", {}),
        ("post", "/api/listen/queries", {"name": "v", "query": "v"}),
        ("delete", "/api/listen/queries/acmeq", None),
    ]
    # Posting into a room is not here: a viewer posts where a guest may
    # (tests/web/test_viewer_and_guest_posts.py), and one of these rooms takes guests.
    for method, path, body in changes:
        r = client.request(method, path, json=body, headers=headers)
        assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
    # Their own account stays theirs: the session list, signing out.
    assert client.get("/api/account/sessions").status_code == 200


def test_openapi_is_public_and_describes_workspace_routes(two: Server) -> None:
    with closing(_client(two)) as anon:
        r = anon.get("/openapi.json")
        assert r.status_code == 200
        paths = r.json()["paths"]
        assert "/api/rooms/{tag}/posts" in paths
        assert "/w/{workspace}/api/rooms/{tag}/posts" in paths
        assert "/login" in paths
        assert PASSWORD not in r.text


def test_pages_are_english_without_a_language(two: Server, people) -> None:  # noqa: ANN001
    with closing(_client(two)) as anon:
        page = anon.get("/login")
        assert '<html lang="en">' in page.text and "Sign in" in page.text
        assert "Sign out" not in page.text
    for (_ws, _name), (client, _token) in people.items():
        for path in ("/", "/account", "/listen", f"/rooms/{TAG}"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.status_code)
            assert "Sign out" in page.text and 'action="/logout"' in page.text, path
            assert 'name="csrf"' in page.text


def test_sign_ins_go_to_their_workspaces_audit_log(two: Server, people) -> None:  # noqa: ANN001
    with closing(_client(two)) as client:
        form = {
            "name": "ann",
            "password": "wrong password!",
            "csrf": _csrf(client),
            "workspace": "acme",
        }
        assert client.post("/login", data=form).status_code == 401
    with open_store(_db(two)) as store:
        acme = [e.action for e in AuditLog(existing_scope(store, "acme")).page(limit=100)]
        default = [e.action for e in AuditLog(existing_scope(store, "default")).page(limit=100)]
        assert "signin" in acme and "signin_failed" in acme
        assert acme.count("signin") == len(USERS["acme"]) + 1  # + ann without the field
        assert default.count("signin") == len(USERS["default"])


def _db(server: Server) -> str:
    return server.app.state.settings.db  # type: ignore[attr-defined, no-any-return]

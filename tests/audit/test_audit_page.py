"""The owners' audit page (``/audit``) and API (``/api/audit``) on a real
server: only owners read it, hostile text stays text, filters and paging
work, and each owner sees only their own workspace's log."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from hubbub.store.audit import AuditLog
from hubbub.store.scope import scope
from hubbub.web.accounts import create_user
from tests.web.conftest import PASSWORD, Server, http_client, start_server, stop_server
from tests.web.test_sessions import csrf_of

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("audit"))
    store = srv.app.state.store  # type: ignore[attr-defined]
    create_user(store, "default", "agent1", PASSWORD, role="agent")
    create_user(store, "default", "viewer1", PASSWORD, role="viewer")
    create_user(store, "other", "boss", PASSWORD, role="owner")
    log = AuditLog(scope(store, "default"))
    start = datetime(2026, 10, 1, tzinfo=UTC)
    for i in range(60):
        log.record("host", "export", target=f"file{i}.csv", at=start + timedelta(hours=i))
    log.record(
        HOSTILE,
        "role_changed",
        target=HOSTILE,
        detail={"from": HOSTILE, "to": "owner"},
        address=HOSTILE,
        at=start + timedelta(days=20),
    )
    AuditLog(scope(store, "other")).record("boss", "export", target="secret-of-other.csv")
    yield srv
    stop_server(srv)


@contextmanager
def sign_in(server: Server, name: str, workspace: str | None = None) -> Iterator[httpx.Client]:
    with http_client(server) as client:
        token = csrf_of(client.get("/login").text)
        form = {"name": name, "password": PASSWORD, "csrf": token, "next": "/"}
        if workspace:
            form["workspace"] = workspace
        r = client.post("/login", data=form)
        assert r.status_code == 303, r.text
        yield client


def test_only_owners_read_the_log(server: Server) -> None:
    with http_client(server) as anonymous:
        r = anonymous.get("/audit")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert anonymous.get("/api/audit").status_code == 401
    for name in ("agent1", "viewer1"):
        with sign_in(server, name) as client:
            assert client.get("/audit").status_code == 403, name
            r = client.get("/api/audit")
            assert r.status_code == 403, name
            assert "file1.csv" not in r.text


def test_page_shows_entries_with_hostile_text_escaped(server: Server) -> None:
    with sign_in(server, "host") as owner:
        r = owner.get("/audit?action=role_changed")
        assert r.status_code == 200
        assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text
        assert html.escape(HOSTILE, quote=False)[:20] in r.text
        assert r.text.count('class="audit-row"') == 1
        assert "role_changed" in r.text and "2026-10-21 00:00:00" in r.text


def test_filters_and_paging(server: Server) -> None:
    with sign_in(server, "host") as owner:
        first = owner.get("/api/audit", params={"action": "export", "limit": 25}).json()
        assert [e["target"] for e in first["events"][:2]] == ["file59.csv", "file58.csv"]
        seen = [e["target"] for e in first["events"]]
        cursor = first["next"]
        while cursor:
            page = owner.get(
                "/api/audit", params={"action": "export", "limit": 25, "before": cursor}
            ).json()
            seen += [e["target"] for e in page["events"]]
            cursor = page["next"]
        assert seen == [f"file{i}.csv" for i in reversed(range(60))]
        since = owner.get("/api/audit", params={"since": "2026-10-03T10:00Z", "action": "export"})
        assert [e["target"] for e in since.json()["events"]][-1] == "file58.csv"
        # The page: 50 rows, then an "Older events" link keeping the filter.
        r = owner.get("/audit", params={"action": "export"})
        assert r.text.count('class="audit-row"') == 50
        assert "action=export" in r.text and "before=" in r.text
        # Bad input is a 400 that says what is wrong, on the page and the API.
        bad = owner.get("/audit", params={"since": "yesterday<b>"})
        assert bad.status_code == 400 and "expected a date" in bad.text
        assert "<b>" not in bad.text
        assert owner.get("/api/audit", params={"since": "7y"}).status_code == 400
        assert owner.get("/api/audit", params={"action": "nope"}).status_code == 400
        assert owner.get("/api/audit", params={"before": "-1"}).status_code == 422
        assert owner.get("/api/audit", params={"limit": "100000"}).status_code == 422


def test_each_owner_reads_only_their_workspace(server: Server) -> None:
    with sign_in(server, "host") as owner:
        assert "secret-of-other.csv" not in owner.get("/api/audit?limit=200").text
    with sign_in(server, "boss", workspace="other") as boss:
        events = boss.get("/api/audit").json()["events"]
        targets = [e["target"] for e in events]
        assert "secret-of-other.csv" in targets
        assert not any(t and t.startswith("file") for t in targets)


def test_sign_ins_reach_the_log(server: Server) -> None:
    with http_client(server) as client:
        token = csrf_of(client.get("/login").text)
        r = client.post(
            "/login", data={"name": "host", "password": "wrong password!", "csrf": token}
        )
        assert r.status_code in (400, 401, 403)
    with sign_in(server, "host") as owner:
        kinds = [
            (e["actor"], e["action"])
            for e in owner.get("/api/audit", params={"since": "1h"}).json()["events"]
        ]
        assert ("host", "signin_failed") in kinds
        assert ("host", "signin") in kinds


def test_failed_sign_ins_land_in_the_named_workspace_or_default(server: Server) -> None:
    with http_client(server) as client:
        token = csrf_of(client.get("/login").text)
        for workspace, name in (("nowhere", "ghost"), ("other", "nobody-here")):
            form = {"name": name, "password": "wrong password!", "csrf": token}
            r = client.post("/login", data={**form, "workspace": workspace})
            assert r.status_code in (400, 401, 403), r.text
    with sign_in(server, "host") as owner:
        failed = owner.get("/api/audit", params={"action": "signin_failed"}).json()["events"]
        ghost = [e for e in failed if e["actor"] == "ghost"]
        assert [e["detail"] for e in ghost] == [{"workspace": "nowhere"}]
        assert not any(e["actor"] == "nobody-here" for e in failed)
    with sign_in(server, "boss", workspace="other") as boss:
        failed = boss.get("/api/audit", params={"action": "signin_failed"}).json()["events"]
        assert [e["actor"] for e in failed] == ["nobody-here"]
    assert "nowhere" not in server.app.state.store.workspaces()  # type: ignore[attr-defined]

"""A public room's recap fetched without signing in is audited, but not once
per fetch: anyone could grow the audit log without bound by fetching in a
loop. The first download of each hour per file (room, day, format) and client
address is recorded; a signed-in user's every download still is. And the
route is rate-limited per client address, so a loop gets 429 and builds no
files.

A real server on loopback that trusts 127.0.0.1 as its proxy, so each test
client names its own address in X-Forwarded-For; a real SQLite store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from hubbub.store import open_store
from hubbub.store.audit import AuditEntry, AuditLog
from hubbub.store.scope import existing_scope
from hubbub.web.audit_hooks import ANONYMOUS
from tests.audience import audience_data as data
from tests.web.conftest import Server, open_room, start_server, stop_server
from tests.web.test_room_access import sign_in, visitor

RECAP_DAY = (data.NOW - timedelta(days=3)).date().isoformat()  # the day #brandchat was used
RECAP = f"/api/rooms/{data.ROOM}/recap"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("recap-audit"), trusted_proxies=("127.0.0.1",))
    with open_store(str(srv.db)) as store:
        data.load(store)  # posts and the #brandchat room
    open_room(srv, data.ROOM)  # public
    yield srv
    stop_server(srv)


def _log(server: Server) -> AuditLog:
    return AuditLog(existing_scope(server.app.state.store, "default"))  # type: ignore[attr-defined]


def _exports(server: Server, address: str | None = None) -> list[AuditEntry]:
    """Export events, oldest first (of one client address if named)."""
    found = reversed(_log(server).page(action="export", limit=500))
    return [e for e in found if address is None or e.address == address]


def _fetch(server: Server, address: str, fmt: str, times: int) -> None:
    anon, _token = visitor(server)
    with closing(anon):
        for _ in range(times):
            r = anon.get(
                RECAP,
                params={"format": fmt, "on": RECAP_DAY},
                headers={"X-Forwarded-For": address},
            )
            assert r.status_code == 200, r.text


def test_anonymous_downloads_are_recorded_once_per_hour_file_and_address(server: Server) -> None:
    _fetch(server, "203.0.113.7", "md", 6)
    (first,) = _exports(server, "203.0.113.7")
    assert (first.actor, first.target) == (ANONYMOUS, f"recap-{data.ROOM}-{RECAP_DAY}.md")
    assert first.detail["format"] == "md" and first.detail["day"] == RECAP_DAY

    # Another format of the same day is another file: one more row, once.
    _fetch(server, "203.0.113.7", "json", 3)
    # Another client address: its own row.
    _fetch(server, "198.51.100.20", "md", 3)
    assert [e.target for e in _exports(server, "203.0.113.7")] == [
        f"recap-{data.ROOM}-{RECAP_DAY}.md",
        f"recap-{data.ROOM}-{RECAP_DAY}.json",
    ]
    (other,) = _exports(server, "198.51.100.20")
    assert other.target == first.target and other.actor == ANONYMOUS


def test_an_earlier_hours_download_does_not_hide_this_hours(server: Server) -> None:
    # The same visitor fetched the same file in the previous hour.
    target = f"recap-{data.ROOM}-{RECAP_DAY}.html"
    earlier = datetime.now(UTC) - timedelta(hours=1)
    _log(server).record(
        ANONYMOUS,
        "export",
        target=target,
        detail={"format": "html"},
        address="192.0.2.44",
        at=earlier,
    )
    _fetch(server, "192.0.2.44", "html", 3)
    rows = _exports(server, "192.0.2.44")
    assert [e.target for e in rows] == [target, target]
    assert rows[0].at < rows[1].at and rows[1].at.hour != rows[0].at.hour


def test_signed_in_downloads_are_each_recorded(server: Server) -> None:
    before = len(_exports(server, "192.0.2.77"))
    client, _token = sign_in(server, "host")
    with closing(client):
        for _ in range(3):
            r = client.get(
                RECAP,
                params={"format": "md", "on": RECAP_DAY},
                headers={"X-Forwarded-For": "192.0.2.77"},
            )
            assert r.status_code == 200, r.text
    rows = _exports(server, "192.0.2.77")[before:]
    assert [e.actor for e in rows] == ["host", "host", "host"]


def test_a_download_loop_is_rate_limited_per_address(server: Server) -> None:
    anon, _token = visitor(server)
    with closing(anon):
        statuses = []
        # The bucket holds 20 and refills one every 3 s: however slow this
        # machine, 200 fetches in a row run it dry.
        for _ in range(200):
            r = anon.get(
                RECAP,
                params={"format": "json", "on": RECAP_DAY},
                headers={"X-Forwarded-For": "203.0.113.99"},
            )
            statuses.append(r.status_code)
            if r.status_code == 429:
                break
        assert statuses[-1] == 429, statuses
        assert set(statuses[:-1]) == {200}
        assert int(r.headers["retry-after"]) > 0
        assert "too many recap downloads" in r.json()["detail"]
        # Another address is not held back by this one's loop.
        r = anon.get(
            RECAP,
            params={"format": "json", "on": RECAP_DAY},
            headers={"X-Forwarded-For": "203.0.113.100"},
        )
        assert r.status_code == 200, r.text
    assert len(_exports(server, "203.0.113.99")) == 1

"""Downloads of the workspace's data leave an ``export`` entry in the audit
log, as ``hubbub export`` and ``hubbub report`` do: the listening report,
a room's recap (signed in, and anonymously from a public room), the
audience page's followers.csv, and ``hubbub audience audit`` in every format.
Read back the way an owner would: ``hubbub audit --since 5m``.

A real server on loopback, a real SQLite store, the commands through click.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from datetime import timedelta
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.store import open_store
from tests.audience import audience_data as data
from tests.web.conftest import Server, open_room, start_server, stop_server
from tests.web.test_room_access import sign_in, visitor


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("exports"))
    with open_store(str(srv.db)) as store:  # type: ignore[attr-defined]
        data.load(store)  # posts, the #brandchat room and brand-x's follower snapshot
    open_room(srv, data.ROOM)  # public, as the room a host opened
    yield srv
    stop_server(srv)


def _exports(server: Server) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        main,
        [
            "audit",
            "--since",
            "5m",
            "--action",
            "export",
            "--format",
            "jsonl",
            "--db",
            str(server.db),
        ],  # type: ignore[attr-defined]
    )
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.output.splitlines() if line.strip()]


def _new(server: Server, before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {e["id"] for e in before}
    return [e for e in _exports(server) if e["id"] not in seen]


RECAP_DAY = (data.NOW - timedelta(days=3)).date().isoformat()  # the day #brandchat was used


def test_web_downloads_are_audited_as_exports(server: Server) -> None:
    before = _exports(server)
    client, _token = sign_in(server, "host")
    with closing(client):
        r = client.get("/api/listen/report", params={"q": "text", "format": "csv"})
        assert r.status_code == 200, r.text
        report_file = r.headers["content-disposition"].split('filename="')[1].rstrip('"')
        r = client.get(f"/api/rooms/{data.ROOM}/recap", params={"format": "json", "on": RECAP_DAY})
        assert r.status_code == 200, r.text
        recap_posts = r.json()["posts"]
        r = client.get("/audience/brand-x/followers.csv")
        assert r.status_code == 200, r.text
        followers = len(r.text.strip().splitlines()) - 1
    anon, _token = visitor(server)
    with closing(anon):
        r = anon.get(f"/api/rooms/{data.ROOM}/recap", params={"format": "md", "on": RECAP_DAY})
        assert r.status_code == 200, r.text
        # Refused downloads carry nothing out and record nothing.
        assert anon.get("/audience/brand-x/followers.csv").status_code == 401
        assert anon.get("/api/listen/report", params={"q": "text"}).status_code == 401

    events = _new(server, before)
    assert [(e["actor"], e["action"]) for e in events] == [
        ("host", "export"),
        ("host", "export"),
        ("host", "export"),
        ("anonymous visitor", "export"),
    ]
    report, recap, csv_export, anonymous = events
    assert report["target"] == report_file
    assert report["detail"] == {"command": "report", "format": "csv", "query": "text"}
    assert report["address"] == "127.0.0.1"
    assert recap["detail"] == {
        "command": "recap",
        "format": "json",
        "tag": data.ROOM,
        "day": RECAP_DAY,
        "posts": recap_posts,
    }
    assert recap["target"].endswith(".json")
    assert csv_export["target"] == "audience-brand-x.csv"
    assert csv_export["detail"] == {
        "command": "audience audit",
        "format": "csv",
        "account": "brand-x",
        "followers": followers,
    }
    assert followers == len(data.EXPECTED)
    assert anonymous["detail"]["format"] == "md" and anonymous["target"].endswith(".md")


@pytest.mark.parametrize("fmt", ["csv", "json", "html"])
def test_audience_audit_command_is_audited_as_an_export(server: Server, fmt: str) -> None:
    before = _exports(server)
    result = CliRunner().invoke(
        main,
        ["audience", "audit", "brand-x", "--format", fmt, "--db", str(server.db)],  # type: ignore[attr-defined]
    )
    assert result.exit_code == 0, result.output
    (event,) = _new(server, before)
    assert event["actor"].startswith("cli:")
    assert event["target"] == "stdout"
    assert event["detail"] == {
        "command": "audience audit",
        "format": fmt,
        "account": "brand-x",
        "followers": len(data.EXPECTED),
    }


def test_a_refused_audience_audit_records_nothing(server: Server) -> None:
    before = _exports(server)
    result = CliRunner().invoke(
        main,
        ["audience", "audit", "nobody", "--format", "csv", "--db", str(server.db)],  # type: ignore[attr-defined]
    )
    assert result.exit_code == 1
    assert _new(server, before) == []

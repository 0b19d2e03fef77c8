"""The listening API over a real server: who may read and change saved
queries, CSRF on every change, syntax errors with their position, the
scorecard and report downloads following live posts, and spike alerts
reaching a webhook (a real loopback HTTP server)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from hubbub.web.accounts import create_user
from hubbub.web.routes_listen import webhook_allowed
from tests.web.conftest import PASSWORD, Server, http_client, make_post, start_server, stop_server


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll until ``check()`` is truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def signed_in(
    server: Server, name: str = "host", password: str = PASSWORD
) -> tuple[httpx.Client, str]:
    """An httpx client signed in as ``name`` and its session's CSRF token."""
    client = http_client(server)
    html = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert token
    r = client.post(
        "/login",
        data={"name": name, "password": password, "csrf": token.group(1), "next": "/listen"},
    )
    assert r.status_code == 303, r.text
    page = client.get("/listen")
    assert page.status_code == 200
    csrf = re.search(r'data-csrf="([^"]+)"', page.text)
    assert csrf
    return client, csrf.group(1)


@pytest.fixture
def host(server: Server) -> Iterator[tuple[httpx.Client, str]]:
    client, token = signed_in(server)
    yield client, token
    client.close()


def test_dashboard_and_api_need_a_login(server: Server) -> None:
    with http_client(server) as client:
        r = client.get("/listen")
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=/listen"
        for path in (
            "/api/listen/queries",
            "/api/listen/status",
            "/api/listen/alerts",
            "/api/listen/preview?q=acme",
            "/api/listen/scorecard?q=acme",
            "/api/listen/report?q=acme",
        ):
            assert client.get(path).status_code == 401, path
        # With a session and its token but no login: still refused.
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert token
        r = client.post(
            "/api/listen/queries",
            json={"name": "x", "query": "x"},
            headers={"X-CSRF-Token": token.group(1)},
        )
        assert r.status_code == 401


def test_changes_need_the_csrf_token(server: Server, host: tuple[httpx.Client, str]) -> None:
    client, token = host
    body = {"name": "csrfcheck", "query": "csrfword", "group": "brand"}
    assert client.post("/api/listen/queries", json=body).status_code == 403
    assert (
        client.post(
            "/api/listen/queries", json=body, headers={"X-CSRF-Token": "forged"}
        ).status_code
        == 403
    )
    r = client.post(
        "/api/listen/queries",
        json=body,
        headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert all(q["name"] != "csrfcheck" for q in client.get("/api/listen/queries").json())
    r = client.post("/api/listen/queries", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "csrfcheck"
    # Same name again: a conflict, not a second query.
    assert (
        client.post("/api/listen/queries", json=body, headers={"X-CSRF-Token": token}).status_code
        == 409
    )
    assert client.delete("/api/listen/queries/csrfcheck").status_code == 403
    assert (
        client.delete(
            "/api/listen/queries/csrfcheck", headers={"X-CSRF-Token": "forged"}
        ).status_code
        == 403
    )
    assert (
        client.delete("/api/listen/queries/csrfcheck", headers={"X-CSRF-Token": token}).status_code
        == 200
    )
    assert (
        client.delete("/api/listen/queries/csrfcheck", headers={"X-CSRF-Token": token}).status_code
        == 404
    )


def test_a_viewer_reads_but_cannot_manage(server: Server) -> None:
    create_user(server.app.state.store, "default", "viewer1", PASSWORD, role="viewer")  # type: ignore[attr-defined]
    client, token = signed_in(server, "viewer1")
    with contextlib.closing(client):
        assert client.get("/api/listen/queries").status_code == 200
        r = client.post(
            "/api/listen/queries", json={"name": "v", "query": "v"}, headers={"X-CSRF-Token": token}
        )
        assert r.status_code == 403
        assert 'id="query-form"' not in client.get("/listen").text


@pytest.mark.parametrize(
    ("query", "position"),
    [("acme (", 5), ('"unclosed phrase', 0), ("network:myspace", 8), ("acme OR", 5), ("acme )", 5)],
)
def test_a_bad_query_is_a_400_with_its_position(
    host: tuple[httpx.Client, str], query: str, position: int
) -> None:
    client, token = host
    r = client.post(
        "/api/listen/queries",
        json={"name": "bad", "query": query},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 400, r.text
    data = r.json()
    assert isinstance(data["error"], str) and data["error"]
    assert data["position"] == position
    preview = client.get("/api/listen/preview", params={"q": query})
    assert preview.status_code == 400
    assert preview.json() == data  # the same message and column while typing
    assert client.get("/api/listen/scorecard", params={"q": query}).status_code == 400
    assert all(q["name"] != "bad" for q in client.get("/api/listen/queries").json())


def test_matches_scorecard_and_reports_follow_live_posts(
    server: Server, host: tuple[httpx.Client, str], tag: str
) -> None:
    client, token = host
    r = client.post(
        "/api/listen/queries",
        json={"name": "zorblax", "query": "zorblax OR #zorblax", "group": "brand"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 201
    assert r.json()["matches"] == 0
    version = client.get("/api/listen/status").json()["version"]
    server.submit(make_post(tag, "I love zorblax, great product", handle="fan1"))
    server.submit(
        make_post(tag, "zorblax support is terrible, worst service ever", handle="critic")
    )
    server.submit(make_post(tag, "zorblax again from the fan, love it", handle="fan1"))
    server.submit(make_post(tag, "nothing to see here", handle="other"))

    def counted() -> dict[str, Any] | None:
        rows = {q["name"]: q for q in client.get("/api/listen/queries").json()}
        return rows["zorblax"] if rows["zorblax"]["matches"] == 3 else None

    wait_for(counted, what="3 stored matches")
    status = wait_for(
        lambda: (s := client.get("/api/listen/status").json())["live"].get("zorblax") == 3 and s,
        what="live counter",
    )
    assert status["version"] > version
    sc = client.get("/api/listen/scorecard", params={"saved": "zorblax"}).json()
    assert sc["mentions"] == 3
    assert sc["reach"]["authors"] == 2
    assert sc["passion"] == {"value": round(2 / 3, 4), "authors": 1, "mentions": 2}
    assert sc["strength"]["mentions"] == 3
    # No period asked: the 24 hours end just after the newest matching post, so the
    # non-matching post stored after it is not in them (docs/listening.md).
    assert sc["period"]["window"] == "all"
    assert sc["strength"]["posts"] >= 3
    assert sum(sc["sentiment"][k] for k in ("positive", "neutral", "negative", "unsupported")) == 3
    assert {u["handle"]: u["mentions"] for u in sc["top_users"]} == {"fan1": 2, "critic": 1}
    assert sum(b["mentions"] for b in sc["volume"]["series"]) == 3
    # The same numbers as the report the CLI prints.
    full = client.get("/api/listen/report", params={"saved": "zorblax", "format": "json"})
    assert full.status_code == 200
    assert "attachment" in full.headers["content-disposition"]
    report = json.loads(full.text)
    for key in ("mentions", "strength", "sentiment", "passion", "reach", "top_users"):
        assert report[key] == sc[key]
    html = client.get("/api/listen/report", params={"saved": "zorblax", "format": "html"})
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert re.search(
        r'attachment; filename="hubbub-report-zorblax-[0-9-]+\.html"',
        html.headers["content-disposition"],
    )
    assert "<svg" in html.text and "<script" not in html.text.lower()
    csv = client.get("/api/listen/report", params={"saved": "zorblax", "format": "csv"})
    assert csv.text.startswith("section,item,value,detail")
    assert (
        client.get("/api/listen/report", params={"saved": "zorblax", "format": "pdf"}).status_code
        == 400
    )
    assert client.get("/api/listen/scorecard", params={"saved": "nope"}).status_code == 404
    assert client.get("/api/listen/scorecard").status_code == 400
    # The preview searches stored posts with the same query.
    pv = client.get("/api/listen/preview", params={"q": "zorblax -terrible"}).json()
    assert pv["count"] == 2
    assert {p["author"] for p in pv["posts"]} == {"fan1"}
    client.delete("/api/listen/queries/zorblax", headers={"X-CSRF-Token": token})


def test_webhook_urls_are_http_only() -> None:
    assert webhook_allowed("https://hooks.example/T/abc")
    assert webhook_allowed("http://127.0.0.1:9/x")
    for bad in (
        None,
        "",
        "file:///etc/passwd",
        "ftp://x/y",
        "javascript:alert(1)",
        "/relative",
        "https://",
    ):
        assert not webhook_allowed(bad)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("content-length") or 0)
        type(self).received.append(
            {
                "path": self.path,
                "type": self.headers.get("content-type"),
                "body": json.loads(self.rfile.read(length)),
            }
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hook/s3cret-token", received
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_a_spike_is_raised_and_sent_to_the_webhook(
    tmp_path_factory: pytest.TempPathFactory,
    webhook: tuple[str, list[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, received = webhook
    caplog.set_level(logging.INFO)  # httpx logs each request's URL at INFO
    srv = start_server(tmp_path_factory.mktemp("spike"), alert_webhook=url)
    try:
        client, token = signed_in(srv)
        with contextlib.closing(client):
            r = client.post(
                "/api/listen/queries",
                json={"name": "spiky", "query": "quuxcorp"},
                headers={"X-CSRF-Token": token},
            )
            assert r.status_code == 201
            # A synthetic spike: one mention an hour for six hours, then twelve in one hour.
            # Exactly an hour apart, so each lands in its own hourly bucket.
            peak = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
            for h in range(6, 0, -1):
                srv.submit(
                    make_post(
                        "spike",
                        f"quuxcorp daily note {h}",
                        handle=f"base{h}",
                        created_at=peak - timedelta(hours=h),
                    )
                )
            for i in range(12):
                srv.submit(
                    make_post(
                        "spike",
                        f"quuxcorp is down for everyone {i}",
                        handle=f"burst{i}",
                        created_at=peak,
                    )
                )
            wait_for(
                lambda: client.get("/api/listen/queries").json()[0]["matches"] == 18,
                what="18 matches",
            )
            alerts = wait_for(
                lambda: [
                    a
                    for a in client.get("/api/listen/alerts").json()["alerts"]
                    if a["kind"] == "volume"
                ],
                what="a volume spike alert",
            )
            assert alerts[0]["selection"] == {"kind": "saved", "value": "spiky"}
            assert alerts[0]["value"] == 12
            assert alerts[0]["baseline"] == 1
            hooks = wait_for(
                lambda: [h for h in received if h["body"]["kind"] == "volume"],
                what="the webhook call",
            )
            hook = hooks[0]
            assert hook["path"] == "/hook/s3cret-token"
            assert hook["type"] == "application/json"
            assert hook["body"]["event"] == "hubbub.spike"
            assert hook["body"]["selection"] == {"kind": "saved", "value": "spiky"}
            assert hook["body"]["start"] == alerts[0]["start"]
            # The spike grows: recomputed, shown with its new value, not sent again.
            srv.submit(make_post("spike", "quuxcorp still down", handle="late", created_at=peak))
            wait_for(
                lambda: any(
                    a["kind"] == "volume" and a["value"] == 13
                    for a in client.get("/api/listen/alerts").json()["alerts"]
                ),
                what="the updated spike",
            )
            assert len([h for h in received if h["body"]["kind"] == "volume"]) == 1
    finally:
        stop_server(srv)
    assert "s3cret-token" not in caplog.text

"""The dashboard's "last N days" agrees with ``hubbub report``: the window
ends just after the newest post the selection matches, not the workspace's
newest post (a query whose last mention is older than the workspace's newest
post showed 0 mentions), and the JSON says which window it used. Out-of-range
``days`` is refused with a 400 naming the limits, not quietly clamped. Real
payloads imported by the real CLI into a real server's store."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.cli.test_data_commands import hubbub
from tests.conftest import PAYLOADS, require_shared_data
from tests.web.conftest import Server, start_server, stop_server
from tests.web.test_listen_api import signed_in

BREXIT = PAYLOADS / "x_v2_twarc2" / "brexit.jsonl"  # September 2021
LATER = PAYLOADS / "bluesky_jetstream" / "jetstream_v1_golden_10events.jsonl"  # years later


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_shared_data()
    srv = start_server(tmp_path_factory.mktemp("days"))
    db = str(srv.db)
    for path in (BREXIT, LATER):
        done = hubbub("import", "--db", db, str(path))
        assert done.returncode == 0, done.stderr
    done = hubbub("listen", "add", "--db", db, "brexit", "#brexit")
    assert done.returncode == 0, done.stderr
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    c, _token = signed_in(server)
    yield c
    c.close()


def _report(server: Server, *args: str) -> dict:
    done = hubbub("report", "--db", str(server.db), "--saved", "brexit", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_last_days_end_at_the_newest_matching_post(server: Server, client: httpx.Client) -> None:
    r = client.get("/api/listen/scorecard", params={"saved": "brexit", "days": 7})
    assert r.status_code == 200, r.text
    sc = r.json()
    # The report's default period ends just after the newest matching post.
    whole = _report(server)
    assert sc["period"]["until"] == whole["period"]["until"]
    assert sc["period"]["window"] == "days"
    assert (sc["period"]["days"], sc["period"]["anchor"]) == (7, "newest_match")
    # The same 7 days through hubbub report: the same figures (the old code: 0).
    same = _report(server, "--since", sc["period"]["since"], "--until", sc["period"]["until"])
    assert sc["mentions"] == same["mentions"] > 0
    assert sc["sentiment"] == same["sentiment"]

    # The downloaded report uses the same window.
    dl = client.get("/api/listen/report", params={"saved": "brexit", "days": 7, "format": "json"})
    assert dl.status_code == 200
    assert dl.json()["period"] == sc["period"]
    assert dl.json()["mentions"] == sc["mentions"]


def test_last_days_up_to_a_given_end(client: httpx.Client) -> None:
    params = {"saved": "brexit", "days": 1, "until": "2021-09-20"}
    sc = client.get("/api/listen/scorecard", params=params).json()
    assert (sc["period"]["since"], sc["period"]["until"]) == (
        "2021-09-19T00:00:00Z",
        "2021-09-20T00:00:00Z",
    )
    assert sc["period"]["anchor"] == "until"


@pytest.mark.parametrize("days", ["0", "-5", "367", "99999999"])
def test_out_of_range_days_are_refused(client: httpx.Client, days: str) -> None:
    for path in ("/api/listen/scorecard", "/api/listen/report"):
        r = client.get(path, params={"saved": "brexit", "days": days})
        assert r.status_code == 400, (path, r.text)
        assert r.json()["detail"] == f"days must be from 1 to 366 (got {days})."


@pytest.mark.parametrize("days", [1, 366])
def test_days_at_the_limits_are_accepted(client: httpx.Client, days: int) -> None:
    r = client.get("/api/listen/scorecard", params={"saved": "brexit", "days": days})
    assert r.status_code == 200, r.text
    assert r.json()["period"]["days"] == days

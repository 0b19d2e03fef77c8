"""A report period at the edge of the calendar is refused with a clear 400 (a
one-line CLI error), never a 500 or a traceback: ``until=9999-12-31T23:59:59``
overflowed while the report laid out its weekly buckets, and a date in year 1
overflows when moved from a time zone west of UTC.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from tests.web.conftest import Server
from tests.web.test_room_access import sign_in

EDGES = [
    {"since": "0001-01-01", "until": "9999-12-31T23:59:59"},
    {"since": "2024-01-01", "until": "9999-12-31"},
    {"since": "0001-01-01T00:00:00-05:00", "until": "2024-01-01"},
    {"until": "9999-12-31T23:59:59+00:00"},
]


@pytest.mark.parametrize("period", EDGES)
def test_report_period_out_of_the_calendar_is_a_400(server: Server, period: dict) -> None:
    client, _ = sign_in(server)
    with closing(client):
        for path in ("/api/listen/report", "/api/listen/scorecard"):
            r = client.get(path, params={"q": "coffee", **period})
            assert r.status_code == 400, (path, period, r.status_code, r.text)
            assert "year" in r.json()["detail"]
        ok = client.get(
            "/api/listen/report",
            params={"q": "coffee", "since": "2024-01-01", "until": "2024-02-01"},
        )
        assert ok.status_code == 200, ok.text


def test_cli_report_period_out_of_the_calendar_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubbub.cli",
            "report",
            "coffee",
            "--db",
            str(tmp_path / "h.db"),
            "--since",
            "0001-01-01",
            "--until",
            "9999-12-31T23:59:59",
        ],
        capture_output=True,
        timeout=120,
    )
    err = done.stderr.decode()
    assert "Traceback" not in err, err
    assert done.returncode in (1, 2), err
    assert [line for line in err.splitlines() if line.startswith("Error:")], err

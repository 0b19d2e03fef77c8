"""Unusable settings and workspace names end a command with one ``Error:``
line and exit 2, never a traceback or a server that hangs (issue 7, case 10,
as an operator or a script would get it wrong next).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa


def hubbub(
    *args: str | bytes, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args],
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def usage_error(done: subprocess.CompletedProcess[bytes]) -> str:
    err = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert done.returncode == 2, (done.returncode, err)
    errors = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HUBBUB_PORT", "abc"),
        ("HUBBUB_PORT", "99999"),
        ("HUBBUB_SESSION_DAYS", "nan"),
        ("HUBBUB_SESSION_IDLE_HOURS", "inf"),
        ("HUBBUB_MAX_LIVE_ROOMS", "many"),
        ("HUBBUB_ROOM_IDLE_SECONDS", "-5"),
    ],
)
def test_serve_refuses_an_unusable_variable(tmp_path: Path, variable: str, value: str) -> None:
    done = hubbub("serve", "--db", str(tmp_path / "h.db"), env={variable: value})
    line = usage_error(done)
    assert variable.removeprefix("HUBBUB_").lower() in line.lower()


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    line = usage_error(hubbub("serve", "--db", str(tmp_path / "h.db"), "--port", "99999"))
    assert "99999" in line and "65535" in line


def test_user_sessions_with_an_unusable_session_setting(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubbub.cli",
            "user",
            "create",
            "ann",
            "--db",
            db,
            "--password-stdin",
        ],
        input=b"a long passphrase\n",
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    line = usage_error(
        hubbub("user", "sessions", "ann", "--db", db, env={"HUBBUB_SESSION_DAYS": "nan"})
    )
    assert "SESSION_DAYS" in line


@pytest.mark.parametrize(
    "name",
    [
        b"\xed\xa0\x80",  # a surrogate's bytes: not UTF-8 (arrives as a lone surrogate)
        b"\xff",
        b"a\x01b",
        b"   ",
    ],
)
def test_a_workspace_name_no_database_can_store_is_a_usage_error(
    tmp_path: Path, name: bytes
) -> None:
    db = tmp_path / "h.db"
    line = usage_error(hubbub("search", "--db", str(db), "--workspace", name, "brexit"))
    assert "--workspace" in line
    if db.exists():
        engine = sa.create_engine(f"sqlite:///{db}")
        with engine.connect() as conn:
            names = list(conn.execute(sa.text("SELECT name FROM workspaces")).scalars())
        engine.dispose()
        assert names in ([], ["default"])

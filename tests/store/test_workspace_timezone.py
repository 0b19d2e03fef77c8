"""A workspace has one time zone, and a user can set it (SQLite and PostgreSQL).

``hubbub workspace set-timezone`` writes ``workspaces.timezone``, which the
report reads (midnight of ``--since DATE``, the period's ``timezone``), and
``hubbub inbox hours --timezone`` is the same setting: before, the inbox kept
a zone of its own and the report stayed in UTC whatever was set. Migration
0014 makes a zone set for the inbox before the workspace's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from click.testing import CliRunner, Result

import hubbub.store.engine as engine_module
from hubbub.cli import main
from hubbub.post import Author, Post
from hubbub.store import Ingest, open_store
from hubbub.store.engine import create_engine, resolve_db_url
from hubbub.store.inbox_schema import inbox_settings
from hubbub.store.schema import workspaces
from hubbub.store.scope import scope
from hubbub.store.workspace_settings import TimezoneError, WorkspaceSettings

# 2021-09-22 00:00 in Los Angeles (UTC-7 in September) and in Warsaw (UTC+2).
LA_MIDNIGHT = "2021-09-22T07:00:00Z"
WARSAW_MIDNIGHT = "2021-09-21T22:00:00Z"


def hubbub(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def _stored(db: str) -> None:
    author = Author("x", "id-1", "alice", "Alice")
    when = datetime(2021, 9, 22, 12, tzinfo=UTC)
    with open_store(db) as store:
        store.ingest([Ingest(Post("x", "1", author, "about #brexit today", when))])


def _report_period(db: str) -> dict[str, str]:
    report = orjson.loads(_ok(hubbub("report", "#brexit", "--since", "2021-09-22", "--db", db)))
    period = report["period"]
    assert isinstance(period, dict)
    return period


def _listed_zone(db: str, workspace: str = "default") -> str:
    listed = orjson.loads(_ok(hubbub("workspace", "list", "--json", "--db", db)))
    return next(str(w["timezone"]) for w in listed if w["name"] == workspace)


def test_set_timezone_is_what_the_report_reads(db_url: str) -> None:
    _stored(db_url)
    assert _report_period(db_url)["since"] == "2021-09-22T00:00:00Z"
    said = _ok(hubbub("workspace", "set-timezone", "America/Los_Angeles", "--db", db_url))
    assert "UTC → America/Los_Angeles" in said
    period = _report_period(db_url)
    assert (period["since"], period["timezone"]) == (LA_MIDNIGHT, "America/Los_Angeles")
    assert _listed_zone(db_url) == "America/Los_Angeles"
    # The inbox's business hours are in the same zone.
    assert _ok(hubbub("inbox", "hours", "--db", db_url)).startswith("America/Los_Angeles ")
    # The change is in the audit log: who set what, from what.
    log = _ok(hubbub("audit", "--action", "settings_changed", "--format", "jsonl", "--db", db_url))
    (event,) = [orjson.loads(line) for line in log.splitlines()]
    assert (event["target"], event["detail"]) == (
        "timezone",
        {"from": "UTC", "to": "America/Los_Angeles"},
    )


def test_inbox_hours_timezone_is_the_same_setting(db_url: str) -> None:
    _stored(db_url)
    _ok(hubbub("inbox", "hours", "--timezone", "Europe/Warsaw", "--db", db_url))
    period = _report_period(db_url)
    assert (period["since"], period["timezone"]) == (WARSAW_MIDNIGHT, "Europe/Warsaw")
    assert _listed_zone(db_url) == "Europe/Warsaw"
    # And back: the workspace's zone is the business hours' zone, other
    # business-hour settings untouched.
    _ok(hubbub("inbox", "hours", "--days", "mon-fri", "--hours", "09:00-17:00", "--db", db_url))
    _ok(hubbub("workspace", "set-timezone", "Asia/Tokyo", "--db", db_url))
    assert _ok(hubbub("inbox", "hours", "--db", db_url)).startswith(
        "Asia/Tokyo mon,tue,wed,thu,fri 09:00-17:00;"
    )
    with open_store(db_url) as store, store.engine.connect() as conn:
        # The inbox's older copy of the zone follows (nothing reads it now).
        assert conn.execute(sa.select(inbox_settings.c.timezone)).scalar_one() == "Asia/Tokyo"


def test_each_workspace_has_its_own_zone(db_url: str) -> None:
    _ok(hubbub("listen", "add", "q", "x", "--db", db_url, "--workspace", "acme"))
    _ok(hubbub("workspace", "set-timezone", "Europe/Warsaw", "--db", db_url, "--workspace", "acme"))
    assert _listed_zone(db_url, "acme") == "Europe/Warsaw"
    with open_store(db_url) as store:
        assert WorkspaceSettings(scope(store, "default")).timezone() == "UTC"
    said = _ok(
        hubbub("workspace", "set-timezone", "Europe/Warsaw", "--db", db_url, "--workspace", "acme")
    )
    assert "already Europe/Warsaw" in said


@pytest.mark.parametrize(
    ("zone", "hint"),
    [
        ("america/los_angeles", "did you mean 'America/Los_Angeles'?"),
        ("Mars/Base", "an IANA name"),
        ("localtime", "an IANA name"),  # a file in the zone directory, not a place
        ("../../etc/passwd", "an IANA name"),
        ("", "an IANA name"),
    ],
)
def test_a_zone_that_is_not_one_is_refused_by_name(db_url: str, zone: str, hint: str) -> None:
    done = hubbub("workspace", "set-timezone", zone, "--db", db_url)
    assert done.exit_code == 2
    line = done.output.strip().splitlines()[-1]
    assert f"unknown time zone {zone!r}" in line and hint in line
    with open_store(db_url) as store:
        assert WorkspaceSettings(scope(store, "default")).timezone() == "UTC"
        with pytest.raises(TimezoneError):
            WorkspaceSettings(scope(store, "default")).set_timezone(zone)


def test_a_mistyped_workspace_is_not_created(db_url: str) -> None:
    done = hubbub("workspace", "set-timezone", "UTC", "--db", db_url, "--workspace", "nope")
    assert done.exit_code == 2 and "no workspace named 'nope'" in done.output


def _upgrade(engine: sa.Engine, revision: str) -> None:
    config = Config()
    config.set_main_option(
        "script_location", str(Path(engine_module.__file__).with_name("migrations"))
    )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_migration_makes_the_inbox_zone_the_workspaces(empty_db_url: str) -> None:
    engine = create_engine(resolve_db_url(empty_db_url))
    try:
        _upgrade(engine, "0013")
        now = datetime.now(UTC)
        with engine.begin() as conn:
            ids = {}
            for name, zone in (("inboxed", "UTC"), ("own", "Asia/Tokyo"), ("plain", "UTC")):
                ids[name] = conn.execute(
                    workspaces.insert().values(name=name, timezone=zone, created_at=now)
                ).inserted_primary_key[0]
            for name in ("inboxed", "own"):
                conn.execute(
                    inbox_settings.insert().values(
                        workspace_id=ids[name],
                        timezone="Europe/Warsaw",
                        days="01234",
                        start_minute=540,
                        end_minute=1020,
                        auto_assign=False,
                        mention_intents="complaint,question",
                        updated_at=now,
                    )
                )
        _upgrade(engine, "head")
        with engine.connect() as conn:
            zones = dict(conn.execute(sa.select(workspaces.c.name, workspaces.c.timezone)).all())
    finally:
        engine.dispose()
    # The inbox's zone was the only one set; a zone set on the workspace stays.
    assert zones == {"inboxed": "Europe/Warsaw", "own": "Asia/Tokyo", "plain": "UTC"}

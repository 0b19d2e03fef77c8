"""A case resolved without a reply stops its first-response clock at the
resolution: breached by the time it had at resolution when that was past the
target (a fixed lateness, not one that keeps growing), else "resolved without
reply"; reopening starts it again. The reviewer's case: a 1 h target, a
recent post never answered, resolved: "2.17 h late so far", a minute later
"2.19 h". ``inbox show`` and ``--json`` say so, and the report counts the
breach at resolution."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.inbox.build import build_cases
from hubbub.inbox.model import Status
from hubbub.inbox.report import build_report
from hubbub.inbox.service import Inbox
from hubbub.networks.secrets import SecretBox
from hubbub.store import Store, open_store
from hubbub.store.inbox_repo_reply import ReplyRepo
from hubbub.store.scope import scope
from tests.inbox.helpers import OPERATOR, T0, connect, ingest, post

HOUR = timedelta(hours=1)


def _case(store: Store, author: str, minutes: float = 0) -> int:
    """An unanswered complaint written at T0 + minutes, seen as it was written."""
    p = post("x", f"77{author}", author, "@acme my order arrived broken, nobody answers")
    p.created_at = T0 + timedelta(minutes=minutes)
    p.mentions = ("acme",)
    ingest(store, p)
    build_cases(scope(store, "default"), now=p.created_at)
    inbox = Inbox(scope(store, "default"))
    return next(c.id for c in inbox.list_cases(OPERATOR) if c.author == author)


@pytest.fixture
def repo(store: Store) -> ReplyRepo:
    connect(store, SecretBox(secrets.token_bytes(32)))
    Inbox(scope(store, "default")).set_target(
        OPERATOR, "normal", first_response_minutes=60, resolution_minutes=None
    )
    return ReplyRepo(scope(store, "default"))


def test_resolved_after_the_target_stays_breached_by_the_same_amount(
    store: Store, repo: ReplyRepo
) -> None:
    case_id = _case(store, "late")
    resolved = T0 + 3 * HOUR
    repo.set_status(case_id, Status.RESOLVED, None, "ann", resolved)
    for now in (resolved + timedelta(minutes=1), resolved + 48 * HOUR):
        clock = repo.get_case(case_id, now).first_response
        assert clock.state == "breached"
        assert clock.met_at is None and clock.stopped_at == resolved
        assert clock.late_minutes == pytest.approx(120)  # 3 h used of 1 h, whenever asked
    # The report counts that breach as of the resolution too (one breach either way).
    report = build_report(repo, None, None, resolved + 48 * HOUR)
    assert report.team.first_response_breaches == 1


def test_resolved_before_the_target_is_resolved_without_reply(
    store: Store, repo: ReplyRepo
) -> None:
    case_id = _case(store, "quick")
    resolved = T0 + timedelta(minutes=20)
    repo.set_status(case_id, Status.RESOLVED, None, "ann", resolved)
    clock = repo.get_case(case_id, T0 + 10 * HOUR).first_response
    assert clock.state == "resolved without reply"
    assert not clock.breached and clock.late_minutes is None
    assert clock.used_minutes == pytest.approx(20)
    # Not a breach in the report, hours later.
    assert build_report(repo, None, None, T0 + 10 * HOUR).team.first_response_breaches == 0
    # Reopened: nobody has answered, so the clock runs again.
    repo.set_status(case_id, Status.OPEN, None, "ann", T0 + 2 * HOUR)
    again = repo.get_case(case_id, T0 + 2 * HOUR).first_response
    assert again.state == "breached" and again.stopped_at is None


def test_inbox_show_and_json_say_the_clock_stopped(db_url: str) -> None:
    # Real time here (the CLI's clock): a post 3 h old with a 1 h target,
    # resolved now: 2 h late at resolution, and still that however long after.
    with open_store(db_url) as store:
        connect(store, SecretBox(secrets.token_bytes(32)))
        p = post("x", "7001", "cust", "@acme my order arrived broken, nobody answers")
        p.created_at = datetime.now(UTC) - 3 * HOUR
        p.mentions = ("acme",)
        ingest(store, p)
        build_cases(scope(store, "default"), now=p.created_at + timedelta(minutes=1))
    runner = CliRunner()

    def cli(*args: str) -> str:
        done = runner.invoke(main, ["inbox", *args, "--db", db_url])
        assert done.exit_code == 0, done.output
        return done.output

    cli("target", "normal", "--first-response", "1h")
    cli("resolve", "1")
    shown = cli("show", "1")
    line = next(x for x in shown.splitlines() if x.startswith("first response"))
    assert "resolved without reply" in line and "late)" in line and "so far" not in line
    data = orjson.loads(cli("show", "1", "--json"))
    clock = data["first_response"]
    assert clock["state"] == "breached" and clock["stopped_at"] == data["resolved_at"]
    assert clock["met_at"] is None
    # Used up to the resolution, to the second: opened at the post, stopped when resolved.
    opened, stopped = (datetime.fromisoformat(data[k]) for k in ("opened_at", "resolved_at"))
    used = (stopped - opened).total_seconds() / 60
    assert clock["late_minutes"] == pytest.approx(used - 60, abs=0.01)

"""A case whose first post Hubbub first saw more than a day after it was
written (an imported archive, a long outage, a rule added over stored posts)
is not timed: no first-response or resolution clock, the reason instead,
and no place in the report's times or breaches (which say how many were left
out). Cases seen within a day keep their clocks exactly as before.
On SQLite and PostgreSQL, with the case's creation time and ``now`` injected."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from hubbub.inbox.build import build_cases
from hubbub.inbox.hours import TIMED_WITHIN, business_minutes
from hubbub.inbox.model import Hours, NotTimed, Status
from hubbub.inbox.report import build_report
from hubbub.inbox.report_render import to_html, to_json
from hubbub.inbox.service import Inbox
from hubbub.networks.secrets import SecretBox
from hubbub.store import Store
from hubbub.store.inbox_repo_reply import ReplyRepo
from hubbub.store.scope import scope
from tests.inbox.helpers import OPERATOR, T0, connect, ingest, post, reply_sent_at

NOW = T0 + timedelta(days=10)  # when the cases are looked at (and the report made)
FIRST_RESPONSE, RESOLUTION = 60, 480  # the normal priority's targets, in minutes


@pytest.fixture
def inbox(store: Store) -> Inbox:
    connect(store, SecretBox(secrets.token_bytes(32)))
    box = Inbox(scope(store, "default"))
    box.set_target(
        OPERATOR, "normal", first_response_minutes=FIRST_RESPONSE, resolution_minutes=RESOLUTION
    )
    return box


def mention(store: Store, post_id: str, author: str, written: datetime) -> None:
    p = post("x", post_id, author, f"@acme my order {post_id} arrived broken, nobody answers")
    p.created_at = written
    p.mentions = ("acme",)
    ingest(store, p)


def case_ids(inbox: Inbox) -> dict[str, int]:
    return {
        c.author: c.id
        for c in inbox.list_cases(
            OPERATOR, status=["new", "open", "pending", "resolved", "snoozed"]
        )
    }


def test_the_reason_says_how_old_the_post_was() -> None:
    assert timedelta(hours=24) == TIMED_WITHIN
    three_days = NotTimed(posted_at=T0, seen_at=T0 + timedelta(days=3, hours=5))
    assert three_days.reason == "the post was 3 days old when Hubbub first saw it"
    hours = NotTimed(posted_at=T0, seen_at=T0 + timedelta(hours=25, minutes=40))
    assert hours.reason == "the post was 25 hours old when Hubbub first saw it"
    years = NotTimed(posted_at=T0, seen_at=T0 + timedelta(days=2000))
    assert years.reason == "the post was 2000 days old when Hubbub first saw it"


def test_an_imported_old_mention_is_not_timed(inbox: Inbox, store: Store) -> None:
    # An archive of mentions from three days before the import.
    mention(store, "8001", "archived", T0)
    build_cases(inbox.scope, now=T0 + timedelta(days=3, hours=1))
    (case_id,) = case_ids(inbox).values()

    case = inbox.repo.get_case(case_id, NOW)
    assert case.summary.opened_at == T0  # still the post's time: reports filter by it
    assert case.not_timed is not None
    assert case.not_timed.reason == "the post was 3 days old when Hubbub first saw it"
    for clock in (case.first_response, case.resolution):
        assert clock.state == "not timed"
        assert not clock.breached and clock.met_at is None
        assert clock.used_minutes is None and clock.left_minutes is None

    data = case.as_json()
    for name in ("first_response", "resolution"):
        clock = data[name]
        assert isinstance(clock, dict)
        # Every key a reader had before is still there; none reads as a breach.
        assert set(clock) == {
            "target_minutes",
            "used_minutes",
            "left_minutes",
            "met_at",
            "stopped_at",  # added: when a case resolved unanswered stopped the clock
            "breached",
            "late_minutes",
            "state",
        }
        assert clock["state"] == "not timed" and clock["breached"] is False
        assert clock["stopped_at"] is None
        assert clock["used_minutes"] is None and clock["late_minutes"] is None
    assert data["not_timed"] == {
        "reason": "the post was 3 days old when Hubbub first saw it",
        "posted_at": T0.isoformat(),
        "seen_at": (T0 + timedelta(days=3, hours=1)).isoformat(),
        "age_hours": 73.0,
    }
    assert data["opened_at"] == T0.isoformat()


def test_an_answer_to_an_old_case_stops_no_clock_but_is_recorded(
    inbox: Inbox, store: Store
) -> None:
    mention(store, "8002", "archived", T0)
    build_cases(inbox.scope, now=T0 + timedelta(days=30))
    (case_id,) = case_ids(inbox).values()
    repo = ReplyRepo(inbox.scope)
    answered = T0 + timedelta(days=30, minutes=20)
    reserved = repo.reserve_reply(
        case_id,
        "old-key-0001",
        "Sorry!",
        "ann",
        answered,
        repo.reply_target(case_id, "ann", answered),
        "xacct",
    )
    reply_sent_at(repo, reserved, "old-key-0001", answered)
    case = inbox.repo.get_case(case_id, NOW)
    assert case.first_response.state == "not timed"
    assert case.first_response.met_at == answered  # when it was answered, still shown
    assert case.first_response.breached is False


def test_a_fresh_mention_keeps_its_clocks_exactly_as_before(inbox: Inbox, store: Store) -> None:
    written = T0 + timedelta(hours=2)
    mention(store, "8003", "fresh", written)
    build_cases(inbox.scope, now=written + timedelta(minutes=3))
    (case_id,) = case_ids(inbox).values()

    case = inbox.repo.get_case(case_id, NOW)
    assert case.not_timed is None and case.as_json()["not_timed"] is None
    # Every hour counts (no business hours set): the clock ran from the post.
    used = business_minutes(written, NOW, Hours())
    assert used == (NOW - written).total_seconds() / 60
    assert case.first_response.used_minutes == used
    assert case.first_response.state == "breached"
    assert case.first_response.late_minutes == used - FIRST_RESPONSE
    assert case.resolution.state == "breached"
    assert case.resolution.late_minutes == used - RESOLUTION


def test_the_boundary_is_a_day(inbox: Inbox, store: Store) -> None:
    seen = T0 + timedelta(days=1)
    mention(store, "8010", "h23", seen - timedelta(hours=23))
    mention(store, "8011", "h24", seen - timedelta(hours=24))
    mention(store, "8012", "h25", seen - timedelta(hours=25))
    build_cases(inbox.scope, now=seen)
    ids = case_ids(inbox)
    assert set(ids) == {"h23", "h24", "h25"}

    for author, written_ago in (("h23", 23), ("h24", 24)):
        case = inbox.repo.get_case(ids[author], seen)
        assert case.not_timed is None, author
        assert case.first_response.used_minutes == written_ago * 60
        assert case.first_response.state == "breached"
        assert case.resolution.state == "breached"
    late = inbox.repo.get_case(ids["h25"], seen)
    assert late.not_timed is not None
    assert late.not_timed.reason == "the post was 25 hours old when Hubbub first saw it"
    assert late.first_response.state == late.resolution.state == "not timed"


def test_the_report_leaves_old_cases_out_and_says_how_many(inbox: Inbox, store: Store) -> None:
    # Two archived mentions (one answered and resolved, one left open), and
    # two fresh ones (one answered late, one left open past its targets).
    mention(store, "8020", "old_answered", T0)
    mention(store, "8021", "old_open", T0 + timedelta(minutes=1))
    build_cases(inbox.scope, now=T0 + timedelta(days=2))
    fresh = T0 + timedelta(days=2, hours=1)
    mention(store, "8022", "new_answered", fresh)
    mention(store, "8023", "new_open", fresh + timedelta(minutes=1))
    build_cases(inbox.scope, now=fresh + timedelta(minutes=2))
    ids = case_ids(inbox)
    repo = ReplyRepo(inbox.scope)
    for n, (author, at) in enumerate(
        (("old_answered", fresh + timedelta(hours=3)), ("new_answered", fresh + timedelta(hours=2)))
    ):
        key = f"report-old-{n:04d}"
        target = repo.reply_target(ids[author], "ann", at)
        reserved = repo.reserve_reply(ids[author], key, "Sorry!", "ann", at, target, "xacct")
        reply_sent_at(repo, reserved, key, at)
        repo.set_status(ids[author], Status.RESOLVED, None, "ann", at + timedelta(minutes=5))

    report = build_report(repo, None, None, NOW)

    assert report.cases == 4  # opened in the period: every case
    assert report.not_timed == 2
    team = report.team
    # Only the fresh answered case is measured: two hours to answer.
    assert team.first_response_wall.count == 1 and team.first_response_wall.median == 2.0
    assert team.resolution_wall.count == 1
    assert team.resolution_wall.median == pytest.approx(2 + 5 / 60)
    # The fresh answered case was late for its first response (2 h > 1 h);
    # the fresh open case is past both targets. The old ones count nowhere.
    assert (team.first_response_breaches, team.resolution_breaches) == (2, 1)
    (ann,) = report.agents
    assert ann.who == "ann" and ann.first_response_wall.count == 1
    assert ann.cases_handled == 2  # she did answer the old one: handled, not timed
    assert team.cases_handled == 2

    data = orjson.loads(to_json(report))
    assert {"since", "until", "timezone", "cases", "team", "agents", "operator"} <= set(data)
    assert data["not_timed"]["cases"] == 2
    assert data["not_timed"]["older_than_hours"] == 24
    assert "more than 24 hours old when Hubbub first saw it" in data["not_timed"]["why"]
    assert data["team"]["first_response"]["breaches"] == 2
    assert "Cases not timed, left out of every time and breach: 2 (" in to_html(report)


def test_a_report_with_no_old_cases_says_none_were_left_out(inbox: Inbox, store: Store) -> None:
    mention(store, "8030", "fresh", T0)
    build_cases(inbox.scope, now=T0)
    report = build_report(ReplyRepo(inbox.scope), None, None, NOW)
    assert report.not_timed == 0
    assert orjson.loads(to_json(report))["not_timed"]["cases"] == 0
    assert report.team.first_response_breaches == 1  # open, far past its hour
    assert "not timed" not in to_html(report)


def test_the_service_reads_the_same(inbox: Inbox, store: Store) -> None:
    # Through the service the CLI and the page call (its own clock: today).
    mention(store, "8040", "archived", datetime(2021, 3, 1, 12, tzinfo=UTC))
    build_cases(inbox.scope)
    (case_id,) = case_ids(inbox).values()
    case = inbox.get_case(OPERATOR, case_id)
    assert case.first_response.state == "not timed"
    assert case.not_timed is not None and case.not_timed.age > timedelta(days=365)
    report = inbox.report(OPERATOR)
    assert report.not_timed == 1 and report.team.first_response_breaches == 0

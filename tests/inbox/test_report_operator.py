"""The response-time report lists people as agents: what the operator did
from the command line (actor ``cli:<os user>``) counts for the team (the
customer was answered) and is shown apart as "operator (command line)",
never as an agent called ``cli:root``."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import orjson

from hubbub.inbox.build import build_cases
from hubbub.inbox.model import Status
from hubbub.inbox.report import OPERATOR as OPERATOR_ROW
from hubbub.inbox.report import build_report
from hubbub.inbox.report_render import to_csv, to_html, to_json
from hubbub.inbox.service import Inbox
from hubbub.networks.secrets import SecretBox
from hubbub.store import Store
from hubbub.store.inbox_repo_reply import ReplyRepo
from hubbub.store.scope import scope
from tests.inbox.helpers import OPERATOR, connect, ingest, post, reply_sent_at

OPENED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def test_command_line_replies_are_the_operators_not_an_agents(store: Store) -> None:
    connect(store, SecretBox(secrets.token_bytes(32)))
    inbox = Inbox(scope(store, "default"))
    for n, author in enumerate(("c1", "c2")):
        p = post("x", f"70{n}", author, f"@acme order {n} arrived broken")
        p.created_at = OPENED
        p.mentions = ("acme",)
        ingest(store, p)
    build_cases(inbox.scope, now=OPENED)  # seen as written: the cases are timed
    ids = {c.author: c.id for c in inbox.list_cases(OPERATOR)}
    repo = ReplyRepo(inbox.scope)
    for n, (author, who) in enumerate((("c1", "ann"), ("c2", "cli:root"))):
        at = OPENED + timedelta(minutes=30 * (n + 1))
        target = repo.reply_target(ids[author], who, at)
        key = f"op-key-{n:04d}"
        reserved = repo.reserve_reply(ids[author], key, "Sorry!", who, at, target, "xacct")
        reply_sent_at(repo, reserved, key, at)
        repo.set_status(ids[author], Status.RESOLVED, None, who, at + timedelta(minutes=5))

    report = build_report(repo, None, None, OPENED + timedelta(days=1))

    assert [row.who for row in report.agents] == ["ann"]
    assert report.operator is not None and report.operator.who == OPERATOR_ROW
    assert report.operator.cases_handled == 1
    assert report.operator.first_response_wall.median == 1.0  # the operator's reply, an hour in
    assert report.team.cases_handled == 2  # both customers were answered
    data = orjson.loads(to_json(report))
    assert [a["who"] for a in data["agents"]] == ["ann"]
    assert data["operator"]["who"] == "operator (command line)"
    for text in (to_csv(report), to_html(report)):
        assert "cli:root" not in text and "operator (command line)" in text


def test_without_command_line_actions_there_is_no_operator_row(store: Store) -> None:
    connect(store, SecretBox(secrets.token_bytes(32)))
    repo = ReplyRepo(scope(store, "default"))
    report = build_report(repo, None, None, OPENED)
    assert report.operator is None and orjson.loads(to_json(report))["operator"] is None

"""Why a reply failed reaches every reader of a case, not only ``inbox show``:
the case JSON (``inbox show --json``, ``GET /api/inbox/cases/N``, what the
inbox page reads) keeps ``outbox_status`` and adds, on each reply of the
timeline, ``outbox_error`` (the reason as the outbox stored it),
``outbox_maybe_sent`` and ``outbox_text`` (the state in words, as ``inbox
show`` prints it); the page shows the words, with how to try again when that
is safe. The reviewer's case: offline, the page said only "outbox: failed"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from hubbub.cli import main
from hubbub.inbox.model import Actor
from hubbub.inbox.service import Inbox
from hubbub.networks.secrets import load_box, new_key_text
from hubbub.store import open_store
from hubbub.store.network_accounts import add_account, record_check
from hubbub.store.scope import scope
from tests.inbox.helpers import ingest, post
from tests.inbox.test_clock_on_page import ANN, inbox_page
from tests.web.conftest import browser  # noqa: F401 - the fixture, used by name
from tests.web.test_inbox_api import InboxServer, customer_post, sign_in, start_inbox_server
from tests.web.test_listen_api import wait_for

# Nothing listens on port 9 of the loopback: the reply never leaves.
OFFLINE = "http://127.0.0.1:9"


@pytest.fixture
def offline(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    with open_store(db_url) as store:
        add_account(store, load_box(db_url), "default", "x", "acme", "tok", server=OFFLINE)
        record_check(store, "default", "acme", "ok: @acme")
        ingest(
            store, post("x", "7001", "cust", "@acme my order never came, why?", mentions=("acme",))
        )
    yield db_url


def test_a_failed_reply_says_why_in_the_case_json(offline: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["inbox", "list", "--db", offline]).exit_code == 0
    sent = runner.invoke(main, ["inbox", "reply", "1", "Sorry, on it", "--db", offline])
    assert sent.exit_code == 1, sent.output
    assert "reply failed: " in sent.output
    shown = runner.invoke(main, ["inbox", "show", "1", "--db", offline])
    assert shown.exit_code == 0, shown.output
    said = next(line.strip() for line in shown.output.splitlines() if "outbox:" in line)

    data = orjson.loads(
        runner.invoke(main, ["inbox", "show", "1", "--json", "--db", offline]).output
    )
    (reply,) = [e for e in data["timeline"] if e["kind"] == "reply"]
    assert reply["outbox_status"] == "failed"  # kept as it was
    assert reply["outbox_error"] and "connect" in reply["outbox_error"]
    assert reply["outbox_maybe_sent"] is False
    assert reply["outbox_text"] == "failed: " + reply["outbox_error"]
    assert said == "outbox: " + reply["outbox_text"]  # the same words as inbox show
    # Every event carries the keys; an event with no outbox row has them empty.
    (opened,) = [e for e in data["timeline"] if e["kind"] == "created"]
    assert (opened["outbox_error"], opened["outbox_text"]) == (None, None)


@pytest.fixture(scope="module")
def inbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InboxServer]:
    yield from start_inbox_server(tmp_path_factory.mktemp("failed-reply"))


def test_the_api_and_the_page_say_why_a_reply_failed(
    inbox_server: InboxServer,
    browser,  # noqa: ANN001, F811
) -> None:
    complaint = customer_post("my refund never came and nobody answers, terrible", "rita")
    inbox_server.server.submit(complaint)
    inbox_server.build()
    inbox = Inbox(scope(inbox_server.store, "default"))
    (case,) = [c for c in inbox.list_cases(ANN) if complaint.id in c.post_ids]
    # The network refuses it (and quotes the request's credentials back).
    inbox_server.x.faults.next.append("echo_403")
    client, csrf = sign_in(inbox_server.url, "ann")
    try:
        queued = client.post(
            f"/api/inbox/cases/{case.id}/replies",
            json={"text": "Sorry Rita, we are on it", "key": "failed-reply-0001"},
            headers={"X-CSRF-Token": csrf},
        )
        assert queued.status_code == 201, queued.text

        def failed() -> dict | None:
            got = client.get(f"/api/inbox/cases/{case.id}").json()
            replies = [e for e in got["timeline"] if e["kind"] == "reply"]
            return replies[0] if replies and replies[0]["outbox_status"] == "failed" else None

        reply = wait_for(failed, what="the server's outbox sender to give up on the reply")
    finally:
        client.close()
    assert reply["outbox_error"] and "403" in reply["outbox_error"]
    assert reply["outbox_text"].endswith(reply["outbox_error"])
    assert inbox_server.x.token not in reply["outbox_error"]  # redacted when stored

    with inbox_page(browser, inbox_server) as page:
        page.locator(f'#case-list li[data-id="{case.id}"]').click()
        shown = page.locator("#timeline .ev-reply .ev-outbox")
        expect(shown).to_have_text("outbox: " + reply["outbox_text"])
        if not reply["outbox_maybe_sent"]:
            retry = page.locator("#timeline .ev-reply .ev-outbox-retry")
            expect(retry).to_have_text(f"To try again: hubbub outbox retry {reply['outbox_id']}")


def test_the_page_shows_a_resolved_unanswered_clock_stopped(
    inbox_server: InboxServer,
    browser,  # noqa: ANN001, F811
) -> None:
    # Not a failed reply, but the same case pane: a case resolved with no
    # reply stops its first-response clock (tests/inbox/test_resolved_unanswered_clock.py).
    inbox = Inbox(scope(inbox_server.store, "default"))
    inbox.set_target(
        Actor("cli:test"), "normal", first_response_minutes=60, resolution_minutes=None
    )
    late = customer_post("my parcel never came and nobody answers, terrible", "ursula")
    late.created_at = datetime.now(UTC) - timedelta(hours=3)  # always-open hours: 2 h late
    inbox_server.server.submit(late)
    inbox_server.build()
    (case,) = [c for c in inbox.list_cases(ANN) if late.id in c.post_ids]
    inbox.resolve(ANN, case.id)
    with inbox_page(browser, inbox_server) as page:
        page.locator('button.view[data-status="resolved"]').click()
        page.locator(f'#case-list li[data-id="{case.id}"]').click()
        shown = page.locator("#case-first-response")
        expect(shown).to_contain_text("breached: resolved without reply 2 h")
        expect(shown).to_have_class("breached")

"""The inbox page says what ``inbox show`` and the JSON say of a case's clocks:

- a first response sent after its target reads "breached: answered … late",
  never "met"; and the web path of a reply: the page's reply API only queues
  it, the case counts as answered once the server's outbox sender sent it;
- a case made of an old post (an imported archive) reads "not timed" with the
  reason in place of both clocks, never "breached"; a fresh case beside it
  keeps its clock.

One server for both (a module fixture): each test makes its own cases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from hubbub.inbox.model import Actor
from hubbub.inbox.service import Inbox
from hubbub.store.scope import scope
from tests.web.conftest import PASSWORD, browser  # noqa: F401 - the fixture, used by name
from tests.web.test_inbox_api import InboxServer, customer_post, start_inbox_server, wait_for

pytestmark = pytest.mark.browser

ANN = Actor("ann", "agent")


@contextmanager
def inbox_page(chromium, inbox_server: InboxServer) -> Iterator[Page]:  # noqa: ANN001
    """The inbox page, signed in as the agent ann."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        base = inbox_server.url
        page.goto(base + "/login?next=/inbox")
        page.fill("input[name=name]", "ann")
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=workspace]", "default")
        page.click("form.login button[type=submit]")
        page.wait_for_url(base + "/inbox")
        yield page
    finally:
        context.close()


@pytest.fixture(scope="module")
def inbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InboxServer]:
    yield from start_inbox_server(tmp_path_factory.mktemp("clocks"))


def test_a_first_response_after_its_target_reads_breached_on_the_page(
    inbox_server: InboxServer,
    browser,  # noqa: ANN001, F811
) -> None:
    inbox = Inbox(scope(inbox_server.store, "default"))
    inbox.set_target(
        Actor("cli:test"), "normal", first_response_minutes=60, resolution_minutes=None
    )
    late = customer_post("my refund never came and nobody answers, terrible", "lena")
    late.created_at = datetime.now(UTC) - timedelta(hours=3)  # always-open hours: 2 h late
    inbox_server.server.submit(late)
    inbox_server.build()
    (case,) = [c for c in inbox.list_cases(ANN) if late.id in c.post_ids]
    inbox.reply(ANN, case.id, "Sorry Lena, we are on it", key="late-clock-0001")
    sent = wait_for(
        lambda: inbox.get_case(ANN, case.id).summary.first_response_at,
        what="the reply sent by the server's outbox sender",
    )
    assert sent is not None
    clock = inbox.get_case(ANN, case.id).first_response
    assert clock.state == "breached" and clock.met_at is not None

    with inbox_page(browser, inbox_server) as page:
        page.locator(f'#case-list li[data-id="{case.id}"]').click()
        shown = page.locator("#case-first-response")
        expect(shown).to_contain_text("breached: answered 2 h")
        assert "met" not in shown.inner_text()
        expect(shown).to_have_class("breached")


def test_an_old_case_reads_not_timed_on_the_page(
    inbox_server: InboxServer,
    browser,  # noqa: ANN001, F811
) -> None:
    inbox = Inbox(scope(inbox_server.store, "default"))
    inbox.set_target(
        Actor("cli:test"), "normal", first_response_minutes=60, resolution_minutes=None
    )
    old = customer_post("my parcel never came and nobody answers, terrible", "olga")
    old.created_at = datetime.now(UTC) - timedelta(days=3, hours=2)  # from an archive
    fresh = customer_post("my refund never came and nobody answers, terrible", "fred")
    fresh.created_at = datetime.now(UTC) - timedelta(hours=3)  # live, and 2 h late
    inbox_server.server.submit(old)
    inbox_server.server.submit(fresh)
    inbox_server.build()
    cases = {c.author: c for c in inbox.list_cases(ANN)}
    assert inbox.get_case(ANN, cases["olga"].id).first_response.state == "not timed"

    with inbox_page(browser, inbox_server) as page:
        page.locator(f'#case-list li[data-id="{cases["olga"].id}"]').click()
        reason = "not timed: the post was 3 days old when Hubbub first saw it"
        for shown in (page.locator("#case-first-response"), page.locator("#case-resolution")):
            expect(shown).to_have_text(reason)
            expect(shown).not_to_have_class("breached")

        page.locator(f'#case-list li[data-id="{cases["fred"].id}"]').click()
        shown = page.locator("#case-first-response")
        expect(shown).to_contain_text("target missed by")
        expect(shown).to_have_class("breached")

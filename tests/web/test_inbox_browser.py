"""The team inbox in real browsers: two agents of one workspace in two
browser contexts (and an agent of another workspace in a third) take a
customer's complaint from arrival to a reply on the network, resolve it, and
see it reopen when the customer writes again, all live and by keyboard;
the page passes the axe-core scan with no serious or critical violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.web.axe import assert_no_serious_violations
from tests.web.conftest import PASSWORD
from tests.web.test_inbox_api import (
    OTHER,
    InboxServer,
    customer_post,
    new_case,
    start_inbox_server,
    wait_for,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def inbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InboxServer]:
    yield from start_inbox_server(tmp_path_factory.mktemp("inbox-browser"))


class Agent:
    """One person's browser context, signed in, on the inbox page."""

    def __init__(self, browser, inbox_server: InboxServer, name: str, workspace: str = "default"):  # noqa: ANN001
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on(
            "console",
            # The app serves no favicon: the browser's own request for one is no page error.
            lambda m: (
                self.errors.append(f"{m.text} at {m.location.get('url')}")
                if m.type == "error" and not str(m.location.get("url", "")).endswith("/favicon.ico")
                else None
            ),
        )
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # Which resource failed, not just that one did.
        self.page.on(
            "response",
            lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        base = inbox_server.url
        self.page.goto(base + "/login?next=/inbox")
        self.page.fill("input[name=name]", name)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.fill("input[name=workspace]", workspace)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_url(base + "/inbox")
        expect(self.page.locator("#live-status")).to_have_text("live")

    def item(self, case: int):  # noqa: ANN201
        return self.page.locator(f'#case-list li[data-id="{case}"]')

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def agents(browser, inbox_server: InboxServer) -> Iterator[dict[str, Agent]]:  # noqa: ANN001
    made: dict[str, Agent] = {}
    try:
        made["ann"] = Agent(browser, inbox_server, "ann")
        made["bob"] = Agent(browser, inbox_server, "bob")
        made["oscar"] = Agent(browser, inbox_server, "oscar", OTHER)
        yield made
    finally:
        for agent in made.values():
            agent.close()


def test_two_agents_assign_answer_resolve_and_see_the_case_reopen(inbox_server, agents):
    ann, bob, oscar = agents["ann"], agents["bob"], agents["oscar"]
    first = customer_post(
        "my order arrived broken and nobody answers, terrible <img src=x onerror=alert(1)>",
        "maria",
    )
    inbox_server.server.submit(first)
    inbox_server.build()
    case = int(
        wait_for(
            lambda: ann.page.evaluate(
                "id => { const c = window.hubbubInbox.state.cases.find(c => c.post_ids.includes(id));"
                " return c ? c.id : null; }",
                first.id,
            ),
            what="the new case on Ann's page",
        )
    )
    # Both agents of the workspace see it arrive, live; the other workspace does not.
    expect(ann.item(case)).to_contain_text("@maria")
    expect(bob.item(case)).to_contain_text("Unassigned")
    expect(oscar.page.locator("#case-list li")).to_have_count(0)

    # Ann works by keyboard: j opens the first case, a assigns it to her.
    ann.page.locator("#case-list").focus()
    while ann.page.evaluate("() => window.hubbubInbox.state.selected") != case:
        ann.page.keyboard.press("j")
    expect(ann.page.locator("#case-author")).to_have_text("@maria")
    # The customer's hostile text is text: no element was made of it.
    expect(ann.page.locator("#timeline .ev-text").first).to_contain_text(
        "<img src=x onerror=alert(1)>"
    )
    assert ann.page.locator("#timeline img").count() == 0
    ann.page.keyboard.press("a")
    expect(ann.page.locator("#case-assignee")).to_have_text("ann")
    expect(bob.item(case)).to_contain_text("Assigned to ann")

    # r: Ann starts answering; Bob sees "being answered by ann" in the list
    # and on the case, and cannot answer over her.
    ann.page.keyboard.press("r")
    expect(ann.page.locator("#reply-text")).to_be_focused()
    expect(ann.page.locator("#case-claim")).to_have_text(
        "You are answering this case; the others see it."
    )
    expect(bob.item(case).locator(".ci-claim")).to_have_text("Being answered by ann")
    bob.item(case).click()
    expect(bob.page.locator("#case-claim")).to_have_text("Being answered by ann")
    expect(oscar.page.locator("#case-list li")).to_have_count(0)

    reply = "Sorry Maria, a new one is on its way today"
    ann.page.fill("#reply-text", reply)
    ann.page.click("#reply-send")
    expect(ann.page.locator("#reply-status")).to_have_text("Reply queued; it goes out once.")
    tweets = wait_for(
        lambda: [t for t in inbox_server.x.tweets if t["text"] == reply], what="the reply on X"
    )
    assert len(tweets) == 1 and tweets[0]["in_reply_to"] == first.id
    expect(ann.page.locator("#timeline .ev-reply .ev-text")).to_have_text(reply)
    # The claim is released with the reply: Bob's marker goes.
    expect(bob.page.locator("#case-claim")).to_be_hidden()
    expect(bob.item(case).locator(".ci-claim")).to_have_count(0)
    expect(bob.page.locator("#timeline .ev-reply .ev-text")).to_have_text(reply)

    # e resolves: the case leaves both agents' open views.
    ann.page.locator("#case-list").focus()
    ann.page.keyboard.press("e")
    expect(ann.page.locator("#case-status")).to_have_text("Resolved")
    expect(ann.item(case)).to_have_count(0)
    expect(bob.item(case)).to_have_count(0)

    # The customer writes again in the same thread: the case reopens for both.
    again = customer_post("still nothing arrived?!", "maria", reply_to=first.id, conv=first.id)
    inbox_server.server.submit(again)
    inbox_server.build()
    expect(bob.item(case)).to_contain_text("Open")
    expect(ann.item(case)).to_contain_text("still nothing arrived?!")
    bob.item(case).click()
    expect(bob.page.locator("#case-status")).to_have_text("Open")
    expect(bob.page.locator("#timeline")).to_contain_text("still nothing arrived?!")
    expect(oscar.page.locator("#case-list li")).to_have_count(0)
    # One reply on the network, all along.
    assert len([t for t in inbox_server.x.tweets if t["text"] == reply]) == 1
    for agent in (ann, bob, oscar):
        assert agent.errors == [], agent.errors


def test_snooze_views_help_and_the_accessibility_scan(inbox_server, agents):
    ann, bob = agents["ann"], agents["bob"]
    case = new_case(inbox_server, "how do I reset my password? the link is broken", "nils")
    expect(ann.item(case)).to_be_visible()
    ann.item(case).click()
    expect(ann.page.locator("#case-author")).to_have_text("@nils")
    # The scan of the page as an agent uses it: list, open case, reply box.
    assert_no_serious_violations(ann.page)
    # ? opens the shortcuts; Escape closes them and focus returns.
    ann.page.locator("#case-list").focus()
    ann.page.keyboard.press("?")
    expect(ann.page.locator("#help")).to_be_visible()
    expect(ann.page.locator("#help")).to_contain_text("resolve")
    assert_no_serious_violations(ann.page)
    ann.page.keyboard.press("Escape")
    expect(ann.page.locator("#help")).to_be_hidden()

    # Views: unassigned holds it; by priority after a change; by network.
    ann.page.click('button.view[data-view="unassigned"]')
    expect(ann.item(case)).to_be_visible()
    ann.page.click('button.view[data-network="mastodon"]')
    expect(ann.item(case)).to_have_count(0)
    ann.page.click('button.view[data-network="x"]')
    ann.item(case).click()
    ann.page.select_option("#priority", "urgent")
    expect(bob.item(case)).to_contain_text("Urgent")
    ann.page.click('button.view[data-priority="urgent"]')
    expect(ann.item(case)).to_be_visible()

    # s snoozes for the time chosen beside Snooze; every page shows it snoozed,
    # and the by-status view holds it (until it wakes, it is not resolved, so
    # "All" keeps it, as the service counts it).
    ann.item(case).click()
    ann.page.locator("#case-list").focus()
    ann.page.keyboard.press("s")
    expect(ann.page.locator("#case-status")).to_contain_text("Snoozed")
    expect(bob.item(case).locator(".ci-status")).to_have_text("Snoozed")
    ann.page.click('button.view[data-status="snoozed"]')
    expect(ann.item(case)).to_be_visible()
    ann.page.click('button.view[data-status="new"]')
    expect(ann.item(case)).to_have_count(0)
    assert ann.errors == [] and bob.errors == []


def test_a_viewer_reads_without_controls_and_the_page_passes_the_scan(browser, inbox_server):  # noqa: ANN001
    case = new_case(inbox_server, "the app keeps crashing, terrible support", "olaf")
    vera = Agent(browser, inbox_server, "vera")
    try:
        expect(vera.item(case)).to_be_visible()
        vera.item(case).click()
        expect(vera.page.locator("#case-author")).to_have_text("@olaf")
        expect(vera.page.locator("#reply-text")).to_have_count(0)
        expect(vera.page.locator("#resolve")).to_have_count(0)
        # Shortcuts that act do nothing for a viewer.
        vera.page.locator("#case-list").focus()
        vera.page.keyboard.press("e")
        vera.page.keyboard.press("a")
        expect(vera.page.locator("#case-status")).to_have_text("New")
        assert_no_serious_violations(vera.page)
        assert vera.errors == []
    finally:
        vera.close()


FOCUS_STOPS = (
    "help-open",
    "label-filter",
    "case-list",
    "assign-to",
    "resolve",
    "snooze",
    "priority",
    "labels-input",
    "saved-reply",
    "reply-text",
    "reply-send",
    "note-text",
)


def test_focus_follows_the_panes_and_the_list_names_its_active_case(browser, inbox_server):  # noqa: ANN001
    case = new_case(inbox_server, "my invoice is wrong and nobody replies, awful", "petra")
    ann = Agent(browser, inbox_server, "ann")
    try:
        ann.item(case).click()
        expect(ann.page.locator("#case-author")).to_have_text("@petra")
        # Tab walks views → list → the case's actions → reply → note, in reading order.
        ann.page.locator("#help-open").focus()
        seen: list[str] = []
        for _ in range(60):
            seen.append(ann.page.evaluate("() => document.activeElement.id"))
            ann.page.keyboard.press("Tab")
        stops = [s for s in seen if s in FOCUS_STOPS]
        first = stops[: stops.index("note-text") + 1]
        assert list(dict.fromkeys(first)) == list(FOCUS_STOPS)
        # The list is a listbox whose active option is the open case, so a
        # screen reader names the case as j and k move through the list.
        listbox = ann.page.locator("#case-list")
        expect(listbox).to_have_attribute("role", "listbox")
        expect(listbox).to_have_attribute("aria-activedescendant", f"case-{case}")
        expect(ann.item(case)).to_have_attribute("aria-selected", "true")
        expect(ann.page.locator('#case-list [aria-selected="true"]')).to_have_count(1)
        # Every control of the case pane has a name a screen reader reads out.
        for control in ("#assign-to", "#snooze-for", "#priority", "#reply-text", "#note-text"):
            label = ann.page.evaluate(
                "sel => { const e = document.querySelector(sel);"
                " return e.labels && e.labels.length ? e.labels[0].textContent.trim() : ''; }",
                control,
            )
            assert label, control
        assert ann.errors == []
    finally:
        ann.close()

"""The chat room in a real browser: late joiners, dropped connections, pins,
hover pause, highlighting mid-chat, and what the projector leaves out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import make_post

pytestmark = pytest.mark.browser

SPAM = "FREE crypto giveaway!!! DM me now, link in bio https://promo.example/win 🚀💰"


def open_room(page, server, tag: str, path: str = "") -> None:
    page.goto(f"{server.url}/rooms/{tag}{path}")
    page.wait_for_function(
        "() => window.hubbubRoom && window.hubbubRoom.state.loaded"
        " && window.hubbubRoom.state.ws && window.hubbubRoom.state.ws.readyState === 1"
    )


def submit_all(server, posts) -> None:
    """Through the real pipeline; wait until the last one is stored."""
    for post in posts[:-1]:
        server.submit(post, wait_stored=False)
    server.submit(posts[-1])


def list_ids(page) -> list[str]:
    return page.eval_on_selector_all("#posts > li", "els => els.map(e => e.dataset.id)")


@pytest.mark.slow
def test_late_joiner_sees_every_question_with_its_answers(page, server, tag):
    server.set_person(tag, "host", "x", "chathost")
    posts, expected = [], {}
    questions = {}
    for n in range(1, 6):
        q = make_post(tag, f"Q{n}: question number {n}?", handle="chathost")
        questions[n] = q
        posts.append(q)
        expected[n] = []
        for i in range(59):
            if i % 5 == 0:
                # A reply without a prefix answers the question it replies to.
                a = make_post(tag, f"reply {n}.{i}", handle=f"r{n}x{i}", reply_to=q.id)
                expected[n].append(a.id)
            elif i % 5 == 1:
                a = make_post(tag, f"just chatting {n}.{i}", handle=f"c{n}x{i}")
            else:
                a = make_post(tag, f"A{n} answer {n}.{i}", handle=f"a{n}x{i}", network="bluesky")
                expected[n].append(a.id)
            posts.append(a)
    assert len(posts) == 300
    submit_all(server, posts)
    open_room(page, server, tag)  # joins after all 300
    page.click("#view-qa")
    expect(page.locator("#qa .qa-question")).to_have_count(5)
    for n, ids in expected.items():
        section = page.locator(f'#qa .qa-question[data-question="{n}"]')
        expect(section.locator(".qa-title")).to_contain_text(f"question number {n}?")
        expect(section.locator(".qa-answer")).to_have_count(len(ids))
        shown = section.locator(".qa-answer").evaluate_all("els => els.map(e => e.dataset.id)")
        assert shown == ids  # every answer, in the order written
    expect(page.locator("#qa")).not_to_contain_text("just chatting")


@pytest.mark.slow
def test_a_reader_dropped_for_300_posts_gets_all_of_them_in_order(page, server, tag):
    # The page's WebSocket goes through a relay the test can cut, as a
    # network drop would; everything else is the real server.
    relay = {"offline": False, "routes": []}

    def on_socket(ws) -> None:
        if relay["offline"]:
            ws.close(code=1011, reason="offline")
            return
        ws.connect_to_server()
        relay["routes"].append(ws)

    page.route_web_socket("**/live", on_socket)
    open_room(page, server, tag)
    before = [make_post(tag, f"before the drop {i}") for i in range(3)]
    submit_all(server, before)
    expect(page.locator("#posts > li")).to_have_count(3)

    relay["offline"] = True
    for ws in relay["routes"]:
        ws.close(code=1011, reason="network drop")
    page.wait_for_function("() => window.hubbubRoom.state.ws.readyState === 3")
    missed = [make_post(tag, f"missed {i:03d}", handle=f"m{i % 17}") for i in range(300)]
    submit_all(server, missed)
    relay["offline"] = False
    after = make_post(tag, "after the reconnect")
    expect(page.locator("#posts > li")).to_have_count(303, timeout=30_000)
    page.wait_for_function("() => window.hubbubRoom.state.ws.readyState === 1", timeout=30_000)
    server.submit(after)
    expect(page.locator("#posts > li")).to_have_count(304)
    # Newest first on the page: reversed, it is the order they were written.
    assert list(reversed(list_ids(page))) == [p.id for p in [*before, *missed, after]]


def test_a_pinned_post_shows_for_every_reader(browser, host_page, server, tag):
    open_room(host_page, server, tag)
    reader_ctx = browser.new_context()
    try:
        reader = reader_ctx.new_page()
        open_room(reader, server, tag)
        important = make_post(tag, "Read the rules before posting", handle="mod")
        submit_all(server, [important, make_post(tag, "hello"), make_post(tag, "hi all")])
        expect(host_page.locator("#posts > li")).to_have_count(3)
        host_page.locator("#posts > li", has_text="Read the rules").locator(".tool-pin").click()
        expect(reader.locator("#pins > li")).to_have_count(1)
        expect(reader.locator("#pins")).to_contain_text("Read the rules before posting")
        # Persisted: a reader who comes later sees it too.
        late = reader_ctx.new_page()
        open_room(late, server, tag)
        expect(late.locator("#pins > li")).to_have_count(1)
        expect(late.locator("#pins")).to_contain_text("Read the rules before posting")
        host_page.locator("#pins > li").locator(".tool-pin").click()  # unpin
        expect(reader.locator("#pins > li")).to_have_count(0)
        expect(late.locator("#pins")).to_be_hidden()
    finally:
        reader_ctx.close()


def test_hovering_the_stream_pauses_it(page, server, tag):
    open_room(page, server, tag)
    submit_all(server, [make_post(tag, "first post")])
    expect(page.locator("#posts > li")).to_have_count(1)
    page.locator("#posts > li").first.hover()
    submit_all(server, [make_post(tag, f"while hovering {i}") for i in range(3)])
    expect(page.locator("#waiting-count")).to_have_text("3")
    assert page.locator("#posts > li").count() == 1
    page.locator("h1").hover()
    expect(page.locator("#posts > li")).to_have_count(4)
    expect(page.locator("#waiting-count")).to_have_text("0")


def test_a_host_added_mid_chat_is_highlighted_on_posts_already_shown(page, server, tag):
    open_room(page, server, tag)
    early = make_post(tag, "I will host today", handle="latehost")
    submit_all(server, [early, make_post(tag, "someone else", handle="other")])
    item = page.locator(f'#posts > li[data-id="{early.id}"]')
    expect(item).to_have_count(1)
    expect(item).not_to_have_class("post role-host")
    server.set_person(tag, "host", "x", "latehost")
    expect(item).to_have_class("post role-host")
    expect(item.locator(".role-label")).to_have_count(1)
    other = page.locator("#posts > li", has_text="someone else")
    expect(other).to_have_class("post")


def test_projector_shows_neither_spam_nor_removed_posts(browser, host_page, server, tag):
    projector_ctx = browser.new_context()
    try:
        projector = projector_ctx.new_page()
        open_room(projector, server, tag, "/projector")
        reader = projector_ctx.new_page()
        open_room(reader, server, tag)
        open_room(host_page, server, tag)
        good = make_post(tag, "A1 a thoughtful answer")
        spam = make_post(tag, SPAM, handle="spammer")
        doomed = make_post(tag, "something the host will take down", handle="rude")
        last = make_post(tag, "A1 another good one")
        submit_all(server, [good, spam, doomed])
        expect(host_page.locator("#posts > li")).to_have_count(3)
        host_page.locator("#posts > li", has_text="take down").locator(".tool-remove").click()
        host_page.locator("h1").hover()
        submit_all(server, [last])
        expect(projector.locator("#posts > li")).to_have_count(2)
        assert set(list_ids(projector)) == {good.id, last.id}
        # A reader's page keeps the spam (the projector alone hides it) but
        # not what the host removed.
        expect(reader.locator("#posts > li")).to_have_count(3)
        assert set(list_ids(reader)) == {good.id, spam.id, last.id}
        # A projector opened now loads the same: neither comes back.
        projector.reload()
        projector.wait_for_function("() => window.hubbubRoom.state.loaded")
        expect(projector.locator("#posts > li")).to_have_count(2)
        assert set(list_ids(projector)) == {good.id, last.id}
    finally:
        projector_ctx.close()


def test_the_room_offers_the_recap_downloads(page, server, tag):
    submit_all(server, [make_post(tag, "Q1: what now?"), make_post(tag, "A1 lunch")])
    open_room(page, server, tag)
    for fmt, kind in (
        ("html", "text/html"),
        ("md", "text/markdown"),
        ("pdf", "application/pdf"),
        ("json", "application/json"),
    ):
        link = page.locator(f".recap-links a.recap-{fmt}")
        expect(link).to_have_count(1)
        response = page.request.get(server.url + link.get_attribute("href"))
        assert response.ok and response.headers["content-type"].startswith(kind)
    data = page.request.get(f"{server.url}/api/rooms/{tag}/recap?format=json").json()
    assert [(q["number"], q["text"], q["answer_count"]) for q in data["questions"]] == [
        (1, "what now?", 1)
    ]


def test_removing_a_cross_posted_entry_removes_it_on_every_network(browser, host_page, server, tag):
    # One person posts the same words on X and Mastodon: the page shows one
    # entry with both badges. The host's Remove on it takes out both posts,
    # so it does not come back on the next page load.
    twin_x = make_post(tag, "something the host will take down", handle="rude", name="Rude Person")
    twin_m = make_post(
        tag,
        "something the host will take down",
        network="mastodon",
        handle="rude@m.example",
        name="Rude Person",
    )
    open_room(host_page, server, tag)
    submit_all(server, [twin_x, twin_m, make_post(tag, "A1 a good answer")])
    expect(host_page.locator("#posts > li")).to_have_count(2)
    host_page.locator("#posts > li", has_text="take down").locator(".tool-remove").click()
    expect(host_page.locator("#posts > li")).to_have_count(1)
    reader_ctx = browser.new_context()
    try:
        reader = reader_ctx.new_page()
        open_room(reader, server, tag)
        expect(reader.locator("#posts > li")).to_have_count(1)
        expect(reader.locator("#posts > li", has_text="take down")).to_have_count(0)
    finally:
        reader_ctx.close()

"""The room page in a real browser, checked the way a user would check it."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.web.conftest import make_post, start_server, stop_server

pytestmark = pytest.mark.browser


def open_room(page, server, tag: str) -> None:
    page.goto(f"{server.url}/rooms/{tag}")
    # Connected and the first page of posts loaded.
    page.wait_for_function(
        "() => window.hubbubRoom && window.hubbubRoom.state.loaded && window.hubbubRoom.state.ws.readyState === 1"
    )


def visible_ids(page) -> list[str]:
    return page.eval_on_selector_all(
        "#posts > li:not([hidden])", "els => els.map(e => e.dataset.id)"
    )


def shown(page) -> int:
    return page.locator("#posts > li").count()


@pytest.fixture(scope="module")
def sim_server(tmp_path_factory):
    srv = start_server(
        tmp_path_factory.mktemp("sim"), sources=("sim:simroom?rate=10&seed=3&speed=30",)
    )
    yield srv
    stop_server(srv)


def test_posts_arrive_live_from_the_simulator(page, sim_server):
    open_room(page, sim_server, "simroom")
    expect(page.locator("#posts > li").nth(4)).to_be_attached(timeout=30_000)
    first = page.locator("#posts > li").first
    expect(first.locator(".badge")).not_to_have_count(0)
    expect(first.locator(".name")).not_to_be_empty()
    expect(first.locator("time")).not_to_be_empty()


def test_pause_freezes_the_list_and_counts_what_waits(page, server, tag):
    open_room(page, server, tag)
    for i in range(2):
        server.submit(make_post(tag, f"before pause {i}"))
    expect(page.locator("#posts > li")).to_have_count(2)
    page.click("#pause")
    for i in range(3):
        server.submit(make_post(tag, f"while paused {i}"))
    expect(page.locator("#waiting-count")).to_have_text("3")
    assert shown(page) == 2
    page.locator("h1").click()  # focus off the button, then the space bar resumes
    page.keyboard.press("Space")
    expect(page.locator("#posts > li")).to_have_count(5)
    expect(page.locator("#waiting-count")).to_have_text("0")
    page.keyboard.press("Space")  # and pauses again
    server.submit(make_post(tag, "paused by the space bar"))
    expect(page.locator("#waiting-count")).to_have_text("1")
    assert shown(page) == 5


def test_slow_mode_queues_without_dropping(page, server, tag):
    open_room(page, server, tag)
    page.fill("#slow-rate", "1")
    page.check("#slow-on")
    start = time.monotonic()
    for i in range(8):
        server.submit(make_post(tag, f"burst {i}"))
    expect(page.locator("#posts > li")).not_to_have_count(0)
    page.wait_for_timeout(2000)
    count = shown(page)
    elapsed = time.monotonic() - start
    assert count <= elapsed * 1 + 1, (count, elapsed)
    assert count < 8
    assert int(page.text_content("#waiting-count")) == 8 - count
    page.uncheck("#slow-on")
    expect(page.locator("#posts > li")).to_have_count(8)  # queued, never dropped


def test_filters(page, server, tag):
    server.set_person(tag, "host", "x", "hosty")
    q1 = make_post(
        tag, "Q1: what is your favourite tool?", network="x", handle="hosty", name="Host Y"
    )
    repost = make_post(
        tag, "RT a repost", network="bluesky", repost_of="at://elsewhere/app.bsky.feed.post/1"
    )
    a1 = make_post(tag, "A1 my editor", network="mastodon", langs=("pl",))
    reply = make_post(tag, "pens, always", network="x", reply_to=q1.id)
    other = make_post(tag, "just chatting", network="bluesky", langs=("de",))
    open_room(page, server, tag)
    for p in (q1, repost, a1, reply, other):
        server.submit(p)
    expect(page.locator("#posts > li")).to_have_count(5)
    everyone = {q1.id, repost.id, a1.id, reply.id, other.id}
    expect(page.locator(f'#posts > li[data-id="{q1.id}"]')).to_have_class("post role-host")

    def check(expected: set[str]) -> None:
        page.wait_for_function("() => 1")  # let the change handler run
        assert set(visible_ids(page)) == expected

    page.check("#f-reposts")
    check(everyone - {repost.id})
    page.uncheck("#f-reposts")
    page.check("#f-people")
    check({q1.id})
    page.uncheck("#f-people")
    page.check("#f-questions")
    check({q1.id})
    page.uncheck("#f-questions")
    page.fill("#f-answers", "1")
    check({a1.id, reply.id})
    page.fill("#f-answers", "")
    page.select_option("#f-network", "mastodon")
    check({a1.id})
    page.select_option("#f-network", "")
    page.select_option("#f-lang", "pl")
    check({a1.id})
    page.select_option("#f-lang", "")
    check(everyone)


def test_block_hides_an_author_for_everyone(browser, host_page, server, tag):
    troll = dict(network="x", handle="troll", name="Troll")
    open_room(host_page, server, tag)
    server.submit(make_post(tag, "first troll post", **troll))
    server.submit(make_post(tag, "a kind post", handle="kind"))
    expect(host_page.locator("#posts > li")).to_have_count(2)
    host_page.locator("#posts > li", has_text="first troll post").locator(".tool-block").click()
    host_page.locator("h1").hover()  # off the stream: hovering it pauses
    expect(host_page.locator("#posts > li")).to_have_count(1)
    server.submit(make_post(tag, "second troll post", **troll))
    server.submit(make_post(tag, "another kind post", handle="kind"))
    expect(host_page.locator("#posts > li")).to_have_count(2)
    expect(host_page.locator("#posts")).not_to_contain_text("troll post")
    context = browser.new_context()
    try:
        public = context.new_page()
        open_room(public, server, tag)
        expect(public.locator("#posts > li")).to_have_count(2)
        expect(public.locator("#posts")).not_to_contain_text("troll post")
    finally:
        context.close()


def test_cross_post_shows_once_with_both_badges(page, server, tag):
    open_room(page, server, tag)
    server.submit(
        make_post(tag, "Great chat everyone! #extra", network="x", handle="dana", name="Dana Q")
    )
    server.submit(
        make_post(
            tag,
            "Great chat   everyone!",
            network="bluesky",
            handle="dana.bsky.social",
            name="Dana Q",
        )
    )
    server.submit(
        make_post(
            tag, "Great chat everyone!", network="mastodon", handle="other", name="Someone Else"
        )
    )
    expect(page.locator("#posts > li")).to_have_count(2)
    merged = page.locator("#posts > li", has_text="Dana Q")
    expect(merged.locator(".badge")).to_have_count(2)
    expect(merged.locator(".badge-x")).to_have_count(1)
    expect(merged.locator(".badge-bluesky")).to_have_count(1)


def test_content_warning_is_folded_until_opened(page, server, tag):
    open_room(page, server, tag)
    server.submit(
        make_post(
            tag, "the ending of the film", network="mastodon", content_warning="film spoilers"
        )
    )
    server.submit(make_post(tag, "a graphic photo", network="x", sensitive=True))
    expect(page.locator("#posts > li")).to_have_count(2)
    expect(page.locator("details.cw")).to_have_count(2)
    spoiler = page.locator("#posts > li", has_text="film spoilers")
    expect(spoiler.locator("summary")).to_have_text("film spoilers")
    expect(spoiler.get_by_text("the ending of the film")).to_be_hidden()
    spoiler.locator("summary").click()
    expect(spoiler.get_by_text("the ending of the film")).to_be_visible()
    expect(page.get_by_text("a graphic photo")).to_be_hidden()


def test_approval_queue_holds_posts_until_approved(browser, host_page, server, tag):
    open_room(host_page, server, tag)
    with host_page.expect_response(lambda r: r.url.endswith("/settings") and r.ok):
        host_page.check("#s-approval")
    context = browser.new_context()
    try:
        public = context.new_page()
        open_room(public, server, tag)
        held = make_post(tag, "please approve me")
        server.submit(held)
        queued = host_page.locator("#queue li.queued", has_text="please approve me")
        expect(queued).to_have_count(1)
        assert shown(public) == 0 and shown(host_page) == 0
        public.reload()
        public.wait_for_function("() => window.hubbubRoom.state.loaded")
        assert shown(public) == 0
        queued.locator("button.approve").click()
        expect(public.locator("#posts > li", has_text="please approve me")).to_have_count(1)
        expect(host_page.locator("#posts > li", has_text="please approve me")).to_have_count(1)
        rejected = make_post(tag, "reject me")
        server.submit(rejected)
        host_page.locator("#queue li.queued", has_text="reject me").locator("button.reject").click()
        expect(host_page.locator("#queue li.queued")).to_have_count(0)
        public.reload()
        public.wait_for_function("() => window.hubbubRoom.state.loaded")
        expect(public.locator("#posts > li")).to_have_count(1)
    finally:
        context.close()
        host_page.uncheck("#s-approval")


def test_qa_view_groups_answers_under_questions(page, server, tag):
    q1 = make_post(tag, "Q1 How did you start?", handle="hosty")
    q2 = make_post(tag, "Q2: What is next?", handle="hosty")
    open_room(page, server, tag)
    for p in (
        q1,
        make_post(tag, "A1 by accident", network="bluesky"),
        make_post(tag, "a1: a friend told me", network="mastodon"),
        q2,
        make_post(tag, "A2 more chats", network="x"),
        make_post(tag, "a reply without a prefix", network="x", reply_to=q2.id),
        make_post(tag, "off-topic chatter"),
    ):
        server.submit(p)
    expect(page.locator("#posts > li")).to_have_count(7)
    page.click("#view-qa")
    expect(page.locator("#qa .qa-question")).to_have_count(2)
    first = page.locator('#qa .qa-question[data-question="1"]')
    second = page.locator('#qa .qa-question[data-question="2"]')
    expect(first.locator(".qa-answer")).to_have_count(2)
    expect(second.locator(".qa-answer")).to_have_count(2)
    expect(second).to_contain_text("a reply without a prefix")
    expect(page.locator("#qa")).not_to_contain_text("off-topic chatter")


def test_posting_appends_the_hashtag_once_and_threads(host_page, server, tag):
    open_room(host_page, server, tag)
    host_page.fill("#c-text", "hello there")
    expect(host_page.locator("#n-x")).to_have_text(str(len(f"hello there #{tag}")))
    host_page.check("#c-thread")
    host_page.click("#c-send")
    expect(host_page.locator("#posts > li", has_text="hello there")).to_have_count(1)
    host_page.fill("#c-text", f"again with #{tag.upper()} inside")
    host_page.click("#c-send")
    expect(host_page.locator("#posts > li")).to_have_count(2)
    texts = host_page.eval_on_selector_all(
        "#posts > li .text", "els => els.map(e => e.textContent)"
    )
    assert sorted(texts) == sorted([f"hello there #{tag}", f"again with #{tag.upper()} inside"])
    posts = host_page.request.get(f"{server.url}/api/rooms/{tag}/posts").json()
    newest, oldest = posts[0], posts[1]
    assert newest["network"] == "web" and newest["id"].startswith("web:")
    assert newest["reply_to"] == oldest["id"]  # threaded: each replies to the previous


def test_x_counter_weights_links_and_wide_characters(host_page, server, tag):
    open_room(host_page, server, tag)
    host_page.fill("#c-text", f"日本 https://example.com/a/very/long/path/that/is/long #{tag}")
    expect(host_page.locator("#n-x")).to_have_text(str(4 + 1 + 23 + 1 + 1 + len(tag)))


def test_guest_posts_only_when_the_host_allows(browser, host_page, server, tag):
    open_room(host_page, server, tag)
    context = browser.new_context()
    try:
        guest = context.new_page()
        open_room(guest, server, tag)
        expect(guest.locator("#compose")).to_be_hidden()
        status = guest.evaluate(
            """async (tag) => (await fetch('/api/rooms/' + tag + '/posts', {method: 'POST',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': document.getElementById('room').dataset.csrf},
                body: JSON.stringify({text: 'let me in', name: 'Gus'})})).status""",
            tag,
        )
        assert status == 403
        with host_page.expect_response(lambda r: r.url.endswith("/settings") and r.ok):
            host_page.check("#s-guests")
        guest.reload()
        guest.wait_for_function("() => window.hubbubRoom.state.loaded")
        expect(guest.locator("#compose")).to_be_visible()
        guest.fill("#c-name", "Gus the Guest")
        guest.fill("#c-text", "hello from outside")
        guest.click("#c-send")
        item = guest.locator("#posts > li", has_text="hello from outside")
        expect(item).to_have_count(1)
        expect(item.locator(".name")).to_have_text("Gus the Guest")
        expect(item.locator(".guest-label")).to_have_count(1)
        expect(host_page.locator("#posts > li", has_text="hello from outside")).to_have_count(1)
    finally:
        context.close()
        host_page.uncheck("#s-guests")


def test_projector_mode_has_no_controls(page, server, tag):
    server.submit(make_post(tag, "on the big screen"))
    page.goto(f"{server.url}/rooms/{tag}/projector")
    page.wait_for_function("() => window.hubbubRoom && window.hubbubRoom.state.loaded")
    expect(page.locator("#posts > li", has_text="on the big screen")).to_have_count(1)
    assert page.locator("#pause").count() == 0 and page.locator("#compose").count() == 0
    assert "projector" in (page.get_attribute("body", "class") or "")

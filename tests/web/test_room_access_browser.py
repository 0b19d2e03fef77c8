"""Room access in a real browser: a host opens a room from its URL, makes it
private, and closes guest posting everywhere; visitors see the result."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LIVE = (
    "() => window.hubbubRoom && window.hubbubRoom.state.loaded"
    " && window.hubbubRoom.state.ws.readyState === 1"
)


def test_a_host_opens_a_room_and_makes_it_private(browser, host_page, server, tag) -> None:
    fresh = tag + "new"
    context = browser.new_context()
    try:
        visitor = context.new_page()
        assert visitor.goto(f"{server.url}/rooms/{fresh}").status == 404
        host_page.goto(f"{server.url}/rooms/{fresh}")
        expect(host_page.locator("main.room-closed")).to_be_visible()
        host_page.click("form.open-room button[type=submit]")
        host_page.wait_for_url(f"{server.url}/rooms/{fresh}")
        host_page.wait_for_function(LIVE)
        expect(host_page.locator("#s-public")).to_be_checked()
        assert visitor.goto(f"{server.url}/rooms/{fresh}").status == 200
        visitor.wait_for_function(LIVE)
        with host_page.expect_response(lambda r: r.url.endswith("/settings") and r.ok):
            host_page.uncheck("#s-public")
        assert visitor.goto(f"{server.url}/rooms/{fresh}").status == 404
        host_page.reload()
        host_page.wait_for_function(LIVE)  # signed-in users still read it
        expect(host_page.locator("#s-public")).not_to_be_checked()
    finally:
        context.close()


def test_closing_guest_posting_hides_the_guests_compose_box(
    browser, host_page, server, tag
) -> None:
    host_page.goto(f"{server.url}/rooms/{tag}")
    host_page.wait_for_function(LIVE)
    with host_page.expect_response(lambda r: r.url.endswith("/settings") and r.ok):
        host_page.check("#s-guests")
    context = browser.new_context()
    try:
        guest = context.new_page()
        guest.goto(f"{server.url}/rooms/{tag}")
        guest.wait_for_function(LIVE)
        expect(guest.locator("#compose")).to_be_visible()
        with host_page.expect_response(lambda r: r.url.endswith("/guests/close") and r.ok):
            host_page.click("#close-guests")
        expect(host_page.locator("#s-guests")).not_to_be_checked()
        status = guest.evaluate(
            """async (tag) => (await fetch('/api/rooms/' + tag + '/posts', {method: 'POST',
                headers: {'Content-Type': 'application/json',
                          'X-CSRF-Token': document.getElementById('room').dataset.csrf},
                body: JSON.stringify({text: 'too late', name: 'Gus'})})).status""",
            tag,
        )
        assert status == 403
        guest.reload()
        guest.wait_for_function(LIVE)
        expect(guest.locator("#compose")).to_be_hidden()
    finally:
        context.close()


def test_a_viewer_posts_from_the_compose_box_the_room_offers(browser, server, tag) -> None:
    """The page offers a viewer the compose box where the room takes guest
    posts, and the server takes the post (it used to answer 403)."""
    from hubbub.web.accounts import create_user
    from tests.web.conftest import PASSWORD, login

    name = "viewer" + tag
    create_user(server.app.state.store, "default", name, PASSWORD, role="viewer")
    server.app.state.rooms.update(tag, allow_guests=True)
    server.call(server.app.state.hubs.refresh(tag))
    context = browser.new_context()
    try:
        viewer = context.new_page()
        viewer.set_default_timeout(10_000)
        login(viewer, server.url, name)
        viewer.goto(f"{server.url}/rooms/{tag}")
        viewer.wait_for_function(LIVE)
        expect(viewer.locator("#compose")).to_be_visible()
        expect(viewer.locator("#c-name")).to_be_hidden()  # posts under their own name
        viewer.fill("#c-text", "a viewer's answer")
        with viewer.expect_response(lambda r: r.url.endswith("/posts") and r.status == 201):
            viewer.click("#c-send")
        expect(viewer.locator("#c-msg")).to_have_text("Posted.")
        expect(viewer.locator("#posts")).to_contain_text("a viewer's answer")
    finally:
        context.close()

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

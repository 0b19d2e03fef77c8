"""The account page in a real browser: a user sees where they are signed in
and signs another browser out; the other browser is a visitor at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hubbub.web.accounts import create_user
from tests.web.conftest import PASSWORD, login

pytestmark = pytest.mark.browser


def test_signing_another_browser_out_from_the_account_page(browser, server) -> None:  # noqa: ANN001
    create_user(server.app.state.store, "default", "carol", PASSWORD, role="agent")
    laptop_ctx, phone_ctx = browser.new_context(), browser.new_context()
    try:
        laptop, phone = laptop_ctx.new_page(), phone_ctx.new_page()
        for pg in (laptop, phone):
            pg.set_default_timeout(10_000)
            login(pg, server.url, "carol")
        laptop.click("nav a.who")
        expect(laptop).to_have_url(server.url + "/account")
        rows = laptop.locator("table.sessions tbody tr")
        expect(rows).to_have_count(2)
        expect(laptop.locator("tr.current")).to_have_count(1)
        laptop.locator("tr:not(.current) button[type=submit]").click()
        expect(rows).to_have_count(1)
        phone.reload()
        expect(phone.locator("nav a[href^='/login']")).to_be_visible()
        expect(phone.locator("nav a.who")).to_have_count(0)
        # The laptop stays signed in.
        laptop.goto(server.url + "/")
        expect(laptop.locator("nav a.who")).to_have_text("carol")
    finally:
        laptop_ctx.close()
        phone_ctx.close()

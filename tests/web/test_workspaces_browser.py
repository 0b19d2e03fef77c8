"""Two workspaces side by side in two browsers (issue 10): an owner of
``default`` and an owner of ``acme`` sign in through the login form (acme's
with the workspace field), each in its own browser context. Both open a
room with the same hashtag from the page a host gets for an unopened room,
post into it, and save a listening query: each sees only its own posts
live, its own rooms on the home page and its own saved queries; an
anonymous reader of acme's public URL sees acme's room."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hubbub.store import open_store
from hubbub.web.accounts import create_user
from tests.web.conftest import PASSWORD, Server, start_server, stop_server

pytest.importorskip("playwright")
from playwright.sync_api import Page, expect  # noqa: E402

TAG = "sidebyside"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("ws-browser"))
    with open_store(str(srv.db)) as store:
        create_user(store, "acme", "ann", PASSWORD, role="owner")
    yield srv
    stop_server(srv)


def _sign_in(page: Page, base: str, name: str, workspace: str | None) -> None:
    page.goto(base + "/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    if workspace is not None:
        page.fill("input[name=workspace]", workspace)
    page.click("form.login button[type=submit]")
    page.wait_for_url(base + "/")
    expect(page.locator("nav.top")).to_contain_text("Sign out")


def _open_and_post(page: Page, base: str, text: str) -> None:
    page.goto(f"{base}/rooms/{TAG}")
    page.click("form.open-room button[type=submit]")
    page.wait_for_url(f"{base}/rooms/{TAG}")
    page.fill("#c-text", text)
    page.click("#c-send")
    expect(page.locator("#posts > li", has_text=text)).to_have_count(1)


def _save_query(page: Page, base: str, name: str) -> None:
    page.goto(base + "/listen")
    page.fill("#query-name", name)
    page.fill("#query-text", name)
    page.click("#query-add")
    expect(page.locator(f'#query-list li[data-name="{name}"]')).to_have_count(1)


def test_two_workspaces_side_by_side(browser, server: Server) -> None:  # noqa: ANN001
    base = server.url
    contexts = [browser.new_context() for _ in range(3)]
    try:
        home, acme, anon = (c.new_page() for c in contexts)
        for page in (home, acme, anon):
            page.set_default_timeout(15_000)
        _sign_in(home, base, "host", None)
        _sign_in(acme, base, "ann", "acme")
        _open_and_post(home, base, "default speaking")
        _open_and_post(acme, base, "acme speaking")
        # Each room page is live: a new post in one shows there only.
        home.fill("#c-text", "default again")
        home.click("#c-send")
        expect(home.locator("#posts > li", has_text="default again")).to_have_count(1)
        expect(acme.locator("#posts > li")).to_have_count(1)
        expect(acme.locator("#posts")).not_to_contain_text("default")
        expect(home.locator("#posts")).not_to_contain_text("acme")
        # Listening: saved queries stay in their workspace.
        _save_query(home, base, "homequery")
        _save_query(acme, base, "acmequery")
        expect(home.locator("#query-list")).not_to_contain_text("acmequery")
        acme.reload()
        expect(acme.locator('#query-list li[data-name="acmequery"]')).to_have_count(1)
        expect(acme.locator("#query-list")).not_to_contain_text("homequery")
        # The acme room, read anonymously at acme's public URL, is acme's.
        anon.goto(f"{base}/w/acme/rooms/{TAG}")
        expect(anon.locator("#posts > li", has_text="acme speaking")).to_have_count(1)
        expect(anon.locator("#posts")).not_to_contain_text("default")
        acme.goto(f"{base}/rooms/{TAG}")
        acme.fill("#c-text", "acme live for readers")
        acme.click("#c-send")
        expect(anon.locator("#posts > li", has_text="acme live for readers")).to_have_count(1)
        # The default room at /rooms/TAG never got acme's posts.
        anon.goto(f"{base}/rooms/{TAG}")
        expect(anon.locator("#posts > li", has_text="default speaking")).to_have_count(1)
        expect(anon.locator("#posts")).not_to_contain_text("acme")
        # Signed in to acme, the default's public URL is not ann's to read.
        response = acme.goto(f"{base}/w/default/rooms/{TAG}")
        assert response is not None and response.status == 404
    finally:
        for context in contexts:
            context.close()

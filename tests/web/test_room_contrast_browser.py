"""The room's post metadata (``.meta .handle``, time, kind) is readable: axe
finds no serious violation (colour contrast: WCAG AA 4.5:1) on host, guest
and plain posts, live and paused (paused posts are dimmed), and on the
projector page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.axe import serious_violations
from tests.web.conftest import make_post
from tests.web.test_room_browser import open_room

pytestmark = pytest.mark.browser


def _posts(server, tag: str) -> None:  # noqa: ANN001
    server.set_person(tag, "host", "x", "hosty")
    server.set_person(tag, "guest", "x", "guesty")
    server.submit(make_post(tag, "from the host", handle="hosty"))
    server.submit(make_post(tag, "from a guest", handle="guesty"))
    server.submit(make_post(tag, "from anyone", handle="someone"))


def test_room_post_metadata_meets_contrast(page, server, tag) -> None:  # noqa: ANN001
    _posts(server, tag)
    open_room(page, server, tag)
    expect(page.locator("#posts > li")).to_have_count(3)
    assert serious_violations(page, include="#posts") == []
    page.click("#pause")
    server.submit(make_post(tag, "while paused"))
    expect(page.locator("#waiting-count")).to_have_text("1")
    assert serious_violations(page, include="#posts") == []


def test_projector_post_metadata_meets_contrast(page, server, tag) -> None:  # noqa: ANN001
    _posts(server, tag)
    page.goto(f"{server.url}/rooms/{tag}/projector")
    expect(page.locator("#posts > li")).to_have_count(3)
    assert serious_violations(page, include="#posts") == []

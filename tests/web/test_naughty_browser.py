"""Every Big List of Naughty Strings entry as post text (also inside a link),
author name and guest name renders as text: no script runs, no markup is
created, no server error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hubbub.web.compose import clean_name
from tests.conftest import SHARED_DATA
from tests.web.conftest import make_post
from tests.web.test_room_browser import open_room

pytestmark = pytest.mark.browser
BLNS = SHARED_DATA / "naughty" / "blns.txt"
# Our own canaries on top of the list: each sets a flag if it ever runs.
CANARIES = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned=1">',
    '"><svg onload="window.__pwned=1">',
    "javascript:window.__pwned=1",
]


def naughty_strings() -> list[str]:
    if not BLNS.is_file():
        pytest.skip(f"shared data not found: {BLNS}")
    lines = BLNS.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    strings = [s for s in lines if s.strip() and not s.startswith("#")]
    return [s.encode("utf-8", "replace").decode("utf-8", "replace") for s in strings] + CANARIES


def test_naughty_strings_render_as_text(browser, server, tag):
    strings = naughty_strings()
    server.app.state.rooms.update(tag, allow_guests=True)
    server.call(server.app.state.hubs.refresh(tag))
    context = browser.new_context()
    events: list[str] = []
    try:
        page = context.new_page()
        page.on("dialog", lambda d: (events.append("dialog: " + d.message), d.dismiss()))
        page.on("pageerror", lambda e: events.append(f"pageerror: {e}"))
        open_room(page, server, tag)
        expected: dict[str, tuple[str, str]] = {}
        for i, s in enumerate(strings):
            as_text = make_post(tag, s, name=s, handle=f"n{i}")
            in_link = make_post(tag, f"see https://example.com/{s} now", name=s, handle=f"l{i}")
            for post in (as_text, in_link):
                server.submit(post)
                expected[post.id] = (post.text, s)
        # Guests: every string as the chosen name, through the real endpoint.
        statuses = page.evaluate(
            """async ([tag, names]) => {
                const csrf = document.getElementById('room').dataset.csrf;
                const out = [];
                for (const name of names) {
                    const r = await fetch('/api/rooms/' + tag + '/posts', {method: 'POST',
                        headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf},
                        body: JSON.stringify({text: 'guest says hi', name: name})});
                    out.push(r.status);
                }
                return out;
            }""",
            [tag, strings],
        )
        assert all(code in (201, 422) for code in statuses), sorted(set(statuses))
        guest_names = [
            clean_name(s) for s, code in zip(strings, statuses, strict=True) if code == 201
        ]
        assert len(guest_names) > len(strings) * 0.9
        total = len(expected) + len(guest_names)
        expect(page.locator("#posts > li")).to_have_count(total, timeout=60_000)

        rendered = page.eval_on_selector_all(
            "#posts > li",
            """els => els.map(e => ({id: e.dataset.id, text: e.querySelector('.text').textContent,
                                      name: e.querySelector('.name').textContent}))""",
        )
        by_id = {r["id"]: r for r in rendered}
        for post_id, (text, name) in expected.items():
            assert by_id[post_id]["text"] == text
            assert by_id[post_id]["name"] == name
        shown_guests = sorted(r["name"] for r in rendered if r["id"].startswith("web:"))
        assert shown_guests == sorted(guest_names)
        # Only the elements the page itself makes: no markup from the strings.
        foreign = page.eval_on_selector_all(
            "#posts script, #posts img, #posts svg, #posts iframe, #posts object, #posts embed, "
            "#posts style, #posts form, #posts input, #posts [onerror], #posts [onload]",
            "els => els.length",
        )
        assert foreign == 0
        links = page.eval_on_selector_all("#posts a", "els => els.map(a => a.protocol)")
        assert set(links) <= {"http:", "https:"}
        assert page.evaluate("() => window.__pwned") is None
        assert events == []
        # The API served them all without a server error.
        response = page.request.get(f"{server.url}/api/rooms/{tag}/posts?limit=500")
        assert response.status == 200
    finally:
        context.close()

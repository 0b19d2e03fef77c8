"""The listening dashboard in a real browser: add a query through the form
(a syntax error flagged while typing), see matches and the scorecard follow
posts as they arrive, download the report; hostile text stays text."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.web.conftest import make_post

pytestmark = pytest.mark.browser


def open_dashboard(page, server) -> list[str]:  # noqa: ANN001
    """Open /listen and wait for its first full load; returns the console errors list
    (filled as they happen: a CSP violation shows up there)."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/listen")
    page.wait_for_function("() => window.hubbubListen && window.hubbubListen.state.lastFull > 0")
    return errors


def test_add_a_query_see_matches_and_scorecard_update_and_download_the_report(
    host_page, server, tag, tmp_path: Path
) -> None:
    page = host_page
    server.submit(make_post(tag, "Frobnitz customer service was great, love it", handle="alice"))
    errors = open_dashboard(page, server)

    # A syntax error is flagged while typing, with its column, before any submit.
    page.fill("#query-text", "frobnitz (")
    expect(page.locator("#query-error")).to_contain_text("column 10")
    expect(page.locator("#query-text")).to_have_class("invalid")
    # Fixed: the error goes and the preview shows the stored match.
    page.fill("#query-text", "frobnitz OR #frobnitz")
    expect(page.locator("#query-error")).to_have_text("")
    expect(page.locator("#preview-list li")).to_have_count(1)
    expect(page.locator("#preview-list .text")).to_contain_text("Frobnitz customer service")

    page.fill("#query-name", "frobnitz")
    page.fill("#query-group", "brand")
    page.click("#query-add")
    row = page.locator('#query-list li[data-name="frobnitz"]')
    expect(row.locator(".q-count")).to_have_text("1")
    expect(page.locator("#selection")).to_have_value("saved:frobnitz")
    expect(page.locator("#sc-mentions")).to_have_text("1")
    expect(page.locator("#sc-reach-note")).to_contain_text("1")

    # Posts arrive through the pipeline; the counters and the scorecard follow.
    server.submit(
        make_post(tag, "frobnitz broke again, terrible support, I want a refund", handle="bob")
    )
    server.submit(make_post(tag, "Back with #frobnitz: still great", handle="alice"))
    server.submit(make_post(tag, "a post about something else entirely", handle="carol"))
    expect(page.locator("#sc-mentions")).to_have_text("3")
    expect(row.locator(".q-count")).to_have_text("3")
    expect(row.locator(".q-live")).to_have_text("+2 new")
    expect(page.locator("#sc-passion-note")).to_contain_text("1 ")  # alice twice
    expect(page.locator("#sc-reach-note")).to_contain_text("2 ")
    expect(page.locator("#top-users li").first).to_contain_text("@alice")
    expect(page.locator("#chart-volume svg rect.bar").first).to_be_attached()
    sentiment_total = page.eval_on_selector_all(
        "#chart-sentiment svg text[class*=value-]",
        "els => els.reduce((n, e) => n + Number(e.textContent), 0)",
    )
    assert sentiment_total == 3
    # The classifiers' measured accuracy is shown beside the figures.
    expect(page.locator("#accuracy")).to_contain_text("macro recall")
    # The default "7 days" ends at the newest matching post, and says so.
    expect(page.locator("#period")).to_contain_text("the 7 days up to the newest matching post")
    # "All matching posts" sends no period: the report covers every matching post.
    page.select_option("#days", "all")
    expect(page.locator("#period")).to_contain_text("every matching post")
    expect(page.locator("#sc-mentions")).to_have_text("3")
    # A custom range with nothing in it: no mentions.
    page.select_option("#days", "custom")
    expect(page.locator("#custom-range")).to_be_visible()
    page.fill("#range-since", "2001-01-01")
    page.fill("#range-until", "2001-01-02")
    page.locator("#range-until").dispatch_event("change")
    expect(page.locator("#sc-mentions")).to_have_text("0")
    page.select_option("#days", "7")

    # The report downloads as one self-contained HTML file with inline SVG charts.
    with page.expect_download() as info:
        page.click("#report-html")
    download = info.value
    assert download.suggested_filename.startswith("hubbub-report-frobnitz-")
    assert download.suggested_filename.endswith(".html")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    html = target.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert "<svg" in html
    assert "<script" not in html.lower()
    assert "frobnitz" in html
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


def test_hostile_text_renders_as_text(host_page, server, tag) -> None:
    page = host_page
    hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> zyxwevil'
    server.submit(
        make_post(tag, hostile, handle="<b>mallory</b>", name='<svg onload="window.pwned=3">')
    )
    errors = open_dashboard(page, server)
    page.fill("#query-text", "zyxwevil")
    expect(page.locator("#preview-list .text")).to_contain_text(
        '<img src=x onerror="window.pwned=1">'
    )
    expect(page.locator("#preview-list .name")).to_have_text('<svg onload="window.pwned=3">')
    page.fill("#query-name", '<i>evil"&amp;')
    page.click("#query-add")
    row = page.locator("#query-list li.query").filter(has_text="<i>evil")
    expect(row.locator(".q-name")).to_have_text('<i>evil"&amp;')
    expect(row.locator(".q-count")).to_have_text("1")
    expect(page.locator("#top-users li").first).to_contain_text("@<b>mallory</b>")
    # Nothing the posts carried became markup or ran.
    assert page.locator("#listen img, #listen script, #listen b, #listen i").count() == 0
    assert page.locator("#listen svg[onload]").count() == 0
    assert page.evaluate("() => window.pwned") is None
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors

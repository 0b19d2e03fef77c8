"""The accessibility scan itself (tests/web/axe.py): it must find what it is
there to find, or a clean result on the inbox page would mean nothing."""

from __future__ import annotations

import pytest

from tests.web.axe import scan_all, serious_violations

pytestmark = pytest.mark.browser

BROKEN = """<!doctype html><html lang="en"><head><title>broken</title></head><body>
<main><h1>Broken on purpose</h1>
<button id="nameless"></button>
<img id="no-alt" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<label>fine <input id="ok"></label>
<input id="unlabelled">
</main></body></html>"""

FINE = """<!doctype html><html lang="en"><head><title>fine</title></head><body>
<main><h1>Fine</h1><button>Save</button><label>Name <input></label></main></body></html>"""


def test_the_scan_names_a_nameless_button_an_image_without_alt_and_an_unlabelled_field(
    page,  # noqa: ANN001
) -> None:
    page.set_content(BROKEN)
    found = {v.rule: v for v in serious_violations(page)}
    assert {"button-name", "image-alt", "label"} <= set(found)
    assert found["button-name"].targets == ("#nameless",)
    assert found["label"].targets == ("#unlabelled",)


def test_the_scan_finds_nothing_serious_on_a_labelled_page(page) -> None:  # noqa: ANN001
    page.set_content(FINE)
    assert serious_violations(page) == []
    # scan_all still reports lesser findings for people to read.
    assert all(v.impact not in ("serious", "critical") for v in scan_all(page))

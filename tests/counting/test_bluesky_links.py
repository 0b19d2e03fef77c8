"""Bluesky link facets as the app's published rich-text detection makes them
(``@atproto/api`` ``detectFacets``): a link starts the text or follows white
space or '('; with a scheme it is ``https?://`` and every non-space character
after it (no top-level-domain check); a bare domain needs a known top-level
domain; then one trailing ``.,;:!?`` and one unmatched ``)`` are left out."""

from __future__ import annotations

import pytest

from hubbub.counting import count_text

# (text, [(kind, byteStart, byteEnd, value)]) — offsets counted by hand (ASCII: one byte each).
LINKS: list[tuple[str, list[tuple[str, int, int, str]]]] = [
    # A scheme link needs no known top-level domain: "dev server " is 11 bytes.
    ("dev server http://localhost:8080/x", [("link", 11, 34, "http://localhost:8080/x")]),
    ("at https://127.0.0.1/a ok", [("link", 3, 22, "https://127.0.0.1/a")]),
    # Only one trailing punctuation character is left out.
    ("wow https://example.com/a!!", [("link", 4, 26, "https://example.com/a!")]),
    # A link must follow white space, '(' or the start of the text.
    ("see:https://example.com", []),
    # A bare domain's labels are letters and digits (no '-').
    ("visit my-site.com", []),
    ("(see https://example.org/a)", [("link", 5, 26, "https://example.org/a")]),
    ("visit example.com.", [("link", 6, 17, "https://example.com")]),
]


@pytest.mark.parametrize(("text", "expected"), LINKS)
def test_bluesky_links_follow_the_apps_rule(text, expected):
    facets = count_text(text, ("bluesky",))["bluesky"].facets
    assert [(f.kind, f.byte_start, f.byte_end, f.value) for f in facets] == expected

"""Each network's own count of hard texts, with the expected values worked
out by hand from the networks' published rules (written out per row):

- X: twitter-text config v3 — weight 1 for U+0000-U+10FF, U+2000-U+200D,
  U+2010-U+201F, U+2032-U+2037, weight 2 otherwise; any URL 23; an emoji
  sequence 2 once; NFC first.
- Bluesky: extended grapheme clusters (limit 300), facets at UTF-8 byte
  offsets, start inclusive, end exclusive.
- Mastodon: grapheme clusters after URLs with a scheme -> 23 characters and
  @user@host -> @user (limit 500).
"""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from hubbub.counting import count_text
from hubbub.counting.mastodon import MastodonLimits

LONG_URL = "https://example.com/" + "a" * 100  # 120 characters

# (text, X weighted length, Bluesky graphemes, Mastodon characters)
CASES: list[tuple[str, int, int, int]] = [
    ("hello", 5, 5, 5),
    ("👍", 2, 1, 1),  # one emoji
    ("👍🏽", 2, 1, 1),  # skin-tone modifier: still one emoji
    ("👩🏽\u200d💻", 2, 1, 1),  # ZWJ sequence with a skin tone
    ("👨\u200d👩\u200d👧\u200d👦", 2, 1, 1),  # family: 7 code points, one emoji
    ("🇵🇱", 2, 1, 1),  # flag: two regional indicators
    ("🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", 2, 1, 1),  # Scotland
    ("#\ufe0f\u20e3", 2, 1, 1),  # keycap
    ("❤\ufe0f", 2, 1, 1),  # heart shown as emoji
    ("❤", 2, 1, 1),  # U+2764 alone: outside the weight-1 ranges
    ("中文字", 6, 3, 3),  # CJK: 2 each on X
    ("こんにちは", 10, 5, 5),
    ("한국어", 6, 3, 3),
    ("Zażółć gęślą jaźń", 17, 17, 17),  # Polish: all below U+10FF
    ("שלום עולם", 9, 9, 9),  # Hebrew (right to left)
    ("مرحبا", 5, 5, 5),  # Arabic (right to left)
    ("e\u0301", 1, 1, 1),  # decomposed é: NFC makes one code point for X
    ("a\u0308\u0301", 2, 1, 1),  # NFC gives ä + combining acute: 2 code points
    ("Z\u0351\u036b\u0343", 4, 1, 1),  # stacked combining marks: one grapheme
    ("ก่", 2, 1, 1),  # Thai consonant + tone mark (U+0E01 U+0E48)
    ("a\u200db", 3, 2, 2),  # ZWJ U+200D weighs 1 on X; it joins 'a' into one cluster
    ("a—b", 3, 3, 3),  # em dash U+2014 is in U+2010-U+201F
    ("a…b", 4, 3, 3),  # ellipsis U+2026 is outside every weight-1 range
    ("“quoted”", 8, 8, 8),  # U+201C/U+201D weigh 1
    ("𝕏", 2, 1, 1),  # U+1D54F: not an emoji, default weight 2
    ("see " + LONG_URL, 27, 124, 27),  # a URL is 23 on X and Mastodon, whole on Bluesky
    ("(see https://example.org/a)", 29, 27, 29),  # closing parenthesis not in the URL
    ("example.com", 23, 11, 11),  # bare domain: a URL for X only
    ("ping @alice@mastodon.social", 27, 27, 11),  # Mastodon counts a remote mention as @alice
    ("@bob.bsky.social hi", 19, 19, 19),
    ("#chat, #hubbub!", 15, 15, 15),
    ("🎉 #party https://bsky.app", 33, 25, 32),
    ("中" * 140, 280, 140, 140),
    ("中" * 141, 282, 141, 141),
    ("a" * 301, 301, 301, 301),
    ("x" * 480 + " https://example.com/", 504, 501, 504),  # the URL is 20 characters
]


@pytest.mark.parametrize(("text", "x_len", "bsky_len", "masto_len"), CASES)
def test_each_network_counts_like_the_network(text, x_len, bsky_len, masto_len):
    counts = count_text(text)
    assert (counts["x"].length, counts["bluesky"].length, counts["mastodon"].length) == (
        x_len,
        bsky_len,
        masto_len,
    )
    assert counts["x"].ok is (x_len <= 280)
    assert counts["bluesky"].ok is (bsky_len <= 300)
    assert counts["mastodon"].ok is (masto_len <= 500)


def test_at_least_thirty_hard_texts():
    assert len(CASES) >= 30


# (text, [(kind, byteStart, byteEnd, value)]) — offsets counted in UTF-8 bytes by hand.
FACETS: list[tuple[str, list[tuple[str, int, int, str]]]] = [
    ("#chat, #hubbub!", [("tag", 0, 5, "chat"), ("tag", 7, 14, "hubbub")]),
    # "Zażółć " is 11 bytes (ż ó ł ć take 2 each); "#gęśl" is 7 bytes.
    ("Zażółć #gęśl", [("tag", 11, 18, "gęśl")]),
    # 🎉 is 4 bytes; "https://bsky.app" is 16.
    (
        "🎉 #party https://bsky.app",
        [("tag", 5, 11, "party"), ("link", 12, 28, "https://bsky.app")],
    ),
    ("@bob.bsky.social hi", [("mention", 0, 16, "bob.bsky.social")]),
    ("#123 #a1", [("tag", 5, 8, "a1")]),  # a tag of digits only is not a tag
    ("(see https://example.org/a)", [("link", 5, 26, "https://example.org/a")]),
    ("visit example.com.", [("link", 6, 17, "https://example.com")]),
    ("ping @alice@mastodon.social", []),  # not a Bluesky handle
    ("中文 #标签 ok", [("tag", 7, 14, "标签")]),  # CJK: 3 bytes each
    ("#" + "a" * 65, []),  # over 64 characters
]


@pytest.mark.parametrize(("text", "expected"), FACETS)
def test_bluesky_facets_at_utf8_byte_offsets(text, expected):
    facets = count_text(text, ("bluesky",))["bluesky"].facets
    got = [(f.kind, f.byte_start, f.byte_end, f.value) for f in facets]
    assert got == expected
    raw = text.encode("utf-8")
    for kind, start, end, value in expected:
        piece = raw[start:end].decode("utf-8")
        assert piece.lstrip("#@") in value, (kind, piece, value)


def test_empty_and_forbidden_texts_are_refused():
    for text in ("", "   \n"):
        counts = count_text(text)
        assert not any(c.ok for c in counts.values())
    assert count_text("a\ufeffb", ("x",))["x"].ok is False


def test_mastodon_uses_the_servers_limits():
    limits = MastodonLimits.from_instance(
        {"configuration": {"statuses": {"max_characters": 1000, "characters_reserved_per_url": 30}}}
    )
    c = count_text("see https://example.com/x " + "a" * 900, ("mastodon",), limits)["mastodon"]
    assert (c.length, c.limit, c.ok) == (4 + 30 + 1 + 900, 1000, True)
    # A document without the fields falls back to 500 and 23.
    assert MastodonLimits.from_instance({"configuration": {}}) == MastodonLimits(500, 23)
    assert MastodonLimits.from_instance("garbage") == MastodonLimits(500, 23)


def _hubbub(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "hubbub.cli", *args], input=stdin, capture_output=True, check=False
    )


def test_cli_json_contract():
    proc = _hubbub("count", "👨\u200d👩\u200d👧\u200d👦 中文 " + LONG_URL, "--json")
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.decode().strip().splitlines()[-1]
    data = orjson.loads(line)
    assert set(data) == {"x", "bluesky", "mastodon"}
    assert data["x"] == {"length": 2 + 1 + 4 + 1 + 23, "limit": 280, "ok": True}
    assert {k: data["mastodon"][k] for k in ("length", "limit", "ok")} == {
        "length": 1 + 1 + 2 + 1 + 23,
        "limit": 500,
        "ok": True,
    }
    assert data["bluesky"]["length"] == 1 + 1 + 2 + 1 + 120


def test_cli_reads_stdin_and_filters_networks():
    proc = _hubbub("count", "-", "--network", "bluesky", "--json", stdin=b"a" * 301 + b"\n")
    assert proc.returncode == 0, proc.stderr
    data = orjson.loads(proc.stdout)
    assert list(data) == ["bluesky"]
    assert data["bluesky"]["length"] == 301 and data["bluesky"]["ok"] is False


def test_cli_refuses_unknown_network_and_bad_input():
    proc = _hubbub("count", "hi", "--network", "myspace")
    assert proc.returncode == 2 and b"myspace" in proc.stderr and b"Traceback" not in proc.stderr
    proc = _hubbub("count", "-", stdin=b"\xff\xfe bad")
    assert proc.returncode == 2 and b"UTF-8" in proc.stderr and b"Traceback" not in proc.stderr


FAMILY = "👨\u200d👩\u200d👧\u200d👦"
# Cases of twitter-text's conformance suite (validate.yml, the sections run
# with configuration v3: WeightedTweetsWithDiscountedEmojiCounterTest and
# UnicodeDirectionalMarkerCounterTest): (text, weightedLength, valid).
X_CONFORMANCE: list[tuple[str, int, bool]] = [
    ("ÁB", 2, True),  # 'A' + combining acute normalises to one character
    ("A\ufb2c", 4, True),  # שּׁ decomposes into 3 characters under NFC
    ("故人西辞黄鹤楼，烟花三月下扬州。" * 10, 320, False),  # 160 CJK characters
    ("the" + "故人西辞黄鹤楼，烟花三月下扬州。" * 10, 323, False),
    ("😷" * 160, 320, False),
    ("https://www.twitter.com/aloha " * 10, 240, True),
    ("285 chars- http://www.twitter.com/jack " + "xxxxxxxxxx-" * 24, 299, False),
    ("randomurl" * 7 + "s.com", 68, True),  # a 64-character label is no domain: not a URL
    (FAMILY * 140, 280, True),
    ("1\u20e3", 2, True),  # keycap without U+FE0F is still one emoji
    (
        "Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        34,
        True,
    ),
    ("Unicode 9.0 emoji: 🤠; 💃; 💃🏾", 29, True),
    ("ABC\u202a\uffffABC\ufffe", 12, False),  # U+FFFF and U+FFFE are refused
    ("\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069", 31, True),  # marks around a URL
]


@pytest.mark.parametrize(("text", "length", "valid"), X_CONFORMANCE)
def test_x_conformance_cases(text, length, valid):
    counted = count_text(text, ("x",))["x"]
    assert (counted.length, counted.ok) == (length, valid)

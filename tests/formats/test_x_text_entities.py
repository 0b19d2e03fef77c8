"""X posts fetched without ``entities`` get their hashtags, mentions and links
from the text, by twitter-text's rules (``hubbub.formats.x_entities``); posts
that carry entities keep exactly those.

The real payloads are tweepy's recorded v2 responses, fetched with the default
tweet fields (id, text, edit_history_tweet_ids): no entities at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import PAYLOADS, require_shared_data

from hubbub.formats import Context
from hubbub.formats.x import parse_v1, parse_v2
from hubbub.formats.x_entities import from_text
from hubbub.post import Post

API = PAYLOADS / "x_api_responses"
CTX = Context(source="test")


def _posts(value: Any, parse: Any = parse_v2) -> dict[str, Post]:
    return {item.id: item for item in parse(value, CTX) if isinstance(item, Post)}


def _real(name: str) -> Any:
    require_shared_data()
    return json.loads(Path(API / name).read_text(encoding="utf-8"))


def test_a_real_tweet_without_entities_has_its_hashtag_and_links() -> None:
    (post,) = _posts(_real("v2_test_client_get_tweet.json")).values()
    assert "#TwitterAPI." in post.text
    assert post.hashtags == ("TwitterAPI",)
    assert post.mentions == ()
    assert post.links == ("https://t.co/32VrwpGaJw", "https://t.co/KaFSbjWUA8")


def test_real_retweets_without_entities_mention_the_retweeted_account() -> None:
    found = _posts(_real("v2_test_client_get_quote_tweets.json"))
    retweets = [p for p in found.values() if p.text.startswith("RT @TwitterAPI:")]
    assert len(retweets) == 7
    for post in retweets:
        assert post.mentions == ("TwitterAPI",)
        # The retweet's text is cut at "#Twi…": not the tag #Twi.
        assert post.text.endswith("#Twi…") and post.hashtags == ()
    assert found["1447395402676793345"].hashtags == ("Twitter",)
    assert found["1447395402676793345"].links == ("https://t.co/1GPaAuDXKi",)


def test_entities_when_present_are_used_as_sent_not_the_text() -> None:
    tweet = {
        "id": "1447395402676793345",
        "text": "#FromText @from_text https://t.co/abc",
        "entities": {
            "hashtags": [{"start": 0, "end": 9, "tag": "FromEntities"}],
            "urls": [{"url": "https://t.co/abc", "expanded_url": "https://example.com/x"}],
        },
    }
    (post,) = _posts({"data": tweet}).values()
    assert post.hashtags == ("FromEntities",)
    assert post.mentions == ()  # X said there is none: its word, not ours
    assert post.links == ("https://example.com/x",)


def test_a_long_post_without_entities_reads_its_whole_note_text() -> None:
    tweet = {
        "id": "1447395402676793345",
        "text": "start of a long post…",
        "note_tweet": {"text": "start of a long post, then #LateTag for @late_one"},
    }
    (post,) = _posts({"data": tweet}).values()
    assert (post.hashtags, post.mentions) == (("LateTag",), ("late_one",))


def test_a_v1_status_without_entities_is_read_the_same_way() -> None:
    status = {
        "id_str": "1447395402676793345",
        "text": "RT @Someone: &amp;#notatag but #Real &amp; @other",
        "created_at": "Mon Oct 11 03:00:00 +0000 2021",
        "user": {"id_str": "12", "screen_name": "me"},
    }
    (post,) = _posts(status, parse_v1).values()
    assert post.hashtags == ("Real",)
    assert post.mentions == ("Someone", "other")


@pytest.mark.parametrize(
    ("text", "hashtags"),
    [
        ("#tag", ("tag",)),
        ("a #tag.", ("tag",)),
        ("(#tag) [#two], #three!", ("tag", "two", "three")),
        ("fullwidth ＃タグ and #Łódź #café_au_lait #日本語 #한국어 #تست", None),
        ("word#tag x&#39; &#tag", ()),  # inside a word, an HTML escape
        ("#123 #1a #_ #_a", ("1a", "_a")),  # at least one letter
        ("#foo#bar", ()),  # a sign right after: neither is a tag
        ("##tag", ("tag",)),
        ("#tag://x #️⃣", ()),  # followed by ://; a keycap
        ("⭐️#star", ("star",)),  # a variation selector is a boundary
        ("https://example.com/#anchor and #real", ("real",)),  # not inside a URL
        ("#Dup #dup #Dup", ("Dup", "dup")),  # as written, each once
        ("#a https://x.co/#b #c https://y.co/p#d #e https://z.co/#f", ("a", "c", "e")),
    ],
)
def test_hashtags_follow_twitter_text(text: str, hashtags: tuple[str, ...] | None) -> None:
    if hashtags is None:
        hashtags = ("タグ", "Łódź", "café_au_lait", "日本語", "한국어", "تست")
    assert from_text(text).hashtags == hashtags


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("@jack hi", ("jack",)),
        ("RT @TwitterAPI: hi", ("TwitterAPI",)),
        ("RT@direct and rt:@colon", ("direct", "colon")),
        ("hi @you. (@them) ＠wide", ("you", "them", "wide")),
        ("mail a@b.com and x_@y", ()),  # after a word character
        ("!@a #@b $@c %@d &@e *@f @@g", ()),  # after twitter-text's excluded signs
        ("@bob@mastodon.social @bobé @x://y", ()),  # an @, an accent or :// after
        ("@owner/list-name", ()),  # a list, not a mention
        ("@abcdefghijklmno @abcdefghijklmnop", ("abcdefghijklmno",)),  # 15 max
        ("https://medium.com/@writer/post", ()),  # not inside a URL
    ],
)
def test_mentions_follow_twitter_text(text: str, mentions: tuple[str, ...]) -> None:
    assert from_text(text).mentions == mentions


def test_links_end_at_space_and_trailing_punctuation() -> None:
    found = from_text("see (https://t.co/AbC), https://t.co/x. and xhttps://t.co/no http://")
    assert found.links == ("https://t.co/AbC", "https://t.co/x")


@given(st.text(alphabet=st.sampled_from("#＃@＠ aZ9_é&:/.…\u20e3\ufe0fhttps"), max_size=60))
def test_hostile_text_never_raises_and_finds_only_what_it_holds(text: str) -> None:
    found = from_text(text)
    for tag in found.hashtags:
        assert f"#{tag}" in text or f"＃{tag}" in text
    for name in found.mentions:
        assert 1 <= len(name) <= 15 and (f"@{name}" in text or f"＠{name}" in text)
    for link in found.links:
        assert link in text and link.lower().startswith(("http://", "https://"))

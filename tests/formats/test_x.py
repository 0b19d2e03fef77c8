"""X v2 / v1.1 parsers: hand-written fixtures, real recorded payloads, detection.

Expected counts for real files are computed here independently of the parser
(plain ``json`` over the lines), so a parser that drops or duplicates posts
fails. Real data lives outside the repository (``../shared/data``); those
tests skip when it is absent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hubbub.formats import Context, FormatError
from hubbub.formats.reader import records
from hubbub.formats.x import detect_v1, detect_v2, parse_v1, parse_v2
from hubbub.post import Deletion, Item, Post, Skipped

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "x"
PAYLOADS = REPO.parent / "shared" / "data" / "payloads"
TWARC = PAYLOADS / "x_v2_twarc2"
API = PAYLOADS / "x_api_responses"

needs_data = pytest.mark.skipif(
    not TWARC.is_dir() or not API.is_dir(),
    reason=f"real X payloads not found at {PAYLOADS} (the shared data folder is absent)",
)

CTX = Context(source="test")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def parse_file(path: Path) -> list[Item]:
    """Split a file as import does and parse every value (v2 or v1.1)."""
    items: list[Item] = []
    for record in records(path.read_bytes()):
        if record.error:
            continue
        value = record.value
        if detect_v2(value):
            items.extend(parse_v2(value, CTX))
        else:
            assert detect_v1(value), f"{path.name}:{record.line} not detected as X"
            items.extend(parse_v1(value, CTX))
    return items


def posts(items: list[Item]) -> list[Post]:
    return [item for item in items if isinstance(item, Post)]


def by_version(items: list[Item]) -> dict[str, Post]:
    return {p.version_id or p.id: p for p in posts(items)}


# --- independent expectations ----------------------------------------------


def expected_v2(path: Path) -> tuple[set[str], set[str], set[str]]:
    """(tweet versions, post ids, data tweet versions) in a twarc2 file,
    counted with plain json: tweets are objects with "text" in data and
    includes.tweets; an edited tweet's post id is its chain's first id."""
    versions: set[str] = set()
    heads: set[str] = set()
    data_ids: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            page = json.loads(line)
        except json.JSONDecodeError:
            continue  # the deliberately truncated stream line
        data = page.get("data") or []
        data = [data] if isinstance(data, dict) else data
        tweets = [t for t in data if "text" in t]
        data_ids |= {t["id"] for t in tweets}
        for tweet in tweets + page.get("includes", {}).get("tweets", []):
            versions.add(tweet["id"])
            chain = tweet.get("edit_history_tweet_ids") or [tweet["id"]]
            heads.add(chain[0])
    return versions, heads, data_ids


def expected_v1(value: Any) -> tuple[set[str], set[str]]:
    """(all status ids including retweeted/quoted, top-level status ids)."""
    top = value if isinstance(value, list) else value.get("statuses", [value])
    found: set[str] = set()

    def walk(status: dict[str, Any]) -> None:
        found.add(status["id_str"])
        for key in ("retweeted_status", "quoted_status"):
            if key in status:
                walk(status[key])

    for status in top:
        walk(status)
    return found, {s["id_str"] for s in top}


TWEET_FILES = [
    "2sets.jsonl",
    "brexit.jsonl",
    "cashtags.jsonl",
    "edited.jsonl",
    "edited_after.jsonl",
    "edited_before.jsonl",
    "entities_test.jsonl",
    "geo_tweets.jsonl",
    "many_urls.jsonl",
    "media_policy_violation_off.jsonl",
    "media_policy_violation_on.jsonl",
    "media_tweet.jsonl",
    "mentions_tweet.jsonl",
    "noflat.jsonl",
    "streaming_output_with_error.jsonl",
    "two_tweets.jsonl",
    "users.jsonl",
    "withheld.jsonl",
]


@needs_data
def test_every_twarc2_file_is_listed() -> None:
    # A new file in the shared folder should get an expectation here.
    listed = set(TWEET_FILES) | {"counts.jsonl", "tweets_compliance.jsonl", "empty.json"}
    present = {p.name for p in TWARC.iterdir() if p.suffix in (".json", ".jsonl")}
    assert present == listed


@needs_data
@pytest.mark.parametrize("name", TWEET_FILES)
def test_twarc2_file_yields_every_post_once(name: str) -> None:
    versions, heads, data_ids = expected_v2(TWARC / name)
    found = posts(parse_file(TWARC / name))
    assert len(found) == len(versions)
    assert {p.version_id for p in found} == versions
    assert {p.id for p in found} == heads
    assert {p.version_id for p in found if not p.embedded} == data_ids
    for post in found:
        assert post.network == "x" and post.author.network == "x"
        assert post.created_at.tzinfo is not None
        assert post.url and post.url.startswith("https://x.com/")
        assert "&amp;" not in post.text
        # An embedded copy of a data tweet must not be reported twice.
        assert not (post.embedded and post.version_id in data_ids)


@needs_data
@pytest.mark.parametrize("path", sorted(API.glob("v2_*.json")), ids=lambda p: p.name)
def test_v2_api_responses(path: Path) -> None:
    value = json.loads(path.read_text(encoding="utf-8"))
    data = value["data"] if isinstance(value["data"], list) else [value["data"]]
    assert detect_v2(value) and not detect_v1(value)
    found = posts(parse_v2(value, CTX))
    assert [p.id for p in found] == [t["id"] for t in data]


@needs_data
def test_v2_default_fields_tweet() -> None:
    # Requested without tweet.fields: only id, text and edit history.
    (post,) = posts(parse_file(API / "v2_test_client_get_tweet.json"))
    assert post.id == "1293593516040269825"
    # No created_at in the payload: read from the snowflake id.
    assert post.created_at == datetime(2020, 8, 12, 17, 1, 42, 686000, tzinfo=UTC)
    assert post.author.id == "" and post.author.handle == ""
    assert post.url == "https://x.com/i/status/1293593516040269825"
    assert post.text.startswith("It’s finally here! 🥁 Say hello to the new #TwitterAPI.")


@needs_data
@pytest.mark.parametrize(
    "name",
    [
        "v1.1_testgetstatus.json",
        "v1.1_testhometimeline.json",
        "v1.1_testmentionstimeline.json",
        "v1.1_testsearchtweets.json",
        "v1.1_testusertimeline_0.json",
    ],
)
def test_v1_file_yields_every_post_once(name: str) -> None:
    value = json.loads((API / name).read_text(encoding="utf-8"))
    assert detect_v1(value) and not detect_v2(value)
    every, top = expected_v1(value)
    found = posts(parse_v1(value, CTX))
    assert len(found) == len(every)
    assert {p.id for p in found} == every
    assert {p.id for p in found if not p.embedded} == top


# --- real field values ------------------------------------------------------


@needs_data
def test_edit_versions_share_one_post_id() -> None:
    chain = ("1576994746135764992", "1576994789110992896")
    before = by_version(parse_file(TWARC / "edited_before.jsonl"))
    after = by_version(parse_file(TWARC / "edited_after.jsonl"))
    first, second = before[chain[0]], after[chain[1]]
    assert not first.embedded and not second.embedded
    assert first.id == second.id == chain[0]
    assert first.edit_ids == second.edit_ids == chain
    assert (first.version_id, second.version_id) == chain
    assert second.text == "hey :) https://twitter.com/i/web/status/1576994789110992896"
    assert first.text.startswith("i miss y’all so much haha,,, ")
    assert first.media_count == 1 and second.media_count == 0
    # The photo link is media, not a link; the other one is kept.
    assert first.links == ("https://twitter.com/i/web/status/1576994746135764992",)
    assert second.metrics == {"likes": 32, "reposts": 3, "replies": 14, "quotes": 2}
    # "qst" is X's pseudo-language for very short text, not a language.
    assert second.langs == () and first.langs == ("en",)
    assert second.author.handle == "wongmjane" and second.author.verified is True
    assert second.url == "https://x.com/wongmjane/status/1576994789110992896"


@needs_data
def test_stream_lines_rules_place_and_truncated_line() -> None:
    path = TWARC / "streaming_output_with_error.jsonl"
    recs = list(records(path.read_bytes()))
    assert len(recs) == 8 and recs[-1].error and all(r.error is None for r in recs[:-1])
    found = by_version(parse_file(path))
    quote = found["1377650090978992134"]
    assert quote.matching_rules == ("1377649934414049282",)
    assert quote.quote_of == "1377640162566496258" and quote.place == "Malawi"
    assert quote.seen_at == datetime(2021, 4, 1, 15, 52, 42, tzinfo=UTC)
    assert quote.text == (
        "Fury https://twitter.com/blackheart_265/status/1377650090978992134/photo/1"
        " https://twitter.com/Manie_DS/status/1377640162566496258"
    )
    assert quote.author.handle == "blackheart_265" and quote.author.followers == 881
    quoted = found["1377640162566496258"]
    assert quoted.embedded and quoted.matching_rules == () and quoted.author.handle == "Manie_DS"
    reply = found["1377650093109743620"]
    assert reply.reply_to == "1377266697850257410" and reply.place == "Bournemouth, England"
    assert sum(1 for p in found.values() if p.matching_rules) == 7


@needs_data
def test_withheld_real() -> None:
    found = by_version(parse_file(TWARC / "withheld.jsonl"))
    assert found["1388424788171841537"].withheld == "IN"
    old = found["25712847277"]  # 2010, before snowflake ids
    assert old.withheld == "DE,FR"
    assert old.created_at.year == 2010
    copyright_ = found["1257108668492984321"]
    assert copyright_.embedded and copyright_.withheld == "copyright"


@needs_data
def test_missing_authors_are_looked_for() -> None:
    found = by_version(parse_file(TWARC / "withheld.jsonl"))
    # Not in includes.users, but retweeted as "RT @___Ni_sha___: …".
    original = found["1403542567149469697"]
    assert original.author.id == "1215560279628451841"
    assert original.author.handle == "___Ni_sha___"
    assert original.url == "https://x.com/___Ni_sha___/status/1403542567149469697"
    # Nowhere in the page: the id stands in for the handle.
    unknown = found["1404393119253250054"]
    assert unknown.author.handle == unknown.author.id == "1358082450635829249"
    assert unknown.url == "https://x.com/i/status/1404393119253250054"


@needs_data
def test_repost_and_embedded_original() -> None:
    found = by_version(parse_file(TWARC / "two_tweets.jsonl"))
    repost, original = found["1394735776701816833"], found["1391677057810288641"]
    assert repost.text == "RT @bibaigna96: #POIUYTREWQ"
    assert repost.repost_of == original.id and repost.is_repost
    assert repost.hashtags == ("POIUYTREWQ",) and repost.mentions == ("bibaigna96",)
    assert repost.langs == ()  # "und"
    assert repost.source == "Twitter for Android"
    assert (
        repost.author.handle == "LachiVeronica" and repost.author.display_name == "Veronica Lachi"
    )
    assert repost.author.url == "https://x.com/LachiVeronica"
    assert repost.created_at == datetime(2021, 5, 18, 19, 24, 56, tzinfo=UTC)
    assert original.embedded and original.author.handle == "bibaigna96"


@needs_data
def test_links_prefer_unwound_and_skip_media() -> None:
    (reply, *_) = posts(parse_file(TWARC / "many_urls.jsonl"))
    assert reply.reply_to == "1610623087061471232"
    assert reply.links == ("https://uiadrian.gumroad.com/l/web-design-guide/?offer_code=twk0uc9f7",)
    assert "https://uiadrian.gumroad.com/l/web-design-guide/?offer_code=twk0uc9f7" in reply.text
    (cash,) = posts(parse_file(TWARC / "cashtags.jsonl"))
    assert cash.links == ("http://go.trade-ideas.com/SHHb",)
    assert cash.hashtags == ("business", "NFT", "StockMarket", "option")
    assert cash.media_count == 1 and cash.metrics["impressions"] == 52
    assert "https://t.co/" not in cash.text


@needs_data
def test_html_entities_are_unescaped() -> None:
    found = by_version(parse_file(TWARC / "brexit.jsonl"))
    post = found["1440715975020584960"]
    assert post.text.startswith("And @AngelaRayner & #NicolaSturgeon blame #Brexit..")
    assert post.hashtags == ("NicolaSturgeon", "Brexit")


@needs_data
def test_user_lookup_counts_and_pinned_tweets() -> None:
    page = json.loads((TWARC / "users.jsonl").read_text(encoding="utf-8"))
    items = parse_file(TWARC / "users.jsonl")
    assert sum(1 for i in items if i == Skipped("user")) == len(page["data"])
    pinned = by_version(items)["1434874170039545862"]
    # Pinned tweets' authors are the looked-up users in data, not includes.
    assert pinned.embedded and pinned.author.handle == "DoDirty78"
    assert pinned.author.posts_count == 55186


@needs_data
def test_counts_compliance_and_empty() -> None:
    counts = json.loads((TWARC / "counts.jsonl").read_text(encoding="utf-8"))
    assert parse_file(TWARC / "counts.jsonl") == [Skipped("count")] * len(counts["data"])
    assert parse_file(TWARC / "tweets_compliance.jsonl") == [Skipped("compliance")] * 2
    assert parse_file(TWARC / "empty.json") == []


@needs_data
def test_v1_real_fields() -> None:
    (status,) = posts(parse_file(API / "v1.1_testgetstatus.json"))
    assert status.text == (
        'RT @TwitterEng: Bolstering our infrastructure. "As  usage patterns change, Twitter can'
        ' remain resilient." https://engineering.twitter.com/2012/11/bolstering-our-infrastructure.html'
    )
    assert status.source == "Twitter Web Client"
    assert status.author.followers == 56335782 and status.author.following == 140
    assert status.author.url == "https://x.com/Twitter" and status.author.verified is True
    assert status.metrics == {"likes": 144, "reposts": 211}
    assert status.created_at == datetime(2012, 11, 8, 2, 31, 41, tzinfo=UTC)
    found = by_version(parse_file(API / "v1.1_testsearchtweets.json"))
    reply = found["1149678185375600641"]
    assert reply.place == "Badalona, Spain" and reply.reply_to == "1149676837204717568"
    repost = found["1149825924029980674"]
    assert repost.repost_of == "1149803446704443392" and repost.media_count == 1
    assert found["1149803446704443392"].embedded
    assert found["1149803446704443392"].author.handle == "KassidyCook1"


# --- hand-written fixtures --------------------------------------------------


def test_fixture_v1_extended_tweet() -> None:
    value = fixture("v1_extended_tweet.json")
    assert detect_v1(value) and not detect_v2(value)
    (post,) = parse_v1(value, CTX)
    assert isinstance(post, Post)
    assert post.id == post.version_id == "1635585927440519168"
    assert post.text == (
        "@hubbub_dev Q&A tonight: bring questions about #selfhosting <3 We will cover setup,"
        " backups and the new inbox. Slides: https://example.org/slides?a=1&b=2 and the"
        " recording will follow on the blog. See you at 20:00 with @other_person! #hubbub"
        " https://twitter.com/fixture_writer/status/1635585927440519168/photo/1"
    )
    assert post.hashtags == ("selfhosting", "hubbub")
    assert post.mentions == ("hubbub_dev", "other_person")
    assert post.links == ("https://example.org/slides?a=1&b=2",)
    assert post.media_count == 2
    assert post.reply_to == "1635585000000000000"
    assert post.place == "Lisbon, Portugal" and post.sensitive is True
    assert post.source == "Twitter Web App" and post.langs == ("en",)
    assert post.metrics == {"likes": 42, "reposts": 7, "replies": 5, "quotes": 2}
    assert post.created_at == datetime(2023, 3, 14, 9, 30, 12, tzinfo=UTC)
    assert post.url == "https://x.com/fixture_writer/status/1635585927440519168"
    author = post.author
    assert (author.id, author.handle, author.display_name) == (
        "1122334455",
        "fixture_writer",
        "Fixture Writer",
    )
    assert (author.followers, author.following, author.posts_count) == (321, 123, 4567)
    assert author.avatar_url == "https://pbs.twimg.com/profile_images/1/fixture_normal.png"
    assert author.description == "I write fixtures & read docs. Blog: https://example.org/blog"
    assert author.created_at == datetime(2013, 2, 9, 12, 0, tzinfo=UTC)


def test_fixture_v1_retweet_of_quote() -> None:
    value = fixture("v1_retweet_with_quote.json")
    items = parse_v1(value, CTX)
    found = by_version(items)
    assert list(found) == ["1665780000000000003", "1665772000000000002", "1665770000000000001"]
    repost = found["1665780000000000003"]
    assert not repost.embedded
    assert repost.repost_of == "1665772000000000002"
    # X also copies the quoted status onto the retweet; the quote is not its own.
    assert repost.quote_of is None
    assert repost.text == (
        "RT @quoter_acct: This is the thread everyone should read >> "
        "https://twitter.com/original_acct/status/1665770000000000001"
    )
    assert repost.source == "Twitter for Android"
    quoter = found["1665772000000000002"]
    assert quoter.embedded and quoter.quote_of == "1665770000000000001"
    assert quoter.author.handle == "quoter_acct" and quoter.author.verified is True
    original = found["1665770000000000001"]
    assert original.embedded and original.hashtags == ("moderation", "communities")
    assert original.withheld == "DE,FR"
    assert original.author.url == "https://x.com/original_acct"


def test_fixture_v2_note_tweet() -> None:
    value = fixture("v2_note_tweet.json")
    assert detect_v2(value) and not detect_v1(value)
    (post,) = parse_v2(value, CTX)
    assert isinstance(post, Post)
    assert post.text.startswith("Long post about running your own social listening stack & why")
    assert post.text.endswith("Details in https://example.org/notes/stack — feedback welcome <3")
    assert post.hashtags == ("hashtagchat",) and post.mentions == ("support_team",)
    assert post.links == (
        "https://example.org/notes/stack-final",
        "https://twitter.com/i/web/status/1700000000000000001",
    )
    assert post.metrics == {
        "likes": 30,
        "reposts": 4,
        "replies": 2,
        "quotes": 1,
        "impressions": 1500,
        "bookmarks": 6,
    }
    assert post.edit_ids == () and post.version_id == post.id == "1700000000000000001"
    assert post.author.handle == "long_poster" and post.author.description is None
    assert post.url == "https://x.com/long_poster/status/1700000000000000001"


def test_fixture_v2_withheld() -> None:
    found = by_version(parse_v2(fixture("v2_withheld_copyright.json"), CTX))
    clip = found["1600000000000000010"]
    assert clip.withheld == "copyright"
    assert clip.links == () and clip.media_count == 1
    assert found["1600000000000000011"].withheld == "DE,FR"


# --- synthetic edge cases ---------------------------------------------------


def tweet(**fields: Any) -> dict[str, Any]:
    base = {"id": "1600000000000000100", "text": "hello", "created_at": "2022-12-18T18:30:00Z"}
    return {**base, **fields}


def test_error_only_and_meta_only_values() -> None:
    error = {
        "errors": [
            {
                "title": "operational-disconnect",
                "detail": "This stream has been disconnected for operational reasons.",
                "type": "https://api.twitter.com/2/problems/operational-disconnect",
            }
        ]
    }
    assert detect_v2(error) and parse_v2(error, CTX) == [Skipped("error")]
    problem = {
        "title": "ConnectionException",
        "detail": "This stream is currently at the maximum allowed connection limit.",
        "type": "https://api.twitter.com/2/problems/streaming-connection",
    }
    assert parse_v2(problem, CTX) == [Skipped("error")]
    assert parse_v2({"meta": {"result_count": 0}}, CTX) == []
    assert parse_v2({"data": [], "meta": {"result_count": 0}}, CTX) == []
    v1_error = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
    assert detect_v1(v1_error) and not detect_v2(v1_error)
    assert parse_v1(v1_error, CTX) == [Skipped("error")]


def test_deletions() -> None:
    v1_delete = {
        "delete": {
            "status": {"id": 1234, "id_str": "1234", "user_id": 3, "user_id_str": "3"},
            "timestamp_ms": "1678786212000",
        }
    }
    assert detect_v1(v1_delete)
    assert parse_v1(v1_delete, CTX) == [
        Deletion("x", id="1234", at=datetime(2023, 3, 14, 9, 30, 12, tzinfo=UTC))
    ]
    assert parse_v1({"limit": {"track": 12, "timestamp_ms": "1678786212000"}}, CTX) == [
        Skipped("limit")
    ]
    v2_delete = {
        "data": {
            "delete": {
                "tweet": {"id": "1600000000000000100", "author_id": "9"},
                "event_at": "2022-12-18T18:40:00.000Z",
            }
        }
    }
    assert detect_v2(v2_delete)
    assert parse_v2(v2_delete, CTX) == [
        Deletion("x", id="1600000000000000100", at=datetime(2022, 12, 18, 18, 40, tzinfo=UTC))
    ]


def test_bare_tweets_and_lists() -> None:
    assert detect_v2(tweet()) and detect_v2([tweet(), tweet(id="1600000000000000101")])
    found = parse_v2([tweet(), tweet(id="1600000000000000101"), tweet()], CTX)
    assert [p.id for p in posts(found)] == ["1600000000000000100", "1600000000000000101"]
    assert not detect_v2([]) and detect_v1([]) and parse_v1([], CTX) == []


def test_twarc_flattened_tweet() -> None:
    original = tweet(
        id="1600000000000000050",
        text="original",
        author_id="11",
        author={"id": "11", "username": "orig", "name": "O"},
    )
    flat = tweet(
        text="RT @orig: original",
        author_id="22",
        author={"id": "22", "username": "rt_er", "name": "R"},
        referenced_tweets=[{"type": "retweeted", "id": "1600000000000000050", **original}],
        matching_rules=[{"id": "1377649934414049282", "tag": "reposts"}],
        __twarc={"url": "https://api.twitter.com/2/tweets/search/stream", "version": "2.12.0"},
    )
    found = by_version(parse_v2(flat, CTX))
    assert found["1600000000000000100"].author.handle == "rt_er"
    assert found["1600000000000000100"].repost_of == "1600000000000000050"
    assert found["1600000000000000100"].matching_rules == ("reposts",)
    assert found["1600000000000000050"].embedded
    assert found["1600000000000000050"].author.handle == "orig"


def test_references_use_the_edit_chain_head() -> None:
    page = {
        "data": [tweet(referenced_tweets=[{"type": "quoted", "id": "1600000000000000061"}])],
        "includes": {
            "tweets": [
                tweet(
                    id="1600000000000000061",
                    edit_history_tweet_ids=["1600000000000000060", "1600000000000000061"],
                )
            ]
        },
    }
    found = by_version(parse_v2(page, CTX))
    assert found["1600000000000000100"].quote_of == "1600000000000000060"
    assert found["1600000000000000061"].id == "1600000000000000060"


def test_text_cleanup_is_single_pass_and_exact() -> None:
    value = tweet(
        text="&amp;lt; is how you write &lt; https://t.co/abc https://t.co/abcd",
        entities={
            "urls": [
                {"url": "https://t.co/abc", "expanded_url": "https://a.example/"},
                {"url": "https://t.co/abcd", "expanded_url": "https://b.example/"},
            ]
        },
    )
    (post,) = parse_v2(value, CTX)
    assert post.text == "&lt; is how you write < https://a.example/ https://b.example/"


def test_unusable_x_values_raise() -> None:
    # An unknown row costs only itself (see test_bad_rows_of_a_page); a page
    # with nothing readable left still raises.
    with pytest.raises(FormatError):
        parse_v2({"data": [{"unexpected": True}], "meta": {"result_count": 1}}, CTX)
    with pytest.raises(FormatError):
        parse_v2({"did": "did:plc:x", "time_us": 1, "kind": "commit"}, CTX)
    # A sequential (pre-2010) id carries no time: created_at is required.
    with pytest.raises(FormatError):
        parse_v2({"data": [{"id": "20", "text": "just setting up my twttr"}]}, CTX)
    with pytest.raises(FormatError):
        parse_v1({"posts": []}, CTX)


FOREIGN: list[Any] = [
    {"did": "did:plc:abc", "time_us": 1719000000000000, "kind": "commit", "commit": {}},
    {"posts": [], "cursor": "1"},
    {"thread": {"post": {"uri": "at://did:plc:abc/app.bsky.feed.post/1"}}},
    {"actors": []},
    {
        "id": "108914327388663283",
        "uri": "https://example.social/users/a/statuses/1",
        "content": "<p>hi</p>",
        "text": None,
        "account": {"id": "1", "username": "a", "acct": "a"},
        "created_at": "2022-08-30T23:05:46.839Z",
    },
    {"event": "delete", "payload": "108914327388663283"},
    {"accounts": [], "statuses": [], "hashtags": []},
    {"id": "23634", "username": "noiob", "acct": "noiob@awoo.space", "display_name": "x"},
    {"error": "Record not found"},
    [],
    "text",
    None,
]


@pytest.mark.parametrize("value", FOREIGN, ids=range(len(FOREIGN)))
def test_detectors_do_not_claim_other_networks(value: Any) -> None:
    assert not detect_v2(value)
    if value != []:  # an empty v1.1 timeline is a real X response
        assert not detect_v1(value)


@needs_data
@pytest.mark.parametrize("folder", ["bluesky_jetstream", "bluesky_xrpc", "mastodon"])
def test_detectors_reject_real_other_network_payloads(folder: str) -> None:
    checked = 0
    for path in sorted((PAYLOADS / folder).iterdir()):
        if path.suffix not in (".json", ".jsonl", ".sse"):
            continue
        for record in records(path.read_bytes()):
            values = [record.value]
            if isinstance(record.value, list):
                values += record.value
            if isinstance(record.value, dict) and "payload" in record.value:
                values.append(record.value["payload"])  # a Mastodon streaming event's body
            for value in values:
                checked += 1
                assert not detect_v2(value), f"{path.name}:{record.line}"
                assert not detect_v1(value), f"{path.name}:{record.line}"
    assert checked


def test_v1_and_v2_shapes_are_not_confused() -> None:
    v1 = fixture("v1_extended_tweet.json")
    v2 = fixture("v2_note_tweet.json")
    assert not detect_v2(v1) and not detect_v2([v1]) and not detect_v2({"statuses": [v1]})
    assert not detect_v1(v2) and not detect_v1(v2["data"]) and not detect_v1(v2["data"][0])
    assert detect_v1([v1]) and detect_v1({"statuses": [v1], "search_metadata": {}})

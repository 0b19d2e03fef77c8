"""Bluesky parser: hand-written fixtures (tests/fixtures/bluesky) for every
branch, plus the real Jetstream / XRPC captures in ../shared/data, whose
expected counts are computed here independently with plain ``json``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubbub.formats import Context, FormatError
from hubbub.formats.bluesky import detect, parse
from hubbub.formats.bluesky_richtext import extract, facet_text
from hubbub.post import Author, Deletion, Item, Post, Skipped

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "bluesky"
SHARED = REPO_ROOT.parent / "shared" / "data" / "payloads"
JETSTREAM_DIR = SHARED / "bluesky_jetstream"
XRPC_DIR = SHARED / "bluesky_xrpc"

ALICE = "did:plc:alice00000000000000000001"
BOB = "did:plc:bob0000000000000000000002"
CAROL = "did:plc:carol000000000000000000003"
DAVE = "did:plc:dave0000000000000000000004"
FETCHED = datetime(2025, 7, 5, 12, 0, tzinfo=UTC)
POST_C = "app.bsky.feed.post"
REPOST_C = "app.bsky.feed.repost"


def ctx() -> Context:
    return Context(source="test", fetched_at=FETCHED)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_lines(name: str) -> list[Any]:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def us(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


def posts(items: list[Item]) -> list[Post]:
    return [item for item in items if isinstance(item, Post)]


def one_post(items: list[Item]) -> Post:
    assert len(items) == 1 and isinstance(items[0], Post), items
    return items[0]


# ----------------------------------------------------------------- Jetstream fixtures


def test_jetstream_post_with_facets_embed_reply_and_labels() -> None:
    event = fixture("jetstream_post_facets.json")
    assert detect(event)
    post = one_post(parse(event, ctx()))
    rkey = "3lt2aaaaaaa2a"
    assert post.network == "bluesky"
    assert post.id == f"at://{ALICE}/app.bsky.feed.post/{rkey}"
    assert post.author.id == ALICE
    assert post.author.handle == ALICE  # Jetstream carries no handle
    assert post.url == f"https://bsky.app/profile/{ALICE}/post/{rkey}"
    assert post.text == event["commit"]["record"]["text"]
    assert post.langs == ("de", "en")
    # createdAt had a +02:00 offset: stored in UTC.
    assert post.created_at == datetime(2025, 7, 4, 12, 38, 7, 500000, tzinfo=UTC)
    assert post.seen_at == us(1751639888123456)
    assert post.seen_at.microsecond == 123456  # no float rounding
    assert post.edited_at is None
    assert post.reply_to == f"at://{BOB}/app.bsky.feed.post/3lparent00002"
    assert post.conversation_id == f"at://{CAROL}/app.bsky.feed.post/3lroot0000002"
    assert post.quote_of == f"at://{DAVE}/app.bsky.feed.post/3lquoted00002"
    assert post.media_count == 2
    assert post.version_id == "bafyreipostcid0001"
    # Good facets only: out-of-range, mid-character and reversed ones are ignored.
    assert post.links == ("https://example.org/%C3%BC?x=1",)
    assert post.hashtags == ("Café", "extra")  # facet tag, then record.tags (deduped)
    assert post.mentions == ("bob.example.com",)
    assert post.content_warning == "nudity"
    assert post.sensitive is True
    assert not post.embedded and not post.is_repost and post.is_reply


def test_facet_offsets_are_utf8_bytes_not_characters() -> None:
    record = fixture("jetstream_post_facets.json")["commit"]["record"]
    text = record["text"]
    tag_index = record["facets"][1]["index"]
    assert facet_text(text, tag_index) == "#Café"
    # "ü" and "ß" before it are two bytes each: a str slice lands elsewhere.
    assert text[tag_index["byteStart"] : tag_index["byteEnd"]] != "#Café"
    assert facet_text(text, record["facets"][2]["index"]) == "https://example.org/ü?x=1"
    assert facet_text(text, record["facets"][3]["index"]) is None  # out of range
    assert facet_text(text, record["facets"][4]["index"]) is None  # inside the emoji
    assert facet_text(text, record["facets"][5]["index"]) is None  # reversed


@given(st.integers(-3, 40), st.integers(-3, 40), st.sampled_from([None, True, "3", 1.5]))
def test_any_facet_offsets_never_crash(start: int, end: int, junk: Any) -> None:
    text = "é🎉 #tag ü"
    facets = [
        {"index": {"byteStart": start, "byteEnd": end}, "features": [{"tag": "tag"}]},
        {"index": {"byteStart": junk, "byteEnd": end}, "features": [{"did": BOB}]},
        {"index": junk, "features": junk},
        junk,
    ]
    rich = extract({"text": text, "facets": facets})
    covered = facet_text(text, {"byteStart": start, "byteEnd": end})
    assert rich.hashtags == (("tag",) if covered is not None else ())
    assert rich.mentions == ()


def test_jetstream_event_kinds() -> None:
    events = fixture_lines("jetstream_events.jsonl")
    assert all(detect(e) for e in events)
    results = [parse(e, ctx()) for e in events]
    assert all(len(r) == 1 for r in results)
    items = [r[0] for r in results]
    t0 = events[0]["time_us"]

    repost = items[0]
    assert isinstance(repost, Post)
    assert repost.id == f"at://{BOB}/app.bsky.feed.repost/3lt2brepost01"
    assert repost.repost_of == f"at://{ALICE}/app.bsky.feed.post/3lt2aaaaaaa2a"
    assert repost.text == "" and repost.is_repost
    assert repost.created_at == datetime(2025, 7, 4, 14, 38, 10, tzinfo=UTC)
    assert repost.seen_at == us(t0)

    assert items[1] == Skipped("app.bsky.feed.like")
    assert items[2] == Skipped("app.bsky.graph.follow")
    assert items[3] == Skipped("app.bsky.graph.follow")  # follow delete is not a post deletion

    assert items[4] == Deletion(
        network="bluesky", id=f"at://{ALICE}/app.bsky.feed.post/3lt2aoldpost2", at=us(t0 + 4)
    )
    assert items[5] == Deletion(
        network="bluesky", id=f"at://{BOB}/app.bsky.feed.repost/3lt2boldrepo1", at=us(t0 + 5)
    )

    edited = items[6]
    assert isinstance(edited, Post)
    # Same identity as the create: an edit is a new version of the same post.
    assert edited.id == f"at://{ALICE}/app.bsky.feed.post/3lt2aaaaaaa2a"
    assert edited.text == "Grüße (korrigiert)"
    assert edited.edited_at == us(t0 + 6)
    assert edited.created_at == datetime(2025, 7, 4, 12, 38, 7, 500000, tzinfo=UTC)
    assert edited.version_id == "bafyreipostcid0002"

    clip = items[7]
    assert isinstance(clip, Post)
    assert clip.created_at == us(t0 + 7)  # unparseable createdAt → seen time
    assert clip.media_count == 1  # video
    assert clip.text == "" and clip.conversation_id == clip.id

    assert items[8] == Skipped("app.bsky.actor.profile")
    # An identity event naming a handle teaches the store that DID's handle.
    assert items[9] == Author(
        network="bluesky", id="did:plc:dave0000000000000000000004", handle="dave.example.net"
    )
    assert items[10] == Skipped("account")


@pytest.mark.parametrize(
    ("commit", "message"),
    [
        (None, "without a commit"),
        ({"operation": "create", "collection": POST_C, "rkey": "3abc"}, "without a record"),
        ({"operation": "update", "collection": POST_C, "rkey": "3abc", "record": "x"}, "record"),
        ({"operation": "create", "collection": POST_C, "rkey": "a/b", "record": {}}, "rkey"),
        ({"operation": "create", "collection": POST_C, "record": {}}, "rkey"),
        ({"operation": "upsert", "collection": POST_C, "rkey": "3abc"}, "operation"),
        ({"operation": "create", "rkey": "3abc"}, "collection"),
        ({"operation": "create", "collection": REPOST_C, "rkey": "3abc", "record": {}}, "subject"),
    ],
)
def test_jetstream_unusable_commits_raise(commit: Any, message: str) -> None:
    event: dict[str, Any] = {"did": ALICE, "time_us": 1751639888000000, "kind": "commit"}
    if commit is not None:
        event["commit"] = commit
    assert detect(event)
    with pytest.raises(FormatError, match=message):
        parse(event, ctx())


def test_jetstream_time_us_out_of_range_raises() -> None:
    event = {"did": ALICE, "time_us": 10**30, "kind": "identity", "identity": {}}
    with pytest.raises(FormatError, match="time_us"):
        parse(event, ctx())


def test_post_without_created_at_or_text() -> None:
    event = {
        "did": ALICE,
        "time_us": 1751639888000001,
        "kind": "commit",
        "commit": {"operation": "create", "collection": POST_C, "rkey": "3abc", "record": {}},
    }
    post = one_post(parse(event, ctx()))
    assert post.text == "" and post.created_at == post.seen_at == us(1751639888000001)


# ----------------------------------------------------------------- XRPC fixtures


def test_get_post_thread_walks_parents_replies_and_embeds() -> None:
    value = fixture("xrpc_get_post_thread.json")
    assert detect(value)
    items = parse(value, ctx())
    assert all(isinstance(item, Post) for item in items)  # notFound/blocked leave nothing
    by_id = {p.id: p for p in posts(items)}
    root = f"at://{CAROL}/app.bsky.feed.post/3lroot0000002"
    parent = f"at://{BOB}/app.bsky.feed.post/3lparent00002"
    focus = f"at://{ALICE}/app.bsky.feed.post/3lfocus000002"
    quoted = f"at://{DAVE}/app.bsky.feed.post/3lquoted00002"
    qq = f"at://{CAROL}/app.bsky.feed.post/3lqq000000002"
    r1 = f"at://{BOB}/app.bsky.feed.post/3lr1000000002"
    r1a = f"at://{ALICE}/app.bsky.feed.post/3lr1a00000002"
    r2 = f"at://{DAVE}/app.bsky.feed.post/3lr2000000002"
    r3 = "at://did:web:eve.example.org/app.bsky.feed.post/3lr3000000002"
    # Ancestors oldest first, the focus post, its quotes, then replies depth-first.
    assert [p.id for p in posts(items)] == [root, parent, focus, quoted, qq, r1, r1a, r2, r3]

    f = by_id[focus]
    assert not f.embedded  # r2 embeds it again; the full copy wins
    assert f.author.handle == "alice.example.com"
    assert f.author.display_name == "Alice"
    assert f.author.created_at == datetime(2023, 5, 1, 10, tzinfo=UTC)
    assert f.author.avatar_url and f.author.followers is None
    assert f.url == "https://bsky.app/profile/alice.example.com/post/3lfocus000002"
    assert f.reply_to == parent and f.conversation_id == root
    assert f.quote_of == quoted
    assert f.mentions == ("dave.example.net",)
    assert f.metrics == {"replies": 4, "reposts": 1, "likes": 7, "quotes": 0}
    assert f.seen_at == datetime(2025, 7, 3, 9, 0, 1, 250000, tzinfo=UTC)
    assert f.version_id == "bafyrei3lfocus000002"

    q = by_id[quoted]
    assert q.embedded and q.quote_of == qq and q.metrics["likes"] == 3
    assert q.author.handle == "dave.example.net"
    assert by_id[qq].embedded and by_id[qq].text == "the original"

    assert by_id[root].conversation_id == root and by_id[root].reply_to is None
    assert by_id[r1a].reply_to == r1

    spicy = by_id[r2]
    assert spicy.sensitive and spicy.content_warning == "porn"  # the gore label is negated
    assert spicy.quote_of == focus and spicy.media_count == 1

    eve = by_id[r3]
    assert eve.author.id == "did:web:eve.example.org"
    assert eve.author.handle == "did:web:eve.example.org"  # handle.invalid is no handle
    assert eve.url == "https://bsky.app/profile/did:web:eve.example.org/post/3lr3000000002"


def test_thread_that_is_not_found_yields_nothing() -> None:
    value = {
        "thread": {
            "$type": "app.bsky.feed.defs#notFoundPost",
            "uri": f"at://{ALICE}/app.bsky.feed.post/3gone",
            "notFound": True,
        }
    }
    assert detect(value)
    assert parse(value, ctx()) == []


def test_bare_post_view() -> None:
    value = fixture("xrpc_post_view.json")
    assert detect(value)
    post = one_post(parse(value, ctx()))
    assert post.id == f"at://{ALICE}/app.bsky.feed.post/3lbare000002a"
    assert post.author.verified is True
    # The link facet and the external card name the same URL once.
    assert post.links == ("https://example.com/article",)
    # The mention facet covers "Bob", not "@handle": the DID is all we know.
    assert post.mentions == (BOB,)
    assert post.metrics == {"replies": 0, "reposts": 2, "likes": 5, "quotes": 1}
    assert post.created_at == datetime(2025, 7, 4, 10, tzinfo=UTC)
    assert post.content_warning is None and not post.sensitive


def test_post_view_without_times_falls_back_to_fetch_time() -> None:
    value = fixture("xrpc_post_view.json")
    del value["indexedAt"], value["record"]["createdAt"]
    post = one_post(parse(value, ctx()))
    assert post.created_at == FETCHED and post.seen_at is None


def test_timeline_feed_with_repost_reason() -> None:
    value = fixture("xrpc_get_timeline.json")
    assert detect(value)
    items = parse(value, ctx())
    ids = [p.id for p in posts(items)]
    reply = f"at://{BOB}/app.bsky.feed.post/3ltl000000002"
    repost_id = f"at://{CAROL}/app.bsky.feed.repost/3ltlrepost002"
    assert ids == [
        f"at://{CAROL}/app.bsky.feed.post/3lroot0000002",  # reply context
        reply,
        repost_id,
        f"at://{ALICE}/app.bsky.feed.post/3lbare000002a",
        f"at://{DAVE}/app.bsky.feed.post/3ltl100000002",  # its repost reason has no uri
    ]
    repost = posts(items)[2]
    assert repost.repost_of == reply and repost.author.handle == "carol.example.com"
    assert repost.created_at == datetime(2025, 7, 4, 11, 5, tzinfo=UTC)


def test_empty_responses() -> None:
    for value in ({"posts": [], "cursor": "25", "hitsTotal": 0}, {"actors": []}, {"feed": []}):
        assert detect(value), value
        assert parse(value, ctx()) == []


def test_broken_post_view_in_a_list_raises() -> None:
    view = fixture("xrpc_post_view.json")
    view["author"] = {"handle": "nodid.example.com"}
    with pytest.raises(FormatError, match="DID"):
        parse({"posts": [view]}, ctx())
    view = fixture("xrpc_post_view.json")
    view["uri"] = f"at://{ALICE}/app.bsky.feed.like/3abc"
    with pytest.raises(FormatError, match="posts\\[0\\]"):
        parse({"posts": [view]}, ctx())


# ----------------------------------------------------------------- detection


NOT_BLUESKY: list[Any] = [
    # X API v2
    {"data": [{"id": "1", "text": "hi"}], "includes": {"users": [{"id": "2"}]}},
    {"data": {"id": "1", "text": "hi", "author_id": "2"}},
    # X API v1.1
    {"id": 1, "id_str": "1", "text": "hi", "user": {"id_str": "2", "screen_name": "x"}},
    # Mastodon status, streaming and SSE-shaped events
    {
        "id": "1",
        "uri": "https://mastodon.example/users/a/statuses/1",
        "account": {"id": "2", "acct": "a"},
        "content": "<p>hi</p>",
    },
    {"event": "update", "payload": '{"id": "1"}'},
    {"event": "delete", "payload": "1"},
    {"accounts": [], "statuses": [], "hashtags": []},
    # Bluesky-ish but not precise enough
    {"posts": [{"uri": "https://example.com/1", "record": {}, "author": {}}]},
    {"posts": [], "statuses": []},
    {"posts": "no"},
    {"actors": [{"id": "1", "handle": "x"}]},
    {"did": ALICE, "kind": "commit"},  # no time_us
    {"did": "alice", "time_us": 1, "kind": "commit"},
    {"did": ALICE, "time_us": True, "kind": "commit"},
    {"thread": {"post": {"uri": "https://x"}}},
    {"uri": f"at://{ALICE}/app.bsky.feed.post/3abc", "record": {}, "author": {}},  # no cid
    [],
    None,
    "at://did:plc:x/app.bsky.feed.post/1",
]


@pytest.mark.parametrize("value", NOT_BLUESKY)
def test_detect_rejects_other_networks(value: Any) -> None:
    assert not detect(value)
    with pytest.raises(FormatError):
        parse(value, ctx())


# ----------------------------------------------------------------- real data


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not present: {path} (tests on real payloads need ../shared/data)")
    return path


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


JETSTREAM_FILES = ["jetstream_v1_capture_2026-07-04.jsonl", "jetstream_v1_golden_10events.jsonl"]


@pytest.mark.parametrize("name", JETSTREAM_FILES)
def test_real_jetstream_counts(name: str) -> None:
    events = _jsonl(_need(JETSTREAM_DIR / name))
    # Independent expectation, straight from the raw events.
    want_posts: set[str] = set()
    want_deletions: set[str] = set()
    want_skipped: dict[str, int] = {}
    for e in events:
        c = e.get("commit") or {}
        coll = c.get("collection")
        if e["kind"] == "commit" and coll in (POST_C, REPOST_C):
            uri = f"at://{e['did']}/{coll}/{c['rkey']}"
            (want_deletions if c["operation"] == "delete" else want_posts).add(uri)
        else:
            key = coll if e["kind"] == "commit" else e["kind"]
            want_skipped[key] = want_skipped.get(key, 0) + 1

    got: list[Item] = []
    for e in events:
        assert detect(e)
        got.extend(parse(e, ctx()))
    got_posts = [p.id for p in posts(got)]
    assert len(got_posts) == len(want_posts) and set(got_posts) == want_posts
    assert {d.id for d in got if isinstance(d, Deletion)} == want_deletions
    got_skipped: dict[str, int] = {}
    for item in got:
        if isinstance(item, Skipped):
            got_skipped[item.kind] = got_skipped.get(item.kind, 0) + 1
    assert got_skipped == want_skipped
    # Every record-bearing post has its createdAt (all parse in this capture).
    for e, items in ((e, parse(e, ctx())) for e in events):
        for p in posts(items):
            assert p.created_at == datetime.fromisoformat(
                e["commit"]["record"]["createdAt"].replace("Z", "+00:00")
            )
            assert p.seen_at == us(e["time_us"])


def test_real_jetstream_capture_sanity() -> None:
    events = _jsonl(_need(JETSTREAM_DIR / JETSTREAM_FILES[0]))
    kinds = {(e["kind"], (e.get("commit") or {}).get("collection")) for e in events}
    # The capture really holds the things the counts above rely on.
    assert ("commit", POST_C) in kinds and ("commit", REPOST_C) in kinds
    assert ("commit", "app.bsky.feed.like") in kinds
    assert ("commit", "app.bsky.graph.follow") in kinds


def test_real_jetstream_tags_link_and_repost() -> None:
    capture = _jsonl(_need(JETSTREAM_DIR / JETSTREAM_FILES[0]))
    by_rkey = {e["commit"]["rkey"]: e for e in capture if "commit" in e}
    tagged = one_post(parse(by_rkey["3mptbypfywk2v"], ctx()))
    assert tagged.hashtags == ("HowToTellAiToShutUp", "IndieRebellion")
    assert tagged.langs == ("de",)
    linked = one_post(parse(by_rkey["3mptbyoigog2b"], ctx()))
    url = "https://www.ufofeed.com/266486/has-anyone-properly-debunked-tic-tac-video/"
    assert linked.links == (url,)  # facet + external card, once
    assert linked.created_at == datetime(2026, 7, 4, 14, 38, 2, tzinfo=UTC)
    assert linked.langs == ("en-US", "en")

    golden = _jsonl(_need(JETSTREAM_DIR / JETSTREAM_FILES[1]))
    repost = one_post(parse(golden[2], ctx()))
    assert repost.id == "at://did:plc:eizxoqcsvvvarxeb3pjkblrp/app.bsky.feed.repost/3mmoojpbade2i"
    assert (
        repost.repost_of == "at://did:plc:hjloomm2tkve3pmfgbxegl3v/app.bsky.feed.post/3mmood3a6hc25"
    )
    reply = one_post(parse(golden[1], ctx()))
    assert reply.reply_to == reply.conversation_id  # replying to the thread root
    assert (
        reply.reply_to == "at://did:plc:j76trmiofvaxxpvx2vnb2vwf/app.bsky.feed.post/3mmojbrjwbs26"
    )
    assert parse(golden[0], ctx()) == [Skipped("app.bsky.feed.like")]
    assert parse(golden[3], ctx()) == [Skipped("app.bsky.graph.follow")]


def _view_record_uris(embed: Any) -> list[str]:
    """Post uris shown inside a postView's embed (record#view / recordWithMedia#view)."""
    if not isinstance(embed, dict):
        return []
    rec = embed.get("record") or {}
    if "uri" not in rec:
        rec = rec.get("record") or {}
    value = rec.get("value") or {}
    if rec.get("$type") != "app.bsky.embed.record#viewRecord" or value.get("$type") != POST_C:
        return []
    return [rec["uri"]] + [u for e in rec.get("embeds") or [] for u in _view_record_uris(e)]


def test_real_search_posts() -> None:
    value = json.loads(
        _need(XRPC_DIR / "app.bsky.feed.searchPosts_q-redistricting.json").read_text("utf-8")
    )
    full = [p["uri"] for p in value["posts"]]
    shown = [u for p in value["posts"] for u in _view_record_uris(p.get("embed"))]
    want = set(full) | set(shown)
    assert detect(value)
    got = posts(parse(value, ctx()))
    assert len(got) == len(want) and {p.id for p in got} == want
    # Embedded only where no full copy was returned.
    assert {p.id for p in got if p.embedded} == set(shown) - set(full)
    assert all(p.id not in full or not p.embedded for p in got)
    by_id = {p.id: p for p in got}
    li = by_id["at://did:plc:7nagdvjqrzaquzk7mueohne5/app.bsky.feed.post/3lpica7sxmk2u"]
    assert li.hashtags == ("txlege",) and li.media_count == 1
    assert li.metrics == {"replies": 0, "reposts": 13, "likes": 58, "quotes": 1}
    assert li.author.display_name == "Michael Li (李之樸)"
    quoting = by_id["at://did:plc:mhbp4wx4zsjf6537frktqux2/app.bsky.feed.post/3lpikwarowc2o"]
    assert quoting.quote_of == li.id
    # "+00:00" and 6-digit fractions both parse.
    odd = by_id["at://did:plc:qogyzvlh3vivathu2piavvpv/app.bsky.feed.post/3lpii6nwbyt2m"]
    assert odd.created_at == datetime(2025, 5, 19, 2, 3, 20, 286393, tzinfo=UTC)


def test_real_get_post_thread_byte_offsets() -> None:
    value = json.loads(_need(XRPC_DIR / "app.bsky.feed.getPostThread.json").read_text("utf-8"))
    want = 0
    stack = [value["thread"]]
    while stack:
        node = stack.pop()
        if "post" in node:
            want += 1
            stack.extend(node.get("replies") or [])
            if node.get("parent"):
                stack.append(node["parent"])
    got = posts(parse(value, ctx()))
    assert len(got) == want == 1
    post = got[0]
    record = value["thread"]["post"]["record"]
    text = record["text"]
    # Multi-byte characters (📈) come before both link facets.
    first = record["facets"][0]["index"]
    assert not text.encode()[: first["byteStart"]].isascii()
    assert facet_text(text, first) == "localview.net"
    assert text[first["byteStart"] : first["byteEnd"]] != "localview.net"
    assert facet_text(text, record["facets"][1]["index"]) == "rstats.ai/gov.html"
    assert post.links == ("http://localview.net", "https://rstats.ai/gov.html")
    assert post.media_count == 1
    assert post.author.handle == "soubhikbarari.bsky.social"
    assert post.metrics["likes"] == 4


def test_real_search_actors() -> None:
    value = json.loads(
        _need(XRPC_DIR / "app.bsky.actor.searchActorsTypeahead.json").read_text("utf-8")
    )
    assert detect(value)
    assert parse(value, ctx()) == [Skipped("actor")] * len(value["actors"])


def test_every_real_facet_slices_cleanly() -> None:
    """All facets in the real payloads are valid UTF-8 byte slices, so the
    parser keeps every one of their links."""
    _need(SHARED)
    records: list[dict[str, Any]] = []
    for name in JETSTREAM_FILES:
        for e in _jsonl(JETSTREAM_DIR / name):
            c = e.get("commit") or {}
            if c.get("collection") == POST_C and "record" in c:
                records.append(c["record"])
    search = json.loads((XRPC_DIR / "app.bsky.feed.searchPosts_q-redistricting.json").read_text())
    records.extend(p["record"] for p in search["posts"])
    thread = json.loads((XRPC_DIR / "app.bsky.feed.getPostThread.json").read_text())
    records.append(thread["thread"]["post"]["record"])
    checked = 0
    for record in records:
        for facet in record.get("facets") or []:
            assert facet_text(record["text"], facet["index"]) is not None
            checked += 1
        want_links = {
            f["uri"]
            for facet in record.get("facets") or []
            for f in facet["features"]
            if f["$type"].endswith("#link")
        }
        assert set(extract(record).links) == want_links
    assert checked > 10


def test_detect_rejects_real_x_and_mastodon_payloads() -> None:
    from hubbub.formats.reader import records

    others = [SHARED / d for d in ("x_api_responses", "x_v2_twarc2", "mastodon")]
    files = [
        f
        for d in others
        if d.is_dir()
        for f in sorted(d.iterdir())
        if f.suffix in (".json", ".jsonl", ".sse")
    ]
    if not files:
        pytest.skip(f"shared X/Mastodon payloads not present under {SHARED}")
    checked = 0
    for path in files:
        for record in records(path.read_bytes()):
            if record.error is None:
                values = record.value if isinstance(record.value, list) else [record.value]
                for value in [record.value, *values]:
                    assert not detect(value), f"{path.name}:{record.line}"
                    checked += 1
    assert checked > 100

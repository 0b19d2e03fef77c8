"""Mastodon parser: hand-written fixtures, the real payloads in ../shared/data,
detection against other networks' shapes, and fuzzing of HTML → text."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubbub.formats import Context, FormatError, mastodon
from hubbub.formats.html_text import html_to_text, parse_html
from hubbub.formats.reader import records
from hubbub.post import Deletion, Post, Skipped

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "mastodon"
REAL = REPO_ROOT.parent / "shared" / "data" / "payloads" / "mastodon"

needs_real = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"shared Mastodon payloads not present at {REAL}"
)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def real(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def posts(items: list[Any]) -> list[Post]:
    return [i for i in items if isinstance(i, Post)]


def parse_file(path: Path, ctx: Context | None = None) -> list[Any]:
    """Every item of a file, split the way the importer splits it."""
    ctx = ctx or Context()
    items: list[Any] = []
    for record in records(path.read_bytes()):
        assert record.error is None, record.error
        assert mastodon.detect(record.value), f"{path.name} line {record.line} not detected"
        items.extend(mastodon.parse(record.value, ctx))
    return items


# -- HTML → text ---------------------------------------------------------------


def test_html_paragraphs_breaks_entities() -> None:
    html = "<p>&quot;One&quot; &amp; two</p><p>three<br>four<br />five</p>"
    assert html_to_text(html) == '"One" & two\n\nthree\nfour\nfive'


def test_html_shortened_link_becomes_href_and_mentions_keep_text() -> None:
    html = (
        '<p><span class="h-card"><a href="https://a.example/@bo" class="u-url mention">'
        '@<span>bo</span></a></span> see <a href="https://x.example/tags/Tag" '
        'class="mention hashtag" rel="tag">#<span>Tag</span></a> '
        '<a href="https://www.example.com/a/very/long/path?q=1" rel="nofollow">'
        '<span class="invisible">https://www.</span><span class="ellipsis">example.com/a/ve'
        '</span><span class="invisible">ry/long/path?q=1</span></a></p>'
    )
    result = parse_html(html)
    assert result.text == "@bo see #Tag https://www.example.com/a/very/long/path?q=1"
    assert result.links == ("https://www.example.com/a/very/long/path?q=1",)
    assert result.hashtags == ("Tag",)


def test_html_plain_link_text_is_kept_and_truncated_text_expanded() -> None:
    assert html_to_text('<a href="https://e.example/x">my site</a>') == "my site"
    # Other servers truncate with an ellipsis character and no spans.
    html = '<a href="https://e.example/some/long/path">e.example/some/lo…</a>'
    assert html_to_text(html) == "https://e.example/some/long/path"


def test_html_whitespace_pre_and_hidden() -> None:
    html = "<p>  a \n  b  </p><pre>  x\n    y</pre><script>alert(1)</script><p>c</p>"
    assert html_to_text(html) == "a b\n\n  x\n    y\n\nc"


@pytest.mark.parametrize(
    "html",
    ["", "<", "<![foo[ x", "<p>unclosed <a href='x'>link", "</a></p>&#xffffffff;", "<!--", "<a/>"],
)
def test_html_odd_inputs_do_not_raise(html: str) -> None:
    assert isinstance(html_to_text(html), str)


def test_html_malformed_marked_section_keeps_structure() -> None:
    # html.parser raises AssertionError on "<![foo["; the rest must survive.
    assert html_to_text("<p>a</p><p>b<![foo[</p>") == "a\n\nb<![foo["


_FRAGMENTS = st.sampled_from(
    [
        "<p>", "</p>", "<br>", "<br/>", "<a href=\"https://e.example/x\">", "</a>",
        '<span class="invisible">', '<span class="ellipsis">', "</span>", "<pre>", "</pre>",
        "<script>", "</script>", "<!--", "-->", "<![", "<![CDATA[", "]]>", "<!DOCTYPE", "<?",
        "&", "&amp;", "&#", "&#x110000;", "&lt;", "<", ">", '"', "'", "=", "\n", " ", "\x00",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text())
def test_html_fuzz_random_text_never_raises(text: str) -> None:
    assert isinstance(html_to_text(text), str)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=6)), max_size=40).map("".join))
def test_html_fuzz_html_like_never_raises(text: str) -> None:
    result = parse_html(text)
    assert isinstance(result.text, str)
    assert all(isinstance(link, str) for link in result.links)


_WORDS = st.text(alphabet="abcxyz019 .,!?é漢\n", min_size=1, max_size=8)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    tags = st.sampled_from(["p", "span", "em", "strong", "a", "blockquote", "li", "code"])
    return st.tuples(tags, st.lists(children, max_size=4)).map(
        lambda t: f'<{t[0]} class="c">{"".join(t[1])}</{t[0]}>'
    )


_TREES = st.recursive(_WORDS | st.just("<br>") | st.just("&amp;"), _element, max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_TREES, max_size=5).map("".join))
def test_html_fuzz_well_formed_leaves_no_tags(html: str) -> None:
    text = html_to_text(html)
    assert "<" not in text and ">" not in text
    assert "&amp;" not in text
    assert text == text.strip()


# -- detection -------------------------------------------------------------------


NOT_MASTODON: list[Any] = [
    None,
    1,
    "update",
    [],
    {},
    [1, 2],
    # X API v2
    {"data": {"id": "1", "text": "hi", "author_id": "2"}, "includes": {"users": []}},
    {"data": [{"id": "2", "username": "someone", "name": "S"}]},
    {
        "media_key": "3_1",
        "type": "photo",
        "url": "https://x.example/p.jpg",
        "preview_image_url": "u",
    },
    # X API v1.1
    {
        "id": 1,
        "id_str": "1",
        "text": "hi",
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "user": {"id_str": "2", "screen_name": "s", "followers_count": 3},
    },
    {"id_str": "2", "screen_name": "s", "followers_count": 3, "friends_count": 1},
    # Bluesky Jetstream
    {"did": "did:plc:abc", "time_us": 1725911162329308, "kind": "commit", "commit": {}},
    {
        "did": "did:plc:abc",
        "time_us": 1,
        "kind": "account",
        "account": {"active": True, "did": "did:plc:abc", "seq": 1, "time": "2024-01-01T00:00:00Z"},
    },
    # Bluesky XRPC and views
    {"posts": []},
    {"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": {}}},
    {"actors": [{"did": "did:plc:abc", "handle": "a.bsky.social"}]},
    {
        "uri": "at://did:plc:abc/app.bsky.feed.post/3k",
        "cid": "bafy",
        "author": {"did": "did:plc:abc", "handle": "a.bsky.social"},
        "record": {"text": "hi", "createdAt": "2024-01-01T00:00:00Z"},
        "indexedAt": "2024-01-01T00:00:00Z",
    },
]


@pytest.mark.parametrize("value", NOT_MASTODON)
def test_detect_rejects_other_networks(value: Any) -> None:
    assert not mastodon.detect(value)
    with pytest.raises(FormatError):
        mastodon.parse(value, Context())


def test_detect_rejects_list_mixing_networks() -> None:
    status = fixture("spoiler_sensitive.json")
    assert mastodon.detect([status])
    assert not mastodon.detect([status, NOT_MASTODON[9]])


@pytest.mark.parametrize("name", ["reblog.json", "spoiler_sensitive.json", "media.json"])
def test_detect_fixtures(name: str) -> None:
    assert mastodon.detect(fixture(name))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["uri", "account", "content", "created_at", "event", "payload", "acct"])
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(_JSON)
def test_detect_and_parse_never_crash_on_arbitrary_json(value: Any) -> None:
    detected = mastodon.detect(value)
    try:
        mastodon.parse(value, Context())
    except FormatError:
        return
    assert detected


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.sampled_from(
        ["uri", "url", "id", "created_at", "edited_at", "account", "content", "reblog", "quote",
         "mentions", "tags", "card", "application", "language", "in_reply_to_id",
         "media_attachments", "spoiler_text", "sensitive", "favourites_count"]
    ),
    _JSON,
)  # fmt: skip
def test_parse_damaged_status_raises_only_format_error(key: str, junk: Any) -> None:
    status = copy.deepcopy(fixture("reblog.json")["reblog"])
    status[key] = junk
    try:
        items = mastodon.parse(status, Context())
    except FormatError:
        return
    assert all(isinstance(i, Post | Deletion | Skipped) for i in items)


# -- hand-written fixtures ------------------------------------------------------------


def test_reblog_gives_wrapper_and_embedded_original() -> None:
    items = mastodon.parse(fixture("reblog.json"), Context())
    assert [type(i) for i in items] == [Post, Post]
    wrapper, original = items
    assert isinstance(wrapper, Post) and isinstance(original, Post)

    assert wrapper.network == "mastodon"
    assert wrapper.id == "https://example.social/users/alice/statuses/112000000000000200/activity"
    assert wrapper.url == wrapper.id  # a reblog has no url of its own
    assert wrapper.repost_of == "https://other.example/users/bob/statuses/555"
    assert wrapper.is_repost and not wrapper.embedded
    assert wrapper.text == ""
    assert wrapper.author.handle == wrapper.author.id == "alice@example.social"
    # alice's acct has no '@': she is local, so the payload came from example.social.
    assert wrapper.aliases == ("example.social/112000000000000200",)

    assert original.embedded
    assert original.id == "https://other.example/users/bob/statuses/555"
    assert original.url == "https://other.example/@bob/555"
    assert original.aliases == ("example.social/112000000000000100",)
    assert original.reply_to == "example.social/112000000000000050"
    assert original.text == (
        "@carol the new #Fediverse guide is out & it's good:\n"
        "https://docs.example.org/guides/getting-started-with-the-fediverse\n\n"
        "thanks @dave!"
    )
    assert original.hashtags == ("Fediverse",)  # as written in the text, not tags[].name
    assert original.mentions == ("carol@example.social", "dave@third.example")
    assert original.links == ("https://docs.example.org/guides/getting-started-with-the-fediverse",)
    assert original.metrics == {"replies": 2, "reposts": 9, "likes": 31}
    assert original.langs == ("en",)
    assert original.created_at == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    author = original.author
    assert author.handle == author.id == "bob@other.example"
    assert author.display_name == "Bob B."
    assert (author.followers, author.following, author.posts_count) == (1200, 80, 4500)
    assert author.description == "I write guides."
    assert author.url == "https://other.example/@bob"
    assert author.avatar_url == "https://example.social/cache/avatars/bob.png"
    assert author.created_at == datetime(2021, 1, 2, tzinfo=UTC)


def test_reblog_and_original_in_one_timeline_are_not_duplicated() -> None:
    reblog = fixture("reblog.json")
    timeline = [reblog, copy.deepcopy(reblog["reblog"])]
    items = posts(mastodon.parse(timeline, Context()))
    assert [p.id for p in items] == [reblog["uri"], reblog["reblog"]["uri"]]
    assert not items[1].embedded  # the full copy wins over the embedded one


def test_spoiler_and_sensitive() -> None:
    (post,) = mastodon.parse(fixture("spoiler_sensitive.json"), Context())
    assert isinstance(post, Post)
    assert post.content_warning == "Finale spoilers"
    assert post.sensitive is True
    assert post.langs == ("de",)
    assert post.text == "Sie überlebt.\n\nIch <3 dieses Ende"
    assert post.edited_at == datetime(2024, 3, 6, 20, 5, 30, 500000, tzinfo=UTC)
    assert post.source == "Tusky"
    assert post.metrics == {"replies": 1, "reposts": 0, "likes": 4, "quotes": 0}
    assert post.reply_to is None and post.conversation_id is None
    assert post.author.description == "Line one\nline two"


def test_media_links_card_and_explicit_server() -> None:
    ctx = Context(server="example.social")
    (post,) = mastodon.parse(fixture("media.json"), ctx)
    assert isinstance(post, Post)
    assert post.media_count == 2
    assert post.sensitive is False and post.content_warning is None
    assert (
        post.text
        == "Two shots from this morning's walk #Birds #photography\n\nFull set: my gallery"
    )
    assert post.hashtags == ("Birds", "photography")
    # The content link and the card point to the same page: one link.
    assert post.links == ("https://gallery.example/erin/2024/march",)
    assert post.aliases == ("example.social/112000000000000400",)
    assert post.reply_to == "example.social/112000000000000300"
    assert post.author.handle == "erin@photos.example"
    assert post.source == "Ivory"


def test_server_unknown_without_local_account_gives_a_star_alias() -> None:
    # Only a remote account and no ctx.server: nothing says which server the
    # local ids belong to (the uri's host is the author's server, not ours).
    (post,) = mastodon.parse(fixture("media.json"), Context())
    assert isinstance(post, Post)
    assert post.aliases == ("*/112000000000000400",)


def test_ctx_server_given_as_url_is_normalised() -> None:
    (post,) = mastodon.parse(fixture("media.json"), Context(server="https://Example.Social/"))
    assert isinstance(post, Post)
    assert post.aliases == ("example.social/112000000000000400",)


def test_quote_embeds_quoted_status_and_shallow_quote_uses_alias() -> None:
    quoting = fixture("spoiler_sensitive.json")
    quoted = fixture("media.json")
    quoting["quote"] = {"state": "accepted", "quoted_status": quoted}
    items = posts(mastodon.parse(quoting, Context(server="example.social")))
    assert [p.id for p in items] == [quoting["uri"], quoted["uri"]]
    assert items[0].quote_of == quoted["uri"] and items[1].embedded

    quoting["quote"] = {"state": "accepted", "quoted_status_id": "42"}
    (post,) = posts(mastodon.parse(quoting, Context(server="example.social")))
    assert post.quote_of == "example.social/42"


def test_websocket_message_with_json_string_payload() -> None:
    status = fixture("spoiler_sensitive.json")
    message = {"stream": ["public:local"], "event": "update", "payload": json.dumps(status)}
    assert mastodon.detect(message)
    (post,) = mastodon.parse(message, Context(server="example.social"))
    assert isinstance(post, Post) and post.id == status["uri"]
    # Decoded payload (what the SSE reader produces) gives the same post.
    assert mastodon.parse(
        {"event": "update", "payload": status}, Context(server="example.social")
    ) == [post]


def test_stream_delete_and_other_events() -> None:
    delete = {"stream": ["user"], "event": "delete", "payload": "109"}
    assert mastodon.parse(delete, Context(server="example.social")) == [
        Deletion(network="mastodon", alias="example.social/109")
    ]
    assert mastodon.parse(delete, Context()) == [Deletion(network="mastodon", alias="*/109")]
    assert mastodon.parse({"stream": ["user"], "event": "filters_changed"}, Context()) == [
        Skipped("filters_changed")
    ]
    follow = {
        "id": "1",
        "type": "follow",
        "created_at": "2024-01-01T00:00:00.000Z",
        "account": fixture("media.json")["account"],
    }
    assert mastodon.parse({"event": "notification", "payload": follow}, Context()) == [
        Skipped("notification")
    ]
    assert mastodon.parse(follow, Context()) == [Skipped("notification")]


@pytest.mark.parametrize(
    "message",
    [
        {"event": "update", "payload": "{not json"},
        {"event": "update", "payload": '{"id": "1"}'},
        {"event": "update", "payload": ""},
        {"event": "status.update", "payload": "[]"},
        {"event": "delete", "payload": ""},
        {"event": "delete", "payload": "a/b"},
        {"event": "notification", "payload": "nope"},
    ],
)
def test_stream_unusable_payloads_raise_format_error(message: dict[str, Any]) -> None:
    with pytest.raises(FormatError):
        mastodon.parse(message, Context())


# -- real payloads ------------------------------------------------------------------


def _statuses(value: Any) -> list[dict[str, Any]]:
    """Independent count: every status-shaped object, wherever it sits."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if {"uri", "account", "content"} <= value.keys():
            found.append(value)
        for child in value.values():
            found.extend(_statuses(child))
    elif isinstance(value, list):
        for child in value:
            found.extend(_statuses(child))
    return found


def _sse_payloads(path: Path) -> list[tuple[str, str]]:
    events = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln and not ln.startswith(":")]
        name = next((ln[6:].strip() for ln in lines if ln.startswith("event:")), "message")
        data = "\n".join(ln[5:].lstrip() for ln in lines if ln.startswith("data:"))
        if data:
            events.append((name, data))
    return events


def _expected_uris(path: Path) -> set[str]:
    if path.suffix == ".sse":
        values: list[Any] = []
        for _name, data in _sse_payloads(path):
            try:
                values.append(json.loads(data))
            except json.JSONDecodeError:
                continue
    else:
        values = [json.loads(path.read_text(encoding="utf-8"))]
    return {s["uri"] for s in _statuses(values)}


REAL_FILES = [
    "status_entity_example.json",
    "account_entity_example.json",
    "media_attachment_examples.json",
    "localhost_api_v1_timelines_tag_hoot.json",
    "localhost_api_v1_statuses_POST_response.json",
    "streaming_events_from_docs.sse",
    "streaming_events_from_docs.parsed.json",
    "localhost_api_v1_streaming_user.sse",
]


@needs_real
@pytest.mark.parametrize("name", REAL_FILES)
def test_real_file_unique_posts(name: str) -> None:
    items = parse_file(REAL / name)
    assert {p.id for p in posts(items)} == _expected_uris(REAL / name)
    for post in posts(items):
        assert re.fullmatch(r"[^@\s]+@[^@\s]+", post.author.handle), post.author.handle
        assert post.author.id == post.author.handle
        assert len(post.aliases) == 1 and "/" in post.aliases[0]


@needs_real
def test_real_expected_counts() -> None:
    # Counted by hand: the docs stream has 10 post-bearing events (update,
    # status.update, notification, conversation) naming 8 distinct statuses.
    assert len(_expected_uris(REAL / "streaming_events_from_docs.sse")) == 8
    assert len(posts(parse_file(REAL / "streaming_events_from_docs.sse"))) == 10
    assert len(_expected_uris(REAL / "localhost_api_v1_timelines_tag_hoot.json")) == 1


@needs_real
def test_real_status_entity() -> None:
    (post,) = mastodon.parse(real("status_entity_example.json"), Context())
    assert isinstance(post, Post)
    assert post.id == "https://mastodon.social/users/Gargron/statuses/103270115826048975"
    assert post.url == "https://mastodon.social/@Gargron/103270115826048975"
    assert post.aliases == ("mastodon.social/103270115826048975",)
    guardian = (
        "https://www.theguardian.com/money/2019/dec/07/"
        "i-lost-my-193000-inheritance-with-one-wrong-digit-on-my-sort-code"
    )
    assert (
        post.text == f'"I lost my inheritance with one wrong digit on my sort code"\n\n{guardian}'
    )
    assert post.links == (guardian,)  # content link and card.url are the same
    assert post.metrics == {"replies": 5, "reposts": 6, "likes": 11, "quotes": 2}
    assert post.source == "Web"
    assert post.author.handle == "Gargron@mastodon.social"
    assert post.author.followers == 322930
    assert post.author.description is not None
    assert post.author.description.startswith("Developer of Mastodon")


@needs_real
def test_real_chrismo_status_update() -> None:
    items = parse_file(REAL / "streaming_events_from_docs.sse")
    (post,) = [p for p in posts(items) if "chrismo" in p.id]
    assert post.id == "https://ruby.social/users/chrismo/statuses/109348684454557541"
    assert post.text == (
        "#musicTuesday\n\n"
        "Here's a solo #piano track of mine called Gravity Assist\n\n"
        "#neoclassical (#jazz ish)\n\n"
        "https://cstudios.bandcamp.com/track/celestia-gravity-assist-no-19-var-2"
    )
    assert post.links == (
        "https://cstudios.bandcamp.com/track/celestia-gravity-assist-no-19-var-2",
    )
    # tags[].name says MUSICTUESDAY (mastodon.social's spelling); the text has it as written.
    assert post.hashtags == ("musicTuesday", "piano", "neoclassical", "jazz")
    assert post.edited_at == datetime(2022, 11, 15, 16, 10, 43, tzinfo=UTC)
    assert post.author.handle == "chrismo@ruby.social"
    assert post.author.description == "i mash keys"


@needs_real
def test_real_stream_events() -> None:
    items = parse_file(REAL / "streaming_events_from_docs.sse")
    deletions = [i for i in items if isinstance(i, Deletion)]
    assert [d.alias for d in deletions] == [
        "*/107214471804101576",
        "*/108914398911648589",
        "*/108914430312582020",
    ]
    with_server = parse_file(
        REAL / "streaming_events_from_docs.sse", Context(server="mastodon.social")
    )
    assert [d.alias for d in with_server if isinstance(d, Deletion)][0] == (
        "mastodon.social/107214471804101576"
    )
    skipped = [i.kind for i in items if isinstance(i, Skipped)]
    assert skipped == [
        "filters_changed",
        "announcement",
        "announcement.reaction",
        "announcement.delete",
    ]

    by_id: dict[str, list[Post]] = {}
    for post in posts(items):
        by_id.setdefault(post.id, []).append(post)
    # status.update with edited_at set (a local admin status on mastodon.local).
    (edited,) = by_id["http://mastodon.local/users/admin/statuses/109348677773283527"]
    assert edited.edited_at == datetime(2022, 11, 15, 16, 7, 29, 23000, tzinfo=UTC)
    assert edited.text == "edited"
    assert edited.aliases == ("mastodon.local/109348677773283527",)
    assert edited.author.handle == "admin@mastodon.local"
    # The same status posted, then edited: both versions come through in order.
    versions = by_id["https://mastodon.social/users/trwnh/statuses/108914430312582020"]
    assert [v.text for v in versions] == ["#test", "#test but edited"]
    # notification → its status; the mentioned local account names the server.
    (mention,) = by_id["https://pl.nulled.red/objects/64b196c6-3bc5-44d5-8ffb-f760235ee6ca"]
    assert mention.text == "@trwnh test"
    assert mention.mentions == ("trwnh@mastodon.social",)
    assert mention.author.handle == "a@pl.nulled.red"
    assert mention.aliases == ("mastodon.social/108914343542683797",)
    # conversation → its last_status.
    (direct,) = by_id["https://pl.nulled.red/objects/c869c5be-c184-4706-a45d-3459d9aa711c"]
    assert direct.text == "test @trwnh"
    # a reply: only the local parent id is known.
    reply = by_id["https://letsalllovela.in/objects/e9cebb0c-7c75-414f-9608-20b5628e52d7"][0]
    assert reply.reply_to is not None and reply.reply_to.endswith("/108914298452377720")
    assert reply.mentions == ("disarray@pl.nulled.red",)
    assert reply.langs == ()


@needs_real
def test_real_sse_and_parsed_json_agree() -> None:
    from_sse = parse_file(REAL / "streaming_events_from_docs.sse")
    from_json = parse_file(REAL / "streaming_events_from_docs.parsed.json")
    assert from_sse == from_json


@needs_real
def test_real_localhost_timeline_and_stream() -> None:
    (post,) = parse_file(REAL / "localhost_api_v1_timelines_tag_hoot.json")
    assert post.text == "#hoot (hashtag toot)"
    assert post.hashtags == ("hoot",)
    assert post.links == ()
    assert post.author.handle == "mastodonpy_test_2@localhost:3000"
    assert post.aliases == ("localhost:3000/117020593741189701",)
    assert post.source == "Mastodon.py test suite"
    # Same status from the POST response and the tag timeline: same identity.
    (posted,) = parse_file(REAL / "localhost_api_v1_statuses_POST_response.json")
    assert posted == post
    (streamed,) = parse_file(REAL / "localhost_api_v1_streaming_user.sse")
    assert streamed.text == "it's cool guy"
    assert streamed.langs == ("ja",)


@needs_real
def test_real_account_and_media_are_skipped() -> None:
    assert parse_file(REAL / "account_entity_example.json") == [Skipped("account")]
    assert parse_file(REAL / "media_attachment_examples.json") == [Skipped("media")] * 4
    single = real("media_attachment_examples.json")[0]
    assert mastodon.detect(single)
    assert mastodon.parse(single, Context()) == [Skipped("media")]

"""Reference semantics: every operator against hand-built posts, plus
properties tying text matching to the tokenizer."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.post import Author, Post
from hubbub.query.ast import Mention, Not, Phrase, Term, and_, or_
from hubbub.query.evaluate import contains_phrase, handle_matches, lang_matches, matches
from hubbub.query.parser import QuerySyntaxError, parse, to_string
from hubbub.query.tokens import tokenize

WHEN = datetime(2024, 3, 10, 15, 30, tzinfo=UTC)


def make_post(**changes: object) -> Post:
    author = changes.pop("author", None) or Author(network="x", id="1", handle="Alice")
    base = Post(
        network="x",
        id="100",
        author=author,  # type: ignore[arg-type]
        text="Hello World! Don't miss the e-mail about Łódź, version 1.5.",
        created_at=WHEN,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def q(query: str, post: Post) -> bool:
    return matches(parse(query), post)


# --------------------------------------------------------------------------
# Text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hello", True),
        ("HELLO", True),
        ("héllo", True),  # diacritics folded on both sides
        ("world", True),
        ("hell", False),  # no prefix matching
        ("ello", False),  # no substring matching
        ("hello*", True),  # "*" is not a wildcard, it is dropped
        ("lodz", True),
        ("Łódź", True),
        ("don't", True),  # phrase don + t
        ("don", True),
        ("e-mail", True),
        ("email", False),  # tokens are "e", "mail"
        ("1.5", True),
        ("5.1", False),
        ('"hello world"', True),
        ('"world hello"', False),  # order matters
        ('"hello miss"', False),  # consecutive only
        ('"miss the e-mail"', True),
        ("hello world", True),
        ("hello absent", False),
        ("hello OR absent", True),
        ("absent OR missing", False),
        ("-absent", True),
        ("-hello", False),
        ('-"hello world"', False),
        ("-(absent OR hello)", False),
        ("-(absent OR missing)", True),
        ("hello -(absent OR missing)", True),
        ("AND", False),  # a word like any other
        ("about AND", False),
        ("about", True),
        ("foo:bar", False),
        ("version:1", True),  # unknown prefix: the phrase "version 1"
        ("version:5", False),
    ],
)
def test_text(query: str, expected: bool) -> None:
    assert q(query, make_post()) is expected


def test_and_or_keywords_are_words_in_text() -> None:
    post = make_post(text="salt AND pepper or near")
    assert q("and", post)
    assert q("AND", post)
    assert q("salt AND pepper", post)
    assert q("or", post)
    assert q("-OR", post) is False
    assert q("NEAR", post)


def test_deleted_posts_match_no_text() -> None:
    post = make_post(deleted=True)
    assert not q("hello", post)
    assert not q('"hello world"', post)
    assert q("-hello", post)  # the complement of "matches no text"
    # Other operators still apply to a deleted post.
    assert q("from:alice", post)
    assert not q("from:alice hello", post)


def test_empty_text() -> None:
    post = make_post(text="")
    assert not q("a", post)
    assert q("-a", post)


# --------------------------------------------------------------------------
# Hashtags, mentions, authors


def test_hashtag() -> None:
    post = make_post(hashtags=("Rust", "Łódź2024", "snake_case"))
    assert q("#rust", post)
    assert q("#RUST", post)
    assert q("#lodz2024", post)
    assert q("#Łódź2024", post)
    assert q("#snake_case", post)
    assert not q("#rus", post)
    assert not q("#snake", post)
    assert not q("#hello", post)  # a hashtag is not a word of the text
    assert not q("rust", post)  # and a word is not a hashtag
    assert q("-#python", post)
    assert not q("#rust", make_post())


def test_mention() -> None:
    post = make_post(mentions=("Bob", "carol@mastodon.social", "dave.bsky.social"))
    assert q("@bob", post)
    assert q("@BOB", post)
    assert q("@carol", post)  # user part of a Mastodon mention
    assert q("@carol@mastodon.social", post)  # exact account
    assert q("@Carol@Mastodon.Social", post)
    assert not q("@carol@other.social", post)
    assert not q("@bob@mastodon.social", post)  # a host in the query must match exactly
    assert q("@dave.bsky.social", post)
    assert not q("@dave", post)  # no Bluesky suffix magic
    assert not q("@mastodon", post)
    assert not q("@eve", post)
    assert q("-@eve", post)
    assert not q("@bob", make_post())


def test_from() -> None:
    assert q("from:alice", make_post())
    assert q("from:@ALICE", make_post())
    assert not q("from:alic", make_post())
    assert not q("from:bob", make_post())
    masto = make_post(
        network="mastodon",
        author=Author(
            network="mastodon", id="https://m.example/users/carol", handle="Carol@M.Example"
        ),
    )
    assert q("from:carol", masto)
    assert q("from:carol@m.example", masto)
    assert not q("from:carol@other.example", masto)
    bsky = make_post(
        network="bluesky",
        author=Author(network="bluesky", id="did:plc:1", handle="dave.bsky.social"),
    )
    assert q("from:dave.bsky.social", bsky)
    assert not q("from:dave", bsky)
    did = make_post(
        network="bluesky", author=Author(network="bluesky", id="did:plc:zz9", handle="did:plc:zz9")
    )
    assert q("from:did:plc:zz9", did)
    assert q("-from:alice", did)


def test_handle_rule() -> None:
    assert handle_matches("alice", "ALICE")
    assert handle_matches("alice", "alice@host")
    assert handle_matches("alice@host", "Alice@Host")
    assert not handle_matches("alice@host", "alice")
    assert not handle_matches("alice", "alice.host")
    assert not handle_matches("host", "alice@host")


# --------------------------------------------------------------------------
# Language, network, kind


def test_lang() -> None:
    post = make_post(langs=("pt-BR", "EN"))
    assert q("lang:pt", post)
    assert q("lang:pt-br", post)
    assert q("lang:PT-BR", post)
    assert q("lang:en", post)
    assert not q("lang:es", post)
    assert not q("lang:pt-pt", post)
    assert not q("lang:en-us", post)  # the query is more specific than the post
    assert not q("lang:en", make_post())  # no langs: no lang match
    assert q("-lang:en", make_post())
    assert not q("lang:zh", make_post(langs=("zhx",)))  # a prefix must end at "-"
    assert lang_matches("zh-hant", "zh-Hant-TW")


def test_lang_lowercases_ascii_only() -> None:
    # Kelvin sign lower-cases to "k" in Python but not in SQLite's lower();
    # the reference follows the engines.
    assert not lang_matches("ko", "\u212ao")
    assert lang_matches("ko", "KO")


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon", "web"])
def test_network(network: str) -> None:
    post = make_post(network=network)
    for other in ("x", "bluesky", "mastodon", "web"):
        assert q(f"network:{other}", post) is (other == network)
    assert q("network:twitter", post) is (network == "x")


def test_is_reply_and_repost() -> None:
    plain = make_post()
    reply = make_post(reply_to="99")
    repost = make_post(repost_of="98")
    quote = make_post(quote_of="97")
    assert [q("is:reply", p) for p in (plain, reply, repost, quote)] == [False, True, False, False]
    assert [q("is:repost", p) for p in (plain, reply, repost, quote)] == [False, False, True, False]
    assert q("is:retweet", repost)
    assert q("-is:repost", reply)
    assert q("is:reply", make_post(reply_to=""))  # present, even if empty


def test_has_links_and_media() -> None:
    plain = make_post()
    linked = make_post(links=("https://example.com",))
    media = make_post(media_count=2)
    assert [q("has:links", p) for p in (plain, linked, media)] == [False, True, False]
    assert [q("has:media", p) for p in (plain, linked, media)] == [False, False, True]
    assert q("-has:links -has:media", plain)


def test_since_is_inclusive_and_until_exclusive() -> None:
    midnight = make_post(created_at=datetime(2024, 3, 10, tzinfo=UTC))
    before = make_post(created_at=datetime(2024, 3, 9, 23, 59, 59, 999999, tzinfo=UTC))
    later = make_post(created_at=datetime(2024, 3, 10, 23, 59, tzinfo=UTC))
    assert q("since:2024-03-10", midnight)
    assert not q("since:2024-03-10", before)
    assert q("since:2024-03-10", later)
    assert not q("until:2024-03-10", midnight)
    assert q("until:2024-03-10", before)
    assert q("since:2024-03-10 until:2024-03-11", later)
    assert not q("since:2024-03-11 until:2024-03-10", later)


def test_dates_compare_in_utc() -> None:
    # 2024-03-10 01:00 at +02:00 is 2024-03-09 23:00 UTC.
    east = make_post(created_at=datetime(2024, 3, 10, 1, tzinfo=timezone(timedelta(hours=2))))
    assert not q("since:2024-03-10", east)
    assert q("until:2024-03-10", east)
    naive = make_post(created_at=datetime(2024, 3, 10, 0, 0))  # naive is UTC
    assert q("since:2024-03-10", naive)


# --------------------------------------------------------------------------
# Combinations


def test_precedence_and_grouping() -> None:
    post = make_post(text="apple ipad")
    assert q("apple OR iphone ipad", post)  # apple OR (iphone ipad)
    assert not q("(apple OR iphone) android", post)
    assert q("android OR apple ipad", post)
    assert not q("iphone OR android ipad", post)


def test_everything_together() -> None:
    post = make_post(
        network="mastodon",
        author=Author(network="mastodon", id="u", handle="carol@m.example"),
        text="Launch day for the new release!",
        langs=("en",),
        hashtags=("Launch",),
        mentions=("dave@m.example",),
        links=("https://example.com",),
        reply_to="1",
    )
    query = (
        '"new release" #launch @dave from:carol lang:en network:mastodon is:reply '
        "-is:repost has:links -has:media since:2024-03-10 until:2024-03-11 -(spam OR scam)"
    )
    assert q(query, post)
    assert not q(query + " missing", post)


# --------------------------------------------------------------------------
# Properties

words = st.text(min_size=1, max_size=30)


@settings(max_examples=500)
@given(st.text(max_size=80), st.data())
def test_any_run_of_a_posts_tokens_matches_it(text: str, data: st.DataObject) -> None:
    tokens = tokenize(text)
    post = make_post(text=text)
    if not tokens:
        return
    start = data.draw(st.integers(0, len(tokens) - 1))
    end = data.draw(st.integers(start + 1, min(len(tokens), start + 4)))
    run = tokens[start:end]
    node = Term(run[0]) if len(run) == 1 else Phrase(tuple(run))
    assert matches(node, post)
    assert not matches(Not(node), post)
    assert not matches(node, replace(post, deleted=True))
    # The same through the query language: quoting the run's own text.
    assert matches(parse('"' + " ".join(run) + '"'), post)


@settings(max_examples=500)
@given(st.text(max_size=80))
def test_a_post_matches_a_quoted_search_for_its_own_text(text: str) -> None:
    inner = text.replace('"', " ")
    try:
        node = parse(f'"{inner}"')
    except QuerySyntaxError:
        assert not tokenize(inner)
        return
    assert matches(node, make_post(text=text))


@settings(max_examples=500)
@given(st.text(max_size=60), words)
def test_term_is_exact_token_membership(text: str, word: str) -> None:
    for token in tokenize(word):
        assert matches(Term(token), make_post(text=text)) is (token in tokenize(text))


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=8),
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3),
)
def test_contains_phrase_agrees_with_slicing(tokens: list[str], phrase: list[str]) -> None:
    expected = any(tokens[i : i + len(phrase)] == phrase for i in range(len(tokens)))
    assert contains_phrase(tokens, tuple(phrase)) is expected


LEAVES = ["apple", "ipad", "#launch", "@dave", "from:alice", "lang:en", "is:reply", "has:links"]


@settings(max_examples=500)
@given(
    st.recursive(
        st.sampled_from(LEAVES).map(parse),
        lambda c: st.one_of(
            c.map(Not),
            st.lists(c, min_size=2, max_size=3).map(lambda cs: and_(*cs)),
            st.lists(c, min_size=2, max_size=3).map(lambda cs: or_(*cs)),
        ),
        max_leaves=8,
    ),
    st.fixed_dictionaries(
        {
            "text": st.sampled_from(["apple", "ipad apple", "nothing", ""]),
            "hashtags": st.sampled_from([(), ("Launch",)]),
            "mentions": st.sampled_from([(), ("dave@m.example",)]),
            "langs": st.sampled_from([(), ("en-GB",), ("fr",)]),
            "reply_to": st.sampled_from([None, "1"]),
            "links": st.sampled_from([(), ("https://e.example",)]),
            "deleted": st.booleans(),
        }
    ),
)
def test_rendered_query_means_the_same(node: object, fields: dict[str, object]) -> None:
    post = make_post(**fields)
    assert matches(parse(to_string(node)), post) is matches(node, post)  # type: ignore[arg-type]


def test_unknown_node_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        matches(object(), make_post())  # type: ignore[arg-type]


def test_mention_node_built_by_hand() -> None:
    assert matches(Mention("carol"), make_post(mentions=("carol@x.example",)))

"""Property tests of the compiled matcher against the reference evaluator on
generated posts (deleted ones, reposts as matching sees them, regional
language tags, Mastodon handles, dates) and generated queries, and of its
word-cached tokeniser against ``tokenize``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubbub.listen.matcher import Matcher
from hubbub.listen.matcher_facets import WordTokens
from hubbub.post import Author, Post
from hubbub.query import ast, matches
from hubbub.query.reposts import as_matched
from hubbub.query.tokens import tokenize

WORDS = ["brexit", "vote", "the", "people", "eu", "café", "strasse", "e", "mail", "über", "1000"]
# Text pieces that stress fold/tokenize: case, diacritics (composed and not),
# ligatures, final sigma, marks after spaces, emoji and astral marks, every
# kind of whitespace, punctuation that splits words.
PIECES = [
    *WORDS,
    "Brexit",
    "BREXIT",
    "Café",
    "cafe\u0301",
    "Straße",
    "ﬁ",
    "ΣΟΦΟΣ",
    "σοφος",
    "e-mail",
    "#Brexit",
    "@Alice",
    "\u0301",
    "😀",
    "\U0001d165",
    "½",
    "x²",
    "it's",
    "https://t.co/AbC",
    "…",
    "_",
    " ",
    "\t",
    "\n",
    "\u00a0",
    "\u2003",
    "\u3000",
    "\u1680",
    "\u2028",
    "\x1c",
    "\x85",
]
text_st = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)

DAY = datetime(2022, 6, 1, tzinfo=UTC)
DATES = [DAY - timedelta(days=1), DAY, DAY + timedelta(seconds=1)]


@settings(max_examples=400, deadline=None)
@given(text_st)
def test_word_tokens_equal_tokenize(text: str) -> None:
    words = WordTokens()
    for _ in range(2):  # cold, then from the cache
        assert words(text) == tokenize(text)
        assert words.token_set(text.split()) == set(tokenize(text))


def test_every_whitespace_separates_tokens() -> None:
    # WordTokens splits on str.split()'s whitespace before folding: that is
    # only the same when each such character folds to a separator.
    spaces = [chr(cp) for cp in range(sys.maxunicode + 1) if chr(cp).isspace()]
    assert len(spaces) > 20
    for space in spaces:
        assert tokenize(f"Ab{space}\u0301cd") == tokenize("Ab") + tokenize("\u0301cd")
        assert WordTokens()(f"Ab{space}\u0301cd") == tokenize(f"Ab{space}\u0301cd")


@st.composite
def posts(draw: st.DrawFn) -> Post:
    network = draw(st.sampled_from(["x", "bluesky", "mastodon"]))
    handle = draw(
        st.sampled_from(["alice", "Alice@mastodon.social", "bob.bsky.social", "did:plc:xy"])
    )
    post = Post(
        network,
        str(draw(st.integers(0, 10**6))),
        Author(network, "1", handle),
        draw(text_st),
        draw(st.sampled_from([*DATES, DAY.replace(tzinfo=None), DAY + timedelta(days=3)])),
    )
    post.langs = tuple(
        draw(st.lists(st.sampled_from(["en", "EN-gb", "pt-BR", "es", "zh-Hant-TW"]), max_size=2))
    )
    post.hashtags = tuple(
        draw(st.lists(st.sampled_from(["Brexit", "EU", "Café", "straße"]), max_size=2))
    )
    post.mentions = tuple(
        draw(st.lists(st.sampled_from(["alice", "Alice@mastodon.social", "bob"]), max_size=2))
    )
    post.reply_to = draw(st.sampled_from([None, "9"]))
    post.links = tuple(draw(st.lists(st.just("https://example.org"), max_size=1)))
    post.media_count = draw(st.integers(0, 1))
    post.deleted = draw(st.booleans())
    if draw(st.booleans()):
        # A repost, as matching sees it: with its original's text and facets.
        post.repost_of = "7"
        original = Post(network, "7", Author(network, "2", "carol"), draw(text_st), DAY)
        original.hashtags = ("Brexit",)
        original.langs = ("en",)
        post = as_matched(post, original)
    return post


LEAVES: list[ast.Node] = [
    *(
        ast.Term(w)
        for w in [
            "brexit",
            "vote",
            "the",
            "people",
            "eu",
            "cafe",
            "strasse",
            "e",
            "mail",
            "uber",
            "1000",
            "fi",
            "σοφοσ",
            "alice",
            "x2",
            "it",
            "s",
            "https",
            "t",
            "co",
            "abc",
            "zzz",
        ]
    ),
    ast.Phrase(("e", "mail")),
    ast.Phrase(("the", "people")),
    ast.Phrase(("t", "co", "abc")),
    ast.Phrase(("brexit", "brexit")),
    ast.Phrase(("since", "vote")),
    ast.Hashtag("brexit"),
    ast.Hashtag("cafe"),
    ast.Hashtag("strasse"),
    ast.Mention("alice"),
    ast.Mention("alice@mastodon.social"),
    ast.Mention("bob"),
    ast.From("alice"),
    ast.From("alice@mastodon.social"),
    ast.From("bob.bsky.social"),
    ast.From("did:plc:xy"),
    ast.Lang("en"),
    ast.Lang("en-gb"),
    ast.Lang("pt"),
    ast.Lang("zh-hant"),
    ast.Network("x"),
    ast.Network("mastodon"),
    ast.IsReply(),
    ast.IsRepost(),
    ast.HasLinks(),
    ast.HasMedia(),
    *(ast.Since(d) for d in DATES),
    *(ast.Until(d) for d in DATES),
]

queries_st = st.recursive(
    st.sampled_from(LEAVES),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=4).map(lambda c: ast.and_(*c)),
        st.lists(children, min_size=2, max_size=4).map(lambda c: ast.or_(*c)),
        children.map(ast.Not),
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(queries_st, min_size=1, max_size=30), st.lists(posts(), min_size=1, max_size=20))
def test_matcher_equals_evaluate_on_generated_posts(
    nodes: list[ast.Node], batch: list[Post]
) -> None:
    matcher = Matcher([(str(i), node) for i, node in enumerate(nodes)])
    for post in batch:
        expected = [str(i) for i, node in enumerate(nodes) if matches(node, post)]
        assert matcher.match(post) == expected, post
        assert matcher.match_indexes(post) == [int(name) for name in expected]

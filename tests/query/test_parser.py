"""The search language: what parses to what, what is an error, and properties
that hold for any input (no crash, canonical round trip, no engine syntax)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from hubbub.query.ast import (
    And,
    From,
    Hashtag,
    HasLinks,
    HasMedia,
    IsReply,
    IsRepost,
    Lang,
    Mention,
    Network,
    Node,
    Not,
    Or,
    Phrase,
    Since,
    Term,
    Until,
    and_,
    or_,
    walk,
)
from hubbub.query.parser import MAX_DEPTH, QuerySyntaxError, parse, to_string
from hubbub.query.tokens import tokenize

T = Term


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


# --------------------------------------------------------------------------
# What parses to what

PARSES: list[tuple[str, Node]] = [
    # words, case folding, diacritics
    ("hello", T("hello")),
    ("Héllo WORLD", And((T("hello"), T("world")))),
    ("  padded\t\n", T("padded")),
    # phrases
    ('"exact phrase"', Phrase(("exact", "phrase"))),
    ('"Single"', T("single")),  # a one-token phrase is a term
    ('"a OR b"', Phrase(("a", "or", "b"))),
    ('"from:alice #tag"', Phrase(("from", "alice", "tag"))),
    ('"" word', T("word")),
    ('a"b c"d', And((T("a"), Phrase(("b", "c")), T("d")))),
    # OR: uppercase only, binds looser than juxtaposition
    ("a OR b", Or((T("a"), T("b")))),
    ("a or b", And((T("a"), T("or"), T("b")))),
    ("a Or b", And((T("a"), T("or"), T("b")))),
    ("a b OR c", Or((And((T("a"), T("b"))), T("c")))),
    ("a OR b c", Or((T("a"), And((T("b"), T("c")))))),
    ("a OR b OR c", Or((T("a"), T("b"), T("c")))),
    ("(a OR b) OR c", Or((T("a"), T("b"), T("c")))),
    ("a(b)OR(c)", Or((And((T("a"), T("b"))), T("c")))),
    ('a OR"b c"', Or((T("a"), Phrase(("b", "c"))))),
    # parentheses
    ("(a b) c", And((T("a"), T("b"), T("c")))),
    ("a (b OR c)", And((T("a"), Or((T("b"), T("c")))))),
    ("((a))", T("a")),
    ("a () b", And((T("a"), T("b")))),
    ("(a OR b) (c OR d)", And((Or((T("a"), T("b"))), Or((T("c"), T("d")))))),
    # negation
    ("-spam", Not(T("spam"))),
    ('-"a b"', Not(Phrase(("a", "b")))),
    ("-(a OR b)", Not(Or((T("a"), T("b"))))),
    ("-is:repost", Not(IsRepost())),
    ("-#tag", Not(Hashtag("tag"))),
    ("-@bob", Not(Mention("bob"))),
    ("-from:bob", Not(From("bob"))),
    ("--a", Not(Not(T("a")))),
    ("-OR", Not(T("or"))),
    ("a -b", And((T("a"), Not(T("b"))))),
    ("a - b", And((T("a"), T("b")))),  # a lone "-" is text, and no token
    ("a-b", Phrase(("a", "b"))),  # inside a word it is text
    ("(a -)", T("a")),
    ("x -- a", And((T("x"), T("a")))),
    # hashtags and mentions
    ("#Rust", Hashtag("rust")),
    ("#Łódź", Hashtag("lodz")),
    ("#snake_case", Hashtag("snake_case")),
    ("#rust,", Hashtag("rust")),
    ("#rust-lang", And((Hashtag("rust"), T("lang")))),
    ("#", None),
    ("@Alice", Mention("alice")),
    ("@alice.", Mention("alice")),
    ("@alice,", Mention("alice")),
    ("@alice.bsky.social", Mention("alice.bsky.social")),
    ("@Alice@Mastodon.Social", Mention("alice@mastodon.social")),
    ("@alice:", Mention("alice")),
    ("@", None),
    # operators, names case-insensitive
    ("from:alice", From("alice")),
    ("from:@Alice", From("alice")),
    ("FROM:alice", From("alice")),
    ("from:alice@mastodon.social", From("alice@mastodon.social")),
    ("from:alice.bsky.social", From("alice.bsky.social")),
    ("from:did:plc:abc123", From("did:plc:abc123")),
    ("lang:en", Lang("en")),
    ("lang:PT-br", Lang("pt-br")),
    ("lang:und", Lang("und")),
    ("network:x", Network("x")),
    ("network:twitter", Network("x")),
    ("network:Bluesky", Network("bluesky")),
    ("network:mastodon", Network("mastodon")),
    ("network:web", Network("web")),
    ("is:reply", IsReply()),
    ("is:repost", IsRepost()),
    ("is:retweet", IsRepost()),
    ("IS:REPLY", IsReply()),
    ("has:links", HasLinks()),
    ("has:media", HasMedia()),
    ("since:2024-02-29", Since(day(2024, 2, 29))),
    ("until:2024-03-01", Until(day(2024, 3, 1))),
    # not our syntax: plain words
    ("AND", T("and")),
    ("a AND b", And((T("a"), T("and"), T("b")))),
    ("a NEAR b", And((T("a"), T("near"), T("b")))),
    ("NEAR/3", Phrase(("near", "3"))),
    ("foo*", T("foo")),
    ("^boost", T("boost")),
    ("a * b", And((T("a"), T("b")))),
    ("foo:bar", Phrase(("foo", "bar"))),
    ("to:alice", Phrase(("to", "alice"))),
    ("col:", T("col")),
    ("http://example.com/x", Phrase(("http", "example", "com", "x"))),
    ("don't", Phrase(("don", "t"))),
    ("e-mail", Phrase(("e", "mail"))),
    ("1.5", Phrase(("1", "5"))),
    ("a && b || !c", And((T("a"), T("b"), T("c")))),
    ("a & b | c <-> d", And((T("a"), T("b"), T("c"), T("d")))),
    ("'; DROP TABLE posts; --", And((T("drop"), T("table"), T("posts")))),
    ("x{1}", Phrase(("x", "1"))),
    ("straße", T("strasse")),
    ("हिन्दी", T("हनद")),
]

PARSE_CASES = [(q, n) for q, n in PARSES if n is not None]


@pytest.mark.parametrize(("query", "expected"), PARSE_CASES)
def test_parses_to(query: str, expected: Node) -> None:
    assert parse(query) == expected


@pytest.mark.parametrize(("query", "expected"), PARSE_CASES)
def test_canonical_string_round_trips(query: str, expected: Node) -> None:
    assert parse(to_string(expected)) == expected


def test_to_string_is_readable() -> None:
    node = parse('A b OR "c  d" -(e OR f) -is:repost #T @u from:@v lang:EN network:twitter')
    assert to_string(node) == '(a b) OR ("c d" -(e OR f) -is:repost #t @u from:v lang:en network:x)'
    assert to_string(parse("since:2024-01-05 until:0999-12-31")) == (
        "since:2024-01-05 until:0999-12-31"
    )


def test_to_string_rejects_times_the_language_cannot_express() -> None:
    with pytest.raises(ValueError, match="whole UTC day"):
        to_string(Since(datetime(2024, 1, 1, 12, tzinfo=UTC)))


def test_since_until_are_utc_midnight() -> None:
    since = parse("since:2024-01-05")
    assert isinstance(since, Since)
    assert since.at == datetime(2024, 1, 5, tzinfo=UTC)
    assert since.at.utcoffset() is not None


# --------------------------------------------------------------------------
# Errors

ERRORS: list[tuple[str, str, int]] = [
    ("", "empty query", 0),
    ("   \t", "empty query", 0),
    ('say "hi', "unterminated quote", 4),
    ('"a" "b" "c', "unterminated quote", 8),
    ('-"a', "unterminated quote", 1),
    ('"', "unterminated quote", 0),
    ("(a", "unclosed '('", 0),
    ("x (a (b)", "unclosed '('", 2),
    ("a)", "unmatched ')'", 1),
    ("(a) b)", "unmatched ')'", 5),
    (")", "unmatched ')'", 0),
    (":)", "unmatched ')'", 1),
    ("OR a", "OR with nothing before it", 0),
    ("(OR a)", "OR with nothing before it", 1),
    ("a OR", "OR with nothing after it", 2),
    ("(a OR) b", "OR with nothing after it", 3),
    ("a OR OR b", "doubled OR", 5),
    ("OR", "OR with nothing before it", 0),
    ("from:", "from: needs a value", 5),
    ("x from: alice", "from: needs a value", 7),
    ("from:@", "from: needs a handle", 5),
    ('from:"alice"', "from: needs a value", 5),
    ("from:a,b", "invalid handle", 5),
    ("from:...", "invalid handle", 5),
    ("lang:", "lang: needs a value", 5),
    ("lang:e", "invalid language code", 5),
    ("lang:en_US", "invalid language code", 5),
    ("network:", "network: needs a value", 8),
    ("network:facebook", "unknown network", 8),
    ("is:", "is: needs a value", 3),
    ("is:quote", "unknown is:quote", 3),
    ("-is:nothing", "unknown is:nothing", 4),
    ("has:", "has: needs a value", 4),
    ("has:images", "unknown has:images", 4),
    ("since:", "since: needs a value", 6),
    ("since:2024-13-01", "invalid date", 6),
    ("since:2023-02-29", "invalid date", 6),
    ("until:2024-1-1", "invalid date", 6),
    ("until:yesterday", "invalid date", 6),
    ("until:２０２４-01-01", "invalid date", 6),  # full-width digits
    ("since:0000-01-01", "invalid date", 6),
    ("*", "nothing to search for", 0),
    ("-*", "nothing to search for", 0),
    ("()", "nothing to search for", 0),
    ('""', "nothing to search for", 0),
    ("#", "nothing to search for", 0),
    ("@", "nothing to search for", 0),
    ("* OR ^", "nothing to search for", 0),
    ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "nested more than", MAX_DEPTH),
    ("-" * (MAX_DEPTH + 1) + "a", "nested more than", MAX_DEPTH),
]


@pytest.mark.parametrize(("query", "message", "position"), ERRORS)
def test_errors(query: str, message: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(query)
    assert info.value.message.startswith(message)
    assert info.value.position == position
    assert str(info.value) == f"{info.value.message} at column {position + 1}"


def test_error_message_names_one_based_column() -> None:
    with pytest.raises(QuerySyntaxError, match=r"^unterminated quote at column 7$"):
        parse('hello "world')


def test_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse("(")


def test_depth_limit_allows_its_own_maximum() -> None:
    deep = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse(deep) == T("a")
    node = parse("-" * MAX_DEPTH + "a")
    assert parse(to_string(node)) == node


def test_dropped_text_does_not_count_as_a_dangling_or() -> None:
    # Syntax is judged on what was typed; only the meaning drops the "*".
    assert parse("* OR a") == T("a")
    assert parse("a OR *") == T("a")
    assert parse("a OR (*) OR b") == Or((T("a"), T("b")))


# --------------------------------------------------------------------------
# Node invariants (hand-built trees are as safe as parsed ones)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Term("Upper"),
        lambda: Term("two words"),
        lambda: Term(""),
        lambda: Term("a*"),
        lambda: Phrase(("one",)),
        lambda: Phrase(("a", "b c")),
        lambda: Hashtag("#tag"),
        lambda: Hashtag("Tag"),
        lambda: Hashtag("_"),
        lambda: Mention("@alice"),
        lambda: Mention("alice."),
        lambda: Mention("a b"),
        lambda: From(""),
        lambda: From("al ice"),
        lambda: From("x'--"),
        lambda: Lang("EN"),
        lambda: Lang("e"),
        lambda: Network("twitter"),
        lambda: And((T("a"),)),
        lambda: And((T("a"), And((T("b"), T("c"))))),
        lambda: Or((Or((T("b"), T("c"))), T("a"))),
    ],
)
def test_invalid_nodes_are_rejected(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


def test_and_or_helpers_flatten() -> None:
    a, b, c = T("a"), T("b"), T("c")
    assert and_(a) == a
    assert and_(and_(a, b), c) == And((a, b, c))
    assert or_(a, or_(b, c)) == Or((a, b, c))
    assert and_(or_(a, b), c) == And((Or((a, b)), c))
    with pytest.raises(ValueError):
        and_()


def test_nodes_are_hashable_and_lists_become_tuples() -> None:
    node = And([T("a"), Phrase(["b", "c"])])  # type: ignore[arg-type]
    assert node.children == (T("a"), Phrase(("b", "c")))
    assert len({node, parse('a "b c"')}) == 1


def test_naive_dates_are_taken_as_utc() -> None:
    assert Since(datetime(2024, 1, 1)) == Since(day(2024, 1, 1))


# --------------------------------------------------------------------------
# Properties over arbitrary input

# Fragments that are syntax somewhere (ours or an engine's), so random
# concatenations hit the interesting paths far more often than st.text() does.
FRAGMENTS = [
    *"   \t\"()-:#@*^'.,_/\\{}[]|&!~+<>;%",
    *[
        "AND",
        "OR",
        "or",
        "NEAR",
        "NOT",
        "a",
        "b",
        "Ab",
        "ß",
        "é",
        "İ",
        "Ł",
        "हि",
        "中文",
        "٣",
        "½",
        "①",
        "⑴",
        "ﬀ",
        "😀",
    ],
    *["\u0301", "\u200b", "\u00a0", "\x00"],
    *[
        "from:",
        "lang:",
        "network:",
        "is:",
        "has:",
        "since:",
        "until:",
        "foo:",
        "reply",
        "repost",
        "links",
        "media",
    ],
    *[
        "x",
        "twitter",
        "en",
        "pt-BR",
        "2024-02-29",
        "2023-02-29",
        "@alice",
        "@bob@host.social",
        "#tag",
        "did:plc:z",
    ],
]

query_text = st.one_of(
    st.text(),
    st.text(alphabet='"()-:#@*^ ANDORNEAR\\\t'),
    st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join),
)


def parse_or_none(text: str) -> Node | None:
    try:
        return parse(text)
    except QuerySyntaxError as err:
        assert 0 <= err.position <= len(text)
        assert str(err) == f"{err.message} at column {err.position + 1}"
        return None


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(query_text)
@example("(" * 500)
@example("-" * 500 + "a")
@example('"' * 3)
def test_any_text_parses_or_raises_a_syntax_error(text: str) -> None:
    # Nothing but a Node or QuerySyntaxError may come out (an uncaught
    # exception here fails the test), and a Node is always a valid tree.
    node = parse_or_none(text)
    if node is not None:
        for sub in walk(node):
            assert isinstance(sub, Node)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(query_text)
def test_round_trip_through_canonical_string(text: str) -> None:
    node = parse_or_none(text)
    assume(node is not None)
    assert node is not None
    canonical = to_string(node)
    assert parse(canonical) == node
    assert to_string(parse(canonical)) == canonical


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(query_text)
def test_text_tokens_are_only_letters_and_digits(text: str) -> None:
    # This is what keeps FTS5/tsquery/LIKE syntax from ever reaching an engine.
    node = parse_or_none(text)
    assume(node is not None)
    assert node is not None
    for sub in walk(node):
        tokens: tuple[str, ...] = ()
        if isinstance(sub, Term):
            tokens = (sub.token,)
        elif isinstance(sub, Phrase):
            tokens = sub.tokens
            assert len(tokens) >= 2
        for token in tokens:
            assert token
            assert all(ch.isalnum() for ch in token), token
            assert tokenize(token) == [token]


@settings(max_examples=500)
@given(st.text())
def test_a_quoted_text_is_its_tokens(text: str) -> None:
    inner = text.replace('"', " ")
    tokens = tokenize(inner)
    node = parse_or_none(f'"{inner}"')
    if not tokens:
        assert node is None
    elif len(tokens) == 1:
        assert node == T(tokens[0])
    else:
        assert node == Phrase(tuple(tokens))


# --------------------------------------------------------------------------
# Properties over arbitrary trees: to_string is total and exact

tokens_st = st.text(min_size=1, max_size=12).map(tokenize).filter(bool)
token_st = tokens_st.map(lambda ts: ts[0])
handle_part = st.from_regex(r"[a-z0-9][a-z0-9_]{0,5}", fullmatch=True)

leaves = st.one_of(
    token_st.map(Term),
    st.lists(token_st, min_size=2, max_size=4).map(lambda ts: Phrase(tuple(ts))),
    st.lists(token_st, min_size=1, max_size=2).map(lambda ts: Hashtag("_".join(ts))),
    st.tuples(handle_part, st.sampled_from(["", ".bsky.social", "@mastodon.social"])).map(
        lambda p: Mention(p[0] + p[1])
    ),
    st.tuples(handle_part, st.sampled_from(["", ".bsky.social", "@host.example", ":plc"])).map(
        lambda p: From(p[0] + p[1])
    ),
    st.sampled_from(["en", "pt-br", "zh-hant", "und"]).map(Lang),
    st.sampled_from(["x", "bluesky", "mastodon", "web"]).map(Network),
    st.sampled_from([IsReply(), IsRepost(), HasLinks(), HasMedia()]),
    st.dates().map(lambda d: Since(day(d.year, d.month, d.day))),
    st.dates().map(lambda d: Until(day(d.year, d.month, d.day))),
)

trees = st.recursive(
    leaves,
    lambda children: st.one_of(
        children.map(Not),
        st.lists(children, min_size=2, max_size=4).map(lambda cs: and_(*cs)),
        st.lists(children, min_size=2, max_size=4).map(lambda cs: or_(*cs)),
    ),
    max_leaves=12,
)


@settings(max_examples=1000)
@given(trees)
def test_any_tree_round_trips(node: Node) -> None:
    assert parse(to_string(node)) == node

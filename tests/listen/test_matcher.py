"""The compiled matcher equals the reference evaluator, on real data and on
random queries built from the data's own vocabulary."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubbub.listen.matcher import Matcher, necessary_keys
from hubbub.post import Author, Post
from hubbub.query import ast, matches, parse
from hubbub.query.tokens import fold, tokenize
from hubbub.store import open_store
from hubbub.transfer.importer import import_paths
from tests.conftest import require_shared_data
from tests.store.test_import_real import payload_files
from tests.store.test_search import QUERIES


@pytest.fixture(scope="module")
def real_posts(tmp_path_factory) -> list[Post]:
    require_shared_data()
    url = f"sqlite:///{tmp_path_factory.mktemp('matcher') / 'h.db'}"
    with open_store(url) as store:
        import_paths(store, [str(p) for p in payload_files()])
        posts = list(store.iter_posts())
    # Deleted posts match negations (and filters) but no text: include some so
    # that rule is exercised too.
    for post in posts[:25]:
        gone = Post(post.network, post.id + "-gone", post.author, post.text, post.created_at)
        gone.hashtags, gone.deleted = post.hashtags, True
        posts.append(gone)
    return posts


EXTRA = [
    "-brexit",
    "-is:reply -has:links",
    "lang:en OR #brexit",
    "(brexit OR #brexit) -lang:en",
    '"the people" OR from:chrismo',
    "-(brexit OR italia) network:x",
    "@trwnh OR @alice@mastodon.social",
]


def test_matcher_equals_evaluate_on_real_data(real_posts: list[Post]) -> None:
    queries = {f"q{i}": q for i, q in enumerate(QUERIES + EXTRA)}
    matcher = Matcher(queries)
    nodes = {name: parse(q) for name, q in queries.items()}
    total = 0
    for post in real_posts:
        expected = [name for name, node in nodes.items() if matches(node, post)]
        assert matcher.match(post) == expected, (post.network, post.id)
        total += len(expected)
    assert total > 1000  # the queries do match a good part of the data


def test_filters_and_negations_are_bitsets_not_evaluated() -> None:
    queries = [
        "-brexit",
        "lang:en",
        "network:x is:reply",
        "-is:repost",
        "#eu lang:pt",
        "(a b) OR c",
    ]
    assert Matcher({str(i): q for i, q in enumerate(queries)}).evaluated == 0
    # A clause mixing a negation with something else is evaluated as a closure.
    assert Matcher({"q": "-(a b)", "r": "a OR -b c", "s": "a OR -b"}).evaluated == 3


def test_necessary_keys_prefer_words_to_filters() -> None:
    assert necessary_keys(parse("-brexit")) is None
    assert necessary_keys(parse("a OR -b")) is None
    assert necessary_keys(parse("(a OR #b) -c lang:en")) == {"a", "#b"}
    assert necessary_keys(parse("lang:en network:x")) == {"lang:en"}


def test_keys_match_whole_tokens_only() -> None:
    post = Post("x", "1", Author("x", "1", "someone"), "brexiteers and exit", datetime.now(UTC))
    assert Matcher({"a": "brexit", "b": "exit", "c": "brexiteer"}).match(post) == ["b"]


# -- random queries ---------------------------------------------------------------


def _valid(make, value):
    try:
        return make(value)
    except (ValueError, TypeError):
        return None


@pytest.fixture(scope="module")
def vocabulary(real_posts: list[Post]) -> dict[str, list]:
    tokens: Counter[str] = Counter()
    pairs: list[tuple[str, str]] = []
    tags, handles, authors, langs = set(), set(), set(), set()
    for post in real_posts:
        words = tokenize(post.text)
        tokens.update(words)
        pairs.extend(zip(words, words[1:], strict=False))
        tags.update(fold(h) for h in post.hashtags)
        for m in post.mentions:
            handles.update({fold(m), fold(m).split("@")[0]})
        authors.update({fold(post.author.handle), fold(post.author.handle).split("@")[0]})
        langs.update(lang.lower() for lang in post.langs)
    common = [t for t, _ in tokens.most_common(150)]
    rare = [t for t, n in tokens.items() if n <= 2][:150]
    nodes = {
        "text": [ast.Term(t) for t in common + rare + ["zzznotthere"]],
        "phrase": [ast.Phrase(p) for p in pairs[:: max(1, len(pairs) // 150)]],
        "tag": [n for n in (_valid(ast.Hashtag, v) for v in sorted(tags)) if n],
        "mention": [n for n in (_valid(ast.Mention, v) for v in sorted(handles)) if n],
        "from": [n for n in (_valid(ast.From, v) for v in sorted(authors)) if n],
        "filter": [
            *(n for n in (_valid(ast.Lang, v.split("-")[0]) for v in sorted(langs)) if n),
            *(ast.Network(n) for n in ("x", "bluesky", "mastodon")),
            ast.IsReply(),
            ast.IsRepost(),
            ast.HasLinks(),
            ast.HasMedia(),
            ast.Since(datetime(2022, 1, 1, tzinfo=UTC)),
            ast.Until(datetime(2021, 6, 1, tzinfo=UTC)),
        ],
    }
    return nodes


def _queries(vocab: dict[str, list]) -> st.SearchStrategy[ast.Node]:
    leaves = st.one_of(
        st.sampled_from(vocab["text"]),
        st.sampled_from(vocab["text"]),  # text twice: the common case in real queries
        st.sampled_from(vocab["phrase"]),
        st.sampled_from(vocab["tag"]),
        st.sampled_from(vocab["mention"]),
        st.sampled_from(vocab["from"]),
        st.sampled_from(vocab["filter"]),
    )
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=2, max_size=4).map(lambda c: ast.and_(*c)),
            st.lists(children, min_size=2, max_size=4).map(lambda c: ast.or_(*c)),
            children.map(ast.Not),
        ),
        max_leaves=8,
    )


def test_random_queries_match_like_evaluate(real_posts: list[Post], vocabulary) -> None:
    sample = real_posts[::3]

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(_queries(vocabulary), min_size=1, max_size=25))
    def check(nodes: list[ast.Node]) -> None:
        matcher = Matcher([(str(i), node) for i, node in enumerate(nodes)])
        for post in sample:
            expected = [str(i) for i, node in enumerate(nodes) if matches(node, post)]
            assert matcher.match(post) == expected

    check()

"""Long and wide queries: a thousand words joined by AND or OR, negated,
mixed with tags, handles and filters, run on SQLite and PostgreSQL and give
the same posts as the reference evaluator (never "Expression tree is too
large" or another database error)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from hubbub.listen.matcher import Matcher
from hubbub.post import Author, Post
from hubbub.query import QueryLimitError, ast, matches, parse, to_string
from hubbub.query.parser import MAX_LENGTH
from hubbub.store import Ingest, open_store
from tests.conftest import PG_ADMIN_URL

WORDS = ["apple", "brexit", "coffee", "dance", "email", "fjord", "garden", "harbor"]
TAGS = ["chat", "news", "rust", "jazz"]
HANDLES = ["ann", "bob", "cyd"]
LANGS = ["en", "pt-br", "fr"]
NETWORKS = ["x", "bluesky", "mastodon"]
T0 = datetime(2024, 5, 1, tzinfo=UTC)
MANY = 999

# A thousand-child query takes a second or two per database.
pytestmark = pytest.mark.slow


def _posts() -> list[Post]:
    rng = random.Random(7)
    posts = []
    for n in range(150):
        network = NETWORKS[n % 3]
        handle = rng.choice(HANDLES)
        words = rng.sample(WORDS, rng.randint(1, 4))
        tags = tuple(rng.sample(TAGS, rng.randint(0, 2)))
        mentions = tuple(rng.sample(HANDLES, rng.randint(0, 1)))
        text = " ".join(words + [f"#{t}" for t in tags] + [f"@{m}" for m in mentions])
        posts.append(
            Post(
                network=network,
                id=f"{network}-{n}",
                author=Author(network=network, id=f"{network}-{handle}", handle=handle),
                text=text,
                created_at=T0 + timedelta(hours=n),
                langs=(rng.choice(LANGS),),
                hashtags=tags,
                mentions=mentions,
                reply_to=f"{network}-{n - 1}" if n % 5 == 0 and n else None,
            )
        )
    return posts


@pytest.fixture(scope="module")
def stores(tmp_path_factory, _pg_admin):
    name = f"hubbub_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    pg_url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('long') / 'h.db'}"
    opened = {"sqlite": open_store(sqlite_url), "postgresql": open_store(pg_url)}
    for s in opened.values():
        s.ingest([Ingest(p) for p in _posts()])
    everything = list(opened["sqlite"].iter_posts())
    yield opened, everything
    for s in opened.values():
        s.close()
    with _pg_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _same_everywhere(stores, node: ast.Node) -> set[tuple[str, str]]:
    opened, everything = stores
    found = {}
    for backend, s in opened.items():
        found[backend] = {(p.network, p.id) for p in s.search(node, limit=None)}
        assert s.count(node) == len(found[backend])
    expected = {(p.network, p.id) for p in everything if matches(node, p)}
    assert found["sqlite"] == found["postgresql"] == expected
    return expected


def _unknown(i: int) -> str:
    return f"zz{i}"


LONG_QUERIES = {
    "words AND": lambda: " ".join(["apple", *(_unknown(i) for i in range(MANY))]),
    "words OR": lambda: " OR ".join([*(_unknown(i) for i in range(MANY)), "apple", "dance"]),
    "negated words": lambda: "apple " + " ".join(f"-{_unknown(i)}" for i in range(MANY)),
    "negated words OR": lambda: " OR ".join(f"-{w}" for w in [*WORDS, *map(_unknown, range(MANY))]),
    "phrases OR": lambda: " OR ".join(f'"{_unknown(i)} x"' for i in range(MANY)) + ' OR "apple"',
    "negated phrases": lambda: "coffee " + " ".join(f'-"{_unknown(i)} x"' for i in range(MANY)),
    "tags OR": lambda: " OR ".join([*(f"#{_unknown(i)}" for i in range(MANY)), "#chat"]),
    "tags AND": lambda: " ".join(["#chat", *(f"#{_unknown(i)}" for i in range(MANY))]),
    "negated tags": lambda: " ".join(f"-#{_unknown(i)}" for i in range(MANY)) + " -#news",
    "handles OR": lambda: " OR ".join(
        [*(f"from:{_unknown(i)}" for i in range(MANY)), "from:ann", "@bob", "lang:pt"]
    ),
    "negated handles OR": lambda: " OR ".join(
        [*(f"-@{_unknown(i)}" for i in range(MANY)), "-from:ann"]
    ),
    "filters": lambda: (
        " ".join(f"since:{(T0 - timedelta(days=i)).date().isoformat()}" for i in range(MANY // 2))
        + " -is:reply network:x"
    ),
    "mixed OR": lambda: " OR ".join(
        ["brexit", "#jazz", "@cyd", "network:bluesky", "is:reply"]
        + [f"({_unknown(i)} -#chat)" for i in range(MANY // 3)]
    ),
    "groups AND": lambda: " ".join(
        f"(apple OR {_unknown(i)} OR -#{_unknown(i)})" for i in range(MANY // 3)
    ),
}


@pytest.mark.parametrize("shape", list(LONG_QUERIES))
def test_a_thousand_children_run_on_both_databases(stores, shape: str) -> None:
    text = LONG_QUERIES[shape]()
    node = parse(text)
    assert isinstance(node, ast.And | ast.Or)
    assert len(node.children) >= MANY // 3
    _same_everywhere(stores, node)


def test_the_listening_matcher_takes_them_too(stores) -> None:
    """Saved queries are matched live by ``listen.matcher``: the same posts."""
    _, everything = stores
    nodes = {shape: parse(make()) for shape, make in LONG_QUERIES.items()}
    matcher = Matcher(nodes)
    for post in everything:
        expected = sorted(shape for shape, node in nodes.items() if matches(node, post))
        assert sorted(matcher.match(post)) == expected


def test_long_queries_find_what_they_should(stores) -> None:
    """Not all empty: the comparisons above would pass on a broken search
    that finds nothing anywhere."""
    for shape in ("words OR", "negated words", "tags OR", "mixed OR", "handles OR"):
        assert _same_everywhere(stores, parse(LONG_QUERIES[shape]())), shape


def test_repeated_children_count_once(stores) -> None:
    assert _same_everywhere(stores, parse("apple " * MANY)) == _same_everywhere(
        stores, parse("apple")
    )
    assert _same_everywhere(stores, parse("#chat " * MANY)) == _same_everywhere(
        stores, parse("#chat")
    )


def test_longer_than_the_parser_takes_is_refused_naming_the_limit() -> None:
    with pytest.raises(QueryLimitError, match=f"longer than {MAX_LENGTH} characters"):
        parse("a " * (MAX_LENGTH // 2 + 1))


# -- random wide trees ----------------------------------------------------------

_leaves = st.one_of(
    st.sampled_from(WORDS + ["zz"]).map(ast.Term),
    st.tuples(st.sampled_from(WORDS), st.sampled_from(WORDS)).map(ast.Phrase),
    st.sampled_from(TAGS + ["zz"]).map(ast.Hashtag),
    st.sampled_from(HANDLES).map(ast.Mention),
    st.sampled_from(HANDLES).map(ast.From),
    st.sampled_from(["en", "pt", "pt-br"]).map(ast.Lang),
    st.sampled_from(NETWORKS).map(ast.Network),
    st.just(ast.IsReply()),
)


def _extend(children: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.Node]:
    wide = st.lists(st.one_of(children, children.map(ast.Not)), min_size=1, max_size=25)
    return st.one_of(
        wide.map(lambda nodes: ast.and_(*nodes)),
        wide.map(lambda nodes: ast.or_(*nodes)),
    )


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.recursive(_leaves, _extend, max_leaves=60))
def test_random_wide_queries_agree_with_the_evaluator(stores, node: ast.Node) -> None:
    """Grouping children by kind (one full-text search, one post_terms
    look-up, De Morgan for negations) keeps the reference semantics."""
    _same_everywhere(stores, node)
    # And the query text says the same as the tree.
    assert parse(to_string(node)) == node

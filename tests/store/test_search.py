"""The search language against real data: every operator, the same posts on
SQLite and PostgreSQL, and the same posts as the in-memory matcher."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from hubbub.query import QuerySyntaxError, matches, parse
from hubbub.query.reposts import resolve_reposts
from hubbub.query.tokens import tokenize
from hubbub.store import open_store
from hubbub.transfer.exporter import write_jsonl
from hubbub.transfer.importer import import_paths, import_stream
from tests.conftest import PG_ADMIN_URL
from tests.store.test_import_real import payload_files

QUERIES = [
    "brexit",
    "Brexit",
    "brexít",  # diacritics removed on both sides
    '"peoples vote"',
    "brexit OR italia",
    "(brexit OR italia) -is:repost",
    "brexit -labour",
    "#Brexit",
    "#brexit",
    "@bibaigna96",
    "from:LachiVeronica",
    "lang:en",
    "lang:es",
    "lang:ja",
    "network:x",
    "network:bluesky",
    "network:mastodon",
    "is:reply",
    "is:repost",
    "-is:repost",
    "has:links",
    "has:media",
    "since:2022-01-01",
    "until:2021-06-01",
    "since:2021-05-01 until:2021-06-01",
    "the AND NEAR",
    "brexit *",
    "NEAR(brexit labour)",
    "brexit^2",
    "'; DROP TABLE posts; --",
    "piano OR jazz",
    "from:chrismo@ruby.social",
    "from:chrismo",
    "@trwnh",
    "lang:en -network:x has:links",
    "redistricting",
]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, _pg_admin):
    from tests.conftest import require_shared_data

    require_shared_data()
    files = [str(p) for p in payload_files()]
    sqlite_url = f"sqlite:///{tmp_path_factory.mktemp('search') / 'h.db'}"
    name = f"hubbub_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    pg_url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    stores = {"sqlite": open_store(sqlite_url), "postgresql": open_store(pg_url)}
    for s in stores.values():
        import_paths(s, files)
    # As queries see them: a repost by its original's text and facets (query/reposts.py).
    everything = resolve_reposts(stores["sqlite"].iter_posts())
    yield stores, everything
    for s in stores.values():
        s.close()
    with _pg_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _ids(posts) -> set[tuple[str, str]]:
    return {(p.network, p.id) for p in posts}


@pytest.mark.parametrize("query", QUERIES)
def test_same_posts_on_both_backends_and_the_matcher(loaded, query: str) -> None:
    stores, everything = loaded
    node = parse(query)
    on_sqlite = _ids(stores["sqlite"].search(node, limit=None))
    on_postgres = _ids(stores["postgresql"].search(node, limit=None))
    in_memory = _ids(p for p in everything if matches(node, p))
    assert on_sqlite == on_postgres == in_memory


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("brexit", lambda p: "brexit" in tokenize(p.text)),
        ('"party members"', lambda p: "party members" in p.text.lower()),
        ("#brexit", lambda p: "brexit" in {h.lower() for h in p.hashtags}),
        ("@bibaigna96", lambda p: "bibaigna96" in {m.lower() for m in p.mentions}),
        ("from:LachiVeronica", lambda p: p.author.handle.lower() == "lachiveronica"),
        ("lang:en", lambda p: any(lang.lower().split("-")[0] == "en" for lang in p.langs)),
        ("network:bluesky", lambda p: p.network == "bluesky"),
        ("network:mastodon", lambda p: p.network == "mastodon"),
        ("is:reply", lambda p: p.reply_to is not None),
        ("is:repost", lambda p: p.repost_of is not None),
        ("-is:repost", lambda p: p.repost_of is None),
        ("has:links", lambda p: len(p.links) > 0),
        ("has:media", lambda p: p.media_count > 0),
        ("since:2022-01-01", lambda p: p.created_at >= datetime(2022, 1, 1, tzinfo=UTC)),
        ("until:2021-06-01", lambda p: p.created_at < datetime(2021, 6, 1, tzinfo=UTC)),
        (
            "brexit -labour",
            lambda p: "brexit" in tokenize(p.text) and "labour" not in tokenize(p.text),
        ),
        ("brexit OR italia", lambda p: {"brexit", "italia"} & set(tokenize(p.text))),
    ],
)
def test_operator_on_real_data(loaded, query: str, check) -> None:
    stores, everything = loaded
    found = stores["sqlite"].search(query, limit=None)
    assert found, f"{query!r} should find something in the real data"
    # Checked on the post as queries see it (a repost by its original's text).
    seen = {(p.network, p.id): p for p in everything}
    assert all(check(seen[(p.network, p.id)]) for p in found)


def test_newest_first_and_limit(loaded) -> None:
    stores, _ = loaded
    for s in stores.values():
        found = s.search("network:x", limit=25)
        assert len(found) == 25
        assert [p.created_at for p in found] == sorted((p.created_at for p in found), reverse=True)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(alphabet=st.sampled_from(list("ab \"()-:#@*^ANDORNEAR'\\;%_\u00e9\u0142")), max_size=30)
)
def test_nothing_typed_reaches_the_engines_as_syntax(loaded, text: str) -> None:
    """Random input: a clean parse error, or the same answer on both engines."""
    stores, everything = loaded
    try:
        node = parse(text)
    except QuerySyntaxError:
        return
    assert (
        _ids(stores["sqlite"].search(node, limit=None))
        == _ids(stores["postgresql"].search(node, limit=None))
        == _ids(p for p in everything if matches(node, p))
    )


@pytest.mark.parametrize(("source", "target"), [("sqlite", "postgresql"), ("postgresql", "sqlite")])
def test_export_then_import_into_the_other_kind(
    loaded, source, target, tmp_path, _pg_admin
) -> None:
    stores, _ = loaded
    buffer = io.BytesIO()
    write_jsonl(stores[source].iter_posts(), buffer)
    if target == "sqlite":
        url = f"sqlite:///{tmp_path / 'copy.db'}"
        name = None
    else:
        name = f"hubbub_test_{uuid.uuid4().hex[:12]}"
        with _pg_admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        with open_store(url) as copy:
            report = import_stream(copy, io.BytesIO(buffer.getvalue()), "export.jsonl")
            assert report.rejected == 0
            original = sorted(stores[source].iter_posts(), key=lambda p: (p.network, p.id))
            copied = sorted(copy.iter_posts(), key=lambda p: (p.network, p.id))
            assert copied == original
            for query in ("brexit", "#brexit", "lang:en has:links"):
                assert _ids(copy.search(query, limit=None)) == _ids(
                    stores[source].search(query, limit=None)
                )
    finally:
        if name:
            with _pg_admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

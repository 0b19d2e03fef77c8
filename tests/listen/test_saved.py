"""Saved queries on SQLite and PostgreSQL: validation, groups, back-fill with
the store's search, and agreement between that search and the matcher on
real data; the pipeline stage stores matches and classes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hubbub.listen import (
    Matcher,
    SavedQueryError,
    add_query,
    catch_up,
    get_query,
    list_queries,
    remove_query,
)
from hubbub.listen.stage import ListeningStage
from hubbub.pipeline.bus import LivePost
from hubbub.post import Author, Post
from hubbub.query import QuerySyntaxError
from hubbub.query.reposts import resolve_reposts
from hubbub.store import Ingest, Store, open_store
from hubbub.store.listen_schema import post_classes, query_matches
from hubbub.transfer.importer import import_paths
from tests.conftest import require_shared_data
from tests.store.test_import_real import payload_files
from tests.store.test_search import QUERIES


def _post(pid: str, text: str, handle: str = "alice", **kw) -> Post:
    return Post(
        "x", pid, Author("x", "id-" + handle, handle), text, datetime(2024, 5, 1, tzinfo=UTC), **kw
    )


def _ingest(store: Store, posts: list[Post]) -> None:
    store.ingest([Ingest(p) for p in posts])


def _matched_ids(store: Store, name: str) -> set[tuple[str, str]]:
    saved = get_query(store, name)
    assert saved is not None
    p, qm = (
        sa.table("posts", sa.column("pk"), sa.column("network"), sa.column("post_id")),
        query_matches,
    )
    stmt = (
        sa.select(p.c.network, p.c.post_id)
        .join(qm, qm.c.post_pk == p.c.pk)
        .where(qm.c.query_id == saved.id)
    )
    with store.engine.connect() as conn:
        return {(n, i) for n, i in conn.execute(stmt)}


def test_add_list_remove_and_errors(store: Store) -> None:
    _ingest(
        store,
        [_post("1", "Acme is great"), _post("2", "acme broke again", "bob"), _post("3", "other")],
    )
    saved = add_query(store, "acme", "acme")
    assert (saved.group, saved.matches, saved.active) == ("brand", 2, True)
    add_query(store, "rival", "globex OR #globex", group="competitors")
    add_query(store, "mine", "acme", group="my own group")
    with pytest.raises(SavedQueryError, match="already exists"):
        add_query(store, "acme", "acme")
    with pytest.raises(QuerySyntaxError) as err:
        add_query(store, "bad", 'acme "unclosed')
    assert err.value.position == 5
    listed = list_queries(store, with_matches=True)
    assert [(q.name, q.group, q.matches) for q in listed] == [
        ("acme", "brand", 2),
        ("rival", "competitors", 0),
        ("mine", "my own group", 2),
    ]
    # Workspaces do not see each other's queries.
    assert list_queries(store, workspace="other") == []
    assert remove_query(store, "acme") is True
    assert remove_query(store, "acme") is False
    assert [q.name for q in list_queries(store)] == ["rival", "mine"]
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(query_matches)).scalar() == 2


def test_catch_up_finds_posts_imported_later(store: Store) -> None:
    add_query(store, "acme", "acme -broke")
    assert _matched_ids(store, "acme") == set()
    _ingest(store, [_post("1", "Acme is great"), _post("2", "acme broke again", "bob")])
    catch_up(store)
    assert _matched_ids(store, "acme") == {("x", "1")}
    catch_up(store)  # idempotent
    assert get_query(store, "acme", with_matches=True).matches == 1


def test_backfill_search_and_matcher_agree_on_real_data(store: Store) -> None:
    require_shared_data()
    import_paths(store, [str(p) for p in payload_files()])
    queries = {f"q{i}": q for i, q in enumerate(QUERIES)}
    for name, query in queries.items():
        add_query(store, name, query)
    matcher = Matcher(queries)
    expected: dict[str, set[tuple[str, str]]] = {name: set() for name in queries}
    # As the stage matches them: a repost by its original (query/reposts.py).
    for post in resolve_reposts(store.iter_posts()):
        for name in matcher.match(post):
            expected[name].add((post.network, post.id))
    assert sum(map(len, expected.values())) > 1000
    for name in queries:
        assert _matched_ids(store, name) == expected[name], queries[name]


def test_listening_stage_stores_matches_and_classes(sqlite_url: str) -> None:
    with open_store(sqlite_url) as store:
        add_query(store, "acme", "acme")
        add_query(store, "rival", "#globex", group="competitors")
        posts = [
            _post("1", "I love Acme, best phone ever"),
            _post("2", "globex is slow #globex", "bob", hashtags=("Globex",)),
            _post("3", "nothing to see"),
        ]
        _ingest(store, posts)
        seen: list[dict] = []
        stage = ListeningStage(store, on_matches=seen.append)
        batch = [LivePost(p, 0.0, True) for p in posts]
        assert asyncio.run(stage(batch)) == batch
        assert _matched_ids(store, "acme") == {("x", "1")}
        assert _matched_ids(store, "rival") == {("x", "2")}
        assert {name: [lp.post.id for lp in lives] for name, lives in seen[0].items()} == {
            "acme": ["1"],
            "rival": ["2"],
        }
        with store.engine.connect() as conn:
            classes = {r.post_pk: r for r in conn.execute(sa.select(post_classes))}
        assert len(classes) == 3
        assert {r.sentiment for r in classes.values()} <= {
            "positive",
            "neutral",
            "negative",
            "unsupported",
        }
        # An edit that drops the brand removes the match; a deletion too.
        edited = _post("1", "I love my phone")
        gone = _post("2", "", "bob", hashtags=("Globex",))
        gone.deleted = True
        asyncio.run(stage([LivePost(edited, 0.0, True), LivePost(gone, 0.0, True)]))
        assert _matched_ids(store, "acme") == set()
        assert _matched_ids(store, "rival") == set()
        assert stage.stats.failures == 0

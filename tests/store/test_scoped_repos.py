"""Repositories built for one workspace neither read nor change another's rows.

Two workspaces hold posts with the same network ids, authors with the same
ids, saved queries with the same name, chats on the same hashtag. Each test
gives workspace A's repository the names, ids and row keys of workspace B and
checks A sees nothing of B and leaves B's rows exactly as they were (compared
through B's own repository). Runs on SQLite and PostgreSQL (``store``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hubbub.post import Author, Post
from hubbub.store import Ingest, Store
from hubbub.store.chat_repo import ChatData
from hubbub.store.listening import SavedQueries, StageWrites
from hubbub.store.outbox_repo import OutboxActions, Status
from hubbub.store.reports import ReportData
from hubbub.store.rooms_repo import PersonRecord, RoomRows
from hubbub.store.scope import Scope, scope
from hubbub.store.scoped_posts import AuthorProfile, WorkspacePosts

WHEN = datetime(2024, 5, 1, 12, tzinfo=UTC)
SINCE, UNTIL = WHEN - timedelta(days=1), WHEN + timedelta(days=1)


def _post(pid: str, text: str, followers: int, **kw: object) -> Post:
    author = Author("x", "id-alice", "alice", "Alice", followers=followers)
    return Post("x", pid, author, text, WHEN, hashtags=("launch",), **kw)  # type: ignore[arg-type]


def _fill(store: Store, name: str, followers: int, extra: str) -> Scope:
    """A workspace with posts x:1 and x:2 (same ids in both), one of its own
    (``extra``), and a saved query 'acme' back-filled over them."""
    store.ingest(
        [
            Ingest(_post("1", f"acme in {name}", followers)),
            Ingest(_post("2", "acme again", followers, reply_to="1")),
            Ingest(_post(extra, f"acme only in {name}", followers)),
        ],
        workspace=name,
    )
    here = scope(store, name)
    queries = SavedQueries(here)
    assert queries.create("acme", "acme", "brand")
    saved = queries.get("acme")
    assert saved is not None
    assert queries.backfill(saved) == 3
    return here


@pytest.fixture
def two(store: Store) -> tuple[Scope, Scope]:
    return _fill(store, "a", 10, "3a"), _fill(store, "b", 20, "3b")


def _pk(here: Scope, post_id: str) -> int:
    return WorkspacePosts(here).row_keys([("x", post_id)])[("x", post_id)]


def _match_count(here: Scope) -> int:
    saved = SavedQueries(here).get("acme", with_matches=True)
    assert saved is not None and saved.matches is not None
    return saved.matches


def test_saved_queries_and_matches_stay_in_their_workspace(two: tuple[Scope, Scope]) -> None:
    a, b = two
    qa, qb = SavedQueries(a), SavedQueries(b)
    mine, theirs = qa.get("acme"), qb.get("acme")
    assert mine is not None and theirs is not None and mine.id != theirs.id
    assert [q.id for q in qa.list()] == [mine.id]
    assert [q.matches for q in qa.list(with_matches=True)] == [3]
    # B's query, given to A: nothing back-filled, no match recorded, none counted.
    assert qa.backfill(theirs) == 0
    qa.record_matches([(theirs.id, _pk(b, "3b")), (mine.id, _pk(b, "3b"))])
    qa.record_matches([(theirs.id, _pk(a, "3a"))])
    assert _match_count(a) == 3 and _match_count(b) == 3
    # The same name is free in A, taken in B; removing A's leaves B's whole.
    assert qa.create("acme", "other", "brand") is False
    assert qa.remove("acme") is True
    assert qa.get("acme") is None and qa.list() == []
    assert qb.get("acme") == theirs
    assert _match_count(b) == 3


def test_stage_writes_do_not_touch_another_workspace(two: tuple[Scope, Scope]) -> None:
    a, b = two
    theirs = SavedQueries(b).get("acme")
    assert theirs is not None
    pks_b = [_pk(b, pid) for pid in ("1", "2", "3b")]
    classes = {
        "sentiment": "positive",
        "sentiment_score": 0.9,
        "intent": "praise",
        "spam": 0.0,
        "offensive": False,
        "lang": "en",
        "classified_at": WHEN,
    }
    StageWrites(b).replace(
        pks_b, {(theirs.id, pk) for pk in pks_b}, [{**classes, "post_pk": pks_b[0]}]
    )
    # A is told B's posts now match nothing and carry other classes.
    StageWrites(a).replace(
        pks_b, set(), [{**classes, "sentiment": "negative", "post_pk": pks_b[0]}]
    )
    assert _match_count(b) == 3
    data_b = ReportData(b)
    kept = data_b.mentions(data_b.saved_filter(theirs.id), SINCE, UNTIL)
    assert sorted(m["pk"] for m in kept) == sorted(pks_b)
    from hubbub.store.classes_repo import PostClassesRepo

    found, _missing = PostClassesRepo(b).read([pks_b[0]])
    assert found[pks_b[0]]["sentiment"] == "positive"
    # A's repository does not read B's classes.
    assert PostClassesRepo(a).read([pks_b[0]]) == ({}, [])


def test_post_and_author_lookups_find_only_their_workspace(two: tuple[Scope, Scope]) -> None:
    a, b = two
    pa, pb = WorkspacePosts(a), WorkspacePosts(b)
    keys = [("x", "1"), ("x", "2"), ("x", "3a"), ("x", "3b")]
    assert set(pa.row_keys(keys)) == {("x", "1"), ("x", "2"), ("x", "3a")}
    assert set(pa.row_keys(keys).values()).isdisjoint(pb.row_keys(keys).values())
    assert {k: p.text for k, p in pa.posts(keys).items()} == {
        ("x", "1"): "acme in a",
        ("x", "2"): "acme again",
        ("x", "3a"): "acme only in a",
    }
    assert set(pb.author_handles(keys)) == {("x", "1"), ("x", "2"), ("x", "3b")}
    assert pa.authors([("x", "id-alice")]) == {("x", "id-alice"): AuthorProfile(10, "Alice")}
    assert pb.followers([("x", "id-alice")]) == {("x", "id-alice"): 20}


def test_report_reads_only_their_workspace(two: tuple[Scope, Scope]) -> None:
    a, b = two
    da = ReportData(a)
    theirs = SavedQueries(b).get("acme")
    assert theirs is not None
    everything = da.query_filter(SavedQueries(a).get("acme").node)  # type: ignore[union-attr]
    texts = sorted(m["text"] for m in da.mentions(everything, SINCE, UNTIL))
    assert texts == ["acme again", "acme in a", "acme only in a"]
    assert da.count(SINCE, UNTIL) == 3
    # B's saved query id as a filter in A: nothing.
    assert da.mentions(da.saved_filter(theirs.id), SINCE, UNTIL) == []
    assert da.count(SINCE, UNTIL, da.saved_filter(theirs.id)) == 0
    assert da.matches_per_query([theirs.id], SINCE, UNTIL) == {}
    assert da.posts_matched_by_any([theirs.id], SINCE, UNTIL) == 0
    assert da.count(SINCE, UNTIL, da.group_filter("brand")) == 3
    # B's own reads still see B's three.
    assert ReportData(b).matches_per_query([theirs.id], SINCE, UNTIL) == {theirs.id: 3}


def test_chat_pins_removals_and_posts_stay_in_their_workspace(two: tuple[Scope, Scope]) -> None:
    a, b = two
    ca, cb = ChatData(a), ChatData(b)
    ca.set_pin("launch", "x", "1", "host-a", True)
    ca.set_removed("launch", "x", "2", "host-a")
    assert [p.text for p in ca.pins("launch")] == ["acme in a"]
    assert cb.pins("launch") == [] and cb.removed("launch") == set()
    # A un-pins and un-removes what B marked: B's marks stay.
    cb.set_pin("launch", "x", "1", "host-b", True)
    cb.set_removed("launch", "x", "3b", "host-b")
    ca.set_pin("launch", "x", "1", "host-a", False)
    ca.set_removed("launch", "x", "3b", "host-a", False)
    assert [p.text for p in cb.pins("launch")] == ["acme in b"]
    assert cb.removed("launch") == {("x", "3b")}
    page = cb.after("launch", 0)
    assert sorted(p.text for _cursor, p in page.posts) == [
        "acme again",
        "acme in b",
        "acme only in b",
    ]
    assert ca.followers({("x", "id-alice")}) == {("x", "id-alice"): 10}


def test_rooms_hosts_and_followed_tags_stay_in_their_workspace(
    two: tuple[Scope, Scope],
) -> None:
    a, b = two
    RoomRows(b).insert("launch", public=True)
    RoomRows(b).insert("quiet", public=False)
    room = RoomRows(b).find("launch")
    assert room is not None
    host = PersonRecord("host", "x", "bob", None, None, None)
    RoomRows(b).set_person(room.id, host, on=True)
    assert RoomRows(b).public_tags() == ("launch",)
    assert RoomRows(a).public_tags() == ()
    assert ChatData(b).hosts("launch") == frozenset({("x", "bob")})
    assert ChatData(a).hosts("launch") == frozenset()


def test_outbox_rows_of_another_workspace_are_not_found_or_changed(
    two: tuple[Scope, Scope],
) -> None:
    a, b = two
    oa, ob = OutboxActions(a), OutboxActions(b)
    queued = oa.add(
        batch="b1",
        account="main",
        network="x",
        kind="post",
        payload={"text": "hello"},
        idempotency_key="2aaaaaaaaaaaa",
    )
    assert ob.get(queued.id) is None
    assert ob.list() == []
    assert ob.claim("worker-b") is None
    assert ob.cancel(queued.id) is False
    assert ob.mark_failed(queued.id, "worker-b", "no") is False
    assert ob.retry(queued.id) is False
    still = oa.get(queued.id)
    assert still is not None and still.status == Status.QUEUED and still.attempts == 0
    claimed = oa.claim("worker-a")
    assert claimed is not None and claimed.id == queued.id

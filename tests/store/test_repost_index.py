"""A repost is searched by its original's words and facets, whatever order
they arrive in: together in one batch, original first, repost first; and it
follows the original's edits and deletion (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubbub.post import Author, Deletion, Post
from hubbub.store import Ingest

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _post(pid: str, text: str, *, by: str = "ann", repost_of: str | None = None, **kw) -> Post:
    author = Author(network="mastodon", id=f"{by}@example.social", handle=f"{by}@example.social")
    return Post(
        network="mastodon",
        id=pid,
        author=author,
        text=text,
        created_at=T0 + timedelta(minutes=len(pid)),
        repost_of=repost_of,
        **kw,
    )


ORIGINAL = _post(
    "o1", "pancakes at dawn #breakfast with @cook@example.social", hashtags=["breakfast"]
)
REPOST = _post("r1", "RT", by="bob", repost_of="o1")


def _ids(store, query: str) -> set[str]:
    return {p.id for p in store.search(query, limit=None)}


def _found_by_original(store) -> None:
    assert _ids(store, "pancakes") == {"o1", "r1"}
    assert _ids(store, "#breakfast") == {"o1", "r1"}
    assert _ids(store, "pancakes is:repost") == {"r1"}
    # Its own text is kept for display.
    (repost,) = [p for p in store.search("is:repost") if p.id == "r1"]
    assert repost.text == "RT"


def test_original_and_repost_in_one_batch(store) -> None:
    store.ingest([Ingest(REPOST), Ingest(ORIGINAL)])
    _found_by_original(store)


def test_original_stored_before_its_repost(store) -> None:
    store.ingest([Ingest(ORIGINAL)])
    store.ingest([Ingest(REPOST)])
    _found_by_original(store)


def test_repost_stored_before_its_original(store) -> None:
    store.ingest([Ingest(REPOST)])
    assert _ids(store, "pancakes") == set()
    store.ingest([Ingest(ORIGINAL)])
    _found_by_original(store)


def test_repost_follows_an_edit_of_its_original(store) -> None:
    store.ingest([Ingest(ORIGINAL), Ingest(REPOST)])
    edited = _post(
        "o1",
        "waffles at dawn #brunch",
        hashtags=["brunch"],
        version_id="v2",
        edited_at=T0 + timedelta(hours=1),
    )
    store.ingest([Ingest(edited)])
    assert _ids(store, "waffles") == {"o1", "r1"}
    assert _ids(store, "#brunch") == {"o1", "r1"}
    assert _ids(store, "pancakes") == set()


def test_deleting_the_original_leaves_the_repost_its_own_words(store) -> None:
    store.ingest([Ingest(ORIGINAL), Ingest(REPOST)])
    store.ingest([Ingest(Deletion(network="mastodon", id="o1"))])
    assert _ids(store, "pancakes") == set()
    assert _ids(store, "RT") == {"r1"}

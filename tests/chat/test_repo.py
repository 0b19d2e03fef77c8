"""ChatRepo on both backends: store-order paging after a cursor, the newest
page, pins and removals, hosts, and the settled cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubbub.chat.repo import ChatRepo
from hubbub.post import Author, Post
from hubbub.store import Ingest, Store

TAG = "repochat"
T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _post(n: int, tag: str = TAG, *, minutes: int = 0) -> Post:
    # Creation times run backwards: store order, not creation order, is the feed's.
    return Post(
        "x",
        str(5000 + n),
        Author("x", f"a{n % 4}", f"user{n % 4}"),
        f"post {n} #{tag}",
        T0 - timedelta(minutes=minutes or n),
        hashtags=(tag,),
    )


def test_pages_after_a_cursor_follow_store_order(store: Store) -> None:
    posts = [_post(n) for n in range(23)]
    for p in posts:
        store.ingest([Ingest(p)])
    store.ingest([Ingest(_post(99, "othertag"))])
    repo = ChatRepo(store, "default")
    seen, cursor = [], 0
    while True:
        page = repo.after(TAG, cursor, limit=5)
        seen += [p.id for _pk, p in page.posts]
        cursor = page.cursor
        if not page.more:
            break
    assert seen == [p.id for p in posts]
    newest = repo.newest(TAG, 3)
    assert [p.id for _pk, p in newest.posts] == [p.id for p in posts[-3:]]
    assert newest.cursor == cursor == repo.cursor(TAG)
    assert repo.after(TAG, cursor).posts == []
    # Nothing was stored before a moment long past; everything before now.
    assert repo.settled_cursor(TAG, T0 - timedelta(days=3650)) == 0
    assert repo.settled_cursor(TAG, datetime.now(UTC) + timedelta(seconds=1)) == cursor


def test_pins_and_removals(store: Store) -> None:
    a, b, c = _post(1), _post(2), _post(3)
    store.ingest([Ingest(a), Ingest(b), Ingest(c)])
    repo = ChatRepo(store, "default")
    repo.set_pin(TAG, "x", a.id, "host", True)
    repo.set_pin(TAG, "x", b.id, "host", True)
    assert {p.id for p in repo.pins(TAG)} == {a.id, b.id}
    repo.set_removed(TAG, "x", b.id, "host")
    assert [p.id for p in repo.pins(TAG)] == [a.id]  # a removed post is pinned nowhere
    assert repo.removed(TAG) == {("x", b.id)}
    repo.set_pin(TAG, "x", a.id, "host", False)
    assert repo.pins(TAG) == []
    assert repo.pins("othertag") == [] and repo.removed("othertag") == set()
    assert ChatRepo(store, "elsewhere").removed(TAG) == set()  # scoped by workspace


def test_hosts_come_from_the_room(store: Store) -> None:
    from hubbub.web.rooms import RoomRepo

    rooms = RoomRepo(store, "default")
    rooms.ensure(TAG)
    rooms.set_person(TAG, "host", "x", "@Hosty")
    rooms.set_person(TAG, "guest", "x", "guesty")
    assert ChatRepo(store, "default").hosts(TAG) == frozenset({("x", "hosty")})

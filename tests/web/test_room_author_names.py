"""The room page names Jetstream authors by handle, not by DID.

A Jetstream post names its author by DID alone. The room's JSON (page loads
and the live stream) keeps every key it had, ``author`` the handle as stored
(the DID), and adds ``author_handle`` (the handle the store learnt, else
null) and ``author_label`` (``@handle``, else a shortened DID), which the
page shows. A page asks the store once for all its authors; the live stream
asks once per new author and remembers the answer for the room's life.
Real recorded Jetstream events; the store part on SQLite and PostgreSQL, the
served page on a real server on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import websockets

from hubbub.post import Post
from hubbub.store import Store, open_store
from hubbub.store.scope import scope
from hubbub.tags import parse_tag
from hubbub.web.rooms import RoomAuthorNames, RoomRepo, post_json
from tests.cli.test_data_commands import hubbub
from tests.conftest import require_shared_data
from tests.jetstream_authors import (
    CAPTURE,
    CHAT,
    DID,
    HANDLE,
    SHORT,
    audience_lookups,
    chat_events,
    followers_fetched,
    parsed_post,
    search_page,
    statements,
    write_jsonl,
)
from tests.web.conftest import Server, open_room
from tests.web.test_room_access import in_thread, ws_url

# The keys the room's JSON had before labels: all kept, with their values.
OLD_KEYS = {
    "network", "id", "author", "author_name", "author_id", "text", "created_at", "url",
    "langs", "reply_to", "repost_of", "sensitive", "content_warning", "question", "answer",
    "xkey", "role",
}  # fmt: skip


def _lookups(seen: list[str]) -> int:
    """Handle lookups among ``seen``: each asks the authors table first."""
    return sum(1 for s in seen if "FROM authors" in s and "audience" not in s)


def _import(db: str, path: str) -> None:
    done = hubbub("import", "--db", db, path)
    assert done.returncode == 0, done.stderr


# -- the store side, both backends -------------------------------------------


def _chat_posts(store: Store, tag: str) -> list[Post]:
    from hubbub.query.ast import Hashtag

    return store.search(Hashtag(tag), "default", limit=100)


def test_a_page_asks_once_for_all_its_authors(db_url: str, tmp_path: Path) -> None:
    require_shared_data()
    _import(db_url, write_jsonl(tmp_path / "chat.jsonl", chat_events("didchat", "c")))
    _import(db_url, search_page(tmp_path / "search.json"))
    with open_store(db_url) as store:
        posts = _chat_posts(store, "didchat")
        dids = {p.author.id for p in posts}
        assert len(posts) == 10 and len(dids) == 8 and DID in dids
        other = sorted(dids - {DID})[0]
        followers_fetched(store, "default", {other: "follower.example.com"})
        repo = RoomRepo(store, "default")
        with statements(store.engine) as one:
            repo.author_labels(posts[:1])
        with statements(store.engine) as page:
            labels = repo.author_labels(posts)
        # One lookup for the page, however many posts and authors it has.
        assert _lookups(page) == _lookups(one) == 1
        assert len(page) == len(one)
        by_id = {p.author.id: post_json(p, None, labels) for p in posts}
        assert by_id[DID]["author"] == DID  # as stored
        assert (by_id[DID]["author_handle"], by_id[DID]["author_label"]) == (HANDLE, f"@{HANDLE}")
        assert by_id[other]["author_label"] == "@follower.example.com"
        for author_id, data in by_id.items():
            assert set(data) >= OLD_KEYS and data["author_id"] == author_id
            if author_id not in (DID, other):
                assert data["author_handle"] is None
                assert data["author_label"] == author_id[:16] + "…"
        # Another workspace's room knows nothing of them.
        assert RoomRepo(store, "other").author_labels(posts).handle("bluesky", DID) is None


def test_live_names_are_looked_up_once_per_author_and_bounded(db_url: str, tmp_path: Path) -> None:
    require_shared_data()
    _import(db_url, search_page(tmp_path / "search.json"))
    posts = [parsed_post(e) for e in chat_events("didlive", "l")]
    with open_store(db_url) as store:
        names = RoomAuthorNames(scope(store, "default"), limit=5)
        dids = sorted({p.author.id for p in posts})
        assert all(names.missing(p) for p in posts)
        with statements(store.engine) as seen:
            for post in posts:  # as the live stream does: one post at a time
                if names.missing(post):
                    names.learn([post])
        assert _lookups(seen) == len(dids) == 8  # not one per post (10)
        assert len(names) == 5  # the least recently seen three forgotten
        in_order = list(dict.fromkeys(p.author.id for p in posts))
        kept = in_order[-5:]
        assert [a for a in in_order if names.missing(_by(posts, a))] == in_order[:3]
        mine = _by(posts, DID)
        assert not names.missing(mine)
        fields = post_json(mine, None, names)
        assert (fields["author"], fields["author_handle"]) == (DID, HANDLE)
        assert fields["author_label"] == f"@{HANDLE}"
        with statements(store.engine) as again:
            for post in posts:
                if post.author.id in kept and names.missing(post):
                    names.learn([post])
        assert again == []  # remembered, "not known" answers too
        unknown = next(p for p in posts if p.author.id in kept and p.author.id != DID)
        label = post_json(unknown, None, names)
        assert label["author_handle"] is None
        assert label["author_label"] == unknown.author.id[:16] + "…"


def _by(posts: list[Post], author_id: str) -> Post:
    return next(p for p in posts if p.author.id == author_id)


def test_a_post_alone_is_labelled_without_the_store() -> None:
    require_shared_data()
    post = parsed_post(chat_events("x", "z")[0])
    data = post_json(post)
    assert data["author"] == post.author.id == data["author_id"]
    assert (data["author_handle"], data["author_label"]) == (None, post.author.id[:16] + "…")
    assert "@did:" not in orjson.dumps(data).decode()


# -- the page a browser gets, on a real server -------------------------------


def test_the_room_page_json_names_the_jetstream_author(server: Server, tmp_path: Path) -> None:
    require_shared_data()
    key = parse_tag(CHAT)
    _import(str(server.db), str(CAPTURE))
    open_room(server, key)
    with httpx.Client(base_url=server.url) as client:

        def mine(path: str) -> dict[str, object]:
            r = client.get(path)
            assert r.status_code == 200, r.text
            body = r.json()
            posts = body["posts"] if isinstance(body, dict) else body
            (found,) = [p for p in posts if p["author_id"] == DID]
            return dict(found)

        for path in (f"/api/rooms/{key}/posts", f"/api/rooms/{key}/feed"):
            post = mine(path)
            assert set(post) >= OLD_KEYS
            assert (post["author"], post["author_handle"], post["author_label"]) == (
                DID,
                None,
                SHORT,
            )
        _import(str(server.db), search_page(tmp_path / "search.json"))
        for path in (f"/api/rooms/{key}/posts", f"/api/rooms/{key}/feed"):
            post = mine(path)
            assert post["author"] == DID  # the stored handle, as before
            assert (post["author_handle"], post["author_label"]) == (HANDLE, f"@{HANDLE}")


def test_the_live_stream_names_each_new_author_once(server: Server) -> None:
    require_shared_data()
    tag = "didlivestream"
    open_room(server, tag)
    posts = [parsed_post(e) for e in chat_events(tag, "w")]
    dids = sorted({p.author.id for p in posts})
    named = {dids[0]: "first.example.com", dids[1]: "second.bsky.social"}
    store = server.app.state.store  # type: ignore[attr-defined]
    followers_fetched(store, "default", named)

    async def run() -> list[dict[str, object]]:
        async with websockets.connect(ws_url(server, tag)) as ws:
            got: list[dict[str, object]] = []
            for post in posts:
                await asyncio.to_thread(server.submit, post)
            while len(got) < len(posts):
                message = orjson.loads(await asyncio.wait_for(ws.recv(), 15))
                if "id" in message:  # a post, not a room event
                    got.append(message)
            return got

    with statements(store.engine) as seen:
        got = in_thread(run)
    assert {g["id"] for g in got} == {p.id for p in posts}
    # The ingest fills in a handle the authors table knows (the AppView post
    # an earlier test imported named DID's): those posts carry their handle.
    carried = {str(g["author_id"]) for g in got if g["author"] != g["author_id"]}
    assert carried <= {DID}
    for g in got:
        assert set(g) >= OLD_KEYS
        author_id = str(g["author_id"])
        if author_id in carried:
            assert g["author_label"] == "@" + str(g["author"]) == "@" + str(g["author_handle"])
        elif author_id in named:
            assert g["author"] == author_id  # as stored: the DID
            assert g["author_handle"] == named[author_id]
            assert g["author_label"] == "@" + named[author_id]
        else:
            assert g["author"] == author_id
            assert g["author_handle"] is None
            assert g["author_label"] == author_id[:16] + "…"
    hub = server.app.state.hubs.live(tag)  # type: ignore[attr-defined]
    # Each new author known only by id looked up once (not once per post: 10).
    assert len(hub.names) == len(dids)  # each author's label kept
    assert audience_lookups(seen) == len(dids) - len(carried)

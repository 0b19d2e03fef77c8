"""The room shows a repost with nothing of its own to show by its original.

A Bluesky repost and a Mastodon reblog have no text, an X retweet's text may
be cut short with "…": room pages showed the first two as blank entries.
The room's JSON (``/posts``, ``/feed``, ``/pins``, ``/pending``, the live
stream) keeps ``text`` as stored and adds ``repost``: who reposted (the
label the page shows) and the stored original's author and text, or
``original: null`` when the store does not have it; the page shows
"reposted by @x" and the original, else "repost of a post not stored".
Real recorded Jetstream events on SQLite and PostgreSQL for the store side;
the served JSON, the live stream and the page (Chromium) on a real server."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import orjson
import pytest
import websockets
from playwright.sync_api import expect

from hubbub.post import Post
from hubbub.query.ast import Hashtag
from hubbub.store import open_store
from hubbub.store.scope import scope
from hubbub.tags import parse_tag
from hubbub.web.room_reposts import TEXT_LIMIT, LiveOriginals, shows_original
from hubbub.web.rooms import Room, RoomRepo, post_json
from tests.cli.test_data_commands import hubbub
from tests.cli.test_search_reposts import chat_post_and_its_repost
from tests.conftest import require_shared_data
from tests.jetstream_authors import CHAT, DID, HANDLE, SHORT, search_page, statements, write_jsonl
from tests.web.conftest import Server, make_post
from tests.web.test_chat_api import _csrf, _signed_in
from tests.web.test_room_access import in_thread, ws_url
from tests.web.test_room_browser import open_room

ROOM = Room(None, parse_tag(CHAT))


def _import(db: str, path: str) -> None:
    done = hubbub("import", "--db", db, path)
    assert done.returncode == 0, done.stderr


def _repost(original: Post, text: str, **changes: object) -> Post:
    """A repost of ``original`` by someone else, with ``text`` of its own."""
    # A Bluesky handle is a domain name (else the page shows the author's id).
    handle = "reposter.bsky.social" if original.network == "bluesky" else "reposter"
    other = make_post("unused", "x", network=original.network, handle=handle)
    return dataclasses.replace(other, text=text, hashtags=(), repost_of=original.id, **changes)


# -- the store side, both backends -------------------------------------------


def test_the_room_json_shows_a_bluesky_repost_by_its_stored_original(
    db_url: str, tmp_path: Path
) -> None:
    require_shared_data()
    chat, repost_event = chat_post_and_its_repost()
    _import(db_url, write_jsonl(tmp_path / "r.jsonl", [chat, repost_event]))
    text = chat["commit"]["record"]["text"]
    reposter = repost_event["did"][:16] + "…"
    with open_store(db_url) as store:
        repo = RoomRepo(store, "default")
        posts = store.search(Hashtag(parse_tag(CHAT)), "default", limit=10)
        (repost,) = [p for p in posts if p.repost_of]
        assert repost.text == "" and shows_original(repost)
        with statements(store.engine) as seen:
            _kept, labels, originals = repo.page_names(ROOM, posts, set())
        assert sum(1 for s in seen if "FROM posts" in s) == 1  # one lookup for the page
        data = post_json(repost, None, labels, originals)
        assert data["text"] == ""  # as stored
        assert data["repost"] == {
            "by": reposter,
            "of": f"at://{DID}/app.bsky.feed.post/{chat['commit']['rkey']}",
            "original": {
                "network": "bluesky",
                "id": data["repost"]["of"],
                "author_id": DID,
                "author_name": None,
                "author_label": SHORT,
                "text": text,
                "truncated": False,
                "created_at": data["repost"]["original"]["created_at"],
                "url": data["repost"]["original"]["url"],
                "sensitive": False,
                "content_warning": None,
            },
        }
        original = next(p for p in posts if not p.repost_of)
        assert post_json(original, None, labels, originals)["repost"] is None

        # The original's author is named as the page names people.
        _import(db_url, search_page(tmp_path / "search.json"))
        _kept, labels, originals = repo.page_names(ROOM, [repost], set())
        shown = post_json(repost, None, labels, originals)["repost"]["original"]
        assert shown["author_label"] == f"@{HANDLE}"

        # The live stream asks once per original, not once per repost.
        live = LiveOriginals(scope(store, "default"))
        again = dataclasses.replace(repost, id=repost.id + "2")
        assert live.missing(repost)
        with statements(store.engine) as seen:
            live.learn([repost])
            live.learn([again])
        assert len(seen) == 1 and not live.missing(again)
        assert live.of(again)[("bluesky", repost.repost_of)].text == text

        # Another workspace's room does not show this workspace's original.
        assert RoomRepo(store, "other").originals(ROOM, [repost], set()) == ({}, set())


def test_a_repost_whose_original_is_not_stored_says_so(db_url: str, tmp_path: Path) -> None:
    require_shared_data()
    chat, repost_event = chat_post_and_its_repost()
    _import(db_url, write_jsonl(tmp_path / "r.jsonl", [repost_event]))  # the original never came
    with open_store(db_url) as store:
        (repost,) = store.search("is:repost", "default", limit=10)
        repo = RoomRepo(store, "default")
        _kept, labels, originals = repo.page_names(ROOM, [repost], set())
        data = post_json(repost, None, labels, originals)
        assert data["repost"] == {
            "by": repost_event["did"][:16] + "…",
            "of": repost.repost_of,
            "original": None,
        }
        assert LiveOriginals(scope(store, "default")).of(repost) == {}


def test_which_reposts_are_shown_by_their_original() -> None:
    original = make_post("t", "the original says it all")
    whole = _repost(original, "RT @someone: the original says it all #t")
    cut = _repost(original, "RT @someone: the original says it, and on and on until X cut it…")
    assert [shows_original(p) for p in (original, whole, cut)] == [False, False, True]
    assert shows_original(_repost(make_post("t", "x", network="mastodon"), ""))
    # Without the store, the original is simply not there: never a blank entry.
    assert post_json(cut)["repost"] == {"by": "@reposter", "of": original.id, "original": None}
    assert post_json(whole)["repost"] is None


def test_a_repost_of_what_the_room_hides_is_left_out_with_it(db_url: str, tmp_path: Path) -> None:
    """Removed, its author muted or blocked, held for approval: the room
    does not show the original, so its reposts are left out too (never the
    original's words in ``repost.original``); the live stream's verdict too."""
    require_shared_data()
    chat, repost_event = chat_post_and_its_repost()
    _import(db_url, write_jsonl(tmp_path / "r.jsonl", [chat, repost_event]))
    with open_store(db_url) as store:
        repo = RoomRepo(store, "default")
        posts = store.search(Hashtag(parse_tag(CHAT)), "default", limit=10)
        (repost,) = [p for p in posts if p.repost_of]
        original = next(p for p in posts if not p.repost_of)
        key = (original.network, original.id)
        kept, _labels, originals = repo.page_names(ROOM, posts, set())
        assert repost in kept and key in originals  # nothing hides it yet

        # The original itself is left out by the room's rule; its repost with it.
        for role in ("muted", "blocked"):
            hiding = Room(None, ROOM.tag, hidden={(original.network, original.author.id)})
            assert repo.shown(hiding, posts, set()) == [repost], role
            assert repo.page_names(hiding, [repost], set())[0] == []
        removed = repo.page_names(ROOM, [repost], {key})
        assert (removed[0], removed[2]) == ([], {})
        assert repo.originals(ROOM, [repost], {key}) == ({}, {key})

        # Held for approval in a room here: public nowhere, its reposts neither.
        held_in = repo.ensure("elsewhere")
        repo.hold(held_in, original)
        assert repo.page_names(ROOM, [repost], set())[0] == []
        assert repo.decide(held_in, original.network, original.id, True, "host") is not None
        assert repo.page_names(ROOM, [repost], set())[0] == [repost]

        # The live stream keeps the store's verdict with the original, once.
        live = LiveOriginals(scope(store, "default"))
        live.learn([repost], lambda found: repo.hidden_originals(ROOM, found, {key}))
        assert live.hidden(repost) and not live.missing(repost)
        live.forget()  # a removal or an approval: asked again
        assert live.missing(repost)
        live.learn([repost], lambda found: repo.hidden_originals(ROOM, found, set()))
        assert not live.hidden(repost)


# -- a real server: the JSON, the live stream, the page -----------------------


def _room_posts(server: Server, tag: str) -> dict[str, dict]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        listed = client.get(f"/api/rooms/{tag}/posts").json()
        fed = client.get(f"/api/rooms/{tag}/feed").json()["posts"]
    assert {p["id"]: p["repost"] for p in listed} == {p["id"]: p["repost"] for p in fed}
    return {p["id"]: p for p in listed}


def _reposts_of(tag: str) -> tuple[list[Post], list[Post]]:
    """Originals on Bluesky and Mastodon with the tag, their text-less reposts,
    and an X retweet cut short (it keeps the tag) of a post never stored."""
    bluesky = make_post(tag, "the Bluesky original", network="bluesky", handle="alice.example.com")
    mastodon = make_post(tag, "the Mastodon original", network="mastodon")
    cut = dataclasses.replace(
        make_post(tag, "x", handle="retweeter"),
        text=f"RT @gone: a long post about #{tag} that X cut short…",
        repost_of="1999999999999999999",
    )
    return [bluesky, mastodon], [_repost(bluesky, ""), _repost(mastodon, ""), cut]


def test_the_room_and_its_live_stream_show_reposts_by_their_originals(
    server: Server, tag: str
) -> None:
    originals, reposts = _reposts_of(tag)
    for post in originals:
        server.submit(post)

    async def watch() -> list[dict]:
        async with websockets.connect(ws_url(server, tag)) as ws:
            for post in reposts:
                await asyncio.to_thread(server.submit, post)
            got: list[dict] = []
            while len(got) < len(reposts):
                message = orjson.loads(await asyncio.wait_for(ws.recv(), 15))
                if "id" in message:
                    got.append(message)
            return got

    live = {m["id"]: m for m in in_thread(watch)}
    stored = _room_posts(server, tag)
    for source in (live, stored):
        bluesky, mastodon, cut = (source[p.id]["repost"] for p in reposts)
        assert (bluesky["by"], mastodon["by"]) == ("@reposter.bsky.social", "@reposter")
        assert bluesky["original"]["text"] == originals[0].text
        assert mastodon["original"]["text"] == originals[1].text
        assert bluesky["original"]["author_label"] == "@" + originals[0].author.handle
        assert cut == {"by": "@retweeter", "of": "1999999999999999999", "original": None}
        assert [source[p.id]["text"] for p in reposts] == ["", "", reposts[2].text]
    for post in originals:
        assert stored[post.id]["repost"] is None


@pytest.mark.browser
def test_the_room_page_never_shows_a_repost_blank(page, server: Server, tag: str) -> None:
    originals, reposts = _reposts_of(tag)
    for post in originals:
        server.submit(post)
    server.submit(reposts[0])  # stored before the page opens: the page load shows it
    open_room(page, server, tag)
    for post in reposts[1:]:  # and these arrive live
        server.submit(post)
    items = page.locator("#posts > li")
    expect(items).to_have_count(5)
    for repost, original in zip(reposts[:2], originals, strict=True):
        item = page.locator(f'#posts > li[data-id="{repost.id}"]')
        by = "@reposter.bsky.social" if repost.network == "bluesky" else "@reposter"
        expect(item.locator(".repost-by")).to_have_text(f"↻ reposted by {by}")
        expect(item.locator(".original .text")).to_have_text(original.text)
        expect(item.locator(".original-author")).to_have_text("@" + original.author.handle)
    cut = page.locator(f'#posts > li[data-id="{reposts[2].id}"]')
    expect(cut.locator(".repost-by")).to_have_text("↻ reposted by @retweeter")
    expect(cut.locator(".repost-missing")).to_have_text("repost of a post not stored")
    expect(cut.locator(".text").first).to_have_text(reposts[2].text)
    for i in range(5):  # no entry without words
        expect(items.nth(i).locator(".text").first).not_to_be_empty()


# -- a real server: what a host hid stays hidden, and sizes stay bounded ------


def _bodies(server: Server, tag: str) -> dict[str, str]:
    """What an anonymous visitor reads: /posts, /feed and /pins, as sent."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return {
            path: client.get(f"/api/rooms/{tag}/{path}", params=params).text
            for path, params in (("posts", {"limit": 500}), ("feed", {"last": 500}), ("pins", {}))
        }


def _live_until(server: Server, tag: str, posts: list[Post]) -> dict[str, dict]:
    """Submit ``posts`` with a room reader connected; the posts it got up to
    the last one, by id (the stream keeps their order)."""

    async def watch() -> dict[str, dict]:
        async with websockets.connect(ws_url(server, tag), max_size=None) as ws:
            for post in posts:
                await asyncio.to_thread(server.submit, post)
            got: dict[str, dict] = {}
            while posts[-1].id not in got:
                message = orjson.loads(await asyncio.wait_for(ws.recv(), 15))
                if "id" in message:
                    got[message["id"]] = message
            return got

    return dict(in_thread(watch))


@pytest.mark.parametrize("action", ["remove", "blocked", "muted"])
def test_a_repost_does_not_bring_back_what_a_host_hid(
    server: Server, tag: str, action: str
) -> None:
    hidden = "the words a host took out of the room"
    original = make_post(tag, hidden, network="bluesky", handle="alice.example.com")
    # Tagged itself too, so a host may pin it.
    before = dataclasses.replace(_repost(original, ""), hashtags=(tag,))
    server.submit(original)
    server.submit(before)
    with _signed_in(server) as host:
        token = _csrf(host, f"/rooms/{tag}")
        ref = {"network": before.network, "id": before.id}
        pinned = host.post(f"/api/rooms/{tag}/pin", json=ref, headers={"X-CSRF-Token": token})
        assert pinned.status_code == 200
        # Shown by its original until the host acts, everywhere.
        assert all(hidden in body for body in _bodies(server, tag).values())
        if action == "remove":
            path, body = "remove", {"network": original.network, "id": original.id}
        else:
            who = original.author.id
            path, body = "people", {"role": action, "network": original.network, "who": who}
        done = host.post(f"/api/rooms/{tag}/{path}", json=body, headers={"X-CSRF-Token": token})
        assert done.status_code == 200, done.text
    for name, sent in _bodies(server, tag).items():  # page load, history, pins
        assert hidden not in sent and before.id not in sent, name
    after = _repost(original, "")
    plain = make_post(tag, "a post with nothing hidden")
    assert after.id not in _live_until(server, tag, [after, plain])  # the live stream
    for name, sent in _bodies(server, tag).items():
        assert hidden not in sent and after.id not in sent, name
    assert plain.id in _bodies(server, tag)["posts"]


def test_a_long_original_reposted_many_times_is_sent_cut(server: Server, tag: str) -> None:
    """One 200,000-character original reposted 50 times: every text is sent
    cut at TEXT_LIMIT characters, not copied whole into every entry."""
    original = make_post(tag, "long " * 40_000, network="mastodon")
    reposts = [_repost(original, "") for _ in range(50)]
    for post in [original, *reposts]:
        server.submit(post)
    again = _repost(original, "")
    live = _live_until(server, tag, [again, make_post(tag, "last")])[again.id]["repost"]
    assert len(live["original"]["text"]) == TEXT_LIMIT and live["original"]["truncated"]
    bodies = _bodies(server, tag)
    assert len(bodies["posts"]) < 600_000  # 51 × 5,000 characters and the rest (was 10 MB)
    assert len(bodies["feed"]) < 600_000
    listed = {p["id"]: p for p in orjson.loads(bodies["posts"])}
    own = listed[original.id]
    assert own["truncated"] and len(own["text"]) == TEXT_LIMIT and own["text"].endswith("…")
    for repost in reposts:
        shown = listed[repost.id]["repost"]["original"]
        assert (shown["text"], shown["truncated"]) == (own["text"], True)
        assert listed[repost.id]["truncated"] is False

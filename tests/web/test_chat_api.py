"""The chat API of a room over HTTP: who may pin and remove, the catch-up
feed's order and paging, what it leaves out, and the recap's visibility."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.web.conftest import PASSWORD, http_client, make_post, open_room


def _csrf(client, path: str) -> str:
    html = client.get(path).text
    m = re.search(r'data-csrf="([^"]+)"', html) or re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "page carries a CSRF token"
    return m.group(1)


@contextmanager
def _signed_in(server) -> Iterator[httpx.Client]:
    with http_client(server) as client:
        token = _csrf(client, "/login")
        r = client.post("/login", data={"name": "host", "password": PASSWORD, "csrf": token})
        assert r.status_code == 303, r.text
        yield client


@pytest.mark.parametrize("action", ["pin", "remove"])
def test_only_a_signed_in_host_with_the_token_pins_or_removes(server, tag, action):
    post = make_post(tag, "pin me")
    server.submit(post)
    body = {"network": post.network, "id": post.id}
    with http_client(server) as anonymous:
        assert anonymous.post(f"/api/rooms/{tag}/{action}", json=body).status_code in (401, 403)
        token = _csrf(anonymous, f"/rooms/{tag}")
        r = anonymous.post(f"/api/rooms/{tag}/{action}", json=body, headers={"X-CSRF-Token": token})
        assert r.status_code == 401
    with _signed_in(server) as host:
        assert host.post(f"/api/rooms/{tag}/{action}", json=body).status_code == 403  # no token
        token = _csrf(host, f"/rooms/{tag}")
        headers = {"X-CSRF-Token": token}
        foreign = {**headers, "Origin": "https://evil.example"}
        assert (
            host.post(f"/api/rooms/{tag}/{action}", json=body, headers=foreign).status_code == 403
        )
        elsewhere = {"network": "x", "id": "999999999999"}
        r = host.post(f"/api/rooms/{tag}/{action}", json=elsewhere, headers=headers)
        assert r.status_code == 404
        r = host.post(f"/api/rooms/{tag}/{action}", json=body, headers=headers)
        assert r.status_code == 200, r.text


def test_feed_pages_in_store_order_and_leaves_out_removed_posts(server, tag):
    posts = [make_post(tag, f"post {i:02d}", handle=f"p{i}") for i in range(25)]
    for p in posts[:-1]:
        server.submit(p, wait_stored=False)
    server.submit(posts[-1])
    with http_client(server) as client:
        opening = client.get(f"/api/rooms/{tag}/feed", params={"last": 5}).json()
        assert [p["id"] for p in opening["posts"]] == [p.id for p in posts[-5:]]
        seen, cursor = [], 0
        while True:
            page = client.get(f"/api/rooms/{tag}/feed", params={"after": cursor, "limit": 7}).json()
            seen += [p["id"] for p in page["posts"]]
            assert all(p["cursor"] > cursor for p in page["posts"])
            cursor = page["cursor"]
            if not page["more"]:
                break
        assert seen == [p.id for p in posts]
        assert cursor == opening["cursor"]
        for bad in ({"after": -1}, {"after": 2**64}, {"last": 0}, {"limit": 10_000}):
            assert client.get(f"/api/rooms/{tag}/feed", params=bad).status_code == 422, bad
    with _signed_in(server) as host:
        token = _csrf(host, f"/rooms/{tag}")
        gone = posts[3]
        r = host.post(
            f"/api/rooms/{tag}/remove",
            json={"network": gone.network, "id": gone.id},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 200
    with http_client(server) as client:
        page = client.get(f"/api/rooms/{tag}/feed", params={"after": 0, "limit": 500}).json()
        assert [p["id"] for p in page["posts"]] == [p.id for p in posts if p is not gone]
        # The room's own list of newest posts leaves it out too.
        newest = client.get(f"/api/rooms/{tag}/posts", params={"limit": 100}).json()
        assert gone.id not in [p["id"] for p in newest] and len(newest) == len(posts) - 1


def test_recap_follows_the_rooms_visibility(server, tag):
    private = tag + "p"
    open_room(server, private, public=False)
    server.submit(make_post(private, "Q1: secret plans?"))
    with http_client(server) as anonymous:
        assert anonymous.get(f"/api/rooms/{private}/recap?format=json").status_code == 404
        assert anonymous.get(f"/api/rooms/{private}/qa").status_code == 404
        assert anonymous.get(f"/api/rooms/{private}/feed").status_code == 404
        assert anonymous.get(f"/api/rooms/nosuchroom{tag}/recap").status_code == 404
        r = anonymous.get(f"/api/rooms/{tag}/recap?format=docx")
        assert r.status_code == 422
    with _signed_in(server) as host:
        r = host.get(f"/api/rooms/{private}/recap", params={"format": "md"})
        assert r.status_code == 200 and "secret plans?" in r.text
        assert r.headers["content-disposition"].startswith("attachment;")
        r = host.get(f"/api/rooms/{private}/recap", params={"on": "2026-13-01"})
        assert r.status_code == 422


def test_room_qa_is_todays_chat_not_last_weeks(server, tag):
    from datetime import UTC, datetime, timedelta

    week_ago = datetime.now(UTC) - timedelta(days=7)
    old_q = make_post(tag, "Q1: last week's question", created_at=week_ago)
    old_a = make_post(tag, "A1 last week's answer", created_at=week_ago + timedelta(minutes=1))
    new_q = make_post(tag, "Q1: today's question")
    new_a = make_post(tag, "A1 today's answer", reply_to=old_q.id)
    for p in (old_q, old_a, new_q, new_a):
        server.submit(p)
    with http_client(server) as client:
        qa = client.get(f"/api/rooms/{tag}/qa").json()
    assert [(q["number"], q["text"]) for q in qa["questions"]] == [(1, "today's question")]
    assert [a["id"] for a in qa["questions"][0]["answers"]] == [new_a.id]
    # Asked again at once: a new answer and a removal show (the cached Q&A
    # is keyed by what they change).
    later = make_post(tag, "A1 one more")
    server.submit(later)
    with http_client(server) as client:
        qa = client.get(f"/api/rooms/{tag}/qa").json()
    assert [a["id"] for a in qa["questions"][0]["answers"]] == [new_a.id, later.id]
    with _signed_in(server) as host:
        token = _csrf(host, f"/rooms/{tag}")
        body = {"network": new_a.network, "id": new_a.id}
        assert host.post(
            f"/api/rooms/{tag}/remove", json=body, headers={"X-CSRF-Token": token}
        ).is_success
        qa = host.get(f"/api/rooms/{tag}/qa").json()
    assert [a["id"] for a in qa["questions"][0]["answers"]] == [later.id]


def test_the_settled_cursor_never_passes_a_post_the_page_has_not_had(server, tag):
    import time

    first = make_post(tag, "first")
    server.submit(first)
    with http_client(server) as client:
        opening = client.get(f"/api/rooms/{tag}/feed", params={"last": 1}).json()
        assert [p["id"] for p in opening["posts"]] == [first.id]
        # A page that has handled nothing live since long ago may not move.
        assert client.get(f"/api/rooms/{tag}/cursor", params={"seen": 1}).json() == {"cursor": 0}
        time.sleep(2.5)  # first is now older than the margin
        seen = time.time()  # a live post the page handled entered now...
        server.submit(make_post(tag, "second"))  # ...and this one after it
        moved = client.get(f"/api/rooms/{tag}/cursor", params={"seen": seen}).json()
        assert moved["cursor"] == opening["cursor"]  # past first, not past second
        feed = client.get(f"/api/rooms/{tag}/feed", params={"after": moved["cursor"]}).json()
        assert [p["text"] for p in feed["posts"]] == [f"second #{tag}"]
        assert client.get(f"/api/rooms/{tag}/cursor", params={"seen": -5}).status_code == 422

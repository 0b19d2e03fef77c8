"""Posting into a room as a viewer or a web guest, over HTTP against a real server.

A viewer may do what a signed-out guest may (README, "Rooms"; room.js shows
them the compose box where the room takes guest posts): post where every
room the post names is public and takes guest posts, wait in the approval
queue where there is one, and nothing else. And a guest's (or anyone's) text
is cleaned on the way in the way outgoing posts are
(``hubbub.outbox.public_post_text``): a right-to-left override must not be
stored and served to every reader of the room.
"""

from __future__ import annotations

from contextlib import closing

from tests.web.conftest import Server, http_client, open_room
from tests.web.test_room_access import (
    configure,
    guest_post,
    new_user,
    sign_in,
    texts,
    visitor,
    wait_until,
)


def test_a_viewer_posts_where_guests_may_and_waits_in_the_queue(server: Server, tag: str) -> None:
    viewer, token = sign_in(server, new_user(server, "viewer"))
    headers = {"X-CSRF-Token": token}
    with closing(viewer):
        # Guests may not post here yet, so neither may the viewer: a clear 403.
        r = viewer.post(f"/api/rooms/{tag}/posts", json={"text": "too early"}, headers=headers)
        assert r.status_code == 403
        assert "hosts only" in r.json()["detail"]

        configure(server, tag, allow_guests=True)
        r = viewer.post(f"/api/rooms/{tag}/posts", json={"text": "viewer speaks"}, headers=headers)
        assert r.status_code == 201, r.text
        assert r.json()["held"] is False
        with http_client(server) as anon:
            shown = wait_until(
                lambda: [
                    p
                    for p in anon.get(f"/api/rooms/{tag}/posts").json()
                    if "viewer speaks" in p["text"]
                ],
                "the viewer's post",
            )
        # Under their own name, not as an anonymous guest.
        assert shown[0]["author_id"].startswith("web:user:")
        assert shown[0]["text"] == f"viewer speaks #{tag}"

        # A room the post names that takes no guests refuses it, as for a guest.
        closed = tag + "closed"
        open_room(server, closed)
        r = viewer.post(
            f"/api/rooms/{tag}/posts", json={"text": f"into #{closed}"}, headers=headers
        )
        assert r.status_code == 403 and closed in r.json()["detail"]

        # With an approval queue the viewer's post waits, as a guest's does.
        configure(server, tag, allow_guests=True, approval=True)
        r = viewer.post(f"/api/rooms/{tag}/posts", json={"text": "viewer waits"}, headers=headers)
        assert r.status_code == 201 and r.json()["held"] is True
        # Still a reader otherwise: the queue and the room's settings are hosts'.
        assert viewer.get(f"/api/rooms/{tag}/pending").status_code == 403
        r = viewer.post(f"/api/rooms/{tag}/settings", json={"approval": False}, headers=headers)
        assert r.status_code == 403

        # A private room takes no guest posts, so no viewer posts either.
        configure(server, tag, public=False)
        r = viewer.post(f"/api/rooms/{tag}/posts", json={"text": "private"}, headers=headers)
        assert r.status_code == 403
    client, _token = sign_in(server)
    with closing(client):
        pending = client.get(f"/api/rooms/{tag}/pending").json()
        assert any("viewer waits" in p["text"] for p in pending)
        shown = texts(client, tag)
    assert not any("viewer waits" in t for t in shown)
    assert not any("too early" in t or "into #" in t for t in shown)


def test_a_guest_post_loses_its_bidi_override_on_the_way_in(server: Server, tag: str) -> None:
    configure(server, tag, allow_guests=True)
    guest, token = visitor(server)
    with closing(guest):
        r = guest_post(guest, token, tag, f"A1: \u202egnp.exe\x1b[31m\tred #{tag}", name="Eve")
        assert r.status_code == 201, r.text
        # What the server answers with is what it stored.
        assert r.json()["text"] == f"A1: gnp.exe red #{tag}"
        with http_client(server) as anon:
            served = wait_until(
                lambda: [t for t in texts(anon, tag) if "gnp.exe" in t], "the guest's post"
            )
        assert served == [f"A1: gnp.exe red #{tag}"]
        # Nothing but forbidden characters is nothing to post.
        r = guest_post(guest, token, tag, "\u202e\u2066\x07", name="Eve")
        assert r.status_code == 422

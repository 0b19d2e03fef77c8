"""The recap download shows what the room shows (issue 7, case 3: a held post
is public nowhere until approved): a guest's post waiting for approval and a
blocked author's post stay out of ``/api/rooms/{tag}/recap``, as they stay out
of the room's posts, feed and Q&A.
"""

from __future__ import annotations

from contextlib import closing

from tests.web.conftest import Server, http_client, make_post
from tests.web.test_room_access import configure, guest_post, visitor, wait_until


def _recap_text(client, tag: str) -> str:  # noqa: ANN001
    r = client.get(f"/api/rooms/{tag}/recap", params={"format": "json"})
    assert r.status_code == 200, r.text
    return r.text


def test_the_recap_leaves_out_held_posts_and_blocked_authors(server: Server, tag: str) -> None:
    configure(server, tag, allow_guests=True)
    server.submit(make_post(tag, "Q1 what time does the chat start?", handle="visible1"))
    blocked = make_post(tag, "Q2 buy my followers now", handle="spammer1")
    server.submit(blocked)
    server.set_person(tag, "blocked", blocked.author.network, blocked.author.id)
    configure(server, tag, approval=True)  # from now on, posts wait for a host
    guest, token = visitor(server)
    with closing(guest):
        r = guest_post(guest, token, tag, "Q3 a held guest question")
        assert r.status_code == 201 and r.json()["held"] is True
    store = server.app.state.store  # type: ignore[attr-defined]
    wait_until(lambda: store.get_post("web", r.json()["id"]), "the held post stored")
    with http_client(server) as anon:
        text = _recap_text(anon, tag)
    assert "what time does the chat start" in text
    assert "a held guest question" not in text
    assert "buy my followers" not in text

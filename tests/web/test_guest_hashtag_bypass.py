"""Guests cannot reach a closed room through a hashtag the edge check would
skip (issue 7, case 3 as an attacker tries it next): ``#closed`` followed by
hundreds of combining marks is longer than a tag's raw limit, yet folds to
``closed``, the room the pipeline delivers it to.
"""

from __future__ import annotations

from contextlib import closing

from tests.web.conftest import Server, http_client, open_room
from tests.web.test_room_access import configure, guest_post, texts, visitor, wait_until


def test_a_guest_cannot_reach_a_closed_room_through_a_tag_with_a_long_tail(
    server: Server, tag: str
) -> None:
    closed = tag + "closed"
    open_room(server, closed)  # public, guests not allowed
    configure(server, tag, allow_guests=True)
    guest, token = visitor(server)
    with closing(guest):
        # 401 combining marks: longer than the edge's raw limit, folded to "closed…".
        sneaky = f"tail into #{closed}" + "\u0301" * 401
        r = guest_post(guest, token, tag, sneaky)
        assert r.status_code == 403, r.text
        assert guest_post(guest, token, tag, "a fair tail post").status_code == 201
        wait_until(lambda: any("a fair tail post" in t for t in texts(guest, tag)), "the post")
    with http_client(server) as anon:
        assert not any("tail into" in t for t in texts(anon, closed))

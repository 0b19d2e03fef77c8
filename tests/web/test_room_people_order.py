"""A room's muted and blocked people are listed by the label the host saw.

The host's list of muted and blocked people (``Room.for_host``, the room
page's host panel) was sorted by author id, for Bluesky the DID: the names
shown ("@zed.example.com", "did:plc:tn3hni2j…") read in no order. Each
role's people are now sorted by the label shown, case-folded. On SQLite and
PostgreSQL."""

from __future__ import annotations

from hubbub.query.tokens import fold
from hubbub.store import Store
from hubbub.web.rooms import RoomRepo
from tests.jetstream_authors import DID, SHORT


def test_hidden_people_are_listed_by_their_label(store: Store) -> None:
    repo = RoomRepo(store, "default")
    people = [
        ("muted", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "@zed.example.com"),
        ("muted", "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb", "@Bob.example.com"),
        ("muted", DID, SHORT),
        ("muted", "did:plc:cccccccccccccccccccccccc", "@alice.example.com"),
        ("blocked", "did:plc:dddddddddddddddddddddddd", "@Yan.example.com"),
        ("blocked", "did:plc:eeeeeeeeeeeeeeeeeeeeeeee", "@xia.example.com"),
    ]
    for role, who, label in people:
        repo.set_person("orderroom", role, "bluesky", who, label)
    hidden = repo.get("orderroom").for_host()["hidden"]
    assert [(h["role"], h["label"]) for h in hidden] == [
        ("blocked", "@xia.example.com"),
        ("blocked", "@Yan.example.com"),
        ("muted", "@alice.example.com"),
        ("muted", "@Bob.example.com"),
        ("muted", "@zed.example.com"),
        ("muted", SHORT),
    ]
    muted = [h["label"] for h in hidden if h["role"] == "muted"]
    assert muted == sorted(muted, key=fold)

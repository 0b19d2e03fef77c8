"""Recaps name people by handle, not by Bluesky DID.

Jetstream posts carry only their author's DID. A recap shows the handle the
store learnt for that DID (a later AppView view, an audience fetch), else a
shortened DID that still tells people apart; its JSON keeps the DID as
``author_id`` and every key it had, and adds ``author_handle`` and
``author_label``. Real recorded Jetstream events, imported by the real CLI,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from hubbub.author_labels import AuthorLabels, short_ids
from hubbub.chat.recap import build_recap
from hubbub.chat.recap_output import render_recap
from hubbub.store import Store
from hubbub.store.audience_repo import AudienceRepo, Member
from hubbub.store.known_handles import known_handles
from hubbub.store.scope import scope
from tests.chat.real_chat import DAY, TAG
from tests.chat.test_recap_real import load_chat
from tests.cli.test_data_commands import hubbub
from tests.conftest import require_shared_data
from tests.jetstream_authors import CAPTURE, CHAT, DID, HANDLE, SHORT, capture_posts, search_page


def _recap(db_url: str, fmt: str) -> bytes:
    done = hubbub("recap", CHAT, "--db", db_url, "--format", fmt)
    assert done.returncode == 0, done.stderr
    return bytes(done.stdout)


def test_imported_jetstream_authors_are_named_by_known_handle_else_short_did(
    db_url: str, tmp_path: Path
) -> None:
    require_shared_data()
    done = hubbub("import", "--db", db_url, str(CAPTURE))
    assert done.returncode == 0, done.stderr

    person = orjson.loads(_recap(db_url, "json"))["new_voices"]["people"][0]
    assert person == {
        "network": "bluesky",
        "author_id": DID,
        "handle": DID,  # as stored, unchanged
        "name": None,
        "author_handle": None,
        "author_label": SHORT,
    }
    md = _recap(db_url, "md").decode()
    assert f"- {SHORT} ({SHORT}, bluesky)" in md and "@did:" not in md
    html = _recap(db_url, "html").decode()
    assert f'title="{DID}">{SHORT} · bluesky' in html and "@did:" not in html

    # The AppView later names the DID's handle; the Jetstream post keeps the DID.
    done = hubbub("import", "--db", db_url, search_page(tmp_path / "search.json"))
    assert done.returncode == 0, done.stderr
    person = orjson.loads(_recap(db_url, "json"))["new_voices"]["people"][0]
    assert (person["author_id"], person["handle"]) == (DID, DID)
    assert (person["author_handle"], person["author_label"]) == (HANDLE, f"@{HANDLE}")
    assert f"(@{HANDLE}, bluesky)" in _recap(db_url, "md").decode()
    assert f"@{HANDLE} · bluesky" in _recap(db_url, "html").decode()


def test_every_jetstream_author_of_a_chat_has_a_label_of_their_own(
    db_url: str, tmp_path: Path
) -> None:
    """Every post event of the capture, as recorded but for a chat's tag added
    (the record's ``tags``) and a new record key: a chat of Jetstream authors."""
    require_shared_data()
    posts = capture_posts()
    for e in posts:
        e["commit"]["rkey"] += "c"
        e["commit"]["record"]["tags"] = ["didchat"]
    chat = tmp_path / "chat.jsonl"
    chat.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in posts))
    done = hubbub("import", "--db", db_url, str(chat))
    assert done.returncode == 0, done.stderr
    done = hubbub("recap", "didchat", "--db", db_url)
    assert done.returncode == 0, done.stderr
    r = orjson.loads(done.stdout)
    dids = {e["did"] for e in posts}
    active = r["participants"]["most_active"]
    assert r["participants"]["total"] == len(dids) == len(active) == 8
    assert {p["author_id"] for p in active} == dids
    for p in active:
        assert p["handle"] == p["author_id"] and p["author_handle"] is None
        assert p["author_label"] == p["author_id"][:16] + "…"
    assert len({p["author_label"] for p in active}) == 8


def test_a_real_chat_names_each_bluesky_person_apart(store: Store) -> None:
    require_shared_data()
    load_chat(store)
    r = build_recap(store, TAG, day=DAY)
    answers = [a for q in r["transcript"] for a in q["answers"]]
    people = [*r["participants"]["most_active"], *r["new_voices"]["people"]]
    named = [(a["network"], a["author_id"], a["author"], a) for a in answers] + [
        (p["network"], p["author_id"], p["handle"], p) for p in people
    ]
    sky = {(i, handle): d for network, i, handle, d in named if network == "bluesky"}
    by_did = {i: d for (i, handle), d in sky.items() if handle == i}
    by_handle = {i: d for (i, handle), d in sky.items() if handle != i}
    # The Bluesky host is a Jetstream author; an answerer came from an AppView search.
    assert by_did and by_handle
    for author_id, d in by_did.items():
        assert d["author_handle"] is None
        assert d["author_label"] == author_id[:16] + "…"
    for d in by_handle.values():
        assert d["author_label"] == "@" + d["author_handle"]
    labels = {d["author_label"] for d in [*by_did.values(), *by_handle.values()]}
    assert len(labels) == len(by_did) + len(by_handle)
    md = render_recap(r, "md").decode()
    assert "@did:" not in md
    assert all(f"({label}, bluesky)" in md for label in labels)


def test_short_dids_are_lengthened_where_two_share_a_prefix() -> None:
    a, b, c = "did:plc:abcdefghij234567abcdefgh", "did:plc:abcdefghiz234567abcdefgh", DID
    assert short_ids([a, b, c, "did:web:example.com", "12345"]) == {
        a: "did:plc:abcdefghij…",
        b: "did:plc:abcdefghiz…",
        c: SHORT,
    }
    # The same DID twice is one person, not two to tell apart.
    assert short_ids([a, a]) == {a: "did:plc:abcdefgh…"}


def test_labels_trust_only_handles_that_name_someone() -> None:
    labels = AuthorLabels(
        [
            ("bluesky", DID, DID),
            ("bluesky", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"),
            ("bluesky", "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb", "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"),
            ("bluesky", "did:web:example.com", "did:web:example.com"),
            ("x", "12345", "12345"),
            ("mastodon", "https://m.example/users/ann", "ann@m.example"),
        ],
        {
            ("bluesky", DID): HANDLE,
            ("bluesky", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"): "handle.invalid",
            ("bluesky", "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb"): "evil\u202e.example <b>",
        },
    )
    assert labels.label("bluesky", DID) == f"@{HANDLE}"
    assert labels.handle("bluesky", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa") is None
    assert labels.label("bluesky", "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa") == "did:plc:aaaaaaaa…"
    assert labels.label("bluesky", "did:plc:bbbbbbbbbbbbbbbbbbbbbbbb") == "did:plc:bbbbbbbb…"
    assert labels.label("bluesky", "did:web:example.com") == "did:web:example.com"
    assert labels.label("x", "12345") == "12345"
    assert labels.label("mastodon", "https://m.example/users/ann") == "@ann@m.example"


def test_audience_fetches_name_followers_and_the_account_newest_first(store: Store) -> None:
    repo = AudienceRepo(scope(store, "default"))
    follower, account = DID, "did:plc:accountaccountaccount222"

    def fetch(handle: str, at: datetime) -> None:
        snap = repo.open_snapshot("brand", "bluesky", "followers", account, "brand.example.com")
        member = Member(
            follower, 0, handle, "", "", None, None, None, None, None, False, False, None,
            0.0, False, (), at,
        )  # fmt: skip
        repo.save_page(snap.id, [member], None)
        repo.finish(snap.id, "done")

    fetch("old-name.bsky.social", datetime(2026, 7, 1, tzinfo=UTC))
    fetch(HANDLE, datetime(2026, 7, 3, tzinfo=UTC))
    found = known_handles(
        scope(store, "default"),
        [("bluesky", follower), ("bluesky", account), ("bluesky", "did:plc:nobody")],
    )
    assert found == {("bluesky", follower): HANDLE, ("bluesky", account): "brand.example.com"}
    # Another workspace knows nothing of them.
    assert known_handles(scope(store, "other"), [("bluesky", follower)]) == {}

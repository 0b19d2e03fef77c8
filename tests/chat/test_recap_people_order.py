"""A recap lists people in the order a reader reads their names.

The recap sorted people by the handle as stored, which for a Jetstream
author is the DID: a list named "@zed…, @alice…, did:plc:…" read in no
order. People are now sorted by the label shown (``@handle``, else a short
DID), case-folded. Real recorded Jetstream events, imported by the real
CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from hubbub.chat.recap import build_recap
from hubbub.query.tokens import fold
from hubbub.store import open_store
from tests.cli.test_data_commands import hubbub
from tests.conftest import require_shared_data
from tests.jetstream_authors import chat_events, followers_fetched, write_jsonl


def test_people_are_sorted_by_the_label_shown(db_url: str, tmp_path: Path) -> None:
    require_shared_data()
    events = chat_events("labelorder", "o")
    done = hubbub("import", "--db", db_url, write_jsonl(tmp_path / "chat.jsonl", events))
    assert done.returncode == 0, done.stderr
    dids = sorted({str(e["did"]) for e in events})
    # Named against the order of their DIDs, one with a capital letter.
    names = {dids[0]: "zed.example.com", dids[1]: "Bob.example.com", dids[2]: "alice.example.com"}
    with open_store(db_url) as store:
        followers_fetched(store, "default", names)
        recap = build_recap(store, "labelorder")
    people = recap["new_voices"]["people"]
    shown = [p["author_label"] for p in people]
    assert shown[:3] == ["@alice.example.com", "@Bob.example.com", "@zed.example.com"]
    assert shown == sorted(shown, key=fold) and len(shown) == len(dids) == 8
    assert [p["handle"] for p in people] != sorted(p["handle"] for p in people)  # not the DIDs'
    active = recap["participants"]["most_active"]
    for n in {p["posts"] for p in active}:  # as many posts: in the order of their labels
        same = [p["author_label"] for p in active if p["posts"] == n]
        assert same == sorted(same, key=fold)
    assert len(active) == 8

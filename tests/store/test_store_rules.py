"""The rules that keep data correct: edits, tombstones, aliases, cursors —
on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import orjson

from hubbub.formats import Context, parse_value
from hubbub.post import Author, Deletion, Post
from hubbub.store import Ingest, RawPayload
from hubbub.transfer.importer import import_paths, import_stream
from tests.conftest import PAYLOADS, require_shared_data

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _post(pid: str, text: str = "hello #chat", **kw) -> Post:
    author = Author(network="mastodon", id="ann@example.social", handle="ann@example.social")
    return Post(network="mastodon", id=pid, author=author, text=text, created_at=T0, **kw)


def _import_bytes(store, data: bytes, name: str = "test.jsonl"):
    return import_stream(store, io.BytesIO(data), name)


def test_x_edit_keeps_newest_text_in_either_order(store) -> None:
    require_shared_data()
    before = PAYLOADS / "x_v2_twarc2" / "edited_before.jsonl"
    after = PAYLOADS / "x_v2_twarc2" / "edited_after.jsonl"
    import_paths(store, [str(after)])
    (post,) = store.search(None)
    newest_text = post.text
    report = import_paths(store, [str(before)])
    assert report.counts.imported == 0
    (again,) = store.search(None)
    assert again.id == post.id and again.text == newest_text
    versions = store.post_versions("x", post.id)
    assert versions and all(v != newest_text for v in versions)
    # The chain is keyed by its first id.
    assert post.id == post.edit_ids[0]


def test_x_edit_updates_when_newer_arrives(store, sqlite_url) -> None:
    require_shared_data()
    before = PAYLOADS / "x_v2_twarc2" / "edited_before.jsonl"
    after = PAYLOADS / "x_v2_twarc2" / "edited_after.jsonl"
    import_paths(store, [str(before)])
    (old,) = store.search(None)
    report = import_paths(store, [str(after)])
    (new,) = store.search(None)
    assert report.counts.imported == 0
    assert new.id == old.id
    assert old.text in store.post_versions("x", new.id) or old.text == new.text
    assert new.version_id == new.edit_ids[-1]


def test_delete_leaves_tombstone_that_replay_does_not_undo(store) -> None:
    store.ingest([Ingest(_post("https://example.social/s/1", "secret words #chat"))])
    assert [p.id for p in store.search("secret")] == ["https://example.social/s/1"]
    result = store.ingest([Ingest(Deletion(network="mastodon", id="https://example.social/s/1"))])
    assert result.counts.deleted == 1
    assert store.search("secret") == [] and store.search("#chat") == []
    # Replaying the create, and an edit, changes nothing.
    replay = store.ingest(
        [Ingest(_post("https://example.social/s/1", "secret words #chat")),
         Ingest(_post("https://example.social/s/1", "edited secret", edited_at=T0))]
    )  # fmt: skip
    assert (replay.counts.imported, replay.counts.updated) == (0, 0)
    assert store.search("secret") == []
    tomb = store.get_post("mastodon", "https://example.social/s/1")
    assert tomb is not None and tomb.deleted and tomb.text == ""


def test_delete_before_create(store) -> None:
    result = store.ingest([Ingest(Deletion(network="mastodon", id="https://example.social/s/9"))])
    assert result.counts.deleted == 1
    later = store.ingest([Ingest(_post("https://example.social/s/9", "arrives late"))])
    assert later.counts.imported == 0
    assert store.search("late") == []


def test_mastodon_alias_delete_by_local_id(store) -> None:
    require_shared_data()
    status = orjson.loads((PAYLOADS / "mastodon" / "status_entity_example.json").read_bytes())
    ctx = Context(source="test", server="mastodon.example")
    (post,) = [p for p in parse_value(status, ctx) if isinstance(p, Post)]
    store.ingest([Ingest(post)])
    assert store.count() == 1
    event = {"event": "delete", "payload": str(status["id"])}
    (deletion,) = parse_value(event, ctx)
    assert deletion.alias == f"mastodon.example/{status['id']}"
    result = store.ingest([Ingest(deletion)])
    assert result.counts.deleted == 1
    assert store.count() == 0
    assert store.get_post("mastodon", status["uri"]).deleted


def test_mastodon_alias_delete_before_the_status(store) -> None:
    require_shared_data()
    status = orjson.loads((PAYLOADS / "mastodon" / "status_entity_example.json").read_bytes())
    ctx = Context(source="test", server="mastodon.example")
    (deletion,) = parse_value({"event": "delete", "payload": str(status["id"])}, ctx)
    store.ingest([Ingest(deletion)])
    posts = [p for p in parse_value(status, ctx) if isinstance(p, Post)]
    result = store.ingest([Ingest(p) for p in posts])
    assert result.counts.imported == 0
    assert store.count() == 0


def test_metrics_only_grow_and_count_as_updates(store) -> None:
    store.ingest([Ingest(_post("u1", metrics={"likes": 5, "reposts": 1}))])
    older = store.ingest([Ingest(_post("u1", metrics={"likes": 3, "reposts": 1}))])
    assert (older.counts.updated, older.counts.duplicates) == (0, 1)
    newer = store.ingest([Ingest(_post("u1", metrics={"likes": 9}))])
    assert newer.counts.updated == 1
    assert store.get_post("mastodon", "u1").metrics == {"likes": 9, "reposts": 1}


def test_cursor_is_committed_with_the_batch(store) -> None:
    store.ingest([Ingest(_post("c1"))], cursor=("sim:chat", "17"))
    assert store.get_cursor("sim:chat") == "17"
    assert store.get_cursor("sim:other") is None


def test_workspaces_are_separate(store) -> None:
    store.ingest([Ingest(_post("w1", "alpha words"))], workspace="shop")
    assert store.search("alpha") == []
    assert [p.id for p in store.search("alpha", workspace="shop")] == ["w1"]
    assert set(store.workspaces()) >= {"shop"}


def test_raw_payloads_are_kept_once_and_exported(store) -> None:
    raw = RawPayload(body=b'{"x": 1}', source="unit", fetched_at=T0, format="mastodon")
    store.ingest([Ingest(_post("r1"), raw), Ingest(_post("r2"), raw)])
    store.ingest([Ingest(_post("r1"), raw)])
    assert list(store.iter_raw()) == [("mastodon", b'{"x": 1}')]
    assert list(store.iter_raw("r2")) == []  # "r2" is not a word in any text


def test_blank_lines_ignored_bad_line_reported(store) -> None:
    require_shared_data()
    good = (PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl").read_bytes().strip()
    data = b"\n\n" + good + b"\n\n{not json\n\n" + good + b"\n"
    report = _import_bytes(store, data, "mixed.jsonl")
    assert report.rejected == 1
    assert report.errors[0]["file"] == "mixed.jsonl" and report.errors[0]["line"] == 5
    assert report.counts.imported == 2


def test_bluesky_identity_names_the_did(store) -> None:
    did = "did:plc:abcdefghijklmnopqrstuvwx"

    def bsky(rkey: str, text: str) -> Post:
        author = Author(network="bluesky", id=did, handle=did)  # Jetstream: DID only
        return Post(
            network="bluesky",
            id=f"at://{did}/app.bsky.feed.post/{rkey}",
            author=author,
            text=text,
            created_at=T0,
        )

    store.ingest([Ingest(bsky("a1", "before the identity event"))])
    assert [p.author.handle for p in store.search("before")] == [did]
    result = store.ingest([Ingest(Author(network="bluesky", id=did, handle="ann.example.com"))])
    assert result.counts.skipped == 1 and result.counts.imported == 0
    assert [p.author.handle for p in store.search("before")] == ["ann.example.com"]
    assert len(store.search("from:ann.example.com")) == 1
    later = store.ingest([Ingest(bsky("a2", "after the identity event"))])
    assert later.new[0].author.handle == "ann.example.com"  # what the pipeline publishes
    assert len(store.search("from:ann.example.com")) == 2
    # A later post naming only the DID does not undo what we learnt.
    assert store.get_author("bluesky", did)["handle"] == "ann.example.com"


def test_a_mixed_file_imports_every_format(store) -> None:
    """Format detection is per line: X, Bluesky and Mastodon in one JSONL file."""
    require_shared_data()
    x_line = (PAYLOADS / "x_v2_twarc2" / "two_tweets.jsonl").read_bytes().strip()
    jetstream = (PAYLOADS / "bluesky_jetstream" / "jetstream_v1_golden_10events.jsonl").read_bytes()
    mastodon = orjson.dumps(
        orjson.loads((PAYLOADS / "mastodon" / "status_entity_example.json").read_bytes())
    )
    thread = orjson.dumps(
        orjson.loads((PAYLOADS / "bluesky_xrpc" / "app.bsky.feed.getPostThread.json").read_bytes())
    )
    data = b"\n".join([x_line, jetstream.strip(), mastodon, thread, b"[1, 2, 3]"]) + b"\n"
    report = _import_bytes(store, data, "mixed.jsonl")
    assert report.rejected == 1 and report.errors[0]["line"] == 14  # the bare list
    assert {p.network for p in store.search(None, limit=None)} == {"x", "bluesky", "mastodon"}
    assert report.counts.imported == 2 + 2 + 1 + 1


def test_since_until_boundaries_are_exact(store) -> None:
    """A post at exactly midnight is in since:D and not in until:D, on both
    backends (SQLite compares stored text, so the format must be fixed)."""
    midnight = datetime(2026, 3, 1, tzinfo=UTC)
    post = _post("b1", "edge case")
    post.created_at = midnight
    store.ingest([Ingest(post)])
    assert [p.id for p in store.search("edge since:2026-03-01")] == ["b1"]
    assert store.search("edge until:2026-03-01") == []
    assert store.get_post("mastodon", "b1").created_at == midnight


def test_extreme_times_and_huge_integers_do_not_crash() -> None:
    from hubbub.post import parse_time
    from hubbub.sources.base import RawItem

    assert parse_time("9999-12-31T23:59:59-05:00") is None  # past datetime's range in UTC
    assert RawItem({"id": 2**70}, Context()).body() == b'{"id":1180591620717411303424}'


def test_delete_from_a_known_server_finds_a_post_stored_with_an_unknown_one(store) -> None:
    post = _post("https://remote.example/s/5", "imported without its server", aliases=("*/555",))
    store.ingest([Ingest(post)])
    result = store.ingest([Ingest(Deletion(network="mastodon", alias="mastodon.example/555"))])
    assert result.counts.deleted == 1
    assert store.search("imported") == []

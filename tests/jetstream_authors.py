"""Real Jetstream authors known only by DID, and the AppView post that later
names one of them: shared by the tests that check people are shown by
handle (``hubbub.author_labels``) in recaps, rooms, reports, the inbox and
the command line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson
import sqlalchemy as sa

from hubbub.formats import Context, parse_record
from hubbub.post import Post
from hubbub.store import Store
from hubbub.store.audience_repo import AudienceRepo, Member
from hubbub.store.scope import scope
from tests.conftest import PAYLOADS

CAPTURE = PAYLOADS / "bluesky_jetstream" / "jetstream_v1_capture_2026-07-04.jsonl"
# The one post of the capture with a hashtag: its author is known only by DID.
CHAT = "HowToTellAiToShutUp"
DID = "did:plc:tn3hni2jpphsgl6amfbb7ja6"
SHORT = "did:plc:tn3hni2j…"
HANDLE = "indie-rebel.bsky.social"


def search_page(path: Path) -> str:
    """An app.bsky.feed.searchPosts page with a later post by the same DID: the
    AppView's view of it names the handle, as a search or a profile fetch does."""
    view = {
        "uri": f"at://{DID}/app.bsky.feed.post/3lzzzzzzzzz2a",
        "cid": "bafyreicfzantnhto2yqgukytzgemg4bk7wi4yaojgk7ozdeq67uvsgfcqm",
        "author": {"did": DID, "handle": HANDLE},
        "record": {
            "$type": "app.bsky.feed.post",
            "createdAt": "2026-07-05T10:00:00.000Z",
            "text": "a later post, on another day",
        },
        "indexedAt": "2026-07-05T10:00:00.000Z",
    }
    path.write_bytes(orjson.dumps({"posts": [view]}))
    return str(path)


def capture_posts() -> list[dict[str, object]]:
    """Every post-creating commit event of the capture, as recorded."""
    events = [orjson.loads(line) for line in CAPTURE.read_bytes().splitlines()]
    return [
        e
        for e in events
        if e["kind"] == "commit" and e["commit"]["collection"] == "app.bsky.feed.post"
    ]


def chat_events(tag: str, suffix: str) -> list[dict[str, object]]:
    """Every post of the capture as recorded but for ``tag`` added (the
    record's ``tags``) and a new record key: a chat of Jetstream authors."""
    posts = capture_posts()
    for e in posts:
        e["commit"]["rkey"] += suffix  # type: ignore[index]
        e["commit"]["record"]["tags"] = [tag]  # type: ignore[index]
    return posts


def write_jsonl(path: Path, events: list[dict[str, object]]) -> str:
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    return str(path)


def parsed_post(event: dict[str, object]) -> Post:
    """The Post a Jetstream source hands the pipeline for ``event``."""
    _fmt, items = parse_record(event, Context(source="jetstream"))
    (post,) = [i for i in items if isinstance(i, Post)]
    return post


def followers_fetched(store: Store, workspace: str, handles: dict[str, str]) -> None:
    """An audience fetch of a Bluesky account's followers that names
    ``handles`` (DID → handle): a way the store learns handles that never
    rewrites posts."""
    repo = AudienceRepo(scope(store, workspace))
    snap = repo.open_snapshot(
        "brand", "bluesky", "followers", "did:plc:accountaccountaccount222", "brand.example.com"
    )
    at = datetime(2026, 7, 3, tzinfo=UTC)
    members = [
        Member(
            did,
            n,
            handle,
            "",
            "",
            None,
            None,
            None,
            None,
            None,
            False,
            False,
            None,
            0.0,
            False,
            (),
            at,
        )  # fmt: skip
        for n, (did, handle) in enumerate(sorted(handles.items()))
    ]
    repo.save_page(snap.id, members, None)
    repo.finish(snap.id, "done")


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` meanwhile (the real database's)."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def audience_lookups(seen: list[str]) -> int:
    """Lookups that went on to the audience fetches (nothing else reads the
    fetched accounts' handles): one per lookup of authors the authors table
    does not name."""
    return sum(1 for s in seen if "subject_handle" in s and s.lstrip().upper().startswith("SELECT"))

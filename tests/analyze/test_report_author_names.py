"""The listening scorecard and report name Jetstream authors by handle.

A Jetstream post names its author by DID alone. ``top_users``, ``who`` and
the ``why`` examples keep every key they had (``handle``/``author`` as
stored: the DID) and add ``author_handle`` (the handle the store learnt,
else null) and ``author_label`` (``@handle``, else a shortened DID); the HTML
report shows the label with the full DID as its tooltip, the CSV the handle
else the short DID with the full one beside it. Real recorded Jetstream
events imported by the real CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from hubbub.analyze import Selection, build_report, render_csv, render_html
from hubbub.store import open_store
from tests.cli.test_data_commands import hubbub
from tests.conftest import require_shared_data
from tests.jetstream_authors import (
    DID,
    HANDLE,
    audience_lookups,
    chat_events,
    followers_fetched,
    search_page,
    statements,
    write_jsonl,
)

SINCE, UNTIL = "2026-07-01", "2026-07-10"
FOLLOWER = "follower.example.com"


def _import(db: str, path: str) -> None:
    done = hubbub("import", "--db", db, path)
    assert done.returncode == 0, done.stderr


def _report(db_url: str, tmp_path: Path) -> tuple[dict[str, Any], str]:
    """The report on a chat of the capture's eight Jetstream authors: one
    named later by an AppView post, one by an audience fetch. Also the DID
    of the one the fetch named."""
    require_shared_data()
    events = chat_events("didchat", "c")
    _import(db_url, write_jsonl(tmp_path / "chat.jsonl", events))
    _import(db_url, search_page(tmp_path / "search.json"))
    other = sorted({str(e["did"]) for e in events} - {DID})[0]
    with open_store(db_url) as store:
        followers_fetched(store, "default", {other: FOLLOWER})
        with statements(store.engine) as seen:
            report = build_report(store, Selection("query", "#didchat"), since=SINCE, until=UNTIL)
    # One handle lookup for the whole report, not one per author or post.
    assert audience_lookups(seen) == 1
    return report, other


def _expect(person: dict[str, Any], author_id: str, other: str) -> None:
    if author_id == DID:
        assert (person["author_handle"], person["author_label"]) == (HANDLE, f"@{HANDLE}")
    elif author_id == other:
        assert (person["author_handle"], person["author_label"]) == (FOLLOWER, f"@{FOLLOWER}")
    else:
        assert person["author_handle"] is None
        assert person["author_label"] == author_id[:16] + "…"


def test_scorecard_who_and_why_name_jetstream_authors(db_url: str, tmp_path: Path) -> None:
    r, other = _report(db_url, tmp_path)
    users = r["top_users"]
    assert len(users) == 8 and r["mentions"] == 10
    for u in users:
        assert set(u) == {"handle", "network", "author_id", "mentions"} | {
            "author_handle",
            "author_label",
        }
        assert u["handle"] == u["author_id"]  # as stored, unchanged
        _expect(u, u["author_id"], other)
    assert len({u["author_label"] for u in users}) == 8
    assert len(r["who"]) == 8
    for w in r["who"]:
        assert {"handle", "name", "network", "followers", "mentions"} <= set(w)
        assert w["handle"] == w["author_id"]
        _expect(w, w["author_id"], other)
    examples = [ex for chosen in r["why"]["examples"].values() for ex in chosen]
    assert examples
    for ex in examples:
        assert {"network", "id", "url", "author", "text"} <= set(ex)
        assert ex["author"] == ex["author_id"]
        _expect(ex, ex["author_id"], other)


def test_the_html_and_csv_reports_show_labels(db_url: str, tmp_path: Path) -> None:
    r, other = _report(db_url, tmp_path)
    html = render_html(r)
    assert "@did:" not in html
    assert f"<td>@{HANDLE}</td>" in html and f"<td>@{FOLLOWER}</td>" in html
    unnamed = [w["author_id"] for w in r["who"] if w["author_handle"] is None]
    assert len(unnamed) == 6
    for author_id in unnamed:
        assert f'<span title="{author_id}">{author_id[:16]}…</span>' in html
    rows = list(csv.reader(io.StringIO(render_csv(r))))
    who = {row[1]: row[3] for row in rows if row[0] == "who"}
    assert who[HANDLE] == "bluesky; followers None"
    assert who[FOLLOWER] == "bluesky; followers None"
    for author_id in unnamed:
        assert who[author_id[:16] + "…"] == f"bluesky; {author_id}; followers None"
    top = {row[1]: row[3] for row in rows if row[0] == "top_users"}
    assert top[HANDLE] == "bluesky" and len(top) == 8


def test_a_hostile_handle_is_escaped_in_the_html_report() -> None:
    r: dict[str, Any] = {
        "who": [
            {
                "handle": "<b>x</b>",
                "author_id": 'did:plc:"><script>',
                "author_handle": None,
                "author_label": "<i>y</i>",
            }
        ]
    }
    from hubbub.analyze.render_html import _person, _person_html

    shown = _person_html(_person(r["who"][0]))
    assert "<script>" not in shown and "<i>" not in shown
    assert shown == ('<span title="did:plc:&quot;&gt;&lt;script&gt;">&lt;i&gt;y&lt;/i&gt;</span>')

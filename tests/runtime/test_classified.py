"""Every stored post is classified by a stage, never by a read.

Reads (the listening report, a chat recap) only read ``post_classes`` and say
how many posts are not classified yet; ``hubbub classify --stored`` and a
starting runtime's listener classify the posts an old database stored
without classes; live posts are classified by the listening stage.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from hubbub.analyze import Selection, build_report, render_csv, render_html
from hubbub.chat.recap import build_recap
from hubbub.cli import main
from hubbub.listen.saved import add_query
from hubbub.post import Author, Post
from hubbub.runtime import Runtime
from hubbub.settings import Settings
from hubbub.store import Ingest, Store, open_store
from hubbub.store.listen_schema import post_classes

BASE = datetime(2025, 3, 1, 12, tzinfo=UTC)
TEXTS = [
    "I love the acme team, great answers #acmechat",
    "Acme support is terrible, still waiting #acmechat",
    "Q1 what do you use acme for? #acmechat",
    "A1 acme phones for the whole office #acmechat",
    "Is acme open on Sunday? #acmechat",
]


def _posts(workspace_tag: str = "") -> list[Post]:
    out = []
    for i, text in enumerate(TEXTS):
        author = Author("x", f"u{i}{workspace_tag}", f"user{i}")
        post = Post("x", f"{i + 1}{workspace_tag}", author, text, BASE + timedelta(minutes=i))
        post.hashtags = ["acmechat"]
        post.langs = ("en",)
        out.append(post)
    return out


def _store_unclassified(store: Store, workspace: str = "default", tag: str = "") -> None:
    """Posts stored the way an old database has them: no stage ran."""
    store.ingest([Ingest(p, None) for p in _posts(tag)], workspace)


def _classes(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(post_classes)).scalar_one())


def test_report_and_recap_read_only_and_say_how_many_are_unclassified(store: Store) -> None:
    _store_unclassified(store)
    add_query(store, "acme", "acme")  # matches the stored posts (no classes)
    report = build_report(store, Selection("saved", "acme"))
    assert report["mentions"] == len(TEXTS)
    assert report["unclassified"] == len(TEXTS)
    # Nothing computed a sentiment: every mention is counted as unsupported.
    assert report["sentiment"]["unsupported"] == len(TEXTS)
    assert f"{len(TEXTS)} mentions not classified yet" in render_html(report)
    assert f"mentions,unclassified,{len(TEXTS)}," in render_csv(report)
    recap = build_recap(store, "acmechat")
    assert recap["sentiment"]["unclassified"] == len(TEXTS)
    assert _classes(store) == 0  # the reads wrote nothing


def test_classify_stored_backfills_one_workspace_only(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    with open_store(db) as store:
        _store_unclassified(store)
        _store_unclassified(store, "other", tag="b")
        add_query(store, "acme", "acme")
    result = CliRunner().invoke(main, ["classify", "--stored", "--db", db])
    assert result.exit_code == 0, result.output
    assert f"classified {len(TEXTS)} stored posts; 0 left unclassified" in result.output
    with open_store(db) as store:
        assert _classes(store) == len(TEXTS)  # the other workspace's posts are untouched
        report = build_report(store, Selection("saved", "acme"))
        assert report["unclassified"] == 0
        s = report["sentiment"]
        assert s["positive"] >= 1 and s["negative"] >= 1
        assert s["positive"] + s["neutral"] + s["negative"] + s["unsupported"] == len(TEXTS)
        assert build_recap(store, "acmechat")["sentiment"]["unclassified"] == 0
    again = CliRunner().invoke(main, ["classify", "--stored", "--db", db])
    assert again.exit_code == 0 and "Every stored post is classified." in again.output
    other = CliRunner().invoke(main, ["classify", "--stored", "--db", db, "--workspace", "other"])
    assert other.exit_code == 0, other.output
    with open_store(db) as store:
        assert _classes(store) == 2 * len(TEXTS)


def test_classify_stored_refuses_file_arguments_and_missing_database(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    open_store(db).close()
    texts = tmp_path / "posts.txt"
    texts.write_text("hello\n")
    mixed = CliRunner().invoke(main, ["classify", "--stored", "--db", db, str(texts)])
    assert mixed.exit_code == 2 and "takes no FILE" in mixed.output
    missing = CliRunner().invoke(main, ["classify", "--stored", "--db", str(tmp_path / "no.db")])
    assert missing.exit_code != 0
    assert not (tmp_path / "no.db").exists()


async def test_runtime_classifies_old_posts_and_live_ones(tmp_path: Path) -> None:
    """A runtime starting on a database with unclassified posts classifies
    them in the background; the posts its sources store are classified by
    the stage. Afterwards every stored post has classes."""
    db = str(tmp_path / "h.db")
    with open_store(db) as store:
        _store_unclassified(store)
    sim = "sim:hubchat?rate=200&seed=3&speed=50&limit=60"
    rt = Runtime(Settings(db=db, sources=(sim,)), follow_accounts=False, send_outbox=False)
    await rt.start()
    try:
        assert rt.store is not None and rt.pipeline is not None
        for _ in range(1200):
            stored = rt.store.count()
            if rt.pipeline.stats()["store"]["new"] >= 60 and _classes(rt.store) == stored:
                break
            await asyncio.sleep(0.05)
    finally:
        await rt.stop()
    with open_store(db) as store:
        assert store.count() >= len(TEXTS) + 60
        assert _classes(store) == store.count()
        assert rt.listener is not None
        assert rt.listener.classified_backlog >= len(TEXTS)  # type: ignore[attr-defined]

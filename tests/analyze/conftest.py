"""A small hand-built workspace whose every figure is known (see the table in
``build_small``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hubbub.listen import add_query
from hubbub.post import Author, Post
from hubbub.store import Ingest, Store
from hubbub.store import schema as t
from hubbub.store.listen_schema import post_classes

SINCE = datetime(2024, 5, 3, 12, tzinfo=UTC)
UNTIL = datetime(2024, 5, 10, 12, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)"> acme & "quotes"'

FOLLOWERS = {"alice": 100, "bob": 50, "carol": 20, "dave": None, "eve": 7, "frank": 1, "gina": 5}

# id, network, author, UTC time, text, (sentiment, intent), metrics
POSTS = [
    (
        "1",
        "x",
        "alice",
        datetime(2024, 5, 10, 10, tzinfo=UTC),
        "Acme support is slow #acme",
        ("negative", "complaint"),
        {"likes": 3, "reposts": 1},
    ),
    (
        "2",
        "x",
        "alice",
        datetime(2024, 5, 10, 11, tzinfo=UTC),
        "acme refund please",
        ("negative", "complaint"),
        {"replies": 2},
    ),
    (
        "3",
        "x",
        "bob",
        datetime(2024, 5, 9, 13, tzinfo=UTC),
        "I love acme phones",
        ("positive", "praise"),
        {"likes": 10, "quotes": 1},
    ),
    (
        "4",
        "bluesky",
        "carol",
        datetime(2024, 5, 8, 9, tzinfo=UTC),
        "acme phones are neat",
        ("positive", "praise"),
        {},
    ),
    (
        "5",
        "mastodon",
        "dave",
        datetime(2024, 5, 10, 11, 30, tzinfo=UTC),
        "where can I buy acme?",
        ("neutral", "lead"),
        {"likes": 1},
    ),
    (
        "6",
        "x",
        "alice",
        datetime(2024, 5, 5, 10, tzinfo=UTC),
        "acme again",
        ("positive", "other"),
        {},
    ),
    (
        "7",
        "x",
        "eve",
        datetime(2024, 5, 10, 9, tzinfo=UTC),
        "globex is great",
        ("positive", "praise"),
        {},
    ),
    (
        "8",
        "x",
        "frank",
        datetime(2024, 5, 10, 8, tzinfo=UTC),
        "weather today",
        ("neutral", "other"),
        {},
    ),
    (
        "9",
        "x",
        "bob",
        datetime(2024, 5, 1, 10, tzinfo=UTC),
        "acme old news",
        ("neutral", "other"),
        {},
    ),  # before the period
    (
        "10",
        "x",
        "gina",
        UNTIL,
        "acme at the very end",
        ("neutral", "other"),
        {},
    ),  # until is exclusive
]


def make_post(pid: str, network: str, handle: str, at: datetime, text: str, metrics: dict) -> Post:
    author = Author(
        network, "id-" + handle, handle, display_name=handle.title(), followers=FOLLOWERS[handle]
    )
    hashtags = tuple(w[1:] for w in text.split() if w.startswith("#"))
    return Post(
        network,
        pid,
        author,
        text,
        at,
        langs=("en",),
        hashtags=hashtags,
        metrics=metrics,
        source="Web",
    )


def build_small(store: Store, *, hostile: bool = False) -> None:
    posts = [
        make_post(pid, net, who, at, text, metrics)
        for pid, net, who, at, text, _c, metrics in POSTS
    ]
    if hostile:
        posts[0].text = HOSTILE
    store.ingest([Ingest(p) for p in posts])
    ws = store.workspace_id()
    with store.engine.begin() as conn:
        conn.execute(
            t.workspaces.update().where(t.workspaces.c.id == ws).values(timezone="Europe/Warsaw")
        )
        pks = {
            row.post_id: row.pk for row in conn.execute(sa.select(t.posts.c.post_id, t.posts.c.pk))
        }
        # Known classes, so the figures do not depend on the models.
        conn.execute(
            post_classes.insert(),
            [
                {
                    "post_pk": pks[pid],
                    "sentiment": cls[0],
                    "sentiment_score": 0.0,
                    "intent": cls[1],
                    "spam": 0.0,
                    "offensive": False,
                    "lang": "en",
                    "classified_at": UNTIL,
                }
                for pid, _n, _w, _a, _t, cls, _m in POSTS
            ],
        )
    add_query(store, "acme", "acme")
    add_query(store, "globex", "globex", group="competitors")

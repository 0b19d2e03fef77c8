"""Stored classifications of posts (``post_classes``), computed on demand.

The pipeline's listening stage classifies new posts as they arrive; a report
over posts that never went through it (imported archives) classifies the
missing ones here, once, and stores them so the next report is cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hubbub.store import Store
from hubbub.store import schema as t
from hubbub.store.listen_schema import post_classes
from hubbub.store.sql import chunks, insert_ignore

CLASS_FIELDS = ("sentiment", "sentiment_score", "intent", "spam", "offensive", "lang")
_BATCH = 500  # texts per classify_texts call and rows per statement


def classify_rows(rows: Sequence[tuple[int, str, Sequence[str]]]) -> list[dict[str, Any]]:
    """Classify ``(post_pk, text, langs)`` rows into ``post_classes`` rows."""
    # Imported lazily: the model loads on first use, and the store/listen
    # modules must import without it.
    from hubbub.classify.api import classify_texts

    now = datetime.now(UTC)
    out: list[dict[str, Any]] = []
    for chunk in chunks(list(rows), _BATCH):
        # The network's own language field wins (the classifier resolves it);
        # the first tag is the post's main language.
        langs = [row[2][0] if row[2] else None for row in chunk]
        results = classify_texts([row[1] for row in chunk], langs)
        for (pk, _text, _langs), result in zip(chunk, results, strict=True):
            row = {name: getattr(result, name) for name in CLASS_FIELDS}
            row.update(post_pk=pk, classified_at=now)
            out.append(row)
    return out


def store_classes(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    for chunk in chunks(rows, _BATCH):
        conn.execute(insert_ignore(conn, post_classes), list(chunk))


def ensure_classes(store: Store, pks: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The classification of each post in ``pks``, classifying and storing
    those that have none yet."""
    wanted = sorted(set(pks))
    found: dict[int, dict[str, Any]] = {}
    c, p = post_classes, t.posts
    with store.engine.connect() as conn:
        for chunk in chunks(wanted, _BATCH):
            stmt = sa.select(c).where(c.c.post_pk.in_(chunk))
            for row in conn.execute(stmt).mappings():
                found[row["post_pk"]] = {name: row[name] for name in CLASS_FIELDS}
        missing = [pk for pk in wanted if pk not in found]
        texts: list[tuple[int, str, Sequence[str]]] = []
        for chunk in chunks(missing, _BATCH):
            stmt = sa.select(p.c.pk, p.c.text, p.c.langs).where(p.c.pk.in_(chunk))
            texts.extend((row.pk, row.text, row.langs or ()) for row in conn.execute(stmt))
    if texts:
        rows = classify_rows(texts)
        with store.engine.begin() as conn:
            store_classes(conn, rows)
        for new in rows:
            found[new["post_pk"]] = {name: new[name] for name in CLASS_FIELDS}
    return found

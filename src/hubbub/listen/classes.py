"""Stored classifications of posts (``post_classes``), computed on demand.

The pipeline's listening stage classifies new posts as they arrive; a report
over posts that never went through it (imported archives) classifies the
missing ones here, once, and stores them so the next report is cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from hubbub.store import Store
from hubbub.store.listening import PostClasses
from hubbub.store.sql import chunks

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


def ensure_classes(store: Store, pks: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The classification of each post in ``pks``, classifying and storing
    those that have none yet."""
    wanted = sorted(set(pks))
    stored = PostClasses(store.engine)
    found: dict[int, dict[str, Any]] = dict(stored.found(wanted, CLASS_FIELDS))
    texts = stored.texts(pk for pk in wanted if pk not in found)
    if texts:
        rows = classify_rows(texts)
        stored.add(rows)
        for new in rows:
            found[new["post_pk"]] = {name: new[name] for name in CLASS_FIELDS}
    return found

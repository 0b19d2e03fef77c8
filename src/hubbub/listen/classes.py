"""Classifying stored posts into ``post_classes`` rows.

The pipeline's listening stage classifies new posts as they arrive;
``hubbub.classify.stored`` backfills the rest in batches, and the inbox's case
builder classifies a candidate it must decide on now (``ensure_classes``).
Reads never classify.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from hubbub.store.classes_repo import CLASS_FIELDS, PostClassesRepo
from hubbub.store.scope import Scope
from hubbub.store.sql import chunks

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


def ensure_classes(scope: Scope, pks: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The classification of each of ``scope``'s posts in ``pks``, classifying
    and storing those that have none yet. For writers (the inbox's case
    builder); reads use ``hubbub.classify.stored``, which never classifies."""
    repo = PostClassesRepo(scope)
    found, missing = repo.read(pks)
    posts = repo.texts(missing)
    if posts:
        rows = classify_rows([(p.pk, p.text, p.langs) for p in posts])
        repo.add(rows)
        for new in rows:
            found[new["post_pk"]] = {name: new[name] for name in CLASS_FIELDS}
    return found

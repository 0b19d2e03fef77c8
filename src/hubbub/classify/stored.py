"""Classes of stored posts: read them (never computing), or backfill the
posts that have none.

Posts are classified by the pipeline's listening stage as they are stored
(live, and by ``hubbub import`` in its own process). Reads — the listening
report, chat recaps, spike alerts — only read what is stored: a report that
classified inside a read wrote to the database from a GET and could take
minutes on an old archive. Posts stored before classification was part of
the stages (or by a worker killed between storing and classifying) are
found and classified here, in batches, by ``hubbub classify --stored`` and
by every runtime's listener when it starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hubbub.store import Store
from hubbub.store.classes_repo import PostClassesRepo
from hubbub.store.scope import scope

log = logging.getLogger(__name__)

BATCH = 500  # posts per classifier call and per transaction

# What a read uses for a post that has no classes yet: counted with the
# posts the models cannot read ("unsupported"), so no figure claims a
# sentiment or intent nobody computed. Reads say how many these are.
UNCLASSIFIED: dict[str, Any] = {
    "sentiment": "unsupported",
    "sentiment_score": 0.0,
    "intent": "unsupported",
    "spam": 0.0,
    "offensive": False,
    "lang": "und",
}


@dataclass(slots=True)
class StoredClasses:
    """Classes by post pk (every pk asked for that is a post of the
    workspace; placeholders for the unclassified) and how many were not
    classified yet."""

    classes: dict[int, dict[str, Any]] = field(default_factory=dict)
    unclassified: int = 0


def stored_classes(store: Store, workspace: str, pks: Iterable[int]) -> StoredClasses:
    """The stored classes of ``pks``; reads only."""
    found, missing = PostClassesRepo(scope(store, workspace)).read(pks)
    for pk in missing:
        found[pk] = dict(UNCLASSIFIED)
    return StoredClasses(found, len(missing))


def count_unclassified(store: Store, workspace: str) -> int:
    return PostClassesRepo(scope(store, workspace)).count_unclassified()


def classify_stored(
    store: Store,
    workspace: str,
    *,
    upto: int | None = None,
    batch: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> int:
    """Classify every post of ``workspace`` that has no classes (pk ≤ ``upto``
    when given), ``batch`` at a time, each batch in its own transaction, so
    an interrupted run keeps what it did and a rerun goes on from there.
    Returns how many posts were classified."""
    # Imported here: loading the models is what this costs, and only when needed.
    from hubbub.listen.classes import classify_rows

    repo = PostClassesRepo(scope(store, workspace))
    done = 0
    after = 0
    while should_stop is None or not should_stop():
        posts = repo.unclassified(after=after, upto=upto, limit=batch)
        if not posts:
            break
        rows = classify_rows([(p.pk, p.text, p.langs) for p in posts])
        repo.add(rows)
        after = posts[-1].pk
        done += len(posts)
        if on_batch is not None:
            on_batch(len(posts))
    return done


def newest_pk(store: Store, workspace: str) -> int:
    return PostClassesRepo(scope(store, workspace)).newest_pk()

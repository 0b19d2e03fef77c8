"""Handles the store has learnt for authors that posts name only by id.

A Jetstream post names its author by DID alone (its stored ``author_handle``
is the DID; an X post from an unknown user likewise carries the user id).
The ingest fills in a handle it already knows and rewrites stored posts when
an identity event names one, but a handle can also arrive where no post
rewrite follows: an AppView view of a later post or profile (the ``authors``
table), or a follower list an audience fetch stored (its members, and the
connected account it was fetched for). Displays ask here.

Only the handles the networks served are returned, never a handle guessed
from post text (a mention facet's text is whatever the poster typed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from hubbub.store import schema as t
from hubbub.store.audience_schema import audience_members, audience_snapshots
from hubbub.store.scope import Scope
from hubbub.store.sql import chunks

AuthorKey = tuple[str, str]  # (network, author id)

# What the Bluesky AppView sends in place of a handle it could not verify.
INVALID_HANDLE = "handle.invalid"


def usable_handle(author_id: str, handle: str | None) -> bool:
    """A handle that names the author (not empty, not the id, not invalid)."""
    return bool(handle) and handle != author_id and handle != INVALID_HANDLE


def known_handles(scope: Scope, keys: Iterable[AuthorKey]) -> dict[AuthorKey, str]:
    """The newest handle the store holds for each (network, author id):
    from the ``authors`` table first (updated by every post and profile
    the networks served), else from the newest audience fetch that listed
    the author or was made for them."""
    with scope.engine.connect() as conn:
        return known_handles_in(conn, scope, keys)


def known_handles_in(
    conn: sa.Connection, scope: Scope, keys: Iterable[AuthorKey]
) -> dict[AuthorKey, str]:
    """``known_handles`` on a connection the caller holds (a repository
    reading inside its own transaction)."""
    by_network: dict[str, set[str]] = {}
    for network, author_id in keys:
        if author_id:
            by_network.setdefault(network, set()).add(author_id)
    found: dict[AuthorKey, str] = {}
    for network, id_set in sorted(by_network.items()):
        ids = sorted(id_set)
        for chunk in chunks(ids, 500):
            found.update(_from_authors(conn, scope, network, chunk))
        rest = [i for i in ids if (network, i) not in found]
        for chunk in chunks(rest, 500):
            found.update(_from_audience(conn, scope, network, chunk))
    return found


def _from_authors(
    conn: sa.Connection, scope: Scope, network: str, ids: Sequence[str]
) -> dict[AuthorKey, str]:
    a = t.authors
    stmt = sa.select(a.c.author_id, a.c.handle).where(
        scope.owns(a), a.c.network == network, a.c.author_id.in_(ids)
    )
    return {
        (network, row.author_id): row.handle
        for row in conn.execute(stmt)
        if usable_handle(row.author_id, row.handle)
    }


def _from_audience(
    conn: sa.Connection, scope: Scope, network: str, ids: Sequence[str]
) -> dict[AuthorKey, str]:
    s, m = audience_snapshots, audience_members
    members = (
        sa.select(m.c.fetched_at, m.c.member_id, m.c.handle)
        .join(s, s.c.id == m.c.snapshot_id)
        .where(scope.owns(s), scope.owns(m), s.c.network == network, m.c.member_id.in_(ids))
    )
    subjects = sa.select(s.c.updated_at, s.c.subject_id, s.c.subject_handle).where(
        scope.owns(s), s.c.network == network, s.c.subject_id.in_(ids)
    )
    seen = [tuple(row) for row in [*conn.execute(members), *conn.execute(subjects)]]
    out: dict[AuthorKey, str] = {}
    # Oldest first, so the newest fetch's handle is the one left standing.
    for _when, author_id, handle in sorted(seen, key=lambda row: row[0]):
        if usable_handle(author_id, handle):
            out[(network, author_id)] = handle
    return out


__all__ = ["INVALID_HANDLE", "AuthorKey", "known_handles", "known_handles_in", "usable_handle"]

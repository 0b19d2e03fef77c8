"""Index each repost by its original, so search matches it as ``query/reposts.py`` says.

A repost's ``search_text`` (what FTS5 and the PostgreSQL ``tsvector`` index)
becomes its original's, and its ``post_terms`` gain the original's hashtags,
mentions and languages. Its own ``text`` is kept for display.

Ingest indexes a repost as it builds the batch's rows when the original is in
the batch or already stored (the common case: one INSERT, no rewrite). After
the batch is written, ``index_reposts`` handles the rest: stored reposts of
posts the batch wrote (an original that arrives after its reposts, is edited,
or is deleted) are indexed again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from hubbub.query.tokens import index_text
from hubbub.store import schema as t
from hubbub.store.rows import term_rows
from hubbub.store.sql import bulk_insert, chunks

_CHUNK = 500


def _union(own: list[str] | None, other: list[str] | None) -> list[str]:
    own = list(own or [])
    return own + [value for value in other or [] if value not in own]


def indexed_as(repost: Mapping[str, Any], original: Mapping[str, Any] | None) -> dict[str, Any]:
    """``search_text`` and facet columns for a repost row (the SQL side of ``as_matched``)."""
    row = dict(repost)
    if original is None or original["deleted"] or repost["deleted"]:
        row["search_text"] = "" if repost["deleted"] else index_text(repost["text"] or "")
        return row
    row["search_text"] = original["search_text"]
    for name in ("hashtags", "mentions", "langs"):
        row[name] = _union(repost[name], original[name])
    return row


def rows_by_key(
    conn: sa.Connection,
    workspace_id: int,
    keys: Iterable[tuple[str, str]],
    columns: Sequence[sa.ColumnElement[Any]],
    *where: sa.ColumnElement[bool],
) -> dict[tuple[str, str], sa.RowMapping]:
    """The stored posts among ``keys`` ((network, post_id)) in one workspace, with
    ``columns`` (post_id among them): one query per network and chunk of ids."""
    p = t.posts
    by_network: dict[str, set[str]] = {}
    for network, post_id in keys:
        by_network.setdefault(network, set()).add(post_id)
    found: dict[tuple[str, str], sa.RowMapping] = {}
    for network, ids in sorted(by_network.items()):
        for chunk in chunks(sorted(ids), _CHUNK):
            stmt = sa.select(*columns).where(
                p.c.workspace_id == workspace_id,
                p.c.network == network,
                p.c.post_id.in_(chunk),
                *where,
            )
            for row in conn.execute(stmt).mappings():
                found[(network, row["post_id"])] = row
    return found


def load_originals(
    conn: sa.Connection, workspace_id: int, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored posts among ``keys``, with the columns ``indexed_as`` reads."""
    p = t.posts
    columns = (p.c.post_id, p.c.search_text, p.c.hashtags, p.c.mentions, p.c.langs, p.c.deleted)
    return {key: dict(row) for key, row in rows_by_key(conn, workspace_id, keys, columns).items()}


def index_reposts(
    conn: sa.Connection,
    workspace_id: int,
    keys: Iterable[tuple[str, str]],
    *,
    indexed: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(),
    reposts_among: set[tuple[str, str]] | None = None,
) -> int:
    """Re-index the reposts among ``keys`` ((network, post_id) just written) and the
    stored reposts of those posts; returns how many reposts were re-indexed.
    Reposts in ``indexed`` were indexed by their originals before they were
    written (ingest does that when the original is at hand) and are left alone.
    ``reposts_among``: the keys among ``keys`` that are reposts, when the
    caller knows them (ingest has the rows in hand): only those are read back
    as reposts, instead of every key."""
    p = t.posts
    by_network: dict[str, list[str]] = {}
    for network, post_id in keys:
        by_network.setdefault(network, []).append(post_id)
    columns = (
        p.c.pk,
        p.c.network,
        p.c.post_id,
        p.c.text,
        p.c.search_text,
        p.c.repost_of,
        p.c.hashtags,
        p.c.mentions,
        p.c.langs,
        p.c.author_handle,
        p.c.deleted,
    )
    reposts: dict[int, dict[str, Any]] = {}
    for network, ids in by_network.items():
        for chunk in chunks(sorted(set(ids)), _CHUNK):
            # Two statements, not one OR: each is answered by its own index
            # (the identity key; ix_posts_repost_of), where an OR of both
            # made the planner scan every post of the workspace per batch.
            here = (p.c.workspace_id == workspace_id, p.c.network == network)
            own = chunk
            if reposts_among is not None:
                own = [post_id for post_id in chunk if (network, post_id) in reposts_among]
            written_reposts = sa.select(*columns).where(
                *here, p.c.post_id.in_(own), p.c.repost_of.is_not(None)
            )
            stored_reposts = sa.select(*columns).where(*here, p.c.repost_of.in_(chunk))
            for stmt in (written_reposts, stored_reposts) if own else (stored_reposts,):
                for row in conn.execute(stmt).mappings():
                    if (network, row["post_id"]) not in indexed:
                        reposts[row["pk"]] = dict(row)
    if not reposts:
        return 0
    wanted: dict[str, set[str]] = {}
    for repost in reposts.values():
        wanted.setdefault(repost["network"], set()).add(repost["repost_of"])
    originals: dict[tuple[str, str], dict[str, Any]] = {}
    for network, original_ids in wanted.items():
        for chunk in chunks(sorted(original_ids), _CHUNK):
            stmt = sa.select(*columns).where(
                p.c.workspace_id == workspace_id, p.c.network == network, p.c.post_id.in_(chunk)
            )
            for row in conn.execute(stmt).mappings():
                originals[(network, row["post_id"])] = dict(row)
    rows = [
        indexed_as(row, originals.get((row["network"], row["repost_of"])))
        for row in reposts.values()
    ]
    # A written repost whose original is not stored was just indexed as itself by ingest.
    rows = [
        row
        for row in rows
        if (row["network"], row["repost_of"]) in originals
        or row["search_text"] != reposts[row["pk"]]["search_text"]
    ]
    if not rows:
        return 0
    conn.execute(
        sa.update(p).where(p.c.pk == sa.bindparam("_pk")).values(search_text=sa.bindparam("_st")),
        [{"_pk": row["pk"], "_st": row["search_text"]} for row in rows],
    )
    pks = [row["pk"] for row in rows]
    for chunk in chunks(pks, _CHUNK):
        conn.execute(sa.delete(t.post_terms).where(t.post_terms.c.post_pk.in_(chunk)))
    terms = [
        {"post_pk": row["pk"], "kind": kind, "value": value}
        for row in rows
        for kind, value in term_rows(row)
    ]
    bulk_insert(conn, t.post_terms, terms)
    return len(rows)

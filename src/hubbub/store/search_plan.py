"""How a page of search results is fetched: walk the newest posts, or start
from the few posts a rare word or tag names.

A page is the newest ``limit`` matches (``created_at DESC, pk DESC``). Two
plans give it, and which is cheaper depends on how common the query is:

- walk ``ix_posts_ws_recent`` (workspace, deleted, created_at, pk) newest
  first, asking each post the query's conditions, and stop after the page:
  cheap when matches are dense (a common word, ``lang:en``, ``-is:repost``),
  ruinous when they are rare (a tag in 1 post of 2,000 means 100,000 posts
  asked for a page of 50);
- fetch the posts a necessary condition names (the full-text index for the
  query's words, ``post_terms`` for its tags, mentions, authors, languages),
  check the rest of the query on each, and sort them: cheap when that set is
  small, however old its posts.

The planners cannot be trusted with the choice: SQLite keeps no statistics
per word, and both guess a rare tag's posts as spread evenly through the
date index. So before the page, each candidate set of the query is counted
up to ``CANDIDATE_CAP`` rows (an index range, a few milliseconds at most);
the smallest one under the cap drives the page, and with none under it the
date index is walked. Both plans apply the whole query; the candidate set only
narrows where they look, so results are the same either way.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.query import ast
from hubbub.store import schema as t
from hubbub.store.search import (
    ROWID_FLOOR,
    compile_query,
    is_term,
    is_text,
    term_matches,
    text_matches,
)

# Past this many candidates a walk of the date index is cheaper: a set this
# size is as dense as 1 post in 200 of a million, so a page of 50 is found
# within ~10,000 newest posts, while fetching and sorting the set costs as
# much again. Measured: docs/benchmarks.md (search).
CANDIDATE_CAP = 5000

RECENT_INDEX = "ix_posts_ws_recent"

# SQLite walks: the newest posts looked at first, then more, then all. See _slices.
SLICES = (20_000, 200_000)


def candidate_sets(node: ast.Node, dialect: str) -> list[sa.Select]:
    """Sets of post keys that hold every match of ``node`` (each one alone).

    PostgreSQL: no full-text sets. Its planner keeps statistics per word of
    the ``tsvector`` and picks GIN or the date walk well by itself, while
    counting a common word's set builds the whole GIN bitmap first (1M
    posts: "brexit OR italia" 160-215 ms counted, 8-9 ms left to the planner)."""
    if dialect == "postgresql":
        return [c for c in _sets(node, dialect) if not _is_text_set(c)]
    return _sets(node, dialect)


def _is_text_set(candidates: sa.Select) -> bool:
    return "search_vector" in str(candidates)


def _sets(node: ast.Node, dialect: str) -> list[sa.Select]:
    match node:
        case ast.Term() | ast.Phrase():
            return [text_matches((node,), True, dialect)]
        case ast.Hashtag() | ast.Mention() | ast.From() | ast.Lang():
            return [term_matches((node,))]
        case ast.And(children=children):
            texts = [c for c in children if isinstance(c, (ast.Term, ast.Phrase))]
            sets = [text_matches(texts, True, dialect)] if texts else []
            for child in children:
                if not is_text(child):
                    sets.extend(_sets(child, dialect))
            return sets
        case ast.Or(children=children):
            if all(isinstance(c, (ast.Term, ast.Phrase)) for c in children):
                return [text_matches([c for c in children if is_text(c)], False, dialect)]  # type: ignore[misc]
            if all(is_term(c) for c in children):
                return [term_matches(children)]
    return []


def _smallest(conn: sa.Connection, sets: list[sa.Select]) -> sa.Select | None:
    best: tuple[int, sa.Select] | None = None
    for candidates in sets:
        capped = candidates.limit(CANDIDATE_CAP).subquery()
        size = conn.execute(sa.select(sa.func.count()).select_from(capped)).scalar_one()
        if size < CANDIDATE_CAP and (best is None or size < best[0]):
            best = (size, candidates)
    return best[1] if best else None


def page(
    conn: sa.Connection,
    dialect: str,
    base: sa.Select,
    node: ast.Node | None,
    limit: int,
    offset: int,
) -> list[sa.RowMapping]:
    """``base`` (posts of a workspace, not deleted) narrowed to ``node``,
    newest first, one page: by the smallest candidate set, else by the date index."""
    p = t.posts
    stmt = base
    driver = _smallest(conn, candidate_sets(node, dialect)) if node is not None else None
    if driver is None and node is not None and dialect == "sqlite":
        rows = sqlite_walk(conn, base, node, limit, offset)
        if rows is not None:
            return rows
    if driver is not None:
        stmt = stmt.where(p.c.pk.in_(driver))
        if node is not None:
            stmt = stmt.where(compile_query(node, dialect))
        # SQLite would still walk the date index for the ORDER BY; NOT
        # INDEXED leaves it the rowid look-ups of the candidate keys.
        stmt = stmt.with_hint(p, "NOT INDEXED", dialect_name="sqlite")
    elif node is not None:
        stmt = stmt.where(compile_query(node, dialect))
    stmt = stmt.order_by(p.c.created_at.desc(), p.c.pk.desc()).limit(limit)
    if offset:
        stmt = stmt.offset(offset)
    return list(conn.execute(stmt).mappings())


def sqlite_walk(
    conn: sa.Connection, base: sa.Select, node: ast.Node, limit: int, offset: int
) -> list[sa.RowMapping] | None:
    """SQLite, no small candidate set: the page from the newest posts.

    The newest ``n`` posts (by the date index) have keys of at least some
    floor; asked only about them, every full-text set is read from that floor
    up. If they hold the page, no older post can be in it; if not, a bigger
    slice, and past the last one ``None`` (the caller asks every post)."""
    p = t.posts
    if _has_until(node):
        return None  # the newest posts are excluded: the date index finds the range
    recent = base.with_only_columns(p.c.created_at, p.c.pk).with_hint(
        p, f"INDEXED BY {RECENT_INDEX}", dialect_name="sqlite"
    )
    recent = recent.order_by(p.c.created_at.desc(), p.c.pk.desc())
    condition = compile_query(node, "sqlite", rowid_floor=True)
    for size in SLICES:
        edge = conn.execute(recent.offset(size - 1).limit(1)).first()
        if edge is None:
            return None  # fewer posts than the slice: the whole table is no bigger
        sliced = recent.limit(size).subquery()
        floor = conn.execute(sa.select(sa.func.min(sliced.c.pk))).scalar_one()
        stmt = (
            base.where(
                condition,
                # (created_at, pk) >= the slice's oldest: exactly the slice.
                sa.or_(
                    p.c.created_at > edge.created_at,
                    sa.and_(p.c.created_at == edge.created_at, p.c.pk >= edge.pk),
                ),
            )
            .with_hint(p, f"INDEXED BY {RECENT_INDEX}", dialect_name="sqlite")
            .order_by(p.c.created_at.desc(), p.c.pk.desc())
            .limit(limit + offset)
        )
        rows = list(conn.execute(stmt, {ROWID_FLOOR: floor}).mappings())
        if len(rows) == limit + offset:
            return rows[offset:]
    return None


def _has_until(node: ast.Node) -> bool:
    if isinstance(node, ast.Until):
        return True
    return isinstance(node, ast.And) and any(isinstance(c, ast.Until) for c in node.children)

"""Compile a parsed query (``hubbub.query``) into an SQL condition on ``posts``.

The semantics are those of ``hubbub.query.evaluate.matches``; tests compare the
two on real data. User text never becomes SQL or full-text syntax: text terms
are normalised alphanumeric tokens, passed as bound parameters (PostgreSQL) or
inside a double-quoted FTS5 string (SQLite, where the token alphabet cannot
close the quote); everything else is a bound value in an ordinary condition.

Long queries: a query may join a thousand words. SQLite parses ``a AND b AND
c …`` into a tree as deep as the chain and gives up past depth 1000
("Expression tree is too large"), and PostgreSQL plans one sub-query per
``EXISTS``. So the children of one ``And``/``Or`` are compiled by kind:

- every text child (``Term``/``Phrase``) becomes one full-text search (one
  FTS5 ``MATCH`` string ``"a" AND "b c"``; one ``tsquery`` built from each
  term's ``phraseto_tsquery`` with ``&&``/``||``), and the negated text
  children another (``-a -b`` = not ``a OR b``);
- every ``#tag``/``@handle``/``from:``/``lang:`` child becomes one look-up in
  ``post_terms`` (``EXISTS … IN (…)`` for any, ``GROUP BY … HAVING count``
  for all), and the negated ones another;
- what is left, and the groups above, are joined as a balanced tree of
  explicit parentheses, so the depth grows with the logarithm of the number
  of children, not with the number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from hubbub.query import ast
from hubbub.query.parser import parse
from hubbub.store import schema as t

_p = t.posts
_terms = t.post_terms

# What a parenthesised expression evaluates to: bool for conditions, tsquery values too.
_T = TypeVar("_T")

_TEXT = (ast.Term, ast.Phrase)
# Node type → post_terms.kind, and the attribute holding the value.
_TERM_KINDS: dict[type, tuple[str, str]] = {
    ast.Hashtag: ("h", "tag"),
    ast.Mention: ("m", "handle"),
    ast.From: ("f", "handle"),
    ast.Lang: ("l", "code"),
}


# The bound parameter of compile_query(..., rowid_floor=True).
ROWID_FLOOR = "rowid_floor"


def compile_query(
    query: str | ast.Node, dialect: str, rowid_floor: bool = False
) -> sa.ColumnElement[bool]:
    """``rowid_floor`` (SQLite): the caller only asks about posts whose key
    is at least the parameter ``ROWID_FLOOR``, so each full-text set is read
    from that key up (FTS5 seeks its doclists by rowid) instead of whole:
    SQLite builds an ``IN`` set in full before the first row, and a word in
    a fifth of a million posts costs more than the page. (A correlated FTS5
    look-up per post was tried: ~85 us a post, worse.)"""
    node = parse(query) if isinstance(query, str) else query
    return _compile(node, dialect + ("+floor" if rowid_floor and dialect == "sqlite" else ""))


class _Parenthesised(sa.ColumnElement[_T]):
    """A condition in parentheses that SQLAlchemy will not flatten away:
    ``and_(and_(a, b), and_(c, d))`` renders as ``a AND b AND c AND d``,
    which is exactly the deep chain this module avoids."""

    inherit_cache = True
    # Render as a condition on its own, not "(…) = 1" on SQLite.
    _is_implicitly_boolean = True
    _traverse_internals = [("element", InternalTraversal.dp_clauseelement)]

    def __init__(self, element: sa.ColumnElement[_T]) -> None:
        self.element = element
        self.type = element.type


@compiles(_Parenthesised)
def _render_parenthesised(
    element: _Parenthesised[object], compiler: sa.sql.compiler.SQLCompiler, **kw: object
) -> str:
    return "(" + compiler.process(element.element, **kw) + ")"


def _balanced(parts: Sequence[sa.ColumnElement[bool]], all_: bool) -> sa.ColumnElement[bool]:
    """``parts`` joined by AND (``all_``) or OR, nested in halves."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) <= 4:
        return sa.and_(*parts) if all_ else sa.or_(*parts)
    middle = len(parts) // 2
    halves = (_balanced(parts[:middle], all_), _balanced(parts[middle:], all_))
    both = (_Parenthesised(halves[0]), _Parenthesised(halves[1]))
    return sa.and_(*both) if all_ else sa.or_(*both)


def _fts5_phrase(tokens: tuple[str, ...]) -> str:
    return '"' + " ".join(tokens).replace('"', '""') + '"'


def _text(
    nodes: Sequence[ast.Term | ast.Phrase], all_: bool, dialect: str
) -> sa.ColumnElement[bool]:
    """One full-text search: every (``all_``) or any of ``nodes`` occurs."""
    phrases = [(n.token,) if isinstance(n, ast.Term) else n.tokens for n in nodes]
    if dialect == "postgresql":
        queries = [
            # The tokens are already folded; unaccent here mirrors the index side.
            sa.func.phraseto_tsquery(
                sa.literal_column("'simple'::regconfig"),
                sa.func.hubbub_unaccent(sa.bindparam(None, " ".join(tokens), unique=True)),
            )
            for tokens in phrases
        ]
        return sa.literal_column("posts.search_vector").op("@@")(
            _balanced_tsquery(queries, "&&" if all_ else "||")
        )
    joined = (" AND " if all_ else " OR ").join(_fts5_phrase(tokens) for tokens in phrases)
    fts = sa.table("posts_fts", sa.column("rowid"))
    # A unique anonymous parameter per search: several share one statement.
    condition = sa.literal_column("posts_fts").op("MATCH")(sa.bindparam(None, joined, unique=True))
    if dialect == "sqlite+floor":
        floor = fts.c.rowid >= sa.bindparam(ROWID_FLOOR)
        return _p.c.pk.in_(sa.select(fts.c.rowid).where(condition, floor))
    return _p.c.pk.in_(sa.select(fts.c.rowid).where(condition))


def text_matches(nodes: Sequence[ast.Term | ast.Phrase], all_: bool, dialect: str) -> sa.Select:
    """The keys of the posts whose text has every (``all_``) or any of ``nodes``."""
    phrases = [(n.token,) if isinstance(n, ast.Term) else n.tokens for n in nodes]
    if dialect == "postgresql":
        return sa.select(_p.c.pk).where(_text(nodes, all_, dialect))
    joined = (" AND " if all_ else " OR ").join(_fts5_phrase(tokens) for tokens in phrases)
    fts = sa.table("posts_fts", sa.column("rowid"))
    condition = sa.literal_column("posts_fts").op("MATCH")(sa.bindparam(None, joined, unique=True))
    return sa.select(fts.c.rowid.label("pk")).where(condition)


def term_matches(nodes: Sequence[ast.Node]) -> sa.Select:
    """The keys of the posts carrying any of the hashtags/handles/languages of ``nodes``."""
    pairs = _term_pairs(nodes)
    return sa.select(_terms.c.post_pk.label("pk")).where(
        sa.or_(*(sa.and_(_terms.c.kind == kind, _terms.c.value == value) for kind, value in pairs))
    )


def is_text(node: ast.Node) -> bool:
    return isinstance(node, _TEXT)


def is_term(node: ast.Node) -> bool:
    return type(node) in _TERM_KINDS


def _balanced_tsquery(
    queries: Sequence[sa.ColumnElement[object]], op: str
) -> sa.ColumnElement[object]:
    if len(queries) == 1:
        return queries[0]
    middle = len(queries) // 2
    left = _balanced_tsquery(queries[:middle], op)
    right = _balanced_tsquery(queries[middle:], op)
    return _Parenthesised(left.op(op)(right))


def _term_pairs(nodes: Sequence[ast.Node]) -> list[tuple[str, str]]:
    pairs = []
    for node in nodes:
        kind, attribute = _TERM_KINDS[type(node)]
        pairs.append((kind, getattr(node, attribute)))
    return pairs


def _post_terms(nodes: Sequence[ast.Node], all_: bool) -> sa.ColumnElement[bool]:
    """One look-up in ``post_terms``: the post carries every (``all_``) or
    any of the hashtags/handles/languages of ``nodes`` (distinct)."""
    pairs = _term_pairs(nodes)
    if len(pairs) == 1:
        kind, value = pairs[0]
        return sa.exists().where(
            _terms.c.post_pk == _p.c.pk, _terms.c.kind == kind, _terms.c.value == value
        )
    by_kind: dict[str, list[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(kind, []).append(value)
    wanted = sa.or_(
        *(
            sa.and_(_terms.c.kind == kind, _terms.c.value.in_(values))
            for kind, values in sorted(by_kind.items())
        )
    )
    if not all_:
        return sa.exists().where(_terms.c.post_pk == _p.c.pk, wanted)
    # (post_pk, kind, value) is the table's key: a post has every pair when
    # it has as many matching rows as there are pairs.
    having_all = (
        sa.select(_terms.c.post_pk)
        .where(wanted)
        .group_by(_terms.c.post_pk)
        .having(sa.func.count() == len(pairs))
    )
    return _p.c.pk.in_(having_all)


def _junction(children: tuple[ast.Node, ...], all_: bool, dialect: str) -> sa.ColumnElement[bool]:
    """An ``And`` (``all_``) or ``Or`` of ``children``, grouped by kind (see
    the module doc). A repeated child counts once."""
    texts: list[ast.Term | ast.Phrase] = []
    negated_texts: list[ast.Term | ast.Phrase] = []
    terms: list[ast.Node] = []
    negated_terms: list[ast.Node] = []
    parts: list[sa.ColumnElement[bool]] = []
    for child in dict.fromkeys(children):
        inner = child.child if isinstance(child, ast.Not) else None
        if isinstance(child, _TEXT):
            texts.append(child)
        elif isinstance(inner, _TEXT):
            negated_texts.append(inner)
        elif type(child) in _TERM_KINDS:
            terms.append(child)
        elif inner is not None and type(inner) in _TERM_KINDS:
            negated_terms.append(inner)
        else:
            parts.append(_compile(child, dialect))
    # De Morgan: "-a -b" is "not (a OR b)", "-a OR -b" is "not (a AND b)".
    if texts:
        parts.append(_text(texts, all_, dialect))
    if negated_texts:
        parts.append(sa.not_(_text(negated_texts, not all_, dialect)))
    if terms:
        parts.append(_post_terms(terms, all_))
    if negated_terms:
        parts.append(sa.not_(_post_terms(negated_terms, not all_)))
    return _balanced(parts, all_)


def _compile(node: ast.Node, dialect: str) -> sa.ColumnElement[bool]:
    match node:
        case ast.Term() | ast.Phrase():
            return _text((node,), True, dialect)
        case ast.Hashtag() | ast.Mention() | ast.From() | ast.Lang():
            return _post_terms((node,), True)
        case ast.Network(name=name):
            return _p.c.network == name
        case ast.IsReply():
            return _p.c.reply_to.is_not(None)
        case ast.IsRepost():
            return _p.c.repost_of.is_not(None)
        case ast.HasLinks():
            return sa.func.json_array_length(_p.c.links) > 0
        case ast.HasMedia():
            return _p.c.media_count > 0
        case ast.Since(at=at):
            return _p.c.created_at >= at
        case ast.Until(at=at):
            return _p.c.created_at < at
        case ast.And(children=children):
            return _junction(children, True, dialect)
        case ast.Or(children=children):
            return _junction(children, False, dialect)
        case ast.Not(child=child):
            return sa.not_(_compile(child, dialect))
    raise TypeError(f"cannot compile {node!r}")

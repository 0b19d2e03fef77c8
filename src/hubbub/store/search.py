"""Compile a parsed query (``hubbub.query``) into an SQL condition on ``posts``.

The semantics are those of ``hubbub.query.evaluate.matches``; tests compare the
two on real data. User text never becomes SQL or full-text syntax: text terms
are normalised alphanumeric tokens, passed as bound parameters (PostgreSQL) or
inside a double-quoted FTS5 string (SQLite, where the token alphabet cannot
close the quote); everything else is a bound value in an ordinary condition.
"""

from __future__ import annotations

import sqlalchemy as sa

from hubbub.query import ast
from hubbub.query.parser import parse
from hubbub.store import schema as t

_p = t.posts
_terms = t.post_terms


def compile_query(query: str | ast.Node, dialect: str) -> sa.ColumnElement[bool]:
    node = parse(query) if isinstance(query, str) else query
    return _compile(node, dialect)


def _text(tokens: tuple[str, ...], dialect: str) -> sa.ColumnElement[bool]:
    if dialect == "postgresql":
        # The tokens are already folded; unaccent here mirrors the index side.
        query = sa.func.phraseto_tsquery(
            sa.literal_column("'simple'::regconfig"),
            sa.func.hubbub_unaccent(sa.bindparam(None, " ".join(tokens), unique=True)),
        )
        return sa.literal_column("posts.search_vector").op("@@")(query)
    phrase = '"' + " ".join(tokens).replace('"', '""') + '"'
    fts = sa.table("posts_fts", sa.column("rowid"))
    # A unique anonymous parameter per term: several terms share one statement.
    condition = sa.literal_column("posts_fts").op("MATCH")(sa.bindparam(None, phrase, unique=True))
    matching = sa.select(fts.c.rowid).where(condition)
    return _p.c.pk.in_(matching)


def _term(kind: str, value: str) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        _terms.c.post_pk == _p.c.pk, _terms.c.kind == kind, _terms.c.value == value
    )


def _compile(node: ast.Node, dialect: str) -> sa.ColumnElement[bool]:
    match node:
        case ast.Term(token=token):
            return _text((token,), dialect)
        case ast.Phrase(tokens=tokens):
            return _text(tokens, dialect)
        case ast.Hashtag(tag=tag):
            return _term("h", tag)
        case ast.Mention(handle=handle):
            return _term("m", handle)
        case ast.From(handle=handle):
            return _term("f", handle)
        case ast.Lang(code=code):
            return _term("l", code)
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
            return sa.and_(*(_compile(child, dialect) for child in children))
        case ast.Or(children=children):
            return sa.or_(*(_compile(child, dialect) for child in children))
        case ast.Not(child=child):
            return sa.not_(_compile(child, dialect))
    raise TypeError(f"cannot compile {node!r}")

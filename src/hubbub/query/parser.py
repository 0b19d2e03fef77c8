"""Parse the X-like search language into :mod:`hubbub.query.ast` nodes.

Syntax (everything else a user types is plain search text)::

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*        # OR binds looser than AND
    and_expr := unary+                           # juxtaposition = AND
    unary    := "-" unary | primary              # "-" directly before a term
    primary  := "(" or_expr ")" | '"' phrase '"' | word

A *word* is a run of characters up to whitespace, ``(``, ``)`` or ``"``. It is

- ``OR`` (upper case, standing alone) -- the operator; ``or`` and ``-OR`` are words;
- ``#tag``, ``@handle``;
- ``from:``, ``lang:``, ``network:``, ``is:``, ``has:``, ``since:``, ``until:``
  (operator names are case-insensitive) followed by a value;
- anything else (``AND``, ``NEAR``, ``foo:bar``, ``*``, ``e-mail``) is text:
  it goes through :func:`~hubbub.query.tokens.tokenize`; one token gives a
  ``Term``, several a ``Phrase`` (consecutive, as FTS engines do with
  ``e-mail``), none drops the word. So engine syntax can never reach an engine.

A ``-`` is negation when it starts a word and is directly followed by
something other than whitespace or ``)``; elsewhere it is ordinary text.

Errors are :class:`QuerySyntaxError` with a 0-based ``position``; only
structural mistakes are errors (unterminated quote, unbalanced parentheses,
a dangling ``OR``, a bad operator value, an empty query), never unusual text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from hubbub.query.ast import (
    FROM_EXTRA,
    LANG_RE,
    MENTION_EXTRA,
    And,
    From,
    Hashtag,
    HasLinks,
    HasMedia,
    IsReply,
    IsRepost,
    Lang,
    Mention,
    Network,
    Node,
    Not,
    Or,
    Phrase,
    Since,
    Term,
    Until,
    and_,
    or_,
)
from hubbub.query.tokens import fold, tokenize

# Parentheses and negations nest through recursion; a cap keeps a pathological
# query ("((((…" or "-----…x") a syntax error rather than a RecursionError, and
# bounds the depth every tree walker (evaluate, SQL compilers) has to handle.
MAX_DEPTH = 64
# Every consumer handles long flat chains (the SQL compilers group them), so
# this is only a bound on the work one query can ask for; a thousand ordinary
# words fit. Front ends may set a lower limit of their own (the web does).
MAX_LENGTH = 16_384

_NETWORK_NAMES = {
    "x": "x",
    "twitter": "x",
    "bluesky": "bluesky",
    "mastodon": "mastodon",
    "web": "web",
}
_IS_VALUES: dict[str, Node] = {
    "reply": IsReply(),
    "repost": IsRepost(),
    "retweet": IsRepost(),  # X's own spelling; users paste X queries
}
_HAS_VALUES: dict[str, Node] = {"links": HasLinks(), "media": HasMedia()}
# ASCII digits only: \d would accept other scripts' digits that date() rejects.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class QuerySyntaxError(ValueError):
    """A query that cannot be parsed; ``position`` is a 0-based offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at column {position + 1}")
        self.message = message
        self.position = position


class QueryLimitError(QuerySyntaxError):
    """A query over one of the parser's limits (length, nesting depth):
    well-formed perhaps, but more than Hubbub will run. The message names
    the limit."""


@dataclass(frozen=True, slots=True)
class _Lexeme:
    kind: str  # "(", ")", "-", "OR", "phrase", "word"
    text: str
    pos: int


def _lex(text: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Lexeme(ch, ch, i))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError("unterminated quote", i)
            out.append(_Lexeme("phrase", text[i + 1 : end], i))
            i = end + 1
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != ")":
            out.append(_Lexeme("-", ch, i))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in '()"':
                i += 1
            word = text[start:i]
            # "-OR" negates the word "or": there is nothing else it could mean.
            negated = bool(out) and out[-1].kind == "-" and out[-1].pos == start - 1
            kind = "OR" if word == "OR" and not negated else "word"
            out.append(_Lexeme(kind, word, start))
    return out


def parse(text: str) -> Node:
    """Parse a search query; raise :class:`QuerySyntaxError` if it is malformed."""
    if len(text) > MAX_LENGTH:
        raise QueryLimitError(f"query longer than {MAX_LENGTH} characters", MAX_LENGTH)
    if not text.strip():
        raise QuerySyntaxError("empty query", 0)
    parser = _Parser(_lex(text))
    node = parser.parse_or()
    extra = parser.peek()
    if extra is not None:  # parse_or only stops early at a ")"
        raise QuerySyntaxError("unmatched ')'", extra.pos)
    if node is None:
        raise QuerySyntaxError("nothing to search for", 0)
    return node


class _Parser:
    def __init__(self, lexemes: list[_Lexeme]) -> None:
        self.lexemes = lexemes
        self.i = 0
        self.depth = 0

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.i] if self.i < len(self.lexemes) else None

    def parse_or(self) -> Node | None:
        branches: list[Node] = []
        while True:
            node, count = self.parse_and()
            if node is not None:
                branches.append(node)
            op = self.peek()
            if op is None or op.kind == ")":
                break
            # parse_and stops only at OR, ")" or the end.
            if count == 0:
                previous = self.lexemes[self.i - 1] if self.i else None
                if previous is not None and previous.kind == "OR":
                    raise QuerySyntaxError("doubled OR", op.pos)
                raise QuerySyntaxError("OR with nothing before it", op.pos)
            self.i += 1
            after = self.peek()
            if after is None or after.kind == ")":
                raise QuerySyntaxError("OR with nothing after it", op.pos)
            if after.kind == "OR":
                raise QuerySyntaxError("doubled OR", after.pos)
        # A branch that was only dropped text ("a OR *") simply drops out.
        return or_(*branches) if branches else None

    def parse_and(self) -> tuple[Node | None, int]:
        """Parse a juxtaposition; also return how many items it had, dropped
        ones included, so that "* OR a" is not mistaken for a leading OR."""
        parts: list[Node] = []
        count = 0
        while (lexeme := self.peek()) is not None and lexeme.kind not in ("OR", ")"):
            count += 1
            node = self.parse_unary()
            if node is not None:
                parts.append(node)
        return (and_(*parts) if parts else None), count

    def parse_unary(self) -> Node | None:
        lexeme = self.peek()
        assert lexeme is not None  # callers check
        self.i += 1
        if lexeme.kind == "-":
            # The lexer only emits "-" when a term follows directly.
            self._enter(lexeme.pos)
            child = self.parse_unary()
            self.depth -= 1
            return Not(child) if child is not None else None
        if lexeme.kind == "(":
            self._enter(lexeme.pos)
            node = self.parse_or()
            if self.peek() is None:
                raise QuerySyntaxError("unclosed '('", lexeme.pos)
            self.i += 1  # the ")"
            self.depth -= 1
            return node
        if lexeme.kind == "phrase":
            return _text(lexeme.text)
        return _word(lexeme.text, lexeme.pos)

    def _enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryLimitError(f"nested more than {MAX_DEPTH} deep", pos)


def _tokens_node(tokens: list[str]) -> Node | None:
    if not tokens:
        return None
    if len(tokens) == 1:
        return Term(tokens[0])
    return Phrase(tuple(tokens))


def _text(text: str) -> Node | None:
    return _tokens_node(tokenize(text))


def _word(word: str, pos: int) -> Node | None:
    name, colon, value = word.partition(":")
    if colon:
        operator = _OPERATORS.get(name.lower())
        if operator is not None:
            return operator(value, pos + len(name) + 1)
        # An unknown "foo:bar" is text, as on X.
    if word.startswith("#"):
        return _prefixed(word, lambda ch: ch.isalnum() or ch == "_", "", Hashtag)
    if word.startswith("@"):
        return _prefixed(word, lambda ch: ch.isalnum() or ch in MENTION_EXTRA, ".-@", Mention)
    return _text(word)


def _prefixed(
    word: str, allowed: Callable[[str], bool], trim: str, make: Callable[[str], Node]
) -> Node | None:
    """``#tag`` / ``@handle`` in running text: the longest run of allowed
    characters after the sigil is the value ("@alice," means @alice); what
    follows is text. Fold first, so the value is checked in its final form."""
    folded = fold(word[1:])
    end = 0
    while end < len(folded) and allowed(folded[end]):
        end += 1
    value = folded[:end].strip(trim)
    if not any(ch.isalnum() for ch in value):
        return _text(word)  # "#", "@_" and the like: not a tag, just text
    rest = _text(folded[end:])
    return and_(make(value), rest) if rest is not None else make(value)


def _need(op: str, value: str, pos: int) -> None:
    if not value:
        raise QuerySyntaxError(f"{op}: needs a value", pos)


def _from(value: str, pos: int) -> Node:
    _need("from", value, pos)
    handle = fold(value).lstrip("@")
    if not handle:
        raise QuerySyntaxError("from: needs a handle", pos)
    if not all(ch.isalnum() or ch in FROM_EXTRA for ch in handle) or not any(
        ch.isalnum() for ch in handle
    ):
        raise QuerySyntaxError(f"invalid handle {value!r}", pos)
    return From(handle)


def _lang(value: str, pos: int) -> Node:
    _need("lang", value, pos)
    code = value.lower()
    if not LANG_RE.fullmatch(code):
        raise QuerySyntaxError(f"invalid language code {value!r}", pos)
    return Lang(code)


def _network(value: str, pos: int) -> Node:
    _need("network", value, pos)
    name = _NETWORK_NAMES.get(value.lower())
    if name is None:
        raise QuerySyntaxError(
            f"unknown network {value!r} (expected x, bluesky, mastodon or web)", pos
        )
    return Network(name)


def _is(value: str, pos: int) -> Node:
    _need("is", value, pos)
    node = _IS_VALUES.get(value.lower())
    if node is None:
        raise QuerySyntaxError(f"unknown is:{value} (expected is:reply or is:repost)", pos)
    return node


def _has(value: str, pos: int) -> Node:
    _need("has", value, pos)
    node = _HAS_VALUES.get(value.lower())
    if node is None:
        raise QuerySyntaxError(f"unknown has:{value} (expected has:links or has:media)", pos)
    return node


def _day(op: str, value: str, pos: int) -> datetime:
    _need(op, value, pos)
    try:
        if not _DATE_RE.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise QuerySyntaxError(f"invalid date {value!r} (expected YYYY-MM-DD)", pos) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _since(value: str, pos: int) -> Node:
    return Since(_day("since", value, pos))


def _until(value: str, pos: int) -> Node:
    return Until(_day("until", value, pos))


_OPERATORS: dict[str, Callable[[str, int], Node]] = {
    "from": _from,
    "lang": _lang,
    "network": _network,
    "is": _is,
    "has": _has,
    "since": _since,
    "until": _until,
}


def to_string(node: Node) -> str:
    """Render ``node`` as a canonical query; ``parse(to_string(n)) == n``.

    Raises ``ValueError`` for a ``Since``/``Until`` that is not a whole UTC
    day, which the language cannot express.
    """
    if isinstance(node, Term):
        return node.token
    if isinstance(node, Phrase):
        return '"' + " ".join(node.tokens) + '"'
    if isinstance(node, Hashtag):
        return "#" + node.tag
    if isinstance(node, Mention):
        return "@" + node.handle
    if isinstance(node, From):
        return "from:" + node.handle
    if isinstance(node, Lang):
        return "lang:" + node.code
    if isinstance(node, Network):
        return "network:" + node.name
    if isinstance(node, IsReply):
        return "is:reply"
    if isinstance(node, IsRepost):
        return "is:repost"
    if isinstance(node, HasLinks):
        return "has:links"
    if isinstance(node, HasMedia):
        return "has:media"
    if isinstance(node, Since):
        return "since:" + _render_day(node.at)
    if isinstance(node, Until):
        return "until:" + _render_day(node.at)
    if isinstance(node, And):
        return " ".join(_grouped(child) for child in node.children)
    if isinstance(node, Or):
        # And inside Or needs no parentheses (AND binds tighter) but gets
        # them anyway: "(a b) OR c" is what a reader expects to see.
        return " OR ".join(_grouped(child) for child in node.children)
    if isinstance(node, Not):
        return "-" + _grouped(node.child)
    raise TypeError(f"not a query node: {node!r}")


def _grouped(node: Node) -> str:
    text = to_string(node)
    return f"({text})" if isinstance(node, And | Or) else text


def _render_day(at: datetime) -> str:
    if (at.hour, at.minute, at.second, at.microsecond) != (0, 0, 0, 0):
        raise ValueError(f"{at.isoformat()} is not a whole UTC day")
    return at.date().isoformat()

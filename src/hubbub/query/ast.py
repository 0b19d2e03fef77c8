"""Nodes of a parsed search query.

Every node checks its own invariants on construction, so a tree is valid
whether the parser built it or code built it by hand. The SQL compilers of the
store rely on that: a ``Term``/``Phrase`` token is one normalised token made of
``str.isalnum()`` characters only, so it can be handed to FTS5 or tsquery
without any escaping question; handles and tags use a small fixed alphabet.

``And``/``Or`` are kept flat (no ``And`` directly inside an ``And``) with at
least two children; build them with :func:`and_` / :func:`or_`, which flatten
and collapse a single child into itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from hubbub.post import NETWORKS, utc
from hubbub.query.tokens import fold, tokenize

# Characters allowed in a handle besides letters and digits: X and Mastodon
# user names use ``_``; Bluesky handles are domain names (``.``, ``-``);
# Mastodon accounts are ``user@host``. ``from:`` also accepts ``:`` because a
# Bluesky author whose handle is unknown is stored under its DID (``did:plc:…``).
MENTION_EXTRA = "_.-@"
FROM_EXTRA = "_.-@:"

LANG_RE = re.compile(r"[a-z]{2,8}(?:-[a-z0-9]{1,8})*", re.ASCII)


def _check_token(token: object) -> None:
    if not isinstance(token, str) or tokenize(token) != [token]:
        raise ValueError(f"not a single normalised token: {token!r}")


def _check_handle(value: object, extra: str, what: str) -> None:
    if (
        not isinstance(value, str)
        or not value
        or fold(value) != value
        or value.startswith("@")
        or not all(ch.isalnum() or ch in extra for ch in value)
        or not any(ch.isalnum() for ch in value)
    ):
        raise ValueError(f"not a normalised {what}: {value!r}")


@dataclass(frozen=True, slots=True)
class Term:
    """One normalised token; matches a post whose text has that token."""

    token: str

    def __post_init__(self) -> None:
        _check_token(self.token)


@dataclass(frozen=True, slots=True)
class Phrase:
    """Two or more tokens that must appear consecutively in the text."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", tuple(self.tokens))
        if len(self.tokens) < 2:
            # A one-token phrase is a Term; keeping one spelling per meaning
            # makes equality (and to_string round trips) exact.
            raise ValueError("a Phrase needs at least two tokens; use Term")
        for token in self.tokens:
            _check_token(token)


@dataclass(frozen=True, slots=True)
class Hashtag:
    """``#tag``; ``tag`` is folded, without ``#``, letters/digits/``_`` only."""

    tag: str

    def __post_init__(self) -> None:
        _check_handle(self.tag, "_", "hashtag")


@dataclass(frozen=True, slots=True)
class Mention:
    """``@handle``; folded, without ``@``; may be ``user@host``."""

    handle: str

    def __post_init__(self) -> None:
        _check_handle(self.handle, MENTION_EXTRA, "handle")
        # The parser trims these so "@alice." in running text means @alice.
        if self.handle[0] in ".-" or self.handle[-1] in ".-@":
            raise ValueError(f"handle starts or ends in punctuation: {self.handle!r}")


@dataclass(frozen=True, slots=True)
class From:
    """``from:handle``; folded, without ``@``; may be ``user@host`` or a DID."""

    handle: str

    def __post_init__(self) -> None:
        _check_handle(self.handle, FROM_EXTRA, "handle")


@dataclass(frozen=True, slots=True)
class Lang:
    """``lang:code``; lower-case BCP 47-like code (``en``, ``pt-br``)."""

    code: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not LANG_RE.fullmatch(self.code):
            raise ValueError(f"not a lower-case language code: {self.code!r}")


@dataclass(frozen=True, slots=True)
class Network:
    """``network:name``; one of :data:`hubbub.post.NETWORKS`."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in NETWORKS:
            raise ValueError(f"unknown network: {self.name!r}")


@dataclass(frozen=True, slots=True)
class IsReply:
    """``is:reply``."""


@dataclass(frozen=True, slots=True)
class IsRepost:
    """``is:repost`` (alias ``is:retweet``)."""


@dataclass(frozen=True, slots=True)
class HasLinks:
    """``has:links``."""


@dataclass(frozen=True, slots=True)
class HasMedia:
    """``has:media``."""


@dataclass(frozen=True, slots=True)
class Since:
    """``since:YYYY-MM-DD``: created at or after ``at`` (UTC midnight when parsed)."""

    at: datetime

    def __post_init__(self) -> None:
        # Aware UTC so comparisons never mix naive and aware datetimes.
        object.__setattr__(self, "at", utc(self.at))


@dataclass(frozen=True, slots=True)
class Until:
    """``until:YYYY-MM-DD``: created strictly before ``at``."""

    at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", utc(self.at))


@dataclass(frozen=True, slots=True)
class And:
    """All children match (juxtaposition in the query)."""

    children: tuple[Node, ...]

    def __post_init__(self) -> None:
        _check_children(self, And)


@dataclass(frozen=True, slots=True)
class Or:
    """Any child matches (``OR``)."""

    children: tuple[Node, ...]

    def __post_init__(self) -> None:
        _check_children(self, Or)


@dataclass(frozen=True, slots=True)
class Not:
    """The child does not match (``-`` prefix)."""

    child: Node

    def __post_init__(self) -> None:
        if not isinstance(self.child, NODE_TYPES):
            raise TypeError(f"not a query node: {self.child!r}")


Node = (
    Term
    | Phrase
    | Hashtag
    | Mention
    | From
    | Lang
    | Network
    | IsReply
    | IsRepost
    | HasLinks
    | HasMedia
    | Since
    | Until
    | And
    | Or
    | Not
)

NODE_TYPES: tuple[type, ...] = (
    Term,
    Phrase,
    Hashtag,
    Mention,
    From,
    Lang,
    Network,
    IsReply,
    IsRepost,
    HasLinks,
    HasMedia,
    Since,
    Until,
    And,
    Or,
    Not,
)


def _check_children(node: And | Or, kind: type) -> None:
    children = tuple(node.children)
    object.__setattr__(node, "children", children)
    if len(children) < 2:
        raise ValueError(
            f"{kind.__name__} needs at least two children; use {kind.__name__.lower()}_()"
        )
    for child in children:
        if not isinstance(child, NODE_TYPES):
            raise TypeError(f"not a query node: {child!r}")
        if isinstance(child, kind):
            raise ValueError(f"nested {kind.__name__}; use {kind.__name__.lower()}_() to flatten")


def _combine(kind: type[And] | type[Or], nodes: Iterable[Node]) -> Node:
    flat: list[Node] = []
    for node in nodes:
        if isinstance(node, kind):
            flat.extend(node.children)
        else:
            flat.append(node)
    if not flat:
        raise ValueError(f"{kind.__name__} of nothing")
    if len(flat) == 1:
        return flat[0]
    return kind(tuple(flat))


def and_(*nodes: Node) -> Node:
    """``And`` of ``nodes``, flattened; a single node is returned as is."""
    return _combine(And, nodes)


def or_(*nodes: Node) -> Node:
    """``Or`` of ``nodes``, flattened; a single node is returned as is."""
    return _combine(Or, nodes)


def walk(node: Node) -> Iterable[Node]:
    """Every node of the tree, parents before children."""
    yield node
    if isinstance(node, And | Or):
        for child in node.children:
            yield from walk(child)
    elif isinstance(node, Not):
        yield from walk(node.child)

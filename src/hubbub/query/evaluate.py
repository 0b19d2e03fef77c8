"""Reference semantics of a parsed query against one :class:`~hubbub.post.Post`.

Listening runs this on incoming posts, and the store's SQL compilers must
return exactly the posts for which :func:`matches` is true. The rules, with
``fold``/``tokenize`` from :mod:`hubbub.query.tokens` (the store keeps
``fold``ed / ``index_text`` copies so SQL never has to fold):

Text (``Term``, ``Phrase``)
    The text's tokens are ``tokenize(post.text)``. ``Term(t)`` matches when
    some token equals ``t`` -- whole-token equality, never prefix or substring.
    ``Phrase(t1, …, tn)`` matches when ``t1 … tn`` occur as consecutive
    tokens. A deleted post (``post.deleted``) matches no text node, so
    ``-word`` *does* match it; only text is affected, every other operator
    still applies to a deleted post.
``Hashtag(tag)``
    ``tag == fold(h)`` for some ``h`` in ``post.hashtags``.
``Mention(handle)``
    For some ``m`` in ``post.mentions``: ``fold(m) == handle``, or ``handle``
    has no ``@`` and equals the part of ``fold(m)`` before its first ``@``
    (``@alice`` matches the Mastodon mention ``alice@mastodon.social``;
    ``@alice@mastodon.social`` only matches that exact account).
``From(handle)``
    The same rule against ``post.author.handle`` (one value). No
    Bluesky-specific suffix handling: ``from:alice`` does not match
    ``alice.bsky.social``.
``Lang(code)``
    For some ``l`` in ``post.langs``, with ``l`` ASCII-lower-cased (``A``-``Z``
    only, like SQLite's ``lower()``): ``l == code`` or ``l`` starts with
    ``code + "-"`` (``lang:pt`` matches ``pt-BR``; ``lang:pt-br`` does not
    match ``pt``). A post without langs matches no ``lang:``.
``Network(name)``
    ``post.network == name``.
``IsReply`` / ``IsRepost``
    ``post.reply_to is not None`` / ``post.repost_of is not None``.
``HasLinks`` / ``HasMedia``
    ``len(post.links) > 0`` / ``post.media_count > 0``.
``Since(at)`` / ``Until(at)``
    ``created_at >= at`` (inclusive) / ``created_at < at`` (exclusive), with
    ``created_at`` taken as UTC (naive means UTC). A parsed date is UTC midnight.
``And`` / ``Or`` / ``Not``
    All children / any child / not the child -- plain two-valued logic; no
    node is ever "unknown", so ``Not`` is exact complement (mind SQL NULLs).
"""

from __future__ import annotations

from hubbub.post import Post, utc
from hubbub.query.ast import (
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
)
from hubbub.query.tokens import fold, tokenize

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def matches(node: Node, post: Post) -> bool:
    """Whether ``post`` satisfies the query ``node`` (see the module docstring)."""
    return _Matcher(post).match(node)


def handle_matches(query: str, handle: str) -> bool:
    """The ``@``/``from:`` rule: ``query`` is a node's folded handle, ``handle``
    the post's value as stored (folded here)."""
    folded = fold(handle)
    return folded == query or ("@" not in query and folded.split("@", 1)[0] == query)


def lang_matches(code: str, lang: str) -> bool:
    """The ``lang:`` rule for one of the post's language tags."""
    lowered = lang.translate(_ASCII_LOWER)
    return lowered == code or lowered.startswith(code + "-")


def handle_forms(handle: str) -> frozenset[str]:
    """Every value a ``@``/``from:`` node can hold and still match ``handle``
    (``handle_matches`` turned around, for indexes: the folded handle, or its
    part before the first ``@``)."""
    folded = fold(handle)
    return frozenset((folded, folded.split("@", 1)[0]))


def lang_forms(lang: str) -> frozenset[str]:
    """Every code ``lang:`` can hold and still match the tag ``lang``
    (``lang_matches`` turned around: the tag and each prefix ending before a
    ``-``; ``pt-br`` → pt, pt-br)."""
    lowered = lang.translate(_ASCII_LOWER)
    return frozenset({lowered, *(lowered[:i] for i, ch in enumerate(lowered) if ch == "-")})


def contains_phrase(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether ``phrase`` occurs as consecutive items of ``tokens``."""
    width = len(phrase)
    first = phrase[0]
    for start in range(len(tokens) - width + 1):
        if tokens[start] == first and tuple(tokens[start : start + width]) == phrase:
            return True
    return False


class _Matcher:
    """One post under evaluation; tokenises its text at most once, however
    many text nodes the query has."""

    __slots__ = ("post", "_tokens", "_token_set")

    def __init__(self, post: Post) -> None:
        self.post = post
        self._tokens: list[str] | None = None
        self._token_set: frozenset[str] | None = None

    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = tokenize(self.post.text or "")
        return self._tokens

    def token_set(self) -> frozenset[str]:
        if self._token_set is None:
            self._token_set = frozenset(self.tokens())
        return self._token_set

    def match(self, node: Node) -> bool:
        post = self.post
        if isinstance(node, And):
            return all(self.match(child) for child in node.children)
        if isinstance(node, Or):
            return any(self.match(child) for child in node.children)
        if isinstance(node, Not):
            return not self.match(node.child)
        if isinstance(node, Term):
            return not post.deleted and node.token in self.token_set()
        if isinstance(node, Phrase):
            return not post.deleted and contains_phrase(self.tokens(), node.tokens)
        if isinstance(node, Hashtag):
            return any(fold(tag) == node.tag for tag in post.hashtags)
        if isinstance(node, Mention):
            return any(handle_matches(node.handle, m) for m in post.mentions)
        if isinstance(node, From):
            return handle_matches(node.handle, post.author.handle)
        if isinstance(node, Lang):
            return any(lang_matches(node.code, lang) for lang in post.langs)
        if isinstance(node, Network):
            return post.network == node.name
        if isinstance(node, IsReply):
            return post.reply_to is not None
        if isinstance(node, IsRepost):
            return post.repost_of is not None
        if isinstance(node, HasLinks):
            return len(post.links) > 0
        if isinstance(node, HasMedia):
            return post.media_count > 0
        if isinstance(node, Since):
            return utc(post.created_at) >= node.at
        if isinstance(node, Until):
            return utc(post.created_at) < node.at
        raise TypeError(f"not a query node: {node!r}")

"""All saved queries compiled into one matcher that tags a post in one pass.

How it works, and why it equals :func:`hubbub.query.evaluate.matches`:

1. For each query we derive a *necessary key set*: keys such that whenever the
   query matches a post, the post has at least one of them. A ``Term`` needs
   its token, a ``Phrase`` its first token, ``#tag``/``@handle``/``from:``
   their folded value; ``And`` needs any one child's set (we take the
   smallest), ``Or`` needs the union of all children's; ``Not`` and the
   filters (``lang:``, ``network:``, ``is:``, ``has:``, ``since:``,
   ``until:``) give no key. A query with no key set (pure negations, only
   filters, or an ``Or`` with such a branch) is *always a candidate*.
2. Every key of every query goes into one Aho-Corasick automaton (pyahocorasick)
   as ``\\x1fkind:value\\x1f``; a post is turned into the string of its own keys
   separated by ``\\x1f``, so one scan over it finds every query that could
   match, whatever the number of queries, and only whole keys match (the
   separators cannot occur inside a token, tag or handle).
3. Only candidates are evaluated, with each query's boolean structure compiled
   to Python closures over a :class:`PostView` that computes the post's
   tokens, folded tags, handle forms and language prefixes once. The closures
   follow the rules of ``evaluate.py`` exactly (tests compare them on real data
   and with random queries).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import ahocorasick

from hubbub.post import Post, utc
from hubbub.query import ast
from hubbub.query.evaluate import contains_phrase, handle_forms, lang_forms
from hubbub.query.parser import parse
from hubbub.query.tokens import fold, tokenize

SEP = "\x1f"  # unit separator: never part of a token, tag or handle

Key = tuple[str, str]  # (kind, value); kinds: t = text token, h = hashtag, m = mention, f = from


class PostView:
    """One post, its derived facets computed lazily and once."""

    __slots__ = ("post", "_tokens", "_token_set", "_tags", "_mentions", "_from", "_langs", "_at")

    def __init__(self, post: Post) -> None:
        self.post = post
        self._tokens: list[str] | None = None
        self._token_set: frozenset[str] | None = None
        self._tags: frozenset[str] | None = None
        self._mentions: frozenset[str] | None = None
        self._from: frozenset[str] | None = None
        self._langs: frozenset[str] | None = None
        self._at: datetime | None = None

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            # A deleted post has no text to match (evaluate.py): no tokens.
            self._tokens = [] if self.post.deleted else tokenize(self.post.text or "")
        return self._tokens

    @property
    def token_set(self) -> frozenset[str]:
        if self._token_set is None:
            self._token_set = frozenset(self.tokens)
        return self._token_set

    @property
    def tags(self) -> frozenset[str]:
        if self._tags is None:
            self._tags = frozenset(fold(tag) for tag in self.post.hashtags)
        return self._tags

    @property
    def mentions(self) -> frozenset[str]:
        if self._mentions is None:
            forms: set[str] = set()
            for mention in self.post.mentions:
                forms |= handle_forms(mention)
            self._mentions = frozenset(forms)
        return self._mentions

    @property
    def from_forms(self) -> frozenset[str]:
        if self._from is None:
            self._from = handle_forms(self.post.author.handle)
        return self._from

    @property
    def langs(self) -> frozenset[str]:
        if self._langs is None:
            codes: set[str] = set()
            for lang in self.post.langs:
                codes |= lang_forms(lang)
            self._langs = frozenset(codes)
        return self._langs

    @property
    def created_at(self) -> datetime:
        if self._at is None:
            self._at = utc(self.post.created_at)
        return self._at

    def keys(self) -> str:
        """The post's keys as the string the automaton scans."""
        parts = [f"t:{token}" for token in self.token_set]
        parts += [f"h:{tag}" for tag in self.tags]
        parts += [f"m:{form}" for form in self.mentions]
        parts += [f"f:{form}" for form in self.from_forms]
        return SEP + SEP.join(parts) + SEP


Predicate = Callable[[PostView], bool]


def compile_node(node: ast.Node) -> Predicate:
    """A closure with the semantics of ``evaluate.matches(node, post)``."""
    match node:
        case ast.Term(token=token):
            return lambda v: token in v.token_set
        case ast.Phrase(tokens=tokens):
            first = tokens[0]
            # The set check first: most posts lack the first token entirely.
            return lambda v: first in v.token_set and contains_phrase(v.tokens, tokens)
        case ast.Hashtag(tag=tag):
            return lambda v: tag in v.tags
        case ast.Mention(handle=handle):
            return lambda v: handle in v.mentions
        case ast.From(handle=handle):
            return lambda v: handle in v.from_forms
        case ast.Lang(code=code):
            return lambda v: code in v.langs
        case ast.Network(name=name):
            return lambda v: v.post.network == name
        case ast.IsReply():
            return lambda v: v.post.reply_to is not None
        case ast.IsRepost():
            return lambda v: v.post.repost_of is not None
        case ast.HasLinks():
            return lambda v: len(v.post.links) > 0
        case ast.HasMedia():
            return lambda v: v.post.media_count > 0
        case ast.Since(at=at):
            return lambda v: v.created_at >= at
        case ast.Until(at=at):
            return lambda v: v.created_at < at
        case ast.And(children=children):
            preds = tuple(compile_node(child) for child in children)
            return lambda v: all(p(v) for p in preds)
        case ast.Or(children=children):
            preds = tuple(compile_node(child) for child in children)
            return lambda v: any(p(v) for p in preds)
        case ast.Not(child=child):
            pred = compile_node(child)
            return lambda v: not pred(v)
    raise TypeError(f"not a query node: {node!r}")


def necessary_keys(node: ast.Node) -> frozenset[Key] | None:
    """Keys of which a matching post has at least one; ``None`` when no such
    set exists (the query must be evaluated on every post)."""
    match node:
        case ast.Term(token=token):
            return frozenset({("t", token)})
        case ast.Phrase(tokens=tokens):
            return frozenset({("t", tokens[0])})
        case ast.Hashtag(tag=tag):
            return frozenset({("h", tag)})
        case ast.Mention(handle=handle):
            return frozenset({("m", handle)})
        case ast.From(handle=handle):
            return frozenset({("f", handle)})
        case ast.And(children=children):
            sets = [s for s in map(necessary_keys, children) if s is not None]
            # Any one child's set is necessary for the conjunction; the
            # smallest one makes the fewest false candidates.
            return min(sets, key=len) if sets else None
        case ast.Or(children=children):
            union: set[Key] = set()
            for child in children:
                keys = necessary_keys(child)
                if keys is None:
                    return None
                union |= keys
            return frozenset(union)
    # Not, and every filter: nothing is required of the post's keys.
    return None


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    name: str
    node: ast.Node
    predicate: Predicate
    keys: frozenset[Key] | None


class Matcher:
    """Tags posts with the names of the queries they match.

    ``queries`` maps a name to query text or a parsed node. Build once when
    the set of active queries changes; :meth:`match` is then one automaton
    scan plus the candidates' boolean structure per post.
    """

    def __init__(self, queries: dict[str, str | ast.Node] | Iterable[tuple[str, str | ast.Node]]):
        items = queries.items() if isinstance(queries, dict) else queries
        self.queries: list[CompiledQuery] = []
        for name, query in items:
            node = parse(query) if isinstance(query, str) else query
            self.queries.append(CompiledQuery(name, node, compile_node(node), necessary_keys(node)))
        # Queries that must be evaluated on every post.
        self.always: tuple[int, ...] = tuple(
            i for i, q in enumerate(self.queries) if q.keys is None
        )
        by_key: dict[str, list[int]] = {}
        for i, q in enumerate(self.queries):
            for kind, value in q.keys or ():
                by_key.setdefault(f"{SEP}{kind}:{value}{SEP}", []).append(i)
        self._automaton: ahocorasick.Automaton | None = None
        if by_key:
            automaton = ahocorasick.Automaton()
            for pattern, indexes in by_key.items():
                automaton.add_word(pattern, tuple(indexes))
            automaton.make_automaton()
            self._automaton = automaton

    def __len__(self) -> int:
        return len(self.queries)

    def candidates(self, view: PostView) -> set[int]:
        """Indexes of the queries that could match (a superset of those that do)."""
        found = set(self.always)
        if self._automaton is not None:
            # Patterns start and end with SEP and the post's keys share their
            # separators, so adjacent keys overlap by one SEP: iter() still
            # reports every one (it reports overlapping matches).
            for _end, indexes in self._automaton.iter(view.keys()):
                found.update(indexes)
        return found

    def match_indexes(self, post: Post) -> list[int]:
        view = PostView(post)
        return sorted(i for i in self.candidates(view) if self.queries[i].predicate(view))

    def match(self, post: Post) -> list[str]:
        """Names of the queries ``post`` matches, in the order they were given."""
        return [self.queries[i].name for i in self.match_indexes(post)]

    def match_many(self, posts: Sequence[Post]) -> list[list[str]]:
        return [self.match(post) for post in posts]

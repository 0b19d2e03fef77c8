"""All saved queries compiled into one matcher that tags a post in one pass.

How it works, and why it equals :func:`hubbub.query.evaluate.matches`:

1. A post becomes one set of *feature keys* (``matcher_facets``): its tokens,
   the bigrams of its text (when some query has a phrase), ``#tag``,
   ``@handle`` and ``from:`` forms, ``lang:`` forms, ``network:``, the
   ``is:``/``has:`` flags and the date thresholds it passes. Every query
   leaf is true exactly when its key is in that set, so the text is
   tokenised once per post and shared by every query.
2. The queries are compiled once (``matcher_index``) into bitsets over those
   keys: a post's matches are a few ORs per key it has that some query uses,
   then one AND per clause slot. Filter-only queries (``lang:en``,
   ``-is:repost``) are keys like any other, not evaluated for every post.
3. The few queries the bitsets cannot express (a clause like ``-(a b)``)
   are evaluated as closures over the key set, and only on posts that have
   one of their necessary keys.

A repost is matched by its original (``hubbub.query.reposts.as_matched``):
callers pass the post as matching sees it, as for ``evaluate.matches``.
Tests compare the matcher with ``evaluate.matches`` on the real payloads and
with random queries and posts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hubbub.listen.matcher_facets import FeatureExtractor, Key
from hubbub.listen.matcher_index import build_plan, necessary_keys
from hubbub.post import Post
from hubbub.query import ast
from hubbub.query.parser import parse

__all__ = ["CompiledQuery", "Matcher", "necessary_keys"]


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    name: str
    node: ast.Node


class Matcher:
    """Tags posts with the names of the queries they match.

    ``queries`` maps a name to query text or a parsed node. Build once when
    the set of active queries changes; a matcher is used by one thread at a
    time (its word cache is not locked).
    """

    def __init__(self, queries: dict[str, str | ast.Node] | Iterable[tuple[str, str | ast.Node]]):
        items = queries.items() if isinstance(queries, dict) else queries
        self.queries: list[CompiledQuery] = [
            CompiledQuery(name, parse(query) if isinstance(query, str) else query)
            for name, query in items
        ]
        plan = build_plan([q.node for q in self.queries])
        self._index = plan.index
        self._keys = plan.keys
        self._start0 = plan.start[0]
        self._start_rest = list(plan.start[1:])
        self._predicates = plan.predicates
        self._always = plan.always
        self.evaluated = len(plan.predicates)  # queries run as closures (the rest: bitsets)
        self._features = FeatureExtractor(plan.atoms)

    def __len__(self) -> int:
        return len(self.queries)

    def features(self, post: Post) -> set[Key]:
        return self._features.features(post)

    def evaluated_candidates(self, post: Post) -> int:
        """How many closures one post costs (for the benchmark's table)."""
        found = self.features(post)
        candidates = set(self._always)
        for key in found & self._keys:
            candidates.update(self._index[key][3])
        return len(candidates)

    def match_bits(self, post: Post) -> int:
        """The matching queries as a bitset (bit ``i`` = ``self.queries[i]``)."""
        found = self._features.features(post)
        index = self._index
        matched = self._start0
        rest: list[int] | None = None
        killed = 0
        candidates: set[int] | None = None
        for key in found & self._keys:
            slot0, slots, kills, evaluate = index[key]
            matched |= slot0
            if slots:
                if rest is None:
                    rest = self._start_rest.copy()
                for slot, bits in slots:
                    rest[slot - 1] |= bits
            if kills:
                killed |= kills
            if evaluate:
                if candidates is None:
                    candidates = set(evaluate)
                else:
                    candidates.update(evaluate)
        for bits in rest if rest is not None else self._start_rest:
            matched &= bits
        if killed:
            matched &= ~killed
        if self._always:
            candidates = set(self._always) if candidates is None else candidates | set(self._always)
        if candidates:
            predicates = self._predicates
            for i in candidates:
                if predicates[i](found):
                    matched |= 1 << i
        return matched

    def match_indexes(self, post: Post) -> list[int]:
        """Indexes into ``self.queries`` of the queries ``post`` matches, ascending."""
        matched = self.match_bits(post)
        out: list[int] = []
        # Highest bit first: bit_length() is cheap, and 1 << i is the only new int.
        while matched:
            i = matched.bit_length() - 1
            out.append(i)
            matched ^= 1 << i
        out.reverse()
        return out

    def match(self, post: Post) -> list[str]:
        """Names of the queries ``post`` matches, in the order they were given."""
        queries = self.queries
        matched = self.match_bits(post)
        out: list[str] = []
        while matched:
            i = matched.bit_length() - 1
            out.append(queries[i].name)
            matched ^= 1 << i
        out.reverse()
        return out

    def match_many(self, posts: Sequence[Post]) -> list[list[str]]:
        return [self.match(post) for post in posts]

"""Saved queries compiled into bitsets over feature keys (see ``matcher_facets``).

Each query is rewritten as a conjunction of clauses (CNF), every clause an OR
of leaves or negated leaves, a leaf being "this key is in the post's set".
Two clause shapes cover the queries people save, and are evaluated for all
queries at once with Python ints used as bitsets (bit ``i`` = query ``i``):

* a clause of positive leaves only (``brexit``, ``#eu OR @acme``,
  ``lang:en``) is given a *slot* of its query; a key lists, per slot, the
  queries whose clause in that slot it satisfies;
* a single negated leaf (``-brexit``, ``-is:repost``) *kills* its query when
  the key is present.

A post's matches are then ``slot_0 & slot_1 & … & ~killed``, where each slot
starts with the queries that have fewer clauses than that (nothing to
satisfy there) and gains the queries of every key the post has: the work per
post follows the number of its keys that some query uses, not the number of
queries, and filter-only queries cost nothing extra.

Any other query (a clause mixing negations, ``-(a b)``, or a CNF too large)
is *evaluated*: its boolean structure runs as closures over the key set, but
only on posts that have one of its necessary keys (like the old Aho-Corasick
prefilter), or on every post when it has none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hubbub.listen.matcher_facets import Key, atom_key
from hubbub.query import ast

Clause = tuple[frozenset[Key], frozenset[Key]]  # (keys, negated keys): true if any holds
Predicate = Callable[[set[Key]], bool]

# A query whose CNF would need more clauses than this (an OR of long ANDs
# multiplies out) is evaluated instead; saved queries are far below it.
MAX_CLAUSES = 64

_FILTER_PREFIXES = ("network:", "lang:", "is:", "has:")


def cnf(node: ast.Node, negate: bool = False) -> list[Clause] | None:
    """``node`` (negated when ``negate``) as clauses, or ``None`` when too large."""
    key = atom_key(node)
    if key is not None:
        keys = frozenset({key})
        return [(frozenset(), keys)] if negate else [(keys, frozenset())]
    if isinstance(node, ast.Not):
        return cnf(node.child, not negate)
    assert isinstance(node, ast.And | ast.Or)
    if isinstance(node, ast.And) != negate:  # And, or a negated Or (De Morgan)
        clauses: list[Clause] = []
        for child in node.children:
            sub = cnf(child, negate)
            if sub is None:
                return None
            clauses += sub
        return clauses if len(clauses) <= MAX_CLAUSES else None
    # Or, or a negated And: distribute (a b) OR c = (a OR c) (b OR c).
    out: list[Clause] = [(frozenset(), frozenset())]
    for child in node.children:
        sub = cnf(child, negate)
        if sub is None or len(out) * len(sub) > MAX_CLAUSES:
            return None
        out = [(p | q, n | m) for p, n in out for q, m in sub]
    return out


def simplify(clauses: list[Clause]) -> list[Clause]:
    """Drop clauses that always hold (``a OR -a``) and repeated clauses."""
    seen: set[Clause] = set()
    out: list[Clause] = []
    for clause in clauses:
        keys, negated = clause
        if keys & negated or clause in seen:
            continue
        seen.add(clause)
        out.append(clause)
    return out


def _cost(keys: frozenset[Key]) -> tuple[int, int]:
    """Order necessary key sets: filters (``network:x``, ``lang:en``) are on a
    large share of posts, words, tags and handles on few."""
    filters = sum(1 for k in keys if isinstance(k, str) and k.startswith(_FILTER_PREFIXES))
    return (filters, len(keys))


def necessary_keys(node: ast.Node) -> frozenset[Key] | None:
    """Keys of which a matching post has at least one; ``None`` when there is
    no such set (the query must be evaluated on every post)."""
    key = atom_key(node)
    if key is not None:
        return frozenset({key})
    if isinstance(node, ast.And):
        sets = [s for s in map(necessary_keys, node.children) if s is not None]
        # Any one child's set is necessary for the conjunction; take the one
        # that should make the fewest false candidates.
        return min(sets, key=_cost) if sets else None
    if isinstance(node, ast.Or):
        union: set[Key] = set()
        for child in node.children:
            keys = necessary_keys(child)
            if keys is None:
                return None
            union |= keys
        return frozenset(union)
    return None  # Not: nothing is required of the post


def predicate(node: ast.Node) -> Predicate:
    """A closure with the semantics of ``evaluate.matches`` over a key set."""
    key = atom_key(node)
    if key is not None:
        return lambda found: key in found
    if isinstance(node, ast.Not):
        inner = predicate(node.child)
        return lambda found: not inner(found)
    assert isinstance(node, ast.And | ast.Or)
    preds = tuple(predicate(child) for child in node.children)
    if isinstance(node, ast.And):
        return lambda found: all(p(found) for p in preds)
    return lambda found: any(p(found) for p in preds)


@dataclass(slots=True)
class KeyEntry:
    """What one key of a post does: queries it satisfies, per slot, and kills,
    and the evaluated queries for which it makes the post a candidate."""

    slot0: int = 0
    slots: dict[int, int] | None = None  # slot > 0 → queries
    kills: int = 0
    evaluate: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """The compiled form of a list of queries (built by :func:`build_plan`)."""

    # key → (slot-0 queries, ((slot, queries), …) for later slots, killed queries, evaluated queries)
    index: dict[Key, tuple[int, tuple[tuple[int, int], ...], int, tuple[int, ...]]]
    keys: frozenset[Key]  # the keys of ``index``
    atoms: frozenset[Key]  # every leaf's key, of every query (what a post's set must hold)
    start: tuple[int, ...]  # per slot: the queries with no clause to satisfy there
    predicates: dict[int, Predicate]  # evaluated queries
    always: tuple[int, ...]  # evaluated queries with no necessary key
    bitset_queries: int  # how many queries the bitsets decide


def build_plan(nodes: list[ast.Node]) -> Plan:
    entries: dict[Key, KeyEntry] = {}
    slot_counts: dict[int, int] = {}  # query → its number of slots
    predicates: dict[int, Predicate] = {}
    always: list[int] = []

    def entry(key: Key) -> KeyEntry:
        found = entries.get(key)
        if found is None:
            found = entries[key] = KeyEntry()
        return found

    for i, node in enumerate(nodes):
        clauses = cnf(node)
        clauses = simplify(clauses) if clauses is not None else None
        if clauses is not None and all(
            not negated or (not keys and len(negated) == 1) for keys, negated in clauses
        ):
            bit = 1 << i
            slot = 0
            for keys, negated in clauses:
                if negated:
                    (key,) = negated
                    entry(key).kills |= bit
                    continue
                for key in keys:
                    e = entry(key)
                    if slot == 0:
                        e.slot0 |= bit
                    else:
                        e.slots = e.slots or {}
                        e.slots[slot] = e.slots.get(slot, 0) | bit
                slot += 1
            slot_counts[i] = slot
            continue
        predicates[i] = predicate(node)
        keys_needed = necessary_keys(node)
        if keys_needed is None:
            always.append(i)
        else:
            for key in keys_needed:
                e = entry(key)
                e.evaluate = (*e.evaluate, i)

    n_slots = max([1, *slot_counts.values()])
    start = tuple(
        sum(1 << i for i, count in slot_counts.items() if count <= slot) for slot in range(n_slots)
    )
    index = {
        key: (e.slot0, tuple(sorted((e.slots or {}).items())), e.kills, e.evaluate)
        for key, e in entries.items()
    }
    atoms = frozenset(
        key for node in nodes for key in map(atom_key, ast.walk(node)) if key is not None
    )
    return Plan(index, frozenset(index), atoms, start, predicates, tuple(always), len(slot_counts))

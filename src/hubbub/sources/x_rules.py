"""What Hubbub asks X for: stream rules from a workspace's saved queries and
public rooms, and the recent-search queries that backfill each rule.

Saved queries are written in Hubbub's search language, which follows X's
syntax, so most translate one to one. What X cannot express is dropped in a
way that only *widens* the rule (``since:``/``until:``; a ``network:`` other
than X makes the query not an X rule at all), and the posts a widened query
brings in backfill are filtered locally with the reference evaluator.

Rules carry a tag ``hubbub:<hash of value>``: rules with other tags were made
by someone else and are never touched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hubbub.query import ast
from hubbub.query.parser import QuerySyntaxError, parse

TAG_PREFIX = "hubbub:"

_TRUE = object()  # matches every X post (e.g. network:x)
_FALSE = object()  # matches no X post (e.g. network:bluesky)


@dataclass(frozen=True, slots=True)
class WantedRule:
    value: str  # the X rule text
    tag: str  # hubbub:<hash>
    node: ast.Node  # what Hubbub means by it (for local filtering)
    exact: bool  # False when the X text is wider than the node
    origin: str  # "query:NAME" or "room:#tag", for people


def rule_tag(value: str) -> str:
    return TAG_PREFIX + hashlib.sha256(value.encode()).hexdigest()[:16]


def is_ours(tag: str | None) -> bool:
    return bool(tag) and tag.startswith(TAG_PREFIX)  # type: ignore[union-attr]


def _quote(text: str) -> str:
    return '"' + text.replace('"', " ") + '"'


def _render(node: ast.Node) -> tuple[object, bool]:
    """(X text | _TRUE | _FALSE, exact)."""
    if isinstance(node, ast.Term):
        return node.token, True
    if isinstance(node, ast.Phrase):
        return _quote(" ".join(node.tokens)), True
    if isinstance(node, ast.Hashtag):
        return "#" + node.tag, True
    if isinstance(node, ast.Mention):
        return ("@" + node.handle, True) if "@" not in node.handle else (_FALSE, True)
    if isinstance(node, ast.From):
        return ("from:" + node.handle, True) if "@" not in node.handle else (_FALSE, True)
    if isinstance(node, ast.Lang):
        return "lang:" + node.code.split("-")[0], "-" not in node.code
    if isinstance(node, ast.Network):
        return (_TRUE if node.name == "x" else _FALSE), True
    if isinstance(node, ast.IsReply):
        return "is:reply", True
    if isinstance(node, ast.IsRepost):
        return "is:retweet", True
    if isinstance(node, ast.HasLinks):
        return "has:links", True
    if isinstance(node, ast.HasMedia):
        return "has:media", True
    if isinstance(node, ast.Since | ast.Until):
        return _TRUE, False  # X rules have no dates: wider, filtered locally
    if isinstance(node, ast.And):
        parts: list[str] = []
        exact = True
        for child in node.children:
            text, child_exact = _render(child)
            exact = exact and child_exact
            if text is _FALSE:
                return _FALSE, True
            if text is not _TRUE:
                parts.append(_group(child, text))  # type: ignore[arg-type]
        return (" ".join(parts) if parts else _TRUE), exact
    if isinstance(node, ast.Or):
        parts = []
        exact = True
        for child in node.children:
            text, child_exact = _render(child)
            exact = exact and child_exact
            if text is _TRUE:
                return _TRUE, exact
            if text is not _FALSE:
                parts.append(_group(child, text))  # type: ignore[arg-type]
        return (" OR ".join(parts) if parts else _FALSE), exact
    if isinstance(node, ast.Not):
        text, exact = _render(node.child)
        if text is _TRUE:
            return (_FALSE, True) if exact else (_TRUE, False)
        if text is _FALSE:
            return _TRUE, True
        if not exact:
            return _TRUE, False  # "not (something wider)" cannot be said safely
        return "-" + _group(node.child, text), True  # type: ignore[arg-type]
    raise TypeError(f"not a query node: {node!r}")


def _group(node: ast.Node, text: str) -> str:
    return f"({text})" if isinstance(node, ast.And | ast.Or) and " " in text else text


def _positive(text: str) -> bool:
    """X refuses a rule made only of negations."""
    return any(not part.startswith("-") for part in text.replace("(", " ").split())


def to_x_rule(node: ast.Node) -> tuple[str | None, bool]:
    """The X rule text for ``node`` (None when it can match no X post or
    cannot be said), and whether it is exact."""
    text, exact = _render(node)
    if text is _FALSE or text is _TRUE or not isinstance(text, str):
        return None, exact  # _TRUE: "everything on X" is not a rule we will create
    if not _positive(text):
        return None, exact
    return text, exact


def wanted_rules(
    queries: tuple[tuple[str, str], ...], hashtags: tuple[str, ...], rule_chars: int
) -> tuple[list[WantedRule], list[str]]:
    """Rules for saved queries and rooms, deduplicated by text, and the
    reasons some could not be made (shown in the source's health)."""
    out: dict[str, WantedRule] = {}
    problems: list[str] = []
    for tag in hashtags:
        hashtag = "#" + tag
        out.setdefault(
            hashtag, WantedRule(hashtag, rule_tag(hashtag), ast.Hashtag(tag), True, f"room:#{tag}")
        )
    for name, query in queries:
        try:
            node = parse(query)
        except QuerySyntaxError:
            problems.append(f"saved query {name!r}: not valid")
            continue
        value, exact = to_x_rule(node)
        if value is None:
            continue  # nothing on X can match it (or it would match everything)
        if len(value) > rule_chars:
            problems.append(
                f"saved query {name!r}: {len(value)} characters as an X rule (max {rule_chars})"
            )
            continue
        out.setdefault(value, WantedRule(value, rule_tag(value), node, exact, f"query:{name}"))
    return list(out.values()), problems


def search_queries(rule: WantedRule, query_chars: int) -> tuple[list[str], bool]:
    """Recent-search queries that together cover ``rule`` (≤ query_chars
    each), and whether results must be filtered locally. An OR too long is
    split into several queries; an AND too long keeps its longest conjuncts
    that fit (wider, so filtered locally)."""
    if len(rule.value) <= query_chars:
        return [rule.value], not rule.exact
    return _split(rule.node, query_chars)


def _split(node: ast.Node, limit: int) -> tuple[list[str], bool]:
    if isinstance(node, ast.Or):
        queries: list[str] = []
        wide = False
        current: list[str] = []
        for child in node.children:
            text, exact = to_x_rule(child)
            if text is None:
                continue
            if len(text) > limit:
                sub, sub_wide = _split(child, limit)
                queries += sub
                wide = wide or sub_wide
                continue
            wide = wide or not exact
            trial = " OR ".join([*current, _group(child, text)])
            if current and len(trial) > limit:
                queries.append(" OR ".join(current))
                current = [_group(child, text)]
            else:
                current.append(_group(child, text))
        if current:
            queries.append(" OR ".join(current))
        return queries, wide
    if isinstance(node, ast.And):
        parts = []
        for child in node.children:
            text, exact = to_x_rule(child)
            if text is not None:
                parts.append(_group(child, text))
        parts.sort(key=len, reverse=True)  # the longest parts are the most selective
        kept: list[str] = []
        for part in parts:
            if len(" ".join([*kept, part])) <= limit and _positive(" ".join([*kept, part])):
                kept.append(part)
        return ([" ".join(kept)] if kept else []), True
    return [], True

"""Engagement of a set of mentions, each post counted once.

A repost has no engagement of its own: X puts the original's public_metrics
on every retweet (22 reposts of the original show up as 22 on each retweet),
so adding up every mention's metrics counted an original once per copy. Here
a repost contributes nothing; its original is counted once, by its own row
when it is among the mentions, else by the figures its reposts carry (the
largest seen for each metric: counts only grow between fetches).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

Mention = dict[str, Any]  # a row of selection.load_mentions

ENGAGEMENT = ("likes", "reposts", "replies", "quotes")

# What the report's JSON says about the rule (docs/listening.md repeats it).
HOW_COUNTED = (
    "likes, reposts, replies and quotes as last fetched, each post counted once: "
    "a repost adds nothing of its own; its original is counted once, by its own "
    "figures when it is among the mentions, else by the largest its reposts carry"
)


def _metric(metrics: dict[str, Any] | None, name: str) -> int:
    try:
        return max(int((metrics or {}).get(name) or 0), 0)
    except (TypeError, ValueError):
        # Stored metrics come from hostile payloads: a non-number counts as 0.
        return 0


def own_engagement(m: Mention) -> int:
    """The engagement a post drew itself: 0 for a repost (the figures it
    carries are its original's)."""
    if m["repost_of"]:
        return 0
    return sum(_metric(m["metrics"], name) for name in ENGAGEMENT)


def _originals_only_in_reposts(
    mentions: Sequence[Mention],
) -> dict[tuple[str, str], dict[str, int]]:
    """Per original (network, post id) absent from ``mentions``, the largest
    figure each metric had on any of its reposts."""
    present = {(m["network"], m["post_id"]) for m in mentions if not m["repost_of"]}
    carried: dict[tuple[str, str], dict[str, int]] = {}
    for m in mentions:
        if not m["repost_of"]:
            continue
        key = (m["network"], m["repost_of"])
        if key in present:
            continue
        best = carried.setdefault(key, dict.fromkeys(ENGAGEMENT, 0))
        for name in ENGAGEMENT:
            best[name] = max(best[name], _metric(m["metrics"], name))
    return carried


def _sum(rows: Iterable[dict[str, Any] | None]) -> dict[str, int]:
    totals = dict.fromkeys(ENGAGEMENT, 0)
    for metrics in rows:
        for name in ENGAGEMENT:
            totals[name] += _metric(metrics, name)
    return totals


def engagement_totals(mentions: Sequence[Mention]) -> dict[str, int]:
    """Likes, reposts, replies and quotes of the mentions and their ``total``,
    each post counted once (see the module doc)."""
    carried = _originals_only_in_reposts(mentions)
    totals = _sum([m["metrics"] for m in mentions if not m["repost_of"]] + list(carried.values()))
    totals["total"] = sum(totals[name] for name in ENGAGEMENT)
    return totals


def engagement_counting(mentions: Sequence[Mention]) -> dict[str, Any]:
    """How the totals were counted, with the numbers a user can check."""
    reposts = sum(1 for m in mentions if m["repost_of"])
    return {
        "rule": HOW_COUNTED,
        "posts": len(mentions) - reposts,
        "reposts_not_counted": reposts,
        "originals_from_reposts": len(_originals_only_in_reposts(mentions)),
    }

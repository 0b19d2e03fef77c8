"""Social Mention's scorecard, with numbers a user can check.

Every figure is computed from the list of mentions (the matching live posts
of the period, see ``selection.load_mentions``) and their classifications;
the definitions are in docs/listening.md and repeated beside each function.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from hubbub.analyze.keywords import top_keywords
from hubbub.author_labels import AuthorLabels
from hubbub.query.tokens import fold

Mention = dict[str, Any]  # a row of selection.load_mentions
Classes = dict[int, dict[str, Any]]  # post pk → its post_classes row

SENTIMENTS = ("positive", "neutral", "negative", "unsupported")


def author_key(m: Mention) -> tuple[str, str]:
    """Authors are told apart by network and the network's stable id (a
    handle can change; the same handle on two networks is two people)."""
    return (m["network"], m["author_id"])


def ratio(part: int, whole: int, digits: int = 4) -> float | None:
    return round(part / whole, digits) if whole else None


def strength(mentions_24h: int, posts_24h: int) -> dict[str, Any]:
    """Mentions in the 24 h before the period's end ÷ every post stored for the
    workspace in those 24 h: how much of what the workspace hears is about this."""
    return {"value": ratio(mentions_24h, posts_24h), "mentions": mentions_24h, "posts": posts_24h}


def sentiment(mentions: Sequence[Mention], classes: Classes) -> dict[str, Any]:
    """Counts per sentiment; ``ratio`` is positive ÷ negative (None with no
    negative mention). Posts in languages the models do not know are
    ``unsupported`` and in neither side of the ratio."""
    counts = Counter(classes[m["pk"]]["sentiment"] for m in mentions)
    out: dict[str, Any] = {name: counts.get(name, 0) for name in SENTIMENTS}
    out["ratio"] = ratio(out["positive"], out["negative"], 2)
    return out


def passion(mentions: Sequence[Mention]) -> dict[str, Any]:
    """Share of mentions made by authors who mention it at least twice in the
    period; ``authors`` is how many such authors there are."""
    per_author = Counter(author_key(m) for m in mentions)
    repeat = {a: n for a, n in per_author.items() if n >= 2}
    from_repeat = sum(repeat.values())
    return {
        "value": ratio(from_repeat, len(mentions)),
        "authors": len(repeat),
        "mentions": from_repeat,
    }


def reach(mentions: Sequence[Mention]) -> dict[str, Any]:
    """Unique authors ÷ mentions: 1.0 means everyone said it once; near 0,
    a few voices said it many times."""
    authors = len({author_key(m) for m in mentions})
    return {"value": ratio(authors, len(mentions)), "authors": authors, "mentions": len(mentions)}


def mention_labels(mentions: Sequence[Mention], known: AuthorLabels | None = None) -> AuthorLabels:
    """``known`` (the report's, which asked the store), else labels from the
    mentions alone."""
    if known is not None:
        return known
    return AuthorLabels({(m["network"], m["author_id"], m["author_handle"]) for m in mentions})


def top_users(
    mentions: Sequence[Mention], limit: int = 10, labels: AuthorLabels | None = None
) -> list[dict[str, Any]]:
    """Authors by mentions; ``handle`` as stored (a Jetstream author's DID),
    ``author_handle``/``author_label`` as ``hubbub.author_labels`` names them."""
    labels = mention_labels(mentions, labels)
    per_author = Counter(author_key(m) for m in mentions)
    handle = {author_key(m): m["author_handle"] for m in mentions}
    ranked = sorted(per_author.items(), key=lambda item: (-item[1], handle[item[0]], item[0]))
    return [
        {
            "handle": handle[key],
            "network": key[0],
            "author_id": key[1],
            **labels.fields(*key),
            "mentions": n,
        }
        for key, n in ranked[:limit]
    ]


def top_hashtags(mentions: Sequence[Mention], limit: int = 10) -> list[dict[str, Any]]:
    """Hashtags folded (#Acme and #acme are one), counted once per post."""
    counts: Counter[str] = Counter()
    for m in mentions:
        counts.update({fold(tag.lstrip("#")) for tag in m["hashtags"] or ()})
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"tag": tag, "count": n} for tag, n in ranked[:limit]]


def counted(
    values: Sequence[str | None], key: str = "name", limit: int | None = None
) -> list[dict[str, Any]]:
    counts = Counter(v for v in values if v)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{key: value, "count": n} for value, n in ranked[:limit]]


def sources(mentions: Sequence[Mention], limit: int = 10) -> dict[str, Any]:
    """Where mentions come from: the network, and the client app (X's
    ``source``, Mastodon's application) where the network says."""
    return {
        "networks": counted([m["network"] for m in mentions]),
        "clients": counted([m["source"] for m in mentions], limit=limit),
    }


def scorecard(
    mentions: Sequence[Mention],
    classes: Classes,
    tokens: Sequence[list[str]],
    *,
    mentions_24h: int,
    posts_24h: int,
    exclude_words: set[str],
    limit: int = 10,
    labels: AuthorLabels | None = None,
) -> dict[str, Any]:
    return {
        "mentions": len(mentions),
        "strength": strength(mentions_24h, posts_24h),
        "sentiment": sentiment(mentions, classes),
        "passion": passion(mentions),
        "reach": reach(mentions),
        "top_keywords": top_keywords(tokens, exclude_words, limit),
        "top_users": top_users(mentions, limit, labels),
        "top_hashtags": top_hashtags(mentions, limit),
        "sources": sources(mentions, limit),
    }

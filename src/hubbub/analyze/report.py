"""The listening report: the scorecard, share of voice, and Who / What / When
/ Where / Why / How / To what Extent, for a query, a saved query or a group
over a period. One dict; the renderers (JSON, HTML, CSV) only lay it out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hubbub.analyze.engagement import (
    engagement_counting,
    engagement_totals,
    own_engagement,
)
from hubbub.analyze.keywords import top_keywords, top_phrases
from hubbub.analyze.scorecard import (
    Classes,
    Mention,
    author_key,
    counted,
    mention_labels,
    scorecard,
)
from hubbub.analyze.selection import (
    Period,
    Selection,
    count_posts,
    load_mentions,
    query_words,
    resolve_period,
    selection_condition,
    selection_nodes,
)
from hubbub.analyze.share_of_voice import share_of_voice
from hubbub.analyze.volume import WEEKDAYS, by_hour_and_weekday, volume_series
from hubbub.author_labels import AuthorLabels
from hubbub.classify.accuracy import load_accuracy
from hubbub.classify.stored import stored_classes
from hubbub.post import rfc3339
from hubbub.query.tokens import tokenize
from hubbub.store import Store
from hubbub.store.scope import scope
from hubbub.store.scoped_posts import WorkspacePosts

INTENTS = ("complaint", "question", "lead", "praise", "other", "unsupported")
EXAMPLES_PER_INTENT = 3
TOP = 10
_URL_RE = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)


def build_report(
    store: Store,
    selection: Selection,
    *,
    workspace: str = "default",
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Everything ``hubbub report`` prints (see docs/listening.md)."""
    condition = selection_condition(store, workspace, selection)
    period = resolve_period(store, workspace, since, until, now=now, condition=condition)
    mentions = load_mentions(store, workspace, condition, period.since, period.until)
    # Read only: posts are classified by the pipeline; those not yet classified
    # count as "unsupported" and the report says how many (``unclassified``).
    stored = stored_classes(store, workspace, (m["pk"] for m in mentions))
    classes = stored.classes
    # Links are not words: "twitter status photo" from every pasted URL would
    # top the keywords otherwise.
    tokens = [tokenize(_URL_RE.sub(" ", m["text"])) for m in mentions]
    exclude = query_words(selection_nodes(store, workspace, selection))
    # Strength's window: the 24 hours before the period's end, whatever the period
    # (with no bounds given, the end is just after the newest matching post).
    day_start = period.until - timedelta(hours=24)
    mentions_24h = count_posts(store, workspace, day_start, period.until, condition)
    posts_24h = count_posts(store, workspace, day_start, period.until)
    tz = ZoneInfo(period.timezone)
    # Authors named by handle, not a Jetstream post's DID: one lookup for the report.
    labels = AuthorLabels.of_authors(
        scope(store, workspace),
        ((m["network"], m["author_id"], m["author_handle"]) for m in mentions),
    )
    report: dict[str, Any] = {
        "selection": {"kind": selection.kind, "value": selection.value},
        "workspace": workspace,
        "period": {
            "since": rfc3339(period.since, exact=True),
            "until": rfc3339(period.until, exact=True),
            "timezone": period.timezone,
            "window": period.window,
        },
        "generated_at": rfc3339(datetime.now(UTC)),
    }
    report.update(
        scorecard(
            mentions,
            classes,
            tokens,
            mentions_24h=mentions_24h,
            posts_24h=posts_24h,
            exclude_words=exclude,
            limit=TOP,
            labels=labels,
        )
    )
    report["strength"]["window"] = {
        "since": rfc3339(day_start, exact=True),
        "until": rfc3339(period.until, exact=True),
    }
    # Reposts are matched by their original's text (query/reposts.py): say how many.
    report["reposts"] = sum(1 for m in mentions if m["repost_of"])
    report["unclassified"] = stored.unclassified
    # Each classifier's measured accuracy beside its figures (package data).
    accuracy = load_accuracy()
    report["accuracy"] = accuracy.to_dict()
    report["share_of_voice"] = share_of_voice(store, workspace, period.since, period.until)
    followers = _followers(store, workspace, {author_key(m) for m in mentions})
    report["who"] = who(mentions, followers, labels)
    report["what"] = {
        "terms": top_keywords(tokens, exclude, TOP * 2),
        "phrases": top_phrases(tokens, exclude, TOP * 2),
    }
    report["when"] = when(mentions, classes, period, tz)
    report["where"] = where(mentions, classes)
    report["why"] = why(mentions, classes, labels)
    report["why"]["accuracy"] = accuracy.note("intent")
    report["how"] = how(mentions, classes)
    report["extent"] = extent(mentions, followers)
    return report


def _followers(
    store: Store, workspace: str, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Followers and display names from the ``authors`` table (the newest
    profile the store has seen)."""
    profiles = WorkspacePosts(scope(store, workspace)).authors(keys)
    return {
        key: {"followers": profile.followers, "name": profile.display_name}
        for key, profile in profiles.items()
    }


def who(
    mentions: Sequence[Mention],
    followers: dict[tuple[str, str], dict[str, Any]],
    labels: AuthorLabels | None = None,
) -> list[dict[str, Any]]:
    """Top authors by how many times they mention it, with their followers."""
    labels = mention_labels(mentions, labels)
    per_author = Counter(author_key(m) for m in mentions)
    handle = {author_key(m): m["author_handle"] for m in mentions}
    name = {author_key(m): m["author_name"] for m in mentions}
    ranked = sorted(per_author.items(), key=lambda item: (-item[1], handle[item[0]], item[0]))
    return [
        {
            "handle": handle[key],
            "name": followers.get(key, {}).get("name") or name[key],
            "network": key[0],
            "author_id": key[1],
            **labels.fields(*key),
            "followers": followers.get(key, {}).get("followers"),
            "mentions": n,
        }
        for key, n in ranked[:TOP]
    ]


def when(
    mentions: Sequence[Mention], classes: Classes, period: Period, tz: ZoneInfo
) -> dict[str, Any]:
    times = [m["created_at"] for m in mentions]
    hours, days = by_hour_and_weekday(times, tz)
    negatives = [classes[m["pk"]]["sentiment"] == "negative" for m in mentions]
    volume = volume_series(times, negatives, period.since, period.until, tz)
    return {
        "timezone": period.timezone,
        "by_hour": hours,
        "by_weekday": dict(zip(WEEKDAYS, days, strict=True)),
        "volume": volume["series"],
        "bucket": volume["bucket"],
        "spikes": volume["spikes"],
    }


def where(mentions: Sequence[Mention], classes: Classes) -> dict[str, Any]:
    """Places (as the network names them), languages (the network's own field,
    else detected: ISO 639-1) and locales (language tags as the networks sent
    them, region included: en-us, pt-br)."""
    locales = [lang.lower() for m in mentions for lang in (m["langs"] or ())]
    return {
        "places": counted([m["place"] for m in mentions], limit=TOP),
        "languages": counted([classes[m["pk"]]["lang"] for m in mentions], key="lang"),
        "locales": counted(locales, key="locale", limit=TOP),
    }


def why(
    mentions: Sequence[Mention], classes: Classes, labels: AuthorLabels | None = None
) -> dict[str, Any]:
    """Intent breakdown with examples: the most engaged posts of each intent
    (by their own engagement: a repost carries its original's figures, so it
    ranks as 0 rather than as many copies of the original)."""
    labels = mention_labels(mentions, labels)
    counts = Counter(classes[m["pk"]]["intent"] for m in mentions)
    examples: dict[str, list[dict[str, Any]]] = {}
    for intent in INTENTS:
        chosen = sorted(
            (m for m in mentions if classes[m["pk"]]["intent"] == intent),
            key=lambda m: (-own_engagement(m), m["created_at"]),
        )[:EXAMPLES_PER_INTENT]
        if chosen:
            examples[intent] = [
                {
                    "network": m["network"],
                    "id": m["post_id"],
                    "url": m["url"],
                    "author": m["author_handle"],
                    "author_id": m["author_id"],
                    **labels.fields(m["network"], m["author_id"]),
                    "text": m["text"][:280],
                }
                for m in chosen
            ]
    return {"intents": {name: counts.get(name, 0) for name in INTENTS}, "examples": examples}


def how(mentions: Sequence[Mention], classes: Classes) -> dict[str, Any]:
    kinds = Counter(
        "repost"
        if m["repost_of"]
        else "reply"
        if m["reply_to"]
        else "quote"
        if m["quote_of"]
        else "original"
        for m in mentions
    )
    by_network: dict[str, Counter[str]] = {}
    for m in mentions:
        by_network.setdefault(m["network"], Counter())[classes[m["pk"]]["sentiment"]] += 1
    return {
        "networks": counted([m["network"] for m in mentions]),
        "kinds": {k: kinds.get(k, 0) for k in ("original", "reply", "repost", "quote")},
        "sentiment_by_network": {n: dict(sorted(c.items())) for n, c in sorted(by_network.items())},
    }


def extent(
    mentions: Sequence[Mention], followers: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    """Potential impressions: the sum of the followers of each unique author
    (an author counted once however often they post; unknown counts as 0,
    ``authors_with_followers`` says how many were known). Engagement: likes,
    reposts, replies and quotes, as last fetched, each post counted once
    (analyze/engagement.py; ``engagement_counting`` says how)."""
    authors = {author_key(m) for m in mentions}
    known = [
        followers[a]["followers"]
        for a in authors
        if followers.get(a, {}).get("followers") is not None
    ]
    return {
        "potential_impressions": sum(known),
        "authors": len(authors),
        "authors_with_followers": len(known),
        "engagement": engagement_totals(mentions),
        "engagement_counting": engagement_counting(mentions),
    }

"""The recap of a chat: one hashtag, one UTC day, one dict.

``build_recap`` gathers everything (the renderers in ``recap_html``,
``recap_markdown`` and ``recap_pdf`` only lay it out; ``--format json`` prints
it as it is). Definitions, repeated in docs/chats.md:

- participants: every distinct author (network + the network's stable id)
  who posted, replied or reposted with the hashtag that day, hosts included;
- new voices: participants with no post carrying the hashtag before that day;
- questions and answers: ``hubbub.chat.qa`` over the day's posts;
- top answers: answers with any engagement (likes + reposts + replies +
  quotes), most engaged first;
- unanswered: questions with no answer post;
- sentiment: the stored classification of every post (the pipeline
  classifies posts as they are stored; a recap only reads), overall and per
  bucket of the chat's time span; posts not classified yet count as
  ``unsupported`` and ``sentiment.unclassified`` says how many;
- reach: followers of the distinct participants the store has a profile for,
  potential impressions (each post × its author's followers), and engagement
  with each post counted once (a retweet carries its original's figures).

People are named as ``hubbub.author_labels`` names them: every post and
person carries ``author_id`` (the network's stable id: a Bluesky DID),
``author_handle`` (the handle the post or the store knows, else null) and
``author_label`` (``@handle``, else a shortened DID) beside the keys it had
before, which keep their values (``author``/``handle`` is the handle as
stored: the DID for a Jetstream post).

Posts a host removed from the room are left out of everything: the host took
them out of the chat.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hubbub.analyze.engagement import engagement_totals
from hubbub.author_labels import AuthorLabels
from hubbub.chat.qa import QA, build_qa, question_text
from hubbub.chat.repo import ChatRepo
from hubbub.post import Post, rfc3339
from hubbub.query.tokens import fold
from hubbub.store import Store

ENGAGEMENT = ("likes", "reposts", "replies", "quotes")
SENTIMENTS = ("positive", "neutral", "negative", "unsupported")
TOP_ANSWERS = 10
MOST_ACTIVE = 10
# A chat is about an hour: 5-minute buckets show how its mood moved. A day of
# posts in 5-minute buckets is noise, so longer spans get hourly buckets.
SHORT_SPAN = timedelta(hours=3)


class RecapError(ValueError):
    """A recap that cannot be made (no posts, a bad date)."""


class NoPosts(RecapError):
    """The hashtag has no stored posts at all."""


@dataclass(frozen=True, slots=True)
class Day:
    start: datetime  # 00:00 UTC, inclusive
    end: datetime  # next 00:00 UTC, exclusive


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise RecapError(f"not a day: {value!r} (use YYYY-MM-DD)") from None


def engagement(post: Post) -> int:
    return sum(int(post.metrics.get(name, 0) or 0) for name in ENGAGEMENT)


def author_key(post: Post) -> tuple[str, str]:
    return (post.network, post.author.id)


def author_fields(post: Post, labels: AuthorLabels) -> dict[str, Any]:
    """The author's id, the handle known for them (or None) and their label."""
    return {
        "author_id": post.author.id,
        "author_handle": labels.handle(post.network, post.author.id),
        "author_label": labels.label(post.network, post.author.id),
    }


def post_summary(post: Post, labels: AuthorLabels) -> dict[str, Any]:
    """A post as the recap shows it (text as posted: renderers escape it)."""
    url = post.url if post.url and post.url.startswith(("https://", "http://")) else None
    return {
        "id": post.id,
        "network": post.network,
        "author": post.author.handle,
        "author_name": post.author.display_name,
        **author_fields(post, labels),
        "text": post.text,
        "created_at": rfc3339(post.created_at),
        "url": url,
        "engagement": engagement(post),
    }


def build_recap(
    store: Store,
    tag: str,
    *,
    day: date | None = None,
    workspace: str = "default",
    visible: Callable[[list[Post]], list[Post]] | None = None,
) -> dict[str, Any]:
    """The day's recap; ``visible`` (the web room's rule: no held post, no
    hidden author) keeps only the posts readers of the room may see."""
    key = fold(tag.strip().lstrip("#"))
    if not key:
        raise RecapError("name the chat's hashtag")
    repo = ChatRepo(store, workspace)
    if day is None:
        newest = repo.newest_time(key)
        if newest is None:
            raise NoPosts(f"no stored posts with #{key}")
        day = newest.date()
    start = datetime.combine(day, time(0), tzinfo=UTC)
    span = Day(start, start + timedelta(days=1))
    removed = repo.removed(key)
    rows = [
        (pk, post)
        for pk, post in repo.posts(key, span.start, span.end)
        if (post.network, post.id) not in removed
    ]
    if visible is not None:
        shown = {(p.network, p.id) for p in visible([post for _pk, post in rows])}
        rows = [(pk, post) for pk, post in rows if (post.network, post.id) in shown]
    posts = [post for _pk, post in rows]
    hosts = repo.hosts(key)
    qa = build_qa(posts, hosts)
    labels = AuthorLabels.of_posts(store, workspace, posts)

    authors = {author_key(p): p for p in posts}  # the last post names the author
    before = repo.seen_before(key, span.start)
    new = sorted(
        (k for k in authors if k not in before), key=lambda k: _name_key(authors[k], labels)
    )
    followers = repo.followers(set(authors))

    from hubbub.classify.stored import stored_classes

    stored = stored_classes(store, workspace, (pk for pk, _post in rows))
    classes = stored.classes
    return {
        "tag": key,
        "day": day.isoformat(),
        "workspace": workspace,
        "generated_at": rfc3339(datetime.now(UTC)),
        "hosts": [{"network": n, "handle": h} for n, h in sorted(hosts)],
        "posts": len(posts),
        "questions": questions_json(qa, key, labels),
        "participants": participants(posts, labels),
        "new_voices": {
            "total": len(new),
            "people": [_person(authors[k], labels) for k in new],
        },
        "top_answers": top_answers(qa, labels),
        "unanswered": [
            {"number": q.number, "text": question_text(q.post.text, key)}
            for q in qa.questions
            if not q.answers
        ],
        "sentiment": {**sentiment(rows, classes), "unclassified": stored.unclassified},
        "reach": reach(posts, followers),
        "transcript": transcript(qa, key, labels),
    }


def _name_key(post: Post, labels: AuthorLabels) -> tuple[str, str, str]:
    """People in the order a reader reads them: by the label shown
    (``@handle`` or a short DID), case-folded; not by the stored handle,
    which for a Jetstream author is the DID."""
    label = labels.label(post.network, post.author.id)
    return (fold(label), post.network, post.author.id)


def _person(post: Post, labels: AuthorLabels) -> dict[str, Any]:
    return {
        "network": post.network,
        "author_id": post.author.id,
        "handle": post.author.handle,
        "name": post.author.display_name,
        "author_handle": labels.handle(post.network, post.author.id),
        "author_label": labels.label(post.network, post.author.id),
    }


def questions_json(qa: QA, tag: str, labels: AuthorLabels) -> list[dict[str, Any]]:
    return [
        {
            "number": q.number,
            "text": question_text(q.post.text, tag),
            "id": q.post.id,
            "network": q.post.network,
            "author": q.post.author.handle,
            **author_fields(q.post, labels),
            "created_at": rfc3339(q.post.created_at),
            "answer_count": len(q.answers),
            "answers": [a.id for a in q.answers],
        }
        for q in qa.questions
    ]


def participants(posts: list[Post], labels: AuthorLabels) -> dict[str, Any]:
    per_author = Counter(author_key(p) for p in posts)
    sample = {author_key(p): p for p in posts}
    by_network = Counter(network for network, _id in per_author)
    active = sorted(per_author.items(), key=lambda kv: (-kv[1], _name_key(sample[kv[0]], labels)))
    return {
        "total": len(per_author),
        "by_network": dict(sorted(by_network.items())),
        "most_active": [
            {**_person(sample[k], labels), "posts": n} for k, n in active[:MOST_ACTIVE]
        ],
    }


def top_answers(qa: QA, labels: AuthorLabels) -> list[dict[str, Any]]:
    scored = [
        (engagement(a), q.number, a) for q in qa.questions for a in q.answers if engagement(a) > 0
    ]
    scored.sort(key=lambda item: (-item[0], item[2].created_at, item[2].id))
    return [{**post_summary(a, labels), "question": n} for _e, n, a in scored[:TOP_ANSWERS]]


def transcript(qa: QA, tag: str, labels: AuthorLabels) -> list[dict[str, Any]]:
    """Each question with its answer posts, in the order they were written."""
    return [
        {
            "number": q.number,
            "text": question_text(q.post.text, tag),
            "question": post_summary(q.post, labels),
            "answers": [post_summary(a, labels) for a in q.answers],
        }
        for q in qa.questions
    ]


def sentiment(rows: list[tuple[int, Post]], classes: dict[int, dict[str, Any]]) -> dict[str, Any]:
    overall: Counter[str] = Counter(classes[pk]["sentiment"] for pk, _p in rows)
    out: dict[str, Any] = {name: overall.get(name, 0) for name in SENTIMENTS}
    if not rows:
        out.update(bucket_minutes=None, series=[])
        return out
    first = min(p.created_at for _pk, p in rows)
    last = max(p.created_at for _pk, p in rows)
    size = timedelta(minutes=5) if last - first <= SHORT_SPAN else timedelta(hours=1)
    origin = first.replace(minute=first.minute - first.minute % 5, second=0, microsecond=0)
    if size == timedelta(hours=1):
        origin = origin.replace(minute=0)
    count = int((last - origin) // size) + 1
    buckets: list[dict[str, Any]] = [
        {"start": rfc3339(origin + i * size), **dict.fromkeys(SENTIMENTS, 0), "score": None}
        for i in range(count)
    ]
    scores: list[list[float]] = [[] for _ in range(count)]
    for pk, post in rows:
        i = int((post.created_at - origin) // size)
        label = classes[pk]["sentiment"]
        buckets[i][label] += 1
        if label != "unsupported":
            scores[i].append(float(classes[pk]["sentiment_score"]))
    for bucket, values in zip(buckets, scores, strict=True):
        if values:
            bucket["score"] = round(sum(values) / len(values), 3)
    out.update(bucket_minutes=int(size.total_seconds() // 60), series=buckets)
    return out


def reach(posts: list[Post], followers: dict[tuple[str, str], int]) -> dict[str, Any]:
    authors = {author_key(p) for p in posts}
    # Each post counted once: a retweet carries its original's figures
    # (hubbub.analyze.engagement, the listening report's rule).
    counted = engagement_totals(
        [
            {"network": p.network, "post_id": p.id, "repost_of": p.repost_of, "metrics": p.metrics}
            for p in posts
        ]
    )
    totals = {name: counted[name] for name in ENGAGEMENT}
    return {
        "posts": len(posts),
        "authors": len(authors),
        "authors_with_followers": sum(1 for k in authors if k in followers),
        "followers": sum(followers.get(k, 0) for k in authors),
        "impressions": sum(followers.get(author_key(p), 0) for p in posts),
        "engagement": totals,
    }

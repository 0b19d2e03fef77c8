"""A repost is matched by its original: the post a query sees for a repost.

X's own search matches a retweet by the tweet it retweets (a retweet's own
text is ``RT @x: …`` cut at 140 characters and often loses the hashtag);
Mastodon reblogs carry no content of their own and Bluesky reposts have no
text at all. So every place that matches posts against a query (the store's
SQL search on both databases, the listening matcher, reports) matches a
repost as :func:`as_matched` says:

* text: the original's (a repost says nothing of its own);
* hashtags, mentions, languages: the repost's own plus the original's;
* everything else (author for ``from:``, network, ``is:repost``, links,
  media, time) stays the repost's own, so ``-is:repost`` still removes it.

A quote is not a repost: it matches by its own text only. When the original
is not known (not stored, or deleted), the repost matches as itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from hubbub.post import Post


def _union(own: tuple[str, ...], other: tuple[str, ...]) -> tuple[str, ...]:
    return own + tuple(value for value in other if value not in own)


def as_matched(post: Post, original: Post | None) -> Post:
    """The post that queries see for ``post``: itself, or for a repost of a
    known, live ``original`` the repost with the original's text and facets."""
    if post.repost_of is None or original is None or original.deleted or post.deleted:
        return post
    return dataclasses.replace(
        post,
        text=original.text,
        hashtags=_union(post.hashtags, original.hashtags),
        mentions=_union(post.mentions, original.mentions),
        langs=_union(post.langs, original.langs),
    )


def resolve_reposts(posts: Iterable[Post]) -> list[Post]:
    """Every post as queries see it, originals looked up among ``posts`` themselves."""
    listed = list(posts)
    by_key = {(p.network, p.id): p for p in listed}
    return [
        as_matched(p, by_key.get((p.network, p.repost_of))) if p.repost_of else p for p in listed
    ]

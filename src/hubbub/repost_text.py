"""How a repost with no text of its own is shown to a person.

A Bluesky repost (and a Mastodon reblog) carries no text: the search table
and the dashboard's preview showed it as a blank row. It is shown as what it
is, "↻ @alice reposted @bob: <the original's text>", or, when the original is
not stored, "↻ @alice reposted <the original's id> (not stored)". An X
retweet keeps its own text ("RT @bob: …"), which already says so.
"""

from __future__ import annotations

from hubbub.author_labels import AuthorLabels
from hubbub.post import Post

REPOST_MARK = "↻"


def needs_original(post: Post) -> bool:
    """A repost that has nothing of its own to show."""
    return bool(post.repost_of) and not post.text.strip()


def repost_text(post: Post, original: Post | None, labels: AuthorLabels) -> str:
    """The text shown for ``post``: its own, or for a repost without any, what
    it reposted (``labels`` must know both authors: AuthorLabels.of_posts over
    the posts and their originals)."""
    if not needs_original(post):
        return post.text
    who = labels.label(post.network, post.author.id)
    if original is None:
        return f"{REPOST_MARK} {who} reposted {post.repost_of} (not stored)"
    whom = labels.label(original.network, original.author.id)
    return f"{REPOST_MARK} {who} reposted {whom}: {original.text}"


__all__ = ["REPOST_MARK", "needs_original", "repost_text"]

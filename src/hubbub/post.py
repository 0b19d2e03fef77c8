"""The one shape every stage passes: Post and Author, plus the other things a
network payload can turn into (a deletion, a skipped non-post record).

Parsers in ``hubbub.formats`` build these from raw JSON; the store, the rooms,
listening and the inbox read them. Identity rules (see ``Post.id``):

- X: the tweet id; an edited tweet is keyed by the *first* id of its edit chain.
- Bluesky: the post's at-URI ``at://DID/app.bsky.feed.post/RKEY``.
- Mastodon: the status ``uri`` (global); the (server, local id) pair is an alias.
- web (the native room network): ``web:`` plus a unique id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Network = Literal["x", "bluesky", "mastodon", "web"]
NETWORKS: tuple[str, ...] = ("x", "bluesky", "mastodon", "web")


def utc(dt: datetime) -> datetime:
    """Return ``dt`` as an aware UTC datetime (naive input is taken as UTC)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def rfc3339(dt: datetime | None, *, millis: bool = False, exact: bool = False) -> str | None:
    """Format as RFC 3339 in UTC ending in ``Z``: seconds, milliseconds, or
    ``exact`` (microseconds when there are any, so exports lose nothing)."""
    if dt is None:
        return None
    dt = utc(dt)
    if exact and dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if millis:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str | None) -> datetime | None:
    """Parse the timestamps networks send (ISO 8601 / RFC 3339 with Z or offset,
    with or without fractions; X v1.1's ``Wed Oct 10 20:19:24 +0000 2018``)."""
    if not value:
        return None
    text = value.strip()
    try:
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        return utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):  # OverflowError: year 9999 with a negative offset
        pass
    try:
        return utc(datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y"))
    except (ValueError, OverflowError):
        return None


@dataclass(slots=True)
class Author:
    network: str
    id: str  # network's stable id: X user id, Bluesky DID, Mastodon account URI/``user@host``
    handle: str  # X username, Bluesky handle (DID when unknown), Mastodon ``user@host``
    display_name: str | None = None
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None
    created_at: datetime | None = None
    verified: bool | None = None
    avatar_url: str | None = None
    description: str | None = None
    url: str | None = None


@dataclass(slots=True)
class Post:
    network: str
    id: str
    author: Author
    text: str
    created_at: datetime
    url: str | None = None
    langs: tuple[str, ...] = ()
    reply_to: str | None = None  # id (same identity scheme) of the post replied to
    quote_of: str | None = None
    repost_of: str | None = None
    conversation_id: str | None = None  # X conversation id, Bluesky thread root, Mastodon: None
    hashtags: tuple[str, ...] = ()  # without '#', as written
    mentions: tuple[str, ...] = ()  # handles without '@'
    links: tuple[str, ...] = ()  # expanded where the payload expands them
    media_count: int = 0
    metrics: dict[str, int] = field(default_factory=dict)  # likes, reposts, replies, quotes, ...
    place: str | None = None  # human-readable place name
    sensitive: bool = False
    content_warning: str | None = None  # Mastodon spoiler_text, Bluesky label values
    source: str | None = None  # client app, e.g. "Twitter for Android"
    # Editing: ids of every version in order (X edit_history_tweet_ids); the
    # position of this payload's own id in that chain orders versions.
    edit_ids: tuple[str, ...] = ()
    version_id: str | None = None  # id of this particular version (X: the tweet id as sent)
    edited_at: datetime | None = None  # Mastodon edited_at / Bluesky update time
    withheld: str | None = None  # e.g. comma-separated country codes, or "copyright"
    deleted: bool = False
    seen_at: datetime | None = None  # when a stream saw it (Bluesky time_us), if known
    # (server, local id) pairs that also name this post (Mastodon); stored as "server/local".
    aliases: tuple[str, ...] = ()
    # Set by the parser for posts that were only embedded in another payload
    # (X includes.tweets, a quoted post): they may be less complete.
    embedded: bool = False
    matching_rules: tuple[str, ...] = ()  # X filtered-stream rule tags/ids that matched

    @property
    def is_reply(self) -> bool:
        return self.reply_to is not None

    @property
    def is_repost(self) -> bool:
        return self.repost_of is not None


@dataclass(slots=True)
class Deletion:
    """A network said a post is gone. Either ``id`` (identity) or ``alias``
    (Mastodon ``server/local-id``; server may be ``*`` when unknown) is set."""

    network: str
    id: str | None = None
    alias: str | None = None
    at: datetime | None = None


@dataclass(slots=True)
class Skipped:
    """A record that is valid but is not a post (a like, follow, count row...)."""

    kind: str


# An ``Author`` on its own is an identity record: what a network told us about
# an account without a post (a Bluesky identity event naming a DID's handle).
# The store counts it as skipped (it is not a post) but learns the handle.
Item = Post | Deletion | Skipped | Author

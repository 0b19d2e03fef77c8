"""X API v1.1 payloads → ``hubbub.post`` records (exposed as
``hubbub.formats.x.detect_v1`` / ``parse_v1``).

Reads a status (``statuses/show``), a list of statuses (home, user and
mentions timelines), a ``search/tweets`` body ``{statuses, search_metadata}``,
v1.1 error bodies and the streaming API's notices (``delete``, ``limit``…).
A status's ``retweeted_status`` and ``quoted_status`` become posts of their
own, marked ``embedded``.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from hubbub.formats import BadPost, Context, FormatError, bad_post, finish
from hubbub.formats.x_common import (
    NETWORK,
    created_at,
    dicts,
    expand_text,
    int_or_none,
    langs,
    links,
    mapping,
    metrics,
    millis_time,
    post_url,
    profile_url,
    source_name,
    str_id,
    text_or_none,
    unique,
    withheld,
)
from hubbub.formats.x_entities import TextEntities, from_text
from hubbub.post import Author, Deletion, Item, Post, Skipped, parse_time

_METRICS = {
    "favorite_count": "likes",
    "retweet_count": "reposts",
    "reply_count": "replies",  # premium/enterprise payloads only
    "quote_count": "quotes",  # premium/enterprise payloads only
}
# See x.py: keys of Mastodon and Bluesky objects that a v1.1 status never has.
_FOREIGN_KEYS = frozenset(
    {"uri", "cid", "account", "content", "acct", "did", "time_us", "record", "$type"}
)
# Streaming API control messages: one key, an object value.
_NOTICES = frozenset(
    {"delete", "limit", "scrub_geo", "status_withheld", "user_withheld", "disconnect", "warning"}
)


def _is_status(obj: Any) -> TypeGuard[dict[str, Any]]:
    if not isinstance(obj, dict) or obj.keys() & _FOREIGN_KEYS:
        return False
    if not isinstance(obj.get("user"), dict):
        return False
    if not isinstance(obj.get("id_str"), str) and not isinstance(obj.get("id"), int):
        return False
    return isinstance(obj.get("full_text"), str) or isinstance(obj.get("text"), str)


def _non_post_kind(obj: Any) -> str | None:
    """'user' or 'list' for a v1.1 user or List object (users/show, lists/show): valid, not a post."""
    if not isinstance(obj, dict) or obj.keys() & _FOREIGN_KEYS or "text" in obj:
        return None
    if not isinstance(obj.get("id_str"), str) and not isinstance(obj.get("id"), int):
        return None
    if isinstance(obj.get("screen_name"), str) and "user" not in obj:
        return "user"
    if isinstance(obj.get("slug"), str) and "member_count" in obj:
        return "list"
    return None


def _non_posts(obj: Any) -> list[str] | None:
    """Kinds of a lone v1.1 user/list object or a non-empty array of them; else None."""
    if isinstance(obj, list):
        kinds = [_non_post_kind(o) for o in obj]
        return [k for k in kinds if k] if obj and all(kinds) else None
    kind = _non_post_kind(obj)
    return [kind] if kind else None


def _is_errors(obj: dict[str, Any]) -> bool:
    """``{"errors": [{"code": 88, "message": "Rate limit exceeded"}]}``."""
    items = obj.get("errors")
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(e, dict) and isinstance(e.get("code"), int) for e in items)
        and "data" not in obj
    )


def _notice(obj: dict[str, Any]) -> str | None:
    if len(obj) == 1:
        ((key, body),) = obj.items()
        if key in _NOTICES and isinstance(body, dict):
            return key
    return None


def _statuses(obj: Any) -> list[Any] | None:
    """The statuses in a timeline or search body, or None if it is neither."""
    if isinstance(obj, list):
        # An empty timeline is a real v1.1 response (mentions_timeline: []).
        return obj if all(_is_status(s) for s in obj) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("statuses"), list):
        return None
    statuses: list[Any] = obj["statuses"]
    # Mastodon's /api/v2/search also has "statuses" (next to accounts/hashtags).
    if obj.keys() & {"accounts", "hashtags"} or not all(_is_status(s) for s in statuses):
        return None
    if statuses or isinstance(obj.get("search_metadata"), dict):
        return statuses
    return None


def detect_v1(obj: Any) -> bool:
    """Is ``obj`` an X API v1.1 value (status, timeline, search body, notice)?"""
    if _statuses(obj) is not None or _is_status(obj) or _non_posts(obj) is not None:
        return True
    return isinstance(obj, dict) and (_is_errors(obj) or _notice(obj) is not None)


def parse_v1(obj: Any, ctx: Context) -> list[Item]:
    statuses = _statuses(obj)
    if statuses is None and _is_status(obj):
        statuses = [obj]
    if statuses is not None:
        out: list[Item] = []
        problems: list[BadPost] = []
        seen: set[str] = set()
        for status in statuses:
            try:
                _walk(status, out, seen, embedded=False)
            except Exception as exc:  # noqa: BLE001 - one bad status must not lose its timeline
                post = str_id(status.get("id_str")) or str_id(status.get("id"))
                problems.append(bad_post("X", post, exc))
        return finish(out, problems, ctx)
    non_posts = _non_posts(obj)
    if non_posts is not None:
        return [Skipped(kind) for kind in non_posts]
    if isinstance(obj, dict) and _is_errors(obj):
        return [Skipped("error")]
    notice = _notice(obj) if isinstance(obj, dict) else None
    if notice == "delete":
        return [_deletion(obj["delete"])]
    if notice is not None:
        return [Skipped(notice)]
    raise FormatError("not an X API v1.1 payload")


def _walk(status: dict[str, Any], out: list[Item], seen: set[str], *, embedded: bool) -> None:
    """Append ``status`` and the statuses it carries (retweeted, quoted)."""
    status_id = _own_id(status)
    if status_id not in seen:
        seen.add(status_id)
        out.append(_post(status, embedded=embedded))
    for key in ("retweeted_status", "quoted_status"):
        inner = status.get(key)
        if _is_status(inner):
            _walk(inner, out, seen, embedded=True)


def _own_id(status: dict[str, Any]) -> str:
    status_id = str_id(status.get("id_str")) or str_id(status.get("id"))
    if status_id is None:
        raise FormatError("X v1.1 status without a usable id")
    return status_id


def _chain(status: dict[str, Any]) -> tuple[str, ...]:
    """Edit chain from ``edit_history`` (v1.1 payloads since edits shipped)."""
    ids = mapping(status.get("edit_history")).get("edit_tweet_ids")
    if not isinstance(ids, list):
        return ()
    return tuple(i for i in (str_id(x) for x in ids) if i)


def _identity(status: Any, fallback: str | None) -> str | None:
    """Post id of an embedded status (its edit chain's head when edited)."""
    if not _is_status(status):
        return fallback
    chain = _chain(status)
    return chain[0] if len(chain) > 1 else _own_id(status)


def _post(status: dict[str, Any], *, embedded: bool) -> Post:
    status_id = _own_id(status)
    extended = mapping(status.get("extended_tweet"))
    # Compatibility mode cuts text at 140 characters and puts the whole post
    # (with its own entities) in extended_tweet; extended mode sends full_text.
    if isinstance(extended.get("full_text"), str):
        raw: str = extended["full_text"]
        entities = mapping(extended.get("entities"))
        extra = mapping(extended.get("extended_entities"))
    else:
        full = status.get("full_text")
        raw = full if isinstance(full, str) else status["text"]
        entities = mapping(status.get("entities"))
        extra = mapping(status.get("extended_entities"))
    url_entities = dicts(entities.get("urls"))
    media = dicts(extra.get("media")) or dicts(entities.get("media"))
    chain = _chain(status)
    user = mapping(status.get("user"))
    author = _author(user)
    place = mapping(status.get("place"))
    reposted = _is_status(status.get("retweeted_status"))
    quoted_id = str_id(status.get("quoted_status_id_str")) or str_id(status.get("quoted_status_id"))
    text = expand_text(raw, url_entities + media)
    found = _entities(entities, url_entities, text)
    reply_id = str_id(status.get("in_reply_to_status_id_str")) or str_id(
        status.get("in_reply_to_status_id")
    )
    return Post(
        network=NETWORK,
        id=chain[0] if len(chain) > 1 else status_id,
        author=author,
        # Media t.co links are replaced too (by the media permalink), like v2.
        # display_text_range is not applied: v2 text also keeps the leading
        # @replies and trailing links, and the two formats should agree.
        text=text,
        created_at=created_at(status.get("created_at"), status_id),
        url=post_url(author.handle if author.url else None, status_id),
        langs=langs(status.get("lang")),
        reply_to=reply_id,
        # A retweet of a quote carries the quoted status too, but the quote is
        # the retweeted post's; v2 gives such a retweet only "retweeted".
        quote_of=None if reposted else _identity(status.get("quoted_status"), quoted_id),
        repost_of=_identity(status.get("retweeted_status"), None),
        hashtags=found.hashtags,
        mentions=found.mentions,
        links=found.links,
        media_count=len(media),
        metrics=metrics(status, _METRICS),
        place=text_or_none(place.get("full_name")),
        sensitive=status.get("possibly_sensitive") is True,
        source=source_name(status.get("source")),
        edit_ids=chain if len(chain) > 1 else (),
        version_id=status_id,
        withheld=withheld(status.get("withheld_copyright"), status.get("withheld_in_countries")),
        embedded=embedded,
    )


def _entities(
    entities: dict[str, Any], url_entities: list[dict[str, Any]], text: str
) -> TextEntities:
    """The status's hashtags, mentions and links. v1.1 always sends entities,
    but a trimmed or hand-made status may not: then they are read from the
    text, as the v2 parser does for a tweet fetched without them."""
    if not entities:
        return from_text(text)
    return TextEntities(
        hashtags=unique(h.get("text") for h in dicts(entities.get("hashtags"))),
        mentions=unique(m.get("screen_name") for m in dicts(entities.get("user_mentions"))),
        links=links(url_entities),
    )


def _author(user: dict[str, Any]) -> Author:
    user_id = str_id(user.get("id_str")) or str_id(user.get("id")) or ""
    screen_name = text_or_none(user.get("screen_name"))
    description = text_or_none(user.get("description"))
    bio_urls = dicts(mapping(mapping(user.get("entities")).get("description")).get("urls"))
    verified = user.get("verified")
    return Author(
        network=NETWORK,
        id=user_id,
        handle=screen_name or user_id,
        display_name=text_or_none(user.get("name")),
        followers=int_or_none(user.get("followers_count")),
        following=int_or_none(user.get("friends_count")),
        posts_count=int_or_none(user.get("statuses_count")),
        created_at=parse_time(text_or_none(user.get("created_at"))),
        verified=verified if isinstance(verified, bool) else None,
        avatar_url=text_or_none(user.get("profile_image_url_https"))
        or text_or_none(user.get("profile_image_url")),
        description=expand_text(description, bio_urls) if description else None,
        url=profile_url(screen_name),
    )


def _deletion(body: dict[str, Any]) -> Item:
    """``{"status": {"id_str": …, "user_id_str": …}, "timestamp_ms": …}``."""
    status = mapping(body.get("status"))
    status_id = str_id(status.get("id_str")) or str_id(status.get("id"))
    if status_id is None:
        raise FormatError("X v1.1 delete notice without a status id")
    return Deletion(NETWORK, id=status_id, at=millis_time(body.get("timestamp_ms")))

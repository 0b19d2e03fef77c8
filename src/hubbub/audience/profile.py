"""One shape for an account profile, whatever network it came from.

``parse_profiles`` reads what the networks send for an account: X API v2
user objects (alone, or in twarc2 pages under ``data`` / ``includes.users``),
X v1.1 user objects, Mastodon Account entities and Bluesky profile views
(``app.bsky.actor.defs#profileView*``). Fields a network does not publish are
None, never guessed: a Bluesky profile view carries no follower count unless
it is the detailed view.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True, slots=True)
class Profile:
    network: str  # x | bluesky | mastodon
    id: str
    handle: str
    name: str
    description: str
    created_at: datetime | None
    fetched_at: datetime | None
    posts: int | None
    followers: int | None
    following: int | None
    default_avatar: bool | None
    has_url: bool
    declared_bot: bool  # the network (or the account) says it is automated
    declared_by: str | None = None  # where that came from, in words
    # X only: likes given (v1.1 favourites_count, v2 public_metrics.like_count
    # where the response has it) and lists the account is on. None elsewhere;
    # the X model is applied only when both are known (bot_model.score).
    likes: int | None = None
    listed: int | None = None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_time(value: object) -> datetime | None:
    """ISO 8601 (X v2, Mastodon, Bluesky), X v1.1's 'Tue May 13 10:37:57 +0000 2014',
    or 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None:
        try:
            parsed = datetime.strptime(text, "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError):
                return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _truthy(value: object) -> bool:
    return value in (True, 1, "1", "true", "True")


def _x_v2(obj: Mapping[str, object], fetched_at: datetime | None) -> Profile:
    metrics = obj.get("public_metrics")
    metrics = metrics if isinstance(metrics, Mapping) else {}
    image = str(obj.get("profile_image_url") or "")
    return Profile(
        network="x",
        id=str(obj.get("id")),
        handle=str(obj.get("username") or ""),
        name=str(obj.get("name") or ""),
        description=str(obj.get("description") or ""),
        created_at=parse_time(obj.get("created_at")),
        fetched_at=fetched_at,
        posts=_int(metrics.get("tweet_count")),
        followers=_int(metrics.get("followers_count")),
        following=_int(metrics.get("following_count")),
        default_avatar=("default_profile_images" in image) if image else None,
        has_url=bool(obj.get("url")),
        declared_bot=False,
        likes=_int(metrics.get("like_count")),
        listed=_int(metrics.get("listed_count")),
    )


def _x_v1(obj: Mapping[str, object], fetched_at: datetime | None) -> Profile:
    image = str(obj.get("profile_image_url_https") or obj.get("profile_image_url") or "")
    default_image = obj.get("default_profile_image")
    return Profile(
        network="x",
        id=str(obj.get("id_str") or obj.get("id")),
        handle=str(obj.get("screen_name") or ""),
        name=str(obj.get("name") or ""),
        description=str(obj.get("description") or ""),
        created_at=parse_time(obj.get("created_at")),
        fetched_at=fetched_at,
        posts=_int(obj.get("statuses_count")),
        followers=_int(obj.get("followers_count")),
        following=_int(obj.get("friends_count")),
        default_avatar=_truthy(default_image)
        if default_image not in (None, "")
        else (("default_profile_images" in image) if image else None),
        has_url=bool(obj.get("url")),
        declared_bot=False,
        likes=_int(obj.get("favourites_count")),
        listed=_int(obj.get("listed_count")),
    )


def _mastodon(obj: Mapping[str, object], fetched_at: datetime | None) -> Profile:
    avatar = str(obj.get("avatar") or "")
    bot = obj.get("bot") is True
    return Profile(
        network="mastodon",
        id=str(obj.get("id")),
        handle=str(obj.get("acct") or obj.get("username") or ""),
        name=str(obj.get("display_name") or ""),
        description=str(obj.get("note") or ""),
        created_at=parse_time(obj.get("created_at")),
        fetched_at=fetched_at,
        posts=_int(obj.get("statuses_count")),
        followers=_int(obj.get("followers_count")),
        following=_int(obj.get("following_count")),
        default_avatar=("missing.png" in avatar) if avatar else None,
        has_url=bool(obj.get("fields")),
        declared_bot=bot,
        declared_by="the account is marked as a bot on Mastodon" if bot else None,
    )


_BSKY_BOT_LABELS = ("bot", "automated", "!automated")


def _bluesky(obj: Mapping[str, object], fetched_at: datetime | None) -> Profile:
    labels = obj.get("labels")
    names = [
        str(label.get("val"))
        for label in (labels if isinstance(labels, list) else [])
        if isinstance(label, Mapping)
    ]
    bot_label = next((n for n in names if n in _BSKY_BOT_LABELS), None)
    return Profile(
        network="bluesky",
        id=str(obj.get("did")),
        handle=str(obj.get("handle") or ""),
        name=str(obj.get("displayName") or ""),
        description=str(obj.get("description") or ""),
        created_at=parse_time(obj.get("createdAt")),
        fetched_at=fetched_at,
        posts=_int(obj.get("postsCount")),
        followers=_int(obj.get("followersCount")),
        following=_int(obj.get("followsCount")),
        # A profile view without 'avatar' has none: the default picture.
        default_avatar=not bool(obj.get("avatar")),
        has_url=False,
        declared_bot=bot_label is not None,
        declared_by=f"labelled '{bot_label}' on Bluesky" if bot_label else None,
    )


def profile_from_object(
    obj: Mapping[str, object], fetched_at: datetime | None = None
) -> Profile | None:
    """The Profile an account object describes, or None if it is not one."""
    if isinstance(obj.get("did"), str) and "handle" in obj:
        return _bluesky(obj, fetched_at)
    if "acct" in obj and "statuses_count" in obj:
        return _mastodon(obj, fetched_at)
    if "screen_name" in obj and ("id_str" in obj or "id" in obj):
        return _x_v1(obj, fetched_at)
    if "username" in obj and "id" in obj and ("public_metrics" in obj or "created_at" in obj):
        return _x_v2(obj, fetched_at)
    return None


def profiles_in_document(doc: object) -> Iterator[Mapping[str, object]]:
    """Account objects in one JSON document: the object itself, a list, a
    twarc2 page (``data`` users, ``includes.users``), ``actors``/``profiles``."""
    if isinstance(doc, list):
        for item in doc:
            if isinstance(item, Mapping):
                yield item
        return
    if not isinstance(doc, Mapping):
        return
    if profile_from_object(doc) is not None:
        yield doc
        return
    for key in ("data", "actors", "profiles", "accounts", "users"):
        value = doc.get(key)
        if isinstance(value, list):
            yield from (v for v in value if isinstance(v, Mapping))
        elif isinstance(value, Mapping) and key == "data":
            yield value
    includes = doc.get("includes")
    if isinstance(includes, Mapping) and isinstance(includes.get("users"), list):
        yield from (u for u in includes["users"] if isinstance(u, Mapping))


def fetched_time(doc: object) -> datetime | None:
    """When a document says it was fetched (twarc2's ``__twarc.retrieved_at``)."""
    if isinstance(doc, Mapping):
        meta = doc.get("__twarc")
        if isinstance(meta, Mapping):
            return parse_time(meta.get("retrieved_at"))
    return None

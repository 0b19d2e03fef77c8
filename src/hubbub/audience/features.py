"""Features of an account for the bot / fake score, from its profile alone.

Only what every network publishes is used, so a model trained on X profiles
(the Cresci 2017 data) can be applied to Bluesky and Mastodon accounts:
counts of posts, followers and following, the account's age and posting rate
at the time the profile was fetched, the default avatar, an empty bio, a
profile link, the shape of the handle and the name, and the bio's length,
hashtags and links: the cross-network model. Likes and list counts (X only)
are added for the X model (``featurise_x``), applied only to profiles that
carry both. A missing value is -1 (trees split it off; it never looks like a
real zero).

Left out on purpose, because they are artefacts of the 2014-2015 training
data that would not hold on today's accounts (docs/audience.md): the
account's language and time zone (the spambots in the file are Italian), the
profile colours and theme defaults of 2014, geo_enabled, and the verified
badge (notability then, a subscription now).
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from hubbub.audience.profile import Profile

FEATURES = (
    "log_posts",
    "log_followers",
    "log_following",
    "follower_ratio",
    "log_age_days",
    "log_posts_per_day",
    "default_avatar",
    "empty_bio",
    "has_url",
    "handle_digits",
    "handle_trailing_digits",
    "handle_length",
    "name_is_handle",
    "name_digits",
    "name_length",
    "bio_length",
    "bio_hashtags",
    "bio_links",
)
# The X model: the cross-network features and what only X publishes.
X_FEATURES = (
    *FEATURES,
    "log_likes",
    "log_listed",
    "likes_per_post",
    "listed_per_follower",
)
MISSING = -1.0

_TRAILING_DIGITS = re.compile(r"(\d+)$")


def _log(value: int | None) -> float:
    return math.log1p(value) if value is not None else MISSING


def age_days(profile: Profile, now: datetime | None = None) -> float | None:
    if profile.created_at is None:
        return None
    at = profile.fetched_at or now or datetime.now(UTC)
    return max(0.0, (at - profile.created_at).total_seconds() / 86400.0)


def featurise(profile: Profile, now: datetime | None = None) -> list[float]:
    days = age_days(profile, now)
    handle = (
        profile.handle.split("@")[0].split(".")[0] if profile.network != "x" else profile.handle
    )
    trailing = _TRAILING_DIGITS.search(handle)
    if profile.followers is not None and profile.following is not None:
        ratio = math.log((profile.followers + 1) / (profile.following + 1))
    else:
        ratio = MISSING
    if days is not None and profile.posts is not None:
        per_day = math.log1p(profile.posts / max(days, 1.0))
    else:
        per_day = MISSING
    name = profile.name.strip()
    return [
        _log(profile.posts),
        _log(profile.followers),
        _log(profile.following),
        ratio,
        math.log1p(days) if days is not None else MISSING,
        per_day,
        MISSING if profile.default_avatar is None else float(profile.default_avatar),
        float(not profile.description.strip()),
        float(profile.has_url),
        float(sum(c.isdigit() for c in handle)),
        float(len(trailing.group(1))) if trailing else 0.0,
        float(len(handle)),
        float(bool(name) and name.lower().replace(" ", "") == handle.lower()),
        float(sum(c.isdigit() for c in name)),
        float(len(name)),
        float(len(profile.description)),
        float(profile.description.count("#")),
        float(profile.description.count("http")),
    ]


def has_x_counts(profile: Profile) -> bool:
    """Whether the X model applies: an X profile with like and list counts."""
    return profile.network == "x" and profile.likes is not None and profile.listed is not None


def featurise_x(profile: Profile, now: datetime | None = None) -> list[float]:
    """``featurise`` plus likes and lists; call only when ``has_x_counts``."""
    likes, listed = _log(profile.likes), _log(profile.listed)
    posts, followers = _log(profile.posts), _log(profile.followers)
    # Log-ratios: likes given per post written, lists per follower (both
    # near zero for accounts that only broadcast). Missing stays missing.
    per_post = likes - posts if MISSING not in (likes, posts) else MISSING
    per_follower = listed - followers if MISSING not in (listed, followers) else MISSING
    return [*featurise(profile, now), likes, listed, per_post, per_follower]

"""Helpers shared by the X v2 (``x``) and v1.1 (``x_v1``) parsers.

Everything here is about turning X's wire conventions into plain values:
t.co links, HTML-escaped text, snowflake ids, language pseudo-codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from hubbub.formats import PostError, shown
from hubbub.post import parse_time

NETWORK = "x"
SITE = "https://x.com"

# X's own "no language" codes: und (undetermined) plus the pseudo-languages it
# assigns to posts with no real prose (qme media only, qht hashtags only, qam
# mentions only, qct cashtags only, qst very short text, zxx no linguistic
# content). Reporting them as languages would pollute language filters.
NO_LANGUAGE = frozenset({"und", "qam", "qct", "qht", "qme", "qst", "zxx"})

# Snowflake ids (used since 2010-11-04) carry their creation time in the top
# bits: milliseconds since this epoch, shifted left by 22.
_SNOWFLAKE_EPOCH_MS = 1288834974657
# The last id handed out before snowflakes; ids at or below it are sequential.
_LAST_SEQUENTIAL_ID = 29_700_859_247

_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
# X escapes exactly these three in post text (and every '&' it sends is part
# of one), so a single pass over them restores what the author typed.
_X_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITY_CHARS = {"amp": "&", "lt": "<", "gt": ">"}
_HTML_TAG = re.compile(r"<[^>]*>")


def str_id(value: Any) -> str | None:
    """An X id as a string (v1.1 sends ints next to ``*_str`` twins)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return value
    return None


def is_id(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit()


def dicts(value: Any) -> list[dict[str, Any]]:
    """The dict members of ``value`` when it is a list (payloads are sloppy)."""
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """Non-empty strings in first-seen order, each once."""
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and value:
            seen.setdefault(value, None)
    return tuple(seen)


def unescape(text: str) -> str:
    return _X_ENTITY.sub(lambda m: _ENTITY_CHARS[m.group(1)], text)


def expand_text(text: str, url_entities: Iterable[Mapping[str, Any]]) -> str:
    """Plain text: X's HTML escapes undone and t.co links replaced by the
    ``expanded_url`` the payload gives for them (unknown t.co links stay)."""
    targets: dict[str, str] = {}
    for entity in url_entities:
        short, long = entity.get("url"), entity.get("expanded_url")
        if isinstance(short, str) and isinstance(long, str) and long:
            targets.setdefault(short, long)
    # Unescape first: expanded URLs are not HTML-escaped and may contain '&'.
    plain = unescape(text)
    if not targets:
        return plain
    return _TCO.sub(lambda m: targets.get(m.group(0), m.group(0)), plain)


def is_media_url(entity: Mapping[str, Any]) -> bool:
    """Is this URL entity just the link to the post's own attached media?"""
    if entity.get("media_key"):
        return True
    display = entity.get("display_url")
    return isinstance(display, str) and display.startswith(("pic.twitter.com/", "pic.x.com/"))


def link_of(entity: Mapping[str, Any]) -> str | None:
    """Best expanded form of a URL entity: unwound (v2 ``unwound_url``, v1.1
    enterprise ``unwound.url``) when X resolved redirects, else ``expanded_url``."""
    unwound = entity.get("unwound_url")
    if not isinstance(unwound, str):
        unwound = mapping(entity.get("unwound")).get("url")
    if isinstance(unwound, str) and unwound:
        return unwound
    expanded = entity.get("expanded_url")
    return expanded if isinstance(expanded, str) and expanded else None


def links(url_entities: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return unique(link_of(e) for e in url_entities if not is_media_url(e))


def langs(lang: Any) -> tuple[str, ...]:
    if isinstance(lang, str) and lang and lang not in NO_LANGUAGE:
        return (lang,)
    return ()


def snowflake_time(post_id: str) -> datetime | None:
    """Creation time encoded in a snowflake id (None for pre-2010 ids)."""
    number = int(post_id)
    if number <= _LAST_SEQUENTIAL_ID:
        return None
    millis = (number >> 22) + _SNOWFLAKE_EPOCH_MS
    try:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):  # a hostile id of 30 digits
        return None


def created_at(value: Any, post_id: str) -> datetime:
    """``created_at`` as sent. X v2 sends it only when ``tweet.fields`` asks
    for it (the default fields are id and text), so real responses lack it:
    then, or when it is not a time, the time is the one X encoded in the
    snowflake id when it made the post (to the millisecond, the same clock
    X's own created_at comes from). Only a pre-snowflake id (before
    2010-11-04) carries no time, and such a post is refused with this field
    named, rather than dated to when it was fetched."""
    when = parse_time(value) if isinstance(value, str) else None
    if when is None:
        when = snowflake_time(post_id)
    if when is None:
        said = "no created_at" if value is None else f"created_at {shown(value)} is not a time"
        raise PostError(
            f"{said}, and id {post_id} is older than snowflake ids (2010-11-04), "
            "so it does not encode one",
            field="created_at",
        )
    return when


def withheld(copyright_: Any, countries: Any) -> str | None:
    if copyright_ is True:
        return "copyright"
    if isinstance(countries, list):
        return ",".join(c for c in countries if isinstance(c, str) and c) or None
    return None


def source_name(value: Any) -> str | None:
    """v2 sends the client name; v1.1 an ``<a href=…>Name</a>`` anchor."""
    if not isinstance(value, str) or not value:
        return None
    return unescape(_HTML_TAG.sub("", value)).strip() or None


def metrics(counts: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, int]:
    """Rename the counters present in ``counts`` (only keys that are there)."""
    out: dict[str, int] = {}
    for wire, ours in names.items():
        value = counts.get(wire)
        if isinstance(value, int) and not isinstance(value, bool):
            out[ours] = value
    return out


def post_url(handle: str | None, post_id: str) -> str:
    return f"{SITE}/{handle or 'i'}/status/{post_id}"


def profile_url(handle: str | None) -> str | None:
    return f"{SITE}/{handle}" if handle else None


def int_or_none(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def bool_or_none(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def millis_time(value: Any) -> datetime | None:
    """v1.1 stream ``timestamp_ms`` (a string of epoch milliseconds)."""
    number = str_id(value)
    if number is None:
        return None
    return datetime.fromtimestamp(int(number) / 1000, tz=UTC)

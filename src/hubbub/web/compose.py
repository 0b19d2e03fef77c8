"""Writing into a room: the hashtag appended once, per-network lengths, and the
``web`` Post that goes into the pipeline. ``static/room.js`` mirrors the
length rules so the counter a user sees matches what the server enforces.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime

from hubbub.post import Author, Post
from hubbub.query.tokens import fold
from hubbub.tags import is_tag

LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500}
MAX_WEB_TEXT = 500  # a web post must fit the longest network it may be cross-posted to
MAX_NAME = 50
X_URL_LENGTH = 23  # X counts every link as a t.co link
_URL_RE = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_TAG_RE = re.compile(r"(?<![\w&])#([^\s#.,!?;:()\[\]{}\"'<>]+)")
# twitter-text v3: these code point ranges weigh 1, everything else 2.
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def hashtags(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.group(1) for m in _TAG_RE.finditer(text)))


def room_tags(text: str) -> tuple[str, ...]:
    """The rooms a post with ``text`` lands in: its hashtags that are room
    keys once folded (others, like ``#a-b``, can never be a room). Folded as
    the pipeline routes posts (``post_tags``): no hashtag the rooms receive
    is skipped here, however long its raw form."""
    out: dict[str, None] = {}
    for tag in hashtags(text):
        key = fold(tag)
        if is_tag(key):
            out[key] = None
    return tuple(out)


def with_hashtag(text: str, tag: str) -> str:
    """``text`` ending in ``#tag`` unless it already has that hashtag (once)."""
    text = text.strip()
    want = fold(tag.lstrip("#"))
    if any(fold(t) == want for t in hashtags(text)):
        return text
    return f"{text} #{tag.lstrip('#')}" if text else f"#{tag.lstrip('#')}"


def x_length(text: str) -> int:
    """X's weighted length: links 23, CJK and other wide characters 2."""
    total = 0
    pos = 0
    for m in _URL_RE.finditer(text):
        total += _x_weight(text[pos : m.start()]) + X_URL_LENGTH
        pos = m.end()
    return total + _x_weight(text[pos:])


def _x_weight(text: str) -> int:
    total = 0
    for ch in unicodedata.normalize("NFC", text):
        cp = ord(ch)
        total += 1 if any(lo <= cp <= hi for lo, hi in _X_LIGHT) else 2
    return total


def grapheme_length(text: str) -> int:
    """Approximate user-perceived characters (Bluesky counts graphemes): a
    base character with its combining marks, joiners and variation selectors."""
    count = 0
    joined = False
    for ch in text:
        cat = unicodedata.category(ch)
        if count and (cat in ("Mn", "Me", "Mc") or ch in "\u200d\ufe0f\ufe0e" or joined):
            joined = ch == "\u200d"
            continue
        if 0x1F3FB <= ord(ch) <= 0x1F3FF and count:  # skin-tone modifiers
            continue
        count += 1
        joined = False
    return count


def lengths(text: str) -> dict[str, int]:
    return {"x": x_length(text), "bluesky": grapheme_length(text), "mastodon": len(text)}


def clean_name(name: str) -> str:
    """A guest's display name: one line, no control characters, bounded."""
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" or ch == "\u200d")
    return " ".join(name.split())[:MAX_NAME]


def web_post(
    text: str,
    tag: str,
    *,
    author_id: str,
    handle: str,
    display_name: str | None,
    reply_to: str | None = None,
) -> Post:
    """The Post a room member writes (network ``web``, id ``web:`` + uuid)."""
    text = with_hashtag(text, tag)
    return Post(
        network="web",
        id="web:" + uuid.uuid4().hex,
        author=Author(network="web", id=author_id, handle=handle, display_name=display_name),
        text=text,
        created_at=datetime.now(UTC),
        hashtags=hashtags(text),
        reply_to=reply_to,
    )

"""Bluesky rich text: facets (links, hashtags, mentions) over a post's text.

A facet's ``index`` is ``{byteStart, byteEnd}`` in **UTF-8 bytes** of the text
(``app.bsky.richtext.facet#byteSlice``), not Python characters: any non-ASCII
character before a facet would shift a ``str`` slice. Offsets come from
whatever client wrote the record, so they may be out of range or fall inside a
multi-byte character; such a facet is ignored rather than trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_LINK = "app.bsky.richtext.facet#link"
_MENTION = "app.bsky.richtext.facet#mention"
_TAG = "app.bsky.richtext.facet#tag"

# atproto handle syntax: dot-separated DNS labels, the last not starting with a digit.
_HANDLE_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)


@dataclass(slots=True, frozen=True)
class RichText:
    links: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()


def _offset(value: Any) -> int | None:
    # bool is an int subclass; a JSON true is not an offset.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def byte_slice(data: bytes, index: Any) -> str | None:
    """The text a facet ``index`` covers in ``data`` (the UTF-8 encoded post
    text), or None when the offsets are missing, out of range, reversed or cut
    a character in half."""
    if not isinstance(index, dict):
        return None
    start = _offset(index.get("byteStart"))
    end = _offset(index.get("byteEnd"))
    if start is None or end is None or not 0 <= start <= end <= len(data):
        return None
    try:
        # Strict decoding is the mid-character check: a slice starting or
        # ending inside a multi-byte sequence is not valid UTF-8.
        return data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return None


def facet_text(text: str, index: Any) -> str | None:
    """``byte_slice`` for a ``str`` text (encodes it first)."""
    return byte_slice(text.encode("utf-8"), index)


def _feature_type(feature: dict[str, Any]) -> str | None:
    kind = feature.get("$type")
    if isinstance(kind, str):
        return kind
    # $type is required in a union, but be lenient with hand-built records.
    if "uri" in feature:
        return _LINK
    if "did" in feature:
        return _MENTION
    if "tag" in feature:
        return _TAG
    return None


def _mention_name(did: str, covered: str) -> str:
    """The mentioned handle as written in the text (``@alice.bsky.social``),
    else the DID. Handles are case-insensitive and the API returns them in
    lower case, so lower-casing lets mentions match ``Author.handle``."""
    if covered.startswith("@"):
        handle = covered[1:].strip()
        if _HANDLE_RE.fullmatch(handle):
            return handle.lower()
    return did


def _add(seen: list[str], value: str) -> None:
    if value and value not in seen:
        seen.append(value)


def extract(record: dict[str, Any]) -> RichText:
    """Links, hashtags and mentions from a post record's facets and ``tags``."""
    text = record.get("text")
    data = text.encode("utf-8") if isinstance(text, str) else b""
    links: list[str] = []
    tags: list[str] = []
    mentions: list[str] = []
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else ():
        if not isinstance(facet, dict):
            continue
        covered = byte_slice(data, facet.get("index"))
        if covered is None:
            continue  # bad offsets: the facet does not point at the text
        features = facet.get("features")
        for feature in features if isinstance(features, list) else ():
            if not isinstance(feature, dict):
                continue
            kind = _feature_type(feature)
            if kind == _LINK and isinstance(feature.get("uri"), str):
                _add(links, feature["uri"])
            elif kind == _TAG and isinstance(feature.get("tag"), str):
                _add(tags, feature["tag"].removeprefix("#"))
            elif kind == _MENTION and isinstance(feature.get("did"), str):
                _add(mentions, _mention_name(feature["did"], covered))
    # Record-level tags: hashtags the author attached without putting them in the text.
    extra = record.get("tags")
    for tag in extra if isinstance(extra, list) else ():
        if isinstance(tag, str):
            _add(tags, tag.removeprefix("#"))
    return RichText(tuple(links), tuple(tags), tuple(mentions))

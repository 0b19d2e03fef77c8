"""Bluesky's length and facets.

A post's ``text`` may hold at most 300 graphemes (Unicode extended grapheme
clusters) and 3,000 bytes of UTF-8 (``app.bsky.feed.post``). Links, mentions
and hashtags are not shortened: they are marked by facets whose ``index`` is a
UTF-8 byte range of the text, start inclusive, end exclusive.

A mention's facet names the account's DID; only the network can say which DID
a handle has, so ``facets`` carries the handle and the sender resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from hubbub.counting.entities import bluesky_entities

MAX_GRAPHEMES = 300
MAX_BYTES = 3000

_GRAPHEME = regex.compile(r"\X")


@dataclass(slots=True, frozen=True)
class Facet:
    kind: str  # "link" | "mention" | "tag"
    byte_start: int
    byte_end: int
    value: str  # URI, handle, or tag without '#'

    def to_record(self, did: str | None = None) -> dict[str, object]:
        """The ``app.bsky.richtext.facet`` object (a mention needs its DID)."""
        if self.kind == "link":
            feature: dict[str, object] = {
                "$type": "app.bsky.richtext.facet#link",
                "uri": self.value,
            }
        elif self.kind == "tag":
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": self.value}
        else:
            if did is None:
                raise ValueError(f"mention of {self.value} needs its DID")
            feature = {"$type": "app.bsky.richtext.facet#mention", "did": did}
        return {
            "index": {"byteStart": self.byte_start, "byteEnd": self.byte_end},
            "features": [feature],
        }


@dataclass(slots=True, frozen=True)
class BlueskyCount:
    length: int  # graphemes
    limit: int
    ok: bool
    bytes: int
    facets: tuple[Facet, ...] = field(default=())


def grapheme_count(text: str) -> int:
    return sum(1 for _ in _GRAPHEME.finditer(text))


def facets(text: str) -> tuple[Facet, ...]:
    """Facets at UTF-8 byte offsets, in text order."""
    result: list[Facet] = []
    # Byte offset of each code point index, computed once for the whole text.
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + len(ch.encode("utf-8")))
    for entity in bluesky_entities(text):
        result.append(Facet(entity.kind, offsets[entity.start], offsets[entity.end], entity.value))
    return tuple(result)


def count(text: str) -> BlueskyCount:
    length = grapheme_count(text)
    size = len(text.encode("utf-8", "surrogatepass"))
    ok = bool(text.strip()) and length <= MAX_GRAPHEMES and size <= MAX_BYTES
    return BlueskyCount(length=length, limit=MAX_GRAPHEMES, ok=ok, bytes=size, facets=facets(text))

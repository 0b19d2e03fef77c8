"""X's weighted length, as its open-source counting library (twitter-text,
configuration version 3) defines it.

The configuration, carried over as data (read from twitter-text's
``config/v3.json``): limit 280 at scale 100; a code point weighs 100 (one
character) in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F and U+2032-U+2037,
and 200 (two) everywhere else; a URL weighs 23 characters whatever its
length; an emoji, however many code points it has (skin tones, ZWJ families,
flags, keycaps), weighs 200 once. The text is NFC-normalised first.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

from hubbub.counting.entities import x_urls

MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200
TRANSFORMED_URL_LENGTH = 23
WEIGHTED_RANGES: tuple[tuple[int, int, int], ...] = (
    (0x0000, 0x10FF, 100),
    (0x2000, 0x200D, 100),
    (0x2010, 0x201F, 100),
    (0x2032, 0x2037, 100),
)
# twitter-text refuses these outright.
INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff")

_GRAPHEME = regex.compile(r"\X")
# A grapheme cluster that X counts as one emoji: a pictograph shown as emoji
# (by default or through U+FE0F), anything with a skin-tone modifier or a ZWJ
# between pictographs, a regional-indicator flag, a keycap, or a tag sequence
# (subdivision flags).
_EMOJI_CLUSTER = regex.compile(
    r"^(?:"
    r"\p{Regional_Indicator}{2}"
    r"|[0-9#*]\ufe0f?\u20e3"
    r"|\p{Extended_Pictographic}[\U000e0020-\U000e007f]+"
    r"|\p{Emoji_Presentation}.*"
    r"|\p{Extended_Pictographic}(?:\ufe0f|\p{Emoji_Modifier}|\u200d).*"
    r")$",
    regex.DOTALL,
)


@dataclass(slots=True, frozen=True)
class XCount:
    length: int  # weighted length, what X's counter shows
    limit: int
    ok: bool


def char_weight(code_point: int) -> int:
    for start, end, weight in WEIGHTED_RANGES:
        if start <= code_point <= end:
            return weight
    return DEFAULT_WEIGHT


def weighted_length(text: str) -> int:
    """The weighted length in characters (weight units divided by the scale)."""
    normalised = unicodedata.normalize("NFC", text)
    url_at = {e.start: e.end for e in x_urls(normalised)}
    units = 0
    i = 0
    n = len(normalised)
    while i < n:
        end = url_at.get(i)
        if end is not None:
            units += TRANSFORMED_URL_LENGTH * SCALE
            i = end
            continue
        cluster = _GRAPHEME.match(normalised, i)
        assert cluster is not None  # \X matches at every position of a non-empty rest
        if _EMOJI_CLUSTER.match(cluster.group()):
            units += DEFAULT_WEIGHT
            i = cluster.end()
            continue
        units += char_weight(ord(normalised[i]))
        i += 1
    return units // SCALE


def count(text: str) -> XCount:
    length = weighted_length(text)
    valid = (
        length <= MAX_WEIGHTED_LENGTH
        and bool(text.strip())
        and not any(c in INVALID_CHARACTERS for c in text)
    )
    return XCount(length=length, limit=MAX_WEIGHTED_LENGTH, ok=valid)

"""Text normalisation shared by the store's full-text index and the in-memory
matcher, so both backends and listening agree on what a word is.

A token is a maximal run of letters and digits (Unicode categories L*, N*),
case-folded, with diacritics removed (NFKD, then every M* mark dropped, so a
mark inside a word neither splits it nor ends up in a token). Everything else
separates tokens, so a token only ever holds characters for which
``str.isalnum()`` is true: no query-engine syntax can survive tokenisation.
This matches SQLite's ``unicode61 remove_diacritics 2`` closely, and we feed both SQLite FTS5 and
PostgreSQL ``to_tsvector('simple', …)`` the already-normalised tokens joined by
spaces, so neither engine's own tokenizer decides anything.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# A token character is one for which str.isalnum() is true; in Python's re,
# ``\w`` is exactly isalnum() plus "_", so ``[^\W_]`` is a token character.
_TOKEN_RE = re.compile(r"[^\W_]+")


@lru_cache(maxsize=1)
def _marks() -> tuple[re.Pattern[str], dict[int, None]]:
    """Runs of marks (category M*) in the Basic Multilingual Plane as one
    pattern, and the marks above it as a ``str.translate`` table."""
    # Marks live below U+20000 and in the variation selectors supplement
    # (U+E0100–E01EF); scanning only there keeps the first call cheap.
    planes = (range(0x20000), range(0xE0000, 0xE1000))
    spans: list[tuple[int, int]] = []  # (first, last) code point of each BMP run of marks
    astral: dict[int, None] = {}
    for cp in (cp for block in planes for cp in block if unicodedata.category(chr(cp))[0] == "M"):
        if cp > 0xFFFF:
            astral[cp] = None
        elif spans and cp == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], cp)
        else:
            spans.append((cp, cp))
    # Why two: a class holding any code point above U+FFFF is compiled by
    # ``re`` as a list of ranges tested one by one for every character (about
    # 300 here: 7x slower than the BMP-only class, which is a bitmap).
    ranges = [f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in spans]
    return re.compile("[" + "".join(ranges) + "]+"), astral


_ASTRAL_RUN = re.compile("[\U00010000-\U0010ffff]+")


def _strip_marks(text: str) -> str:
    bmp, astral = _marks()
    stripped = bmp.sub("", text)
    if stripped and max(stripped) > "\uffff":  # emoji and other astral characters
        stripped = _ASTRAL_RUN.sub(lambda run: run.group().translate(astral), stripped)
    return stripped


def fold(text: str) -> str:
    """Case-fold and strip diacritics (``Łódź`` → ``lodz``, ``Straße`` → ``strasse``)."""
    if text.isascii():
        return text.lower()  # the common case, and the same result as below
    # casefold → NFKD → drop marks → casefold again: compatibility forms such
    # as "ℌ" decompose to capitals, and casefolding can produce new marks.
    # Every mark goes (not only those with a combining class): Devanagari and
    # Thai vowel signs would otherwise split a word ("हिन्दी" → "ह" + "नद").
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = _strip_marks(decomposed).casefold()
    # Letters that NFKD does not decompose but users expect folded. Looked for
    # first: translate() with a dict costs a lookup per character (as much as
    # the rest of fold), and most texts have none of them.
    if _EXTRA_RE.search(stripped):
        return stripped.translate(_EXTRA_FOLDS)
    return stripped


_EXTRA_FOLDS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i"})
_EXTRA_RE = re.compile("[łøđħı]")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into normalised word tokens."""
    return _TOKEN_RE.findall(fold(text))


def index_text(text: str) -> str:
    """The string stored in the full-text index for ``text``."""
    return " ".join(tokenize(text))

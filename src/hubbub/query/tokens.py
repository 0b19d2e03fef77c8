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

import unicodedata
from functools import lru_cache

_WORD_CATEGORIES = ("L", "N")


@lru_cache(maxsize=65536)
def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in _WORD_CATEGORIES


@lru_cache(maxsize=65536)
def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch)[0] == "M"


def fold(text: str) -> str:
    """Case-fold and strip diacritics (``Łódź`` → ``lodz``, ``Straße`` → ``strasse``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    # Drop every mark (category M*), not just those with a non-zero combining
    # class: spacing and class-0 marks (Devanagari and Thai vowel signs, ...)
    # would otherwise survive and, being neither letter nor digit, split a word
    # in tokenize() ("हिन्दी" became "ह" + "नद").
    stripped = "".join(ch for ch in decomposed if not _is_mark(ch))
    # Letters that NFKD does not decompose but users expect folded.
    return stripped.translate(_EXTRA_FOLDS).casefold()


_EXTRA_FOLDS = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "ı": "i"}
)


def tokenize(text: str) -> list[str]:
    """Split ``text`` into normalised word tokens."""
    tokens: list[str] = []
    current: list[str] = []
    for ch in fold(text):
        if ch.isalnum() or _is_word_char(ch):
            current.append(ch)
        elif current:
            tokens.append("".join(current))
            current = []
    if current:
        tokens.append("".join(current))
    return tokens


def index_text(text: str) -> str:
    """The string stored in the full-text index for ``text``."""
    return " ".join(tokenize(text))

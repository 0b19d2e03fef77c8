"""One validation of a hashtag, for every edge that takes one.

HTTP paths, WebSocket paths, ``--source sim:TAG``, the ``rooms`` setting:
each calls ``parse_tag`` once and passes the folded result on; nothing after
the edge folds or checks a tag again. The folded form is the one the store
indexes and the query language searches (``#tag`` → ``Hashtag(tag)``), so a
tag that passes here can always be searched, and anything the query language
could not search (``-``, ``(``, ``:``, a lone combining mark, a zero-width
space, ``¯`` whose folded form is a space …) is refused here rather than
failing later.
"""

from __future__ import annotations

from hubbub.query.tokens import fold

MAX_TAG = 100  # characters of the folded tag (rooms.tag holds 200)
_MAX_RAW = 400  # longer input is refused before folding it (folding costs)


class TagError(ValueError):
    """Not a hashtag Hubbub can follow: the message says why, for people."""


def parse_tag(raw: object) -> str:
    """The folded room key for ``raw`` (``#Łódź`` → ``lodz``), or TagError.

    A tag is letters, digits and ``_`` (at least one letter or digit) once
    folded, at most 100 characters, with or without one leading ``#``.
    """
    if not isinstance(raw, str):
        raise TagError("a hashtag is text")
    text = raw.strip()
    if text.startswith("#"):
        text = text[1:]
    if not text or len(text) > _MAX_RAW:
        raise TagError(f"a hashtag is 1 to {MAX_TAG} letters, digits or _")
    key = fold(text)
    if (
        not key
        or len(key) > MAX_TAG
        or not all(ch.isalnum() or ch == "_" for ch in key)
        or not any(ch.isalnum() for ch in key)
        or fold(key) != key  # folding again must change nothing: one form everywhere
    ):
        raise TagError(f"not a hashtag: use 1 to {MAX_TAG} letters, digits or _")
    return key


def is_tag(key: str) -> bool:
    """True when ``key`` is already a valid folded tag (what ``parse_tag`` returns)."""
    try:
        return parse_tag(key) == key
    except TagError:
        return False

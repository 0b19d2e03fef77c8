"""Hashtags, mentions and links read from an X post's text, the way X finds them.

X sends ``entities`` only when the client asks for them (v2
``tweet.fields=entities``); a payload fetched without that field (the v2
default fields are ``id`` and ``text``, as in many saved responses) has none,
and a post whose ``#tag`` and ``@name`` are not recorded is missed by
``#tag``/``@name`` searches, rooms, listening, recaps and the inbox. For such
a post the X parsers call ``from_text``, which follows twitter-text (the
library X itself uses to find entities in a post):

- hashtag: ``#`` or fullwidth ``＃`` at the start or after a character that is
  not a letter, mark, digit, ``_`` (or one of twitter-text's few joiners)
  nor ``&``; then letters, marks, digits and those joiners, at least one letter
  or mark. Not when ``#``/``＃`` or ``://`` follows straight after, not when the
  sign is a keycap (``#️⃣``), not inside a URL.
- mention: ``@`` or ``＠`` not after an ASCII letter, digit or one of
  ``_!#$%&*@＠`` (but after ``RT``, as in ``RT@name``), then 1 to 15 of
  ``[A-Za-z0-9_]`` (twitter-text reads up to 20; a longer name is no X account,
  so it is not a mention). Not when ``@``, a Latin accented letter or ``://``
  follows (an e-mail address, ``@user@server``), not a list (``@name/list``),
  not inside a URL.
- link: ``http://`` or ``https://`` up to white space, without trailing
  punctuation. X replaces every link in a post with a ``t.co`` one, so that is
  what the text holds; it cannot be expanded without the entities. X's
  ``has:links`` counts media links too, so the ``t.co`` link of attached media is
  kept as well.

A retweet's text is cut short with a trailing ``…``; an entity that runs into
that ``…`` was cut and is left out (``#Twitt…`` is not the tag ``#Twitter``).

Cashtags are not derived: ``hubbub.post.Post`` has no field for them.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import regex

# twitter-text's hashtagSpecialChars: joiners and middle dots that may sit
# inside a tag (ZWNJ/ZWJ, Hebrew geresh, Japanese middle dot and wave dash…).
_TAG_JOINERS = "_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7"
_TAG_CHAR = rf"[\p{{L}}\p{{M}}\p{{Nd}}{_TAG_JOINERS}]"
_HASHTAG = regex.compile(
    # A variation selector before the sign counts as a boundary although it is
    # a mark ("⭐️#tag"); any other tag character or '&' ("&#39;") does not.
    rf"(?:(?<=[\uFE0E\uFE0F])|(?<!{_TAG_CHAR}|&))"
    # Not a keycap: "#️⃣" is the sign followed by VS16 and U+20E3.
    r"[#＃](?![\uFE0F\u20E3])"
    rf"({_TAG_CHAR}*[\p{{L}}\p{{M}}]{_TAG_CHAR}*)"
)
_HASHTAG_REFUSED_AFTER = regex.compile(r"[#＃]|://")

_MENTION = regex.compile(
    r"(?:(?<![A-Za-z0-9_!#$%&*@＠])|(?<=(?:^|[^A-Za-z0-9_+~.\-])[Rr][Tt]:?))"
    r"[@＠]([A-Za-z0-9_]{1,20})(/[A-Za-z][A-Za-z0-9_\-]{0,24})?"
)
# twitter-text's latinAccentChars: "@user" followed by one is part of a word.
_LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259"
    "\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_MENTION_REFUSED_AFTER = regex.compile(rf"[@＠{_LATIN_ACCENTS}]|://")
_MAX_USERNAME = 15  # X usernames are 1 to 15 characters

# A link starts a word (not "xhttps://…") and ends at white space; trailing
# punctuation is the sentence's, not the link's.
_LINK = regex.compile(r"(?<![\p{L}\p{N}_@$#＃])https?://[^\s…]+", regex.IGNORECASE)
_LINK_TRAILING = ".,;:!?'\"()[]{}<>«»“”‘’"
_CUT = "…"  # how X ends a retweet's shortened text


@dataclass(frozen=True, slots=True)
class TextEntities:
    """What ``from_text`` found, each in first-seen order, each once."""

    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    links: tuple[str, ...] = ()


def from_text(text: str) -> TextEntities:
    """Hashtags (without the sign, as written), mentions (usernames without
    ``@``) and links in ``text``, the plain text of an X post (HTML escapes
    already undone)."""
    spans = _link_spans(text)
    cut_at = len(text) - len(_CUT) if text.endswith(_CUT) else -1
    hashtags: dict[str, None] = {}
    if "#" in text or "＃" in text:
        for match in _HASHTAG.finditer(text):
            start, end = match.span()
            if _HASHTAG_REFUSED_AFTER.match(text, end) or end == cut_at:
                continue
            if not _inside(start, end, spans):
                hashtags.setdefault(match.group(1), None)
    mentions: dict[str, None] = {}
    if "@" in text or "＠" in text:
        for match in _MENTION.finditer(text):
            start, end = match.span()
            name, list_slug = match.group(1), match.group(2)
            if _MENTION_REFUSED_AFTER.match(text, end) or end == cut_at:
                continue
            if list_slug or len(name) > _MAX_USERNAME or _inside(start, end, spans):
                continue
            mentions.setdefault(name, None)
    links = tuple(dict.fromkeys(text[start:end] for start, end in spans if end != cut_at))
    return TextEntities(tuple(hashtags), tuple(mentions), links)


def _link_spans(text: str) -> list[tuple[int, int]]:
    if "://" not in text:
        return []
    spans = []
    for match in _LINK.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _LINK_TRAILING:
            end -= 1
        if text.find("://", start) + 3 < end:  # something after the scheme
            spans.append((start, end))
    return spans


def _inside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Does [start, end) overlap a link? ``spans`` are sorted and disjoint, so
    only the last link starting before ``end`` can (a bisection: a hostile
    text with thousands of tags and links stays linear-logarithmic)."""
    at = bisect_left(spans, (end, -1)) - 1
    return at >= 0 and spans[at][1] > start

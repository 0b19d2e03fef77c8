"""Where links, mentions and hashtags sit in a text, as each network's own
counter finds them.

Each network shortens or reads entities differently, so each has its own
finder here; the counters (``x.py``, ``bluesky.py``, ``mastodon.py``) only
weigh what these return. Spans are ``(start, end)`` in Python string indices
(code points), end exclusive.

The rules follow what the networks publish:

- X (twitter-text): URLs with or without a scheme; a bare domain needs a
  known top-level domain. Every URL counts as 23 whatever its length.
- Mastodon (its ``StatusLengthValidator`` on top of twitter-text's
  extractor): only URLs with a scheme are shortened (to 23); a mention
  ``@user@host`` counts as ``@user``.
- Bluesky (the app's rich-text facet detection): after white space or '(',
  a scheme and every non-space character after it, or a bare domain with a
  known top-level domain; one trailing punctuation mark left out;
  mentions of full handles (``@alice.bsky.social``); hashtags up to 64
  characters, not all digits, trailing punctuation left out.

Where we approximate the networks' own extractors (their URL grammars carry
full top-level-domain lists and IDN rules) it is noted at the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

# Top-level domains accepted for a link written without a scheme. twitter-text
# and Bluesky both check a full IANA list; this is the common subset (generic
# domains and every two-letter country code is accepted below), which is where
# a bare domain in a real post almost always ends.
_GENERIC_TLDS = (
    "com|net|org|edu|gov|mil|int|info|biz|name|pro|aero|coop|museum|mobi|asia|tel|"
    "travel|jobs|cat|app|dev|page|blog|shop|store|online|site|tech|xyz|club|live|news|"
    "social|news|media|art|design|cloud|digital|email|link|space|website|world|today|"
    "agency|studio|io|ai|co|me|tv|ly|gl|gg|fm|am|to|sh|so|im|is|it|in|us|uk|eu"
)
_TLD = rf"(?:{_GENERIC_TLDS}|[a-z]{{2}})"

# Characters a URL path may hold (RFC 3986 plus non-ASCII letters that real
# posts carry); trailing punctuation is trimmed afterwards.
# Bidirectional marks and isolates end a URL (they are formatting, not path).
_PATH_CHAR = r"[^\s<>\"'`{}|\\^\[\]\u200e\u200f\u202a-\u202e\u2066-\u2069]"
_TRAILING_PUNCT = ".,;:!?'\"…"

_SCHEME_URL = regex.compile(
    rf"(?<![\w@#$/.-])https?://(?:[\p{{L}}\p{{N}}-]+\.)+[\p{{L}}]{{2,}}(?::\d{{1,5}})?(?:[/?#]{_PATH_CHAR}*)?",
    regex.IGNORECASE,
)
_BARE_URL = regex.compile(
    rf"(?<![\w@#$/.:-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+{_TLD}(?![\w-])(?::\d{{1,5}})?(?:/{_PATH_CHAR}*)?",
    regex.IGNORECASE,
)

# @user or @user@host (Mastodon); user names are letters, digits and '_'.
_FEDI_MENTION = regex.compile(
    r"(?<![\w@/])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)"
    r"(?:@(?P<host>[\w.-]+\.[\w-]+))?",
    regex.IGNORECASE,
)

# A Bluesky mention: '@' + a full handle (dot-separated DNS labels).
_HANDLE_MENTION = regex.compile(
    r"(?:(?<=^)|(?<=[\s(]))@(?P<handle>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?)(?![\w.-]*[\w-])",
    regex.IGNORECASE,
)

# Characters that end a hashtag besides white space: soft hyphen, word joiner
# and the zero-width characters Bluesky's detector treats as breaks.
_TAG_BREAK = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_HASHTAG = regex.compile(rf"(?:(?<=^)|(?<=\s))[#\uff03](?P<tag>(?!\ufe0f)[^\s{_TAG_BREAK}]+)")
_TAG_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
MAX_TAG_LENGTH = 64


@dataclass(slots=True, frozen=True)
class Entity:
    kind: str  # "link" | "mention" | "tag"
    start: int
    end: int
    value: str  # the URL, the handle or the tag (without '#')


def _trim_url(text: str, start: int, end: int) -> int:
    """Leave trailing punctuation out of a URL, and a closing parenthesis
    that has no opening one inside it (``(see https://x.org/a)``)."""
    while end > start:
        last = text[end - 1]
        if last in _TRAILING_PUNCT or last == ")" and "(" not in text[start:end]:
            end -= 1
        else:
            break
    return end


def _urls(text: str, with_bare: bool) -> list[Entity]:
    found: list[Entity] = []
    for match in _SCHEME_URL.finditer(text):
        end = _trim_url(text, match.start(), match.end())
        found.append(Entity("link", match.start(), end, text[match.start() : end]))
    if with_bare:
        taken = [(e.start, e.end) for e in found]
        for match in _BARE_URL.finditer(text):
            if any(s <= match.start() < e for s, e in taken):
                continue
            end = _trim_url(text, match.start(), match.end())
            found.append(Entity("link", match.start(), end, "https://" + text[match.start() : end]))
    return sorted(found, key=lambda e: e.start)


# Bluesky's link rule (the app's ``detectFacets``): after the start, white
# space or '(', either a scheme and every non-space character after it, or a
# bare domain of letter-and-digit labels with a known top-level domain.
_BSKY_LINK = regex.compile(
    r"(?:(?<=^)|(?<=[\s(]))(?:https?://\S+|(?P<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)\S*)",
    regex.IGNORECASE,
)
_BSKY_TLD = regex.compile(rf"\.{_TLD}$", regex.IGNORECASE)


def _bluesky_links(text: str) -> list[Entity]:
    found: list[Entity] = []
    for match in _BSKY_LINK.finditer(text):
        domain = match.group("domain")
        if domain is not None and not _BSKY_TLD.search(domain):
            continue
        start, end = match.span()
        # One trailing punctuation mark, then one ')' without '(', are left out.
        if text[end - 1] in ".,;:!?":
            end -= 1
        if text[end - 1] == ")" and "(" not in text[start:end]:
            end -= 1
        uri = text[start:end]
        found.append(Entity("link", start, end, uri if domain is None else "https://" + uri))
    return found


def x_urls(text: str) -> list[Entity]:
    """URLs as X weighs them: with a scheme, or a bare domain with a known TLD."""
    return _urls(text, with_bare=True)


def mastodon_entities(text: str) -> list[Entity]:
    """URLs with a scheme and @mentions, non-overlapping, in text order."""
    found = _urls(text, with_bare=False)
    for match in _FEDI_MENTION.finditer(text):
        if any(e.start <= match.start() < e.end for e in found):
            continue
        found.append(Entity("mention", match.start(), match.end(), "@" + match.group("user")))
    return sorted(found, key=lambda e: e.start)


def bluesky_entities(text: str) -> list[Entity]:
    """Links, mentions and hashtags as Bluesky's rich-text detection finds them."""
    found = _bluesky_links(text)
    for match in _HANDLE_MENTION.finditer(text):
        if any(e.start <= match.start() < e.end for e in found):
            continue
        found.append(Entity("mention", match.start(), match.end(), match.group("handle").lower()))
    for match in _HASHTAG.finditer(text):
        if any(e.start <= match.start() < e.end for e in found):
            continue
        tag = _TAG_TRAILING_PUNCT.sub("", match.group("tag"))
        # The limit is in UTF-16 code units, as the app's JavaScript measures it.
        if not tag or tag.isdigit() or len(tag.encode("utf-16-le")) // 2 > MAX_TAG_LENGTH:
            continue
        start = match.start()
        found.append(Entity("tag", start, start + 1 + len(tag), tag))
    return sorted(found, key=lambda e: e.start)

"""Network text made safe to go into the brand's own public post.

A saved reply's ``{name}`` and ``{handle}`` come from the customer's profile,
which anyone can set to anything: ``FREE iPhone at evil.example/win
@CEO_of_acme #giveaway`` followed by a right-to-left override. Pasted into a
reply, that would make the brand's account advertise the link, mention and
notify a third party, push a hashtag, and reverse the text that follows.

What we do, and why:

- Control and format characters are removed (C0/C1 controls, bidi
  embeddings, overrides and isolates, zero-width characters, invisible tag
  characters, line and paragraph separators): none belongs in a name, and
  each can hide or reorder what the reader sees.
- A display name that holds anything a network would turn into a link,
  mention, hashtag or cashtag is not used at all; the name falls back to
  the handle's first part. Stripping only the offending parts would still
  leave spam wording in the brand's voice ("FREE iPhone at"), and a
  half-cut name reads worse than the customer's own handle. We err on the
  side of the handle: a name like "J.R. Smith" looks like a domain
  (letters on both sides of a dot) and is replaced too.
- The fallback is the handle's first label (``alice`` of
  ``alice.bsky.social``, ``ann`` of ``ann@social.example``), because a whole
  Bluesky handle is a domain that the app turns into a link.
- ``{handle}`` is meant to mention the customer: it keeps its ``@`` but only
  the characters a handle may hold on any network.
- A name is at most 50 characters (X's limit for display names), cut on a
  whole user-perceived character.
"""

from __future__ import annotations

import unicodedata

import regex

MAX_NAME = 50
# Letters on both sides of a dot: a domain a network would link (evil.example),
# whatever its top-level domain; the dots are those NFKC leaves as "." plus the
# ideographic ones some linkers accept.
_DOMAIN = regex.compile(r"[\p{L}\p{N}][.\u3002\uff61][\p{L}\p{N}]")
_SCHEME = regex.compile(r"(?i)[a-z][a-z0-9+.-]*:/|www\.")
# Mention and hashtag signs (with their full-width and small forms), and a cashtag.
_MARKERS = regex.compile(r"[@#\uff20\uff03\ufe6b\ufe5f]|[$\uff04]\p{L}")
_HANDLE_CHARS = regex.compile(r"[^A-Za-z0-9_.@-]")
_GRAPHEME = regex.compile(r"\X")


def without_invisible(text: str) -> str:
    """``text`` without control, format, private-use, surrogate or separator
    characters other than plain spaces (each other space becomes one)."""
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Zs", "Zl", "Zp") or ch in "\t\n\r":
            out.append(" ")
        elif category[0] != "C":
            out.append(ch)
    return " ".join("".join(out).split())


def looks_active(text: str) -> bool:
    """True when a network could turn part of ``text`` into a link, mention,
    hashtag or cashtag (checked on its NFKC form, so full-width look-alikes
    count too)."""
    folded = unicodedata.normalize("NFKC", text)
    return bool(
        _MARKERS.search(text)
        or _MARKERS.search(folded)
        or _SCHEME.search(folded)
        or _DOMAIN.search(folded)
    )


def public_handle(handle: str) -> str:
    """``@handle`` with only the characters handles hold on X, Bluesky and
    Mastodon (a leading '@' is not doubled)."""
    return "@" + _HANDLE_CHARS.sub("", without_invisible(handle)).lstrip("@")


def handle_name(handle: str) -> str:
    """The handle's first label, for a greeting: not a link nor a mention."""
    bare = _HANDLE_CHARS.sub("", without_invisible(handle)).lstrip("@")
    first = regex.split(r"[.@]", bare, maxsplit=1)[0]
    return first or public_handle(handle)


def public_name(display_name: str | None, handle: str) -> str:
    """The customer's display name fit for a public reply, or the handle's
    first label when the name is empty or could link, mention or tag."""
    name = without_invisible(display_name or "")
    if not name or looks_active(name):
        return handle_name(handle)
    kept: list[str] = []
    for cluster in _GRAPHEME.findall(name):
        if sum(map(len, kept)) + len(cluster) > MAX_NAME:
            break
        kept.append(cluster)
    return "".join(kept).strip() or handle_name(handle)

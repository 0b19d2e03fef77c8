"""What a source is: an async iterator of raw items, each one decoded JSON
value exactly as a network sent it, with the context the parsers need."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import orjson

from hubbub.formats import Context
from hubbub.terminal_text import plain

# Injected into sources that pace themselves, so tests can run simulated time
# without wall-clock sleeps.
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


@dataclass(slots=True)
class RawItem:
    value: Any  # decoded JSON value exactly as the network sends it
    ctx: Context  # source name, fetched_at, mastodon server
    fmt: str = "auto"  # a hubbub.formats.FORMATS name
    raw: bytes | None = None  # bytes as received (None → orjson.dumps(value))
    cursor: str | None = None  # source position after this item (committed with the batch)

    def body(self) -> bytes:
        """The bytes to keep as the raw payload."""
        if self.raw is not None:
            return self.raw
        try:
            return orjson.dumps(self.value)
        except TypeError:  # orjson refuses integers wider than 64 bits; json does not
            return json.dumps(self.value, ensure_ascii=False, separators=(",", ":")).encode()


@runtime_checkable
class Source(Protocol):
    name: str  # e.g. "sim:hubchat", "replay:/path/file.jsonl"

    def __aiter__(self) -> AsyncIterator[RawItem]: ...


@runtime_checkable
class Resumable(Protocol):
    """A source that can continue after the last position the store committed
    (its ``RawItem.cursor``): the pipeline calls ``resume_from`` with the stored
    cursor before every (re)start, so a restart neither re-reads nor skips."""

    def resume_from(self, cursor: str | None) -> None: ...


# Secrets an error text can carry: a server that echoes our request back
# (headers, the login body), a library that quotes a URL with its query
# string, a JSON or form body, a Python repr of a dict. Errors are shown in
# health(), logs and on the command line, so they are scrubbed once here
# rather than trusted to every connector. Over-masking is the safe side: a
# value next to a credential-like name is hidden even if it was harmless.
_CREDENTIAL_WORDS = (
    r"token|secret|passw(?:or)?d|passwd|pwd|authori[sz]ation|api[_-]?key|apikey|"
    r"access[_-]?key|private[_-]?key|jwt|cookie|credentials?|session[_-]?id|\bkey\b"
)
# A name holding one of the words (access_token, refreshJwt, app_password,
# client-secret, X-Api-Key), optionally closed by a quote, then ':' or '='.
# Bounded repeats keep a long hostile text from costing quadratic time.
_NAME = rf"(?P<name>[A-Za-z0-9_.-]{{0,40}}(?:{_CREDENTIAL_WORDS})[A-Za-z0-9_.-]{{0,40}})"
_QUOTED = r"(?P<open>\\{0,4}[\"'])(?:\\.|[^\\\n]){0,1000}?(?P=open)"
# An auth scheme before the credential is part of the value (Bearer abc).
_BARE = r"\\{0,4}[\"']?(?:(?:bearer|basic|digest|dpop|token)\s+)?[^\s\"'\\&,;)\]}>]+"
_SECRET_PAIR = re.compile(
    rf"(?i){_NAME}(?P<sep>\\{{0,4}}[\"']?\s{{0,20}}[:=]\s{{0,20}})(?:{_QUOTED}|{_BARE})"
)
# Header lines whose whole value is a credential, up to the end of the line.
_SECRET_HEADER = re.compile(
    r"(?im)\b(?P<name>(?:proxy-)?authorization|(?:set-)?cookie)(?P<sep>\s*:\s*)[^\r\n\"'}]+"
)
_BEARER = re.compile(r"(?i)\b(?P<scheme>bearer|dpop)\s+[^\s\"'\\,;)\]}>]+")
_BASIC = re.compile(r"\b(?P<scheme>Basic)\s+[A-Za-z0-9+/]{6,}={0,2}")
# JSON Web Tokens (Bluesky's access and refresh tokens are JWTs).
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:]+(:[^/@\s]*)?@")
# A known secret shorter than this is not masked by value: masking "ab"
# everywhere would garble the message, and no network issues such tokens.
_KNOWN_MIN = 4
MASK = "***"
_HEX = re.compile(r"%[0-9A-F]{2}")


def _known_forms(secret: str) -> list[str]:
    """``secret`` as it may appear in an echoed request: raw, URL-encoded
    (query strings, form bodies), JSON-escaped (a body quoted in a body).
    A secret configured percent-encoded (X bearer tokens hold %2B and %3D)
    may come back decoded ('+', '='): its decoded forms and their encodings
    count too, with the escapes' hex in either case."""
    bases = {secret, unquote(secret), unquote_plus(secret)}
    forms: set[str] = set()
    for base in bases:
        encoded = {quote(base, safe=""), quote_plus(base)}
        forms |= {base, json.dumps(base)[1:-1], *encoded}
        forms |= {_HEX.sub(lambda m: m[0].lower(), e) for e in encoded}
    return [f for f in forms if len(f) >= _KNOWN_MIN]


def mask_known(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every occurrence of the given secrets masked, longest first
    (so a secret that contains another is masked whole)."""
    forms: set[str] = set()
    for secret in known:
        if secret and secret.strip():
            forms.update(_known_forms(secret.strip()))
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def redact(text: str, limit: int = 300, *, known: Iterable[str] = ()) -> str:
    """``text`` with credentials masked (``known`` secrets by value, then
    anything that looks like one), on one line, without control or bidi
    characters (error texts end up on terminals), cut to ``limit`` characters."""
    # Known secrets go first, over the whole text (a secret cut in two would
    # no longer match); then a cut far above ``limit`` keeps a huge echoed body
    # cheap for the patterns.
    text = mask_known(text, known)[: max(4 * limit, 4096)]
    text = _URL_USERINFO.sub(rf"\1{MASK}@", text)
    text = _SECRET_HEADER.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    text = _SECRET_PAIR.sub(_mask_pair, text)
    text = _BEARER.sub(lambda m: f"{m['scheme']} {MASK}", text)
    text = _BASIC.sub(lambda m: f"{m['scheme']} {MASK}", text)
    text = _JWT.sub(MASK, text)
    text = plain(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mask_pair(m: re.Match[str]) -> str:
    if m["open"]:
        return f"{m['name']}{m['sep']}{m['open']}{MASK}{m['open']}"
    if _is_prose(m):
        return m[0]
    return f"{m['name']}{m['sep']}{MASK}"


def _is_prose(m: re.Match[str]) -> bool:
    """Whether an unquoted ``name: value`` reads as a sentence, not a credential:
    "X refused the token: rules: HTTP 401", "ExpiredToken: Token has expired".
    A value ending in ':' is the next label; a short, letters-only word is a
    word (no network issues such tokens). ``=`` and quoted forms always mask,
    and the account's own secret is masked by value whatever its shape."""
    if "=" in m["sep"] or any(q in m["sep"] for q in "\"'"):
        return False
    value = m[0][len(m["name"]) + len(m["sep"]) :].split()[-1]
    return value.endswith(":") or (value.isalpha() and len(value) < 12)


def describe_error(exc: BaseException, *, known: Iterable[str] = ()) -> str:
    """A short, secret-free description of a source failure; ``known``: the
    secrets of the account in use, masked wherever they appear."""
    message = str(exc).strip()
    name = type(exc).__name__
    return redact(f"{name}: {message}" if message else name, known=known)

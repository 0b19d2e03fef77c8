"""What a source is: an async iterator of raw items, each one decoded JSON
value exactly as a network sent it, with the context the parsers need."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import orjson

from hubbub.formats import Context

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


# Secrets a future connector's error could carry: tokens in query strings or
# headers, passwords in URLs. Errors are shown in health() and logs, so they
# are scrubbed once here rather than trusted to every connector.
_SECRET_PARAM = re.compile(
    r"(?i)\b(access_token|token|api_key|apikey|key|secret|password|passwd|authorization|bearer)"
    r"(\s*[=:]\s*|\s+)([^\s&,;\"']+)"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:]+(:[^/@\s]*)?@")


def redact(text: str, limit: int = 300) -> str:
    """``text`` with credentials masked, cut to ``limit`` characters."""
    text = _URL_USERINFO.sub(r"\1***@", text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(exc: BaseException) -> str:
    """A short, secret-free description of a source failure."""
    message = str(exc).strip()
    name = type(exc).__name__
    return redact(f"{name}: {message}" if message else name)

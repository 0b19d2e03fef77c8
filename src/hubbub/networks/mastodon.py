"""Mastodon over REST: the instance's settings, timelines with ``min_id``
paging, the account check; within each server's request budget.

- **Who is asking.** Every request carries a ``User-Agent`` naming Hubbub and
  its URL: server admins ask walls and bots to identify themselves.
- **Budget.** 300 requests per 5 minutes per account and per IP (servers
  vary), so each client spends a ``WindowBudget`` of that size and, after each
  answer, believes ``X-RateLimit-Remaining``/``X-RateLimit-Reset`` (ISO 8601):
  it waits for the reset rather than earn a 429. A 429 is ``RateLimited``
  with the seconds to the reset.
- **Paging.** ``min_id`` asks for the statuses immediately after an id (the
  oldest of them first, in the page newest first); the ``Link`` header's
  ``prev`` URL is the next such page. Link URLs are followed only on the
  server's own origin: a hostile server cannot point the client elsewhere.
- **Access.** Since 4.5 ``configuration.timelines_access`` in
  ``/api/v2/instance`` says whether hashtag and live feeds (local, remote) are
  ``public``, need a login (``authenticated``) or are ``disabled``.
- **Limits at the edge.** Responses over 8 MB are refused; a page is a JSON
  array of objects or it is an error.

A SERVER is a host name (``mastodon.social`` → https) or a base URL
(``http://127.0.0.1:8081`` in tests). Tokens go in the ``Authorization``
header, never in a URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import orjson

from hubbub.networks.accounts_check import CheckFailed
from hubbub.networks.budget import WindowBudget
from hubbub.networks.clock import Clock, SystemClock
from hubbub.networks.env import Credentials
from hubbub.networks.failure_text import CONNECTION_FAILED, cause
from hubbub.networks.http_owner import OwnsHttp
from hubbub.sources.base import redact

REQUESTS_PER_WINDOW = 300
WINDOW_SECONDS = 300.0
PAGE_LIMIT = 40  # the most a timeline page may hold
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-z]+)"?')


class MastodonError(Exception):
    def __init__(self, status: int, message: str = "", *, known: Iterable[str] = ()) -> None:
        # ``message`` may be the server's text (hostile, may echo our token): scrubbed.
        # Status 0: no HTTP answer came, so none is named (not "HTTP 0").
        self.status = status
        self.message = redact(message, 200, known=known)
        if status == 0:
            super().__init__(f"{CONNECTION_FAILED}: {self.message or 'no answer'}")
        else:
            super().__init__(f"HTTP {status}" + (f": {self.message}" if self.message else ""))


class MastodonAuthFailed(MastodonError):
    """401/403: the token is refused, or the feed needs one."""


class MastodonRateLimited(MastodonError):
    def __init__(
        self, status: int, message: str, reset_in: float, *, known: Iterable[str] = ()
    ) -> None:
        super().__init__(status, message, known=known)
        self.reset_in = reset_in


def base_url(server: str) -> str:
    """``mastodon.social`` → ``https://mastodon.social``; a base URL is kept
    (without a trailing slash). ValueError for anything else."""
    server = server.strip()
    if "://" in server:
        parts = urlsplit(server)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(f"not a Mastodon server: {server!r}")
        if parts.username or parts.password:
            raise ValueError("a Mastodon server URL must not carry credentials")
        # Host names are case-insensitive: one spelling, so a token finds its server.
        return f"{parts.scheme}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
    host = server.lower().rstrip("/")
    if not _HOST.match(host):
        raise ValueError(f"not a Mastodon server: {server!r}")
    return f"https://{host}"


def server_host(base: str) -> str:
    """The host[:port] that names a server in aliases (``server/localid``)."""
    return urlsplit(base).netloc


@dataclass(frozen=True, slots=True)
class Instance:
    domain: str
    version: str
    streaming: str | None  # base URL of the streaming API (configuration.urls.streaming)
    hashtag_access: dict[str, str] = field(default_factory=dict)  # local/remote → access
    live_access: dict[str, str] = field(default_factory=dict)

    def feed_access(self, feed: str) -> dict[str, str]:
        """``{"local": …, "remote": …}`` for ``hashtag`` or ``live`` feeds; a
        server older than 4.5 says nothing, which means public."""
        found = self.hashtag_access if feed == "hashtag" else self.live_access
        return {
            "local": found.get("local", "public"),
            "remote": found.get("remote", "public"),
        }


@dataclass(slots=True)
class Page:
    statuses: list[dict[str, Any]]
    newer: str | None  # min_id of the next newer page (Link rel="prev"), same origin only
    older: str | None  # max_id of the next older page (Link rel="next")


class MastodonClient(OwnsHttp):
    def __init__(
        self,
        server: str,
        *,
        token: str | None = None,
        clock: Clock | None = None,
        http: httpx.AsyncClient | None = None,
        budget: WindowBudget | None = None,
    ) -> None:
        self.base = base_url(server)
        self.host = server_host(self.base)
        self._token = token
        self.clock = clock or SystemClock()
        self._init_http(http, _TIMEOUT)
        self.budget = budget or WindowBudget(REQUESTS_PER_WINDOW, WINDOW_SECONDS, self.clock)

    def __repr__(self) -> str:
        return f"MastodonClient({self.base!r}, token={'yes' if self._token else 'no'})"

    @property
    def has_token(self) -> bool:
        return bool(self._token)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    # -- calls -----------------------------------------------------------------

    async def instance(self) -> Instance:
        """``/api/v2/instance`` (``/api/v1/instance`` on servers before 4.0)."""
        try:
            value, _ = await self._get("/api/v2/instance", auth=False)
        except MastodonError as exc:
            if exc.status != 404:
                raise
            value, _ = await self._get("/api/v1/instance", auth=False)
        if not isinstance(value, dict):
            raise MastodonError(502, "instance answer is not an object")
        config = value.get("configuration")
        config = config if isinstance(config, dict) else {}
        urls = config.get("urls") if isinstance(config.get("urls"), dict) else value.get("urls")
        streaming = urls.get("streaming") if isinstance(urls, dict) else None
        if not isinstance(streaming, str) or urlsplit(streaming).scheme not in (
            "ws",
            "wss",
            "http",
            "https",
        ):
            streaming = None
        access = config.get("timelines_access")
        access = access if isinstance(access, dict) else {}
        return Instance(
            domain=str(value.get("domain") or value.get("uri") or self.host)[:255],
            version=str(value.get("version") or "")[:64],
            streaming=streaming,
            hashtag_access=_access(access.get("hashtag_feeds")),
            live_access=_access(access.get("live_feeds")),
        )

    async def timeline(
        self,
        kind: str,
        *,
        tag: str | None = None,
        min_id: str | None = None,
        max_id: str | None = None,
        local: bool = False,
        limit: int = PAGE_LIMIT,
    ) -> Page:
        """One page of ``tag`` (needs ``tag``), ``public`` or ``home`` (needs a token)."""
        if kind == "tag":
            if not tag:
                raise ValueError("a tag timeline needs a tag")
            path = f"/api/v1/timelines/tag/{quote(tag, safe='')}"
        elif kind in ("public", "home"):
            path = f"/api/v1/timelines/{kind}"
        else:
            raise ValueError(f"unknown timeline {kind!r}")
        params: dict[str, str] = {"limit": str(max(1, min(limit, PAGE_LIMIT)))}
        if min_id:
            params["min_id"] = min_id
        if max_id:
            params["max_id"] = max_id
        if local:
            params["local"] = "true"
        value, response = await self._get(path, params=params, auth=True)
        if not isinstance(value, list) or not all(isinstance(s, dict) for s in value):
            raise MastodonError(502, "timeline answer is not a list of statuses")
        links = self._links(response.headers.get("link", ""))
        return Page(value, newer=links.get("prev"), older=links.get("next"))

    async def verify_credentials(self) -> dict[str, Any]:
        value, _ = await self._get("/api/v1/accounts/verify_credentials", auth=True)
        if not isinstance(value, dict):
            raise MastodonError(502, "verify_credentials answer is not an object")
        return value

    # -- wire ------------------------------------------------------------------

    async def _get(
        self, path: str, *, params: dict[str, str] | None = None, auth: bool
    ) -> tuple[Any, httpx.Response]:
        await self.budget.acquire()
        headers = self.auth_headers() if auth else {}
        # Masked by value in error texts: a server may echo our Authorization header.
        known = (self._token,) if self._token else ()
        try:
            async with self._http.stream(
                "GET", self.base + path, params=params, headers=headers
            ) as response:
                body = await _read_capped(response)
        except httpx.HTTPError as exc:
            raise MastodonError(0, cause(exc), known=known) from None
        self._observe(response)
        status = response.status_code
        if status == 429:
            wait = self._reset_in(response)
            raise MastodonRateLimited(status, _error_text(body), wait, known=known)
        if status in (401, 403):
            raise MastodonAuthFailed(status, _error_text(body), known=known)
        if status >= 400:
            raise MastodonError(status, _error_text(body), known=known)
        try:
            return orjson.loads(body), response
        except orjson.JSONDecodeError:
            raise MastodonError(502, "the answer is not JSON (truncated?)") from None

    def _observe(self, response: httpx.Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        try:
            left = int(remaining) if remaining is not None else None
        except ValueError:
            left = None
        self.budget.observe(left, self._reset_in(response) if left is not None else None)

    def _reset_in(self, response: httpx.Response) -> float:
        reset = response.headers.get("x-ratelimit-reset")
        if reset:
            try:
                when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
                return max(0.0, when.timestamp() - self.clock.time())
            except ValueError:
                pass
        retry = response.headers.get("retry-after")
        if retry:
            try:
                return max(0.0, float(retry))
            except ValueError:
                pass
        return 60.0

    def _links(self, header: str) -> dict[str, str]:
        """``rel`` → the id the link pages from, for links on this server only."""
        out: dict[str, str] = {}
        origin = urlsplit(self.base)
        for url, rel in _LINK.findall(header[:4096]):
            parts = urlsplit(url)
            if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
                continue
            query = parse_qs(parts.query)
            key = "min_id" if rel == "prev" else "max_id"
            values = query.get(key) or query.get("since_id" if rel == "prev" else key)
            if values and values[0].isalnum() and len(values[0]) <= 64:
                out[rel] = values[0]
        return out


def _access(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {
        k: str(v)
        for k, v in value.items()
        if k in ("local", "remote") and str(v) in ("public", "authenticated", "disabled")
    }


def _error_text(body: bytes) -> str:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    if isinstance(value, dict) and isinstance(value.get("error"), str):
        return value["error"]
    return ""


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise MastodonError(502, f"answer larger than {MAX_RESPONSE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def id_key(status_id: str) -> tuple[int, str]:
    """Order of status ids on one server: numeric ids by value (Mastodon's are
    time-ordered snowflakes), then by text for other software's ids."""
    return (len(status_id), status_id) if status_id.isdigit() else (0, status_id)


async def check_account(credentials: Credentials, base: str | None = None) -> str:
    """``hubbub account check`` for Mastodon: who the token belongs to."""
    server = base or credentials.server
    if not server:
        raise CheckFailed("a Mastodon account needs its server (--server)")
    try:
        client = MastodonClient(server, token=credentials.secret.strip())
    except ValueError as exc:
        raise CheckFailed(str(exc)) from None
    async with client:
        try:
            account = await client.verify_credentials()
        except MastodonAuthFailed as exc:
            raise CheckFailed(f"{client.host} refused the token ({exc})") from None
        except MastodonRateLimited as exc:
            raise CheckFailed(f"{client.host} rate limit: try in {exc.reset_in:.0f} s") from None
        except MastodonError as exc:
            raise CheckFailed(f"{client.host} could not be checked: {exc}") from None
    acct = str(account.get("acct") or account.get("username") or "?")[:200]
    return f"@{acct}@{client.host}" if "@" not in acct else f"@{acct}"

"""The X API v2 client: filtered stream, its rules, recent search, and the
account check. Authentication, each endpoint's budget and paging; backoff is
the caller's (``hubbub.sources.x_stream``) because it depends on what the
caller is doing. No storage.

Every call takes the base URL (``https://api.x.com`` by default) so tests
point it at a loopback server. The token goes in the ``Authorization``
header only; errors never carry it (``XError`` messages are built here from
the status and X's own words, ``rules: HTTP 403 (Client Forbidden: …)``,
redacted and cut; or ``rules: connection failed: …`` when no answer came).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from hubbub import __version__
from hubbub.networks.backoff import Failure
from hubbub.networks.budget import WindowBudget
from hubbub.networks.clock import Clock, SystemClock
from hubbub.networks.env import Credentials
from hubbub.networks.failure_text import connection_failed
from hubbub.sources.base import redact

DEFAULT_BASE = "https://api.x.com"
STREAM_PATH = "/2/tweets/search/stream"
RULES_PATH = "/2/tweets/search/stream/rules"
SEARCH_PATH = "/2/tweets/search/recent"
ME_PATH = "/2/users/me"

# What every read asks for, so the stored raw payload has what the parser
# and the reports use (authors, referenced posts, media, places). X cuts a
# long post's ``text`` at 280 characters and sends the whole text and its
# entities in ``note_tweet`` only when asked for it.
TWEET_FIELDS = (
    "attachments,author_id,conversation_id,created_at,edit_history_tweet_ids,entities,geo,id,"
    "in_reply_to_user_id,lang,note_tweet,possibly_sensitive,public_metrics,referenced_tweets,"
    "reply_settings,source,text,withheld"
)
EXPANSIONS = (
    "author_id,referenced_tweets.id,referenced_tweets.id.author_id,attachments.media_keys,"
    "geo.place_id,in_reply_to_user_id,entities.mentions.username"
)
USER_FIELDS = (
    "created_at,description,id,location,name,profile_image_url,protected,public_metrics,url,"
    "username,verified"
)
MEDIA_FIELDS = "media_key,type,url,preview_image_url,public_metrics,alt_text"
PLACE_FIELDS = "full_name,id,country,country_code,geo,name,place_type"
# An error body is read this far for X's words; the message keeps ~200 characters.
_PROBLEM_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class XLimits:
    """X's documented numbers (pay-per-use, 2025-2026). They change: each
    can be overridden from configuration (``SourceEnv.limits``, keys below)."""

    stall_seconds: float = 20.0  # keep-alive every 20 s: silence means dead
    max_rules: int = 1000
    rule_chars: int = 1024
    query_chars: int = 512
    page_size: int = 100
    search_per_window: int = 450  # per app; 300 per user token
    rules_posts_per_window: int = 100
    connects_per_window: int = 50
    window_seconds: float = 900.0
    first_backfill_hours: float = 24.0  # when a rule has no stored post yet
    search_days: float = 7.0  # recent search only reaches this far back
    # A gap backfill starts this long before the newest post seen: X's p99
    # delivery latency is 6-7 s, so later posts may still be on their way.
    rewind_seconds: float = 15.0
    rules_check_seconds: float = 30.0  # how often followed queries/rooms are re-read

    @classmethod
    def from_env(cls, limits: dict[str, float]) -> XLimits:
        values: dict[str, Any] = {}
        for name, f in cls.__dataclass_fields__.items():
            key = "x_" + name
            if key in limits:
                values[name] = int(limits[key]) if f.type == "int" else float(limits[key])
        return cls(**values)


class XError(Exception):
    """A failed X call: what kind of failure (for the backoff), the HTTP
    status when there was one, and the server's reset time for a 429."""

    def __init__(
        self,
        message: str,
        kind: Failure,
        status: int | None = None,
        reset_in: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.reset_in = reset_in

    @property
    def fatal(self) -> bool:
        """401/403: retrying cannot help (bad or under-privileged token)."""
        return self.status in (401, 403)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    value: str
    tag: str | None


@dataclass(frozen=True, slots=True)
class SearchPage:
    body: bytes  # the response as received (kept as the raw payload)
    value: dict[str, Any]
    ids: tuple[str, ...]  # ids of the page's posts (data), newest first
    next_token: str | None


def _reset_in(response: httpx.Response, clock: Clock) -> float | None:
    raw = response.headers.get("x-rate-limit-reset")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw) - clock.time())
    except ValueError:
        return None


def _remaining(response: httpx.Response) -> int | None:
    raw = response.headers.get("x-rate-limit-remaining")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _problem(body: bytes) -> str:
    """What X said about a failure, as X sent it (hostile: the caller
    redacts it): a v2 problem's ``title`` and ``detail`` ("Client Forbidden:
    When authenticating requests…"), a v1 body's ``errors[0].message``, an
    OAuth ``error`` / ``error_description``; "" when the body is none of them."""
    try:
        value = orjson.loads(body[:_PROBLEM_BYTES])
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(value, dict):
        return ""
    parts: list[str] = []
    for key in ("title", "detail", "error", "error_description"):
        text = value.get(key)
        if isinstance(text, str) and text.strip() and text.strip() not in parts:
            parts.append(text.strip())
    if not parts:
        errors = value.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else None
        if isinstance(first, dict):
            for key in ("message", "title", "detail"):
                text = first.get(key)
                if isinstance(text, str) and text.strip():
                    parts.append(text.strip())
                    break
    return ": ".join(parts)


class XClient:
    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        clock: Clock | None = None,
        limits: XLimits | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = (base_url or DEFAULT_BASE).rstrip("/")
        # Names the app without revealing the token (leases, logs).
        self.token_id = hashlib.sha256(token.encode()).hexdigest()[:16]
        # Masked by value in error texts: a server (or a proxy) may echo it.
        self._known_secrets = (token,)
        self.clock = clock or SystemClock()
        self.limits = limits or XLimits()
        lim = self.limits
        self.search_budget = WindowBudget(lim.search_per_window, lim.window_seconds, self.clock)
        self.rules_budget = WindowBudget(lim.rules_posts_per_window, lim.window_seconds, self.clock)
        self.connect_budget = WindowBudget(lim.connects_per_window, lim.window_seconds, self.clock)
        self._make_http = lambda: httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "authorization": f"Bearer {token}",
                "user-agent": f"Hubbub/{__version__}",
            },
            timeout=httpx.Timeout(timeout, read=None),
            follow_redirects=False,
        )
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:  # never the token
        return f"XClient({self.base_url!r})"

    @property
    def _http(self) -> httpx.AsyncClient:
        """The HTTP client, (re)opened on use: a source the pipeline restarts
        after ``aclose`` gets a fresh one."""
        if self._client is None or self._client.is_closed:
            self._client = self._make_http()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> XClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- plumbing -------------------------------------------------------------

    def _error(self, response: httpx.Response, what: str, body: bytes = b"") -> XError:
        status = response.status_code
        # X's text is hostile: no escape codes, no echo of our token, short.
        detail = redact(_problem(body), 200, known=self._known_secrets)
        message = f"{what}: HTTP {status}" + (f" ({detail})" if detail else "")
        if status == 429:
            return XError(message, Failure.RATE_LIMIT, status, _reset_in(response, self.clock))
        return XError(message, Failure.HTTP, status)

    def _unconnected(self, what: str, exc: httpx.HTTPError) -> XError:
        """No HTTP answer: ``rules: connection failed: <what httpx said>``."""
        text = redact(connection_failed(exc), 200, known=self._known_secrets)
        return XError(f"{what}: {text}", Failure.NETWORK)

    async def _request(
        self,
        method: str,
        path: str,
        budget: WindowBudget,
        what: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
    ) -> tuple[bytes, Any]:
        await budget.acquire()
        try:
            response = await self._http.request(
                method, path, params=params, json=json, timeout=30.0
            )
        except httpx.HTTPError as exc:
            raise self._unconnected(what, exc) from None
        body = response.content
        budget.observe(_remaining(response), _reset_in(response, self.clock))
        if response.status_code != 200 and response.status_code != 201:
            raise self._error(response, what, body)
        try:
            return body, orjson.loads(body)
        except orjson.JSONDecodeError:
            raise XError(f"{what}: the answer is not JSON", Failure.NETWORK) from None

    # -- rules ------------------------------------------------------------------

    async def get_rules(self) -> list[Rule]:
        _body, value = await self._request("GET", RULES_PATH, self.search_budget, "rules")
        rules = value.get("data") if isinstance(value, dict) else None
        out: list[Rule] = []
        for rule in rules or []:
            if isinstance(rule, dict) and "id" in rule and isinstance(rule.get("value"), str):
                tag = rule.get("tag")
                out.append(
                    Rule(str(rule["id"]), rule["value"], tag if isinstance(tag, str) else None)
                )
        return out

    async def add_rules(self, rules: list[tuple[str, str]]) -> dict[str, Any]:
        """Add (value, tag) rules; returns X's ``meta.summary``. Rules X
        refuses (invalid, duplicate) are reported there, not raised."""
        body = {"add": [{"value": value, "tag": tag} for value, tag in rules]}
        _raw, value = await self._request(
            "POST", RULES_PATH, self.rules_budget, "add rules", json=body
        )
        meta = value.get("meta") if isinstance(value, dict) else None
        return (meta or {}).get("summary") or {}

    async def delete_rules(self, ids: list[str]) -> dict[str, Any]:
        body = {"delete": {"ids": ids}}
        _raw, value = await self._request(
            "POST", RULES_PATH, self.rules_budget, "delete rules", json=body
        )
        meta = value.get("meta") if isinstance(value, dict) else None
        return (meta or {}).get("summary") or {}

    # -- recent search -----------------------------------------------------------

    async def search_recent(
        self,
        query: str,
        *,
        since_id: str | None = None,
        start_time: str | None = None,
        until_id: str | None = None,
        next_token: str | None = None,
    ) -> SearchPage:
        if len(query) > self.limits.query_chars:
            raise ValueError(f"a search query is at most {self.limits.query_chars} characters")
        params = {
            "query": query,
            "max_results": str(self.limits.page_size),
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
            "media.fields": MEDIA_FIELDS,
            "place.fields": PLACE_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        elif start_time:
            params["start_time"] = start_time
        if until_id:
            params["until_id"] = until_id
        if next_token:
            params["next_token"] = next_token
        body, value = await self._request(
            "GET", SEARCH_PATH, self.search_budget, "recent search", params=params
        )
        if not isinstance(value, dict):
            raise XError("recent search: unexpected answer", Failure.NETWORK)
        data = value.get("data") or []
        ids = tuple(str(t["id"]) for t in data if isinstance(t, dict) and "id" in t)
        meta = value.get("meta") or {}
        token = meta.get("next_token") if isinstance(meta, dict) else None
        return SearchPage(body, value, ids, token if isinstance(token, str) and token else None)

    # -- filtered stream -----------------------------------------------------------

    @contextlib.asynccontextmanager
    async def stream(self) -> AsyncIterator[AsyncIterator[bytes]]:
        """Connect to the filtered stream; yields an iterator of lines (a
        keep-alive is an empty line). Raises XError if the connection is
        refused. One connection per app: the caller never opens a second."""
        await self.connect_budget.acquire()
        params = {
            "tweet.fields": TWEET_FIELDS,
            "expansions": EXPANSIONS,
            "user.fields": USER_FIELDS,
            "media.fields": MEDIA_FIELDS,
            "place.fields": PLACE_FIELDS,
        }
        request = self._http.build_request("GET", STREAM_PATH, params=params)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._unconnected("stream", exc) from None
        try:
            self.connect_budget.observe(_remaining(response), _reset_in(response, self.clock))
            if response.status_code != 200:
                try:
                    body = await response.aread()
                except httpx.HTTPError:
                    body = b""
                raise self._error(response, "stream", body[:10_000])
            yield _lines(response, self._known_secrets)
        finally:
            await response.aclose()


async def _lines(response: httpx.Response, known: tuple[str, ...]) -> AsyncIterator[bytes]:
    """Lines of the chunked body, ``\\r\\n``-separated; the last partial
    line of a dropped connection is never yielded (it is incomplete)."""
    buffer = b""
    try:
        async for chunk in response.aiter_raw():
            buffer += chunk
            while True:
                cut = buffer.find(b"\n")
                if cut < 0:
                    break
                line, buffer = buffer[:cut].rstrip(b"\r"), buffer[cut + 1 :]
                yield line
            if len(buffer) > 16 * 1024 * 1024:
                raise XError("stream: a line over 16 MB", Failure.NETWORK)
    except httpx.HTTPError as exc:
        text = redact(connection_failed(exc, lost=True), 200, known=known)
        raise XError(f"stream: {text}", Failure.NETWORK) from None


async def check_account(credentials: Credentials, base_url: str | None = None) -> str:
    """Who the token belongs to: ``@username`` for a user token; for an
    app-only bearer token (which /2/users/me refuses) the rules endpoint
    answering is the proof."""
    from hubbub.networks.accounts_check import CheckFailed

    async with XClient(credentials.secret, base_url=base_url, timeout=15.0) as client:
        try:
            _body, value = await client._request("GET", ME_PATH, client.search_budget, "users/me")
        except XError as exc:
            if exc.status != 403:
                raise CheckFailed(str(exc)) from None
        else:
            data = value.get("data") if isinstance(value, dict) else None
            if isinstance(data, dict) and isinstance(data.get("username"), str):
                return "@" + data["username"]
        try:
            rules = await client.get_rules()
        except XError as exc:
            raise CheckFailed(str(exc)) from None
        return f"app-only token ({len(rules)} stream rules)"

"""Bluesky over XRPC: one session per account, kept and refreshed, and the
read calls the connectors need (``searchPosts`` with paging, ``getSession``).

Why a session is precious: ``com.atproto.server.createSession`` is limited to
30 calls per 5 minutes and 300 per day per account, so a client that logs in
on every start (or every expired token) locks its account out. This client
logs in once, refreshes with ``refreshSession`` when the access token expires
(``ExpiredToken``), logs in again only when the refresh token is refused too,
and counts its own logins against the 5-minute budget so a restart loop
cannot spend it. ``on_session`` lets the caller keep the session (encrypted,
with the account) so a restarted process can reuse it instead of logging in.

``searchPosts`` needs a login since January 2025 (anonymous calls get 403),
cursor paging too; the user's PDS (default ``https://bsky.social``) proxies it
to the AppView. Search is for backfill, never for monitoring (Jetstream is).

Secrets (the app password, both tokens) never appear in errors: XRPC errors
carry only the status, the error name and a scrubbed message.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from hubbub.networks.accounts_check import CheckFailed
from hubbub.networks.clock import Clock, SystemClock
from hubbub.networks.env import Credentials
from hubbub.networks.failure_text import CONNECTION_FAILED, cause
from hubbub.networks.http_owner import OwnsHttp
from hubbub.sources.base import redact

DEFAULT_SERVICE = "https://bsky.social"
# One page of search results: the lexicon allows 1..100.
SEARCH_PAGE = 100
# createSession: 30 per 5 minutes per account (documented PDS limit).
LOGIN_LIMIT = 30
LOGIN_WINDOW = 300.0
# Bounds at the edge: a response larger than this is refused, not parsed.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


class XrpcError(Exception):
    """An XRPC call that failed: HTTP status, XRPC error name, scrubbed message."""

    def __init__(
        self, status: int, error: str, message: str = "", *, known: Iterable[str] = ()
    ) -> None:
        # Both come from the server (hostile, and may echo our login): scrubbed here.
        self.status, self.error = status, redact(error, 80, known=known)
        self.message = redact(message, 200, known=known)
        if status == 0:
            # No HTTP answer came (``error`` names the httpx error): no status
            # to show, and the library's words say more than its type.
            super().__init__(f"{CONNECTION_FAILED}: {self.message or self.error}")
        else:
            text = f"{status} {self.error}"  # the server's error name, redacted above
            super().__init__(text + (f": {self.message}" if self.message else ""))


class AuthFailed(XrpcError):
    """The credentials were refused: retrying will not help until they change."""


class RateLimited(XrpcError):
    """429 (or our own login budget): try again in ``reset_in`` seconds."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        reset_in: float,
        *,
        known: Iterable[str] = (),
    ) -> None:
        super().__init__(status, error, message, known=known)
        self.reset_in = reset_in


@dataclass(slots=True)
class Session:
    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str

    def __repr__(self) -> str:  # never print tokens
        return f"Session(did={self.did!r}, handle={self.handle!r})"

    def as_json(self) -> dict[str, str]:
        return {
            "did": self.did,
            "handle": self.handle,
            "accessJwt": self.access_jwt,
            "refreshJwt": self.refresh_jwt,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Session:
        for key in ("did", "handle", "accessJwt", "refreshJwt"):
            if not isinstance(value.get(key), str) or not value[key]:
                raise XrpcError(502, "BadSession", f"session without {key}")
        return cls(value["did"], value["handle"], value["accessJwt"], value["refreshJwt"])


class LoginBudget:
    """createSession calls in the last ``window`` seconds, at most ``limit``."""

    def __init__(self, clock: Clock, limit: int = LOGIN_LIMIT, window: float = LOGIN_WINDOW):
        self.clock, self.limit, self.window = clock, limit, window
        self._calls: deque[float] = deque()

    def wait_needed(self) -> float:
        """Seconds until a login is allowed (0: now)."""
        now = self.clock.monotonic()
        while self._calls and self._calls[0] <= now - self.window:
            self._calls.popleft()
        if len(self._calls) < self.limit:
            return 0.0
        return self._calls[0] + self.window - now

    def spend(self) -> None:
        self._calls.append(self.clock.monotonic())


class BlueskyClient(OwnsHttp):
    """XRPC calls as one account. ``service`` is the PDS base URL (an
    ``http://127.0.0.1:PORT`` loopback server in tests)."""

    def __init__(
        self,
        identifier: str,
        password: str,
        *,
        service: str = DEFAULT_SERVICE,
        clock: Clock | None = None,
        session: Session | None = None,
        on_session: Callable[[Session], None] | None = None,
        http: httpx.AsyncClient | None = None,
        budget: LoginBudget | None = None,
    ) -> None:
        self.identifier = identifier
        self._password = password
        self.service = service.rstrip("/")
        self.clock = clock or SystemClock()
        self.session = session
        self._on_session = on_session
        self._init_http(http, _TIMEOUT)
        self.budget = budget or LoginBudget(self.clock)
        self.logins = 0  # createSession calls made by this client
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"BlueskyClient({self.identifier!r}, service={self.service!r})"

    # -- session ---------------------------------------------------------------

    async def login(self) -> Session:
        """createSession, within the login budget."""
        wait = self.budget.wait_needed()
        if wait > 0:
            raise RateLimited(429, "LoginBudget", "createSession budget spent", wait)
        self.budget.spend()
        self.logins += 1
        body = await self._call(
            "POST",
            "com.atproto.server.createSession",
            json={"identifier": self.identifier, "password": self._password},
            token=None,
        )
        return self._keep(Session.from_json(body))

    async def refresh(self) -> Session:
        """refreshSession with the refresh token; a refused one means log in again."""
        if self.session is None:
            return await self.login()
        self.refreshes += 1
        try:
            body = await self._call(
                "POST", "com.atproto.server.refreshSession", token=self.session.refresh_jwt
            )
        except AuthFailed:
            self.session = None
            return await self.login()
        return self._keep(Session.from_json(body))

    def _known_secrets(self) -> tuple[str, ...]:
        """What an error text must not show even if the server echoes it."""
        known = [self._password]
        if self.session is not None:
            known += [self.session.access_jwt, self.session.refresh_jwt]
        return tuple(known)

    def _keep(self, session: Session) -> Session:
        self.session = session
        if self._on_session is not None:
            self._on_session(session)
        return session

    async def call(
        self, method: str, nsid: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> dict[str, Any]:
        """An authenticated call; an expired access token is refreshed once."""
        session = self.session or await self.login()
        try:
            return await self._call(
                method, nsid, params=params, json=json, token=session.access_jwt
            )
        except AuthFailed as exc:
            if exc.error not in ("ExpiredToken", "InvalidToken", "AuthenticationRequired"):
                raise
        session = await self.refresh()
        return await self._call(method, nsid, params=params, json=json, token=session.access_jwt)

    # -- reads -----------------------------------------------------------------

    async def search_posts(
        self,
        query: str,
        *,
        cursor: str | None = None,
        since: str | None = None,
        limit: int = SEARCH_PAGE,
        sort: str = "latest",
    ) -> dict[str, Any]:
        """One page of ``app.bsky.feed.searchPosts`` (``{posts, cursor?}``)."""
        params: dict[str, Any] = {
            "q": query,
            "limit": max(1, min(limit, SEARCH_PAGE)),
            "sort": sort,
        }
        if cursor:
            params["cursor"] = cursor
        if since:
            params["since"] = since
        page = await self.call("GET", "app.bsky.feed.searchPosts", params=params)
        if not isinstance(page.get("posts"), list):
            raise XrpcError(502, "BadResponse", "searchPosts answer without posts")
        return page

    async def check(self) -> dict[str, str]:
        """Verify the account: log in (or reuse the session) and ask getSession."""
        body = await self.call("GET", "com.atproto.server.getSession")
        return {"did": str(body.get("did", "")), "handle": str(body.get("handle", ""))}

    # -- wire ------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        nsid: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        token: str | None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        url = f"{self.service}/xrpc/{nsid}"
        try:
            async with self._http.stream(
                method,
                url,
                params=params,
                content=orjson.dumps(json) if json is not None else None,
                headers={**headers, "Content-Type": "application/json"}
                if json is not None
                else headers,
            ) as response:
                body = await _read_capped(response)
        except httpx.HTTPError as exc:
            # httpx errors can quote the URL; ours never carries a secret, but scrub anyway.
            raise XrpcError(
                0, type(exc).__name__, cause(exc), known=self._known_secrets()
            ) from None
        return _decode(response, body, self.clock, self._known_secrets())


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise XrpcError(502, "ResponseTooLarge", f"more than {MAX_RESPONSE_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(
    response: httpx.Response, body: bytes, clock: Clock, known: tuple[str, ...] = ()
) -> dict[str, Any]:
    status = response.status_code
    try:
        value = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        value = None
    if 200 <= status < 300:
        if not isinstance(value, dict):
            raise XrpcError(502, "BadResponse", "the answer is not a JSON object")
        return value
    error = "Error"
    message = ""
    if isinstance(value, dict):
        error = str(value.get("error") or error)
        message = str(value.get("message") or "")
    if status == 429:
        wait = reset_in(response.headers, clock)
        raise RateLimited(status, error, message, wait, known=known)
    if status == 401 or error in ("ExpiredToken", "InvalidToken", "AuthenticationRequired"):
        raise AuthFailed(status, error, message, known=known)
    raise XrpcError(status, error, message, known=known)


def reset_in(headers: httpx.Headers, clock: Clock) -> float:
    """Seconds until the rate limit resets, from ``ratelimit-reset`` (unix
    seconds) or ``Retry-After`` (seconds); 60 when neither is readable."""
    reset = headers.get("ratelimit-reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - clock.time())
        except ValueError:
            pass
    retry = headers.get("retry-after")
    if retry is not None:
        try:
            return max(0.0, float(retry))
        except ValueError:
            pass
    return 60.0


def split_secret(secret: str) -> tuple[str, str]:
    """A Bluesky account's stored secret: handle (or DID, or e-mail) on the
    first line, app password on the second."""
    lines = [line.strip() for line in secret.splitlines() if line.strip()]
    if len(lines) != 2:
        raise ValueError("a Bluesky secret is two lines: the handle, then an app password")
    return lines[0], lines[1]


async def check_account(credentials: Credentials, base_url: str | None = None) -> str:
    """``hubbub account check`` for Bluesky: log in and ask who we are."""
    try:
        identifier, password = split_secret(credentials.secret)
    except ValueError as exc:
        raise CheckFailed(str(exc)) from None
    service = base_url or credentials.server or DEFAULT_SERVICE
    async with BlueskyClient(identifier, password, service=service) as client:
        try:
            who = await client.check()
        except AuthFailed as exc:
            raise CheckFailed(f"Bluesky refused the login: {exc}") from None
        except RateLimited as exc:
            raise CheckFailed(f"Bluesky rate limit: try again in {exc.reset_in:.0f} s") from None
        except XrpcError as exc:
            raise CheckFailed(f"Bluesky could not be checked: {exc}") from None
    return f"@{who['handle']}" if who["handle"] else who["did"]

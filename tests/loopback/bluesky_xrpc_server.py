"""A loopback Bluesky PDS/AppView for the XRPC calls the connector makes
(Starlette under uvicorn, in its own thread):

- ``POST /xrpc/com.atproto.server.createSession`` ({identifier, password}) →
  ``{did, handle, accessJwt, refreshJwt}``; 401 ``AuthenticationRequired`` for
  a wrong password; 429 ``RateLimitExceeded`` past 30 per 5 minutes, with
  ``ratelimit-limit/remaining/reset`` (unix seconds) headers;
- ``POST /xrpc/com.atproto.server.refreshSession`` (Bearer refresh token) →
  new tokens, the old refresh token spent; 400 ``ExpiredToken`` otherwise;
- ``GET /xrpc/com.atproto.server.getSession`` (Bearer access token);
- ``GET /xrpc/app.bsky.feed.searchPosts`` (``q``, ``limit`` ≤ 100, ``cursor``,
  ``sort``, ``since``): 403 without a token, as the public AppView since 2025;
  400 ``ExpiredToken`` when the access token has expired (after
  ``access_uses`` calls); newest first, opaque cursors.

Posts are the recorded ``searchPosts`` response in ``../shared/data/payloads/
bluesky_xrpc`` plus posts generated from it. Faults (``XrpcFault``): 429 with
a reset, 5xx, truncated JSON, an access token expired early.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.loopback.mastodon_server import run_in_thread

HANDLE = "hubbub.test"
DID = "did:plc:hubbubloopback0000000000"


def load_search(folder: Path) -> dict[str, Any]:
    return orjson.loads((folder / "app.bsky.feed.searchPosts_q-redistricting.json").read_bytes())


def generated_views(recorded: dict[str, Any], count: int, *, word: str) -> list[dict[str, Any]]:
    """``count`` post views made from the recorded ones, each with a fresh
    at-URI, ``word`` in its text and an ``indexedAt`` a minute apart."""
    views = recorded["posts"]
    start = datetime(2026, 6, 1, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    for n in range(count):
        view = copy.deepcopy(views[n % len(views)])
        did = view["author"]["did"]
        view["uri"] = f"at://{did}/app.bsky.feed.post/3gs{n:010d}"
        view["cid"] = f"bafygenerated{n:010d}"
        when = (start + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
        view["indexedAt"] = when
        view["record"]["createdAt"] = when
        view["record"]["text"] = f"{word} generated {n}"
        view["record"].pop("facets", None)
        view.pop("embed", None)
        view["record"].pop("embed", None)
        out.append(view)
    return out


@dataclass
class XrpcFault:
    """``kind`` ``429`` | ``502`` | ``truncate`` | ``expire`` on the ``at``-th search call."""

    kind: str
    at: int
    reset_in: float = 30.0
    fired: bool = False


class XrpcServer:
    def __init__(
        self,
        *,
        password: str = "app-pass-1234",  # noqa: S107 - a loopback test account
        now: Callable[[], float],
        access_uses: int = 1_000_000,
        login_limit: int = 30,
    ) -> None:
        self.password = password
        self.now = now
        self.access_uses = access_uses
        self.login_limit = login_limit
        self.posts: list[dict[str, Any]] = []  # newest first
        self.faults: list[XrpcFault] = []
        self.creates = 0
        self.refreshes = 0
        self.searches: list[dict[str, str]] = []  # query params of each search call
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._logins: deque[float] = deque()
        self._access: dict[str, int] = {}  # token → uses left
        self._refresh: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stop: Callable[[], None] | None = None
        self.base = ""

    def __enter__(self) -> XrpcServer:
        self.base, self._stop = run_in_thread(self._app(), "xrpc")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._stop()

    def add(self, views: list[dict[str, Any]]) -> None:
        with self._lock:
            self.posts = sorted(self.posts + views, key=lambda v: v["indexedAt"], reverse=True)

    def expire_access_tokens(self) -> None:
        with self._lock:
            self._access.clear()

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/xrpc/com.atproto.server.createSession", self._create, methods=["POST"]),
                Route(
                    "/xrpc/com.atproto.server.refreshSession",
                    self._refresh_session,
                    methods=["POST"],
                ),
                Route("/xrpc/com.atproto.server.getSession", self._get_session),
                Route("/xrpc/app.bsky.feed.searchPosts", self._search),
            ]
        )

    def _log(self, request: Request) -> None:
        self.requests.append(
            (
                request.url.path,
                request.url.query,
                {k.lower(): v for k, v in request.headers.items()},
            )
        )

    def _tokens(self) -> dict[str, str]:
        n = next(self._ids)
        access, refresh = f"acc-{n}-loopback", f"ref-{n}-loopback"
        self._access[access] = self.access_uses
        self._refresh.add(refresh)
        return {"did": DID, "handle": HANDLE, "accessJwt": access, "refreshJwt": refresh}

    def _bearer(self, request: Request) -> str | None:
        value = request.headers.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    def _use_access(self, request: Request) -> Response | None:
        token = self._bearer(request)
        if token is None:
            return _error(403, "Forbidden", "authentication required")
        with self._lock:
            left = self._access.get(token)
            if left is None or left <= 0:
                self._access.pop(token, None)
                return _error(400, "ExpiredToken", "Token has expired")
            self._access[token] = left - 1
        return None

    async def _create(self, request: Request) -> Response:
        self._log(request)
        now = self.now()
        while self._logins and self._logins[0] <= now - 300:
            self._logins.popleft()
        if len(self._logins) >= self.login_limit:
            reset = str(int(self._logins[0] + 300))
            headers = {"ratelimit-limit": str(self.login_limit), "ratelimit-remaining": "0"}
            return _error(
                429,
                "RateLimitExceeded",
                "Rate Limit Exceeded",
                {**headers, "ratelimit-reset": reset},
            )
        self._logins.append(now)
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _error(400, "InvalidRequest", "body is not JSON")
        if body.get("identifier") != HANDLE or body.get("password") != self.password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.creates += 1
        with self._lock:
            return _json(self._tokens())

    async def _refresh_session(self, request: Request) -> Response:
        self._log(request)
        token = self._bearer(request)
        with self._lock:
            if token not in self._refresh:
                return _error(400, "ExpiredToken", "Token has been revoked")
            self._refresh.discard(token)
            self.refreshes += 1
            return _json(self._tokens())

    async def _get_session(self, request: Request) -> Response:
        self._log(request)
        refused = self._use_access(request)
        if refused is not None:
            return refused
        return _json({"did": DID, "handle": HANDLE, "active": True})

    async def _search(self, request: Request) -> Response:
        self._log(request)
        refused = self._use_access(request)
        if refused is not None:
            return refused
        params = dict(request.query_params)
        self.searches.append(params)
        fault = next((f for f in self.faults if not f.fired and len(self.searches) >= f.at), None)
        if fault is not None:
            fault.fired = True
            if fault.kind == "429":
                reset = str(int(self.now() + fault.reset_in))
                return _error(429, "RateLimitExceeded", "slow down", {"ratelimit-reset": reset})
            if fault.kind == "502":
                return _error(502, "UpstreamFailure", "try again")
            if fault.kind == "expire":
                self.expire_access_tokens()
                return _error(400, "ExpiredToken", "Token has expired")
        try:
            limit = max(1, min(int(params.get("limit", "25")), 100))
            offset = int(params.get("cursor", "0") or 0)
        except ValueError:
            return _error(400, "InvalidRequest", "bad limit or cursor")
        with self._lock:
            pool = list(self.posts)
        since = params.get("since")
        if since:
            pool = [p for p in pool if p["indexedAt"] >= since]
        page = pool[offset : offset + limit]
        body: dict[str, Any] = {"posts": page}
        if offset + limit < len(pool):
            body["cursor"] = str(offset + limit)
        raw = orjson.dumps(body)
        if fault is not None and fault.kind == "truncate":
            raw = raw[: len(raw) // 2]
        return Response(raw, media_type="application/json")


def _json(value: Any) -> Response:
    return Response(orjson.dumps(value), media_type="application/json")


def _error(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps({"error": error, "message": message}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )

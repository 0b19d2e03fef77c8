"""Loopback follower endpoints of the three networks (Starlette under
uvicorn, each in its own thread, real HTTP on 127.0.0.1):

- X API v2: ``GET /2/users/me``, ``GET /2/users/:id/followers`` and
  ``/following`` (``max_results`` 1..1000, opaque ``pagination_token``,
  ``meta.next_token``/``result_count``, ``x-rate-limit-*`` headers; 429 with
  ``x-rate-limit-reset`` in unix seconds);
- Bluesky: ``com.atproto.server.createSession``/``getSession``,
  ``app.bsky.actor.getProfile``/``getProfiles`` (≤ 25 ``actors``),
  ``app.bsky.graph.getFollowers``/``getFollows`` (``limit`` ≤ 100, opaque
  ``cursor``; the list gives profile views without counts, as the AppView
  does); 429 ``RateLimitExceeded`` with ``ratelimit-reset``;
- Mastodon: ``GET /api/v1/accounts/verify_credentials``,
  ``GET /api/v1/accounts/:id/followers`` and ``/following`` (``limit`` ≤ 80,
  ``max_id``, a ``Link`` header with ``next``/``prev`` URLs); 429 with
  ``X-RateLimit-Reset`` (ISO 8601).

Followers are made from the recorded account objects in
``../shared/data/payloads`` (twarc2 ``includes.users``, Mastodon's account
entity, Bluesky's actor views) with new ids and handles; every 7th is made
to look like a cheap fake (default picture, no bio, following thousands).
The same cursor always serves the same page, so a fetcher that lost a page
asks for it again and gets it again. ``served`` is the oracle: every id
sent in a page. ``rate_limit_at`` makes the Nth list request answer 429.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.loopback.mastodon_server import run_in_thread

X_USER_ID = "1500000000000000001"
BSKY_DID = "did:plc:hubbubfollowed000000000"
BSKY_HANDLE = "brand.test"
BSKY_PASSWORD = "app-pass-word-1234"  # noqa: S105 - a loopback test secret
MASTODON_ID = "109000000000000001"
TOKEN = "loopback-token"  # noqa: S105 - a loopback test secret


def _x_templates(payloads: Path) -> list[dict[str, Any]]:
    users: dict[str, dict[str, Any]] = {}
    for line in (payloads / "x_v2_twarc2" / "2sets.jsonl").read_bytes().splitlines():
        try:
            page = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        for user in (page.get("includes") or {}).get("users") or []:
            if isinstance(user, dict) and "public_metrics" in user:
                users.setdefault(user["id"], user)
    return list(users.values())[:200]


def _fake_looking(obj: dict[str, Any], network: str, n: int) -> None:
    if network == "x":
        obj["profile_image_url"] = (
            "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
        )
        obj["description"] = ""
        obj["public_metrics"] = {
            "followers_count": 0,
            "following_count": 4000 + n % 997,
            "tweet_count": 9000,
            "listed_count": 0,
        }
        obj["created_at"] = "2026-11-20T00:00:00.000Z"
    elif network == "mastodon":
        obj["avatar"] = "https://example.social/avatars/original/missing.png"
        obj["note"] = ""
        obj["followers_count"], obj["following_count"] = 0, 4000 + n % 997
        obj["statuses_count"] = 9000
        obj["created_at"] = "2026-11-20T00:00:00.000Z"
    else:
        obj.pop("avatar", None)
        obj["description"] = ""
        obj["followersCount"], obj["followsCount"], obj["postsCount"] = 0, 4000 + n % 997, 9000
        obj["createdAt"] = "2026-11-20T00:00:00.000Z"


def make_followers(
    network: str, count: int, payloads: Path, *, start: int = 0
) -> list[dict[str, Any]]:
    """``count`` account objects of ``network``, ids unique per network."""
    out: list[dict[str, Any]] = []
    if network == "x":
        templates = _x_templates(payloads)
    elif network == "mastodon":
        templates = [
            orjson.loads((payloads / "mastodon" / "account_entity_example.json").read_bytes())
        ]
    else:
        actors = orjson.loads(
            (payloads / "bluesky_xrpc" / "app.bsky.actor.searchActorsTypeahead.json").read_bytes()
        )["actors"]
        templates = [a for a in actors if isinstance(a, dict)]
    for i in range(start, start + count):
        obj = copy.deepcopy(templates[i % len(templates)])
        if network == "x":
            obj["id"] = str(2_000_000_000 + i)
            obj["username"] = f"xfan{i}"
        elif network == "mastodon":
            obj["id"] = str(200_000 + i)
            obj["username"] = f"toot{i}"
            obj["acct"] = f"toot{i}@remote.example"
            obj["bot"] = i % 50 == 3
        else:
            obj["did"] = f"did:plc:follower{i:017d}"
            obj["handle"] = f"sky{i}.bsky.social"
            obj.setdefault("description", "a person on Bluesky")
            obj["followersCount"] = 10 + i % 300
            obj["followsCount"] = 20 + i % 200
            obj["postsCount"] = 50 + i % 900
        if i % 7 == 0:
            _fake_looking(obj, network, i)
        out.append(obj)
    return out


def _token(offset: int) -> str:
    return urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def _offset(token: str | None) -> int | None:
    if not token:
        return 0
    try:
        text = urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        return None
    return int(text[1:]) if text.startswith("o") and text[1:].isdigit() else None


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(value), status, headers, media_type="application/json")


class FollowersServer:
    """One network's follower endpoints. ``followers``/``following``: the
    account objects served, in order. ``rate_limit_at``: numbers (1-based)
    of list requests answered 429 with a reset ``reset_seconds`` ahead.
    ``on_page(n)`` is called after the nth list page is sent."""

    def __init__(
        self,
        network: str,
        followers: list[dict[str, Any]],
        following: list[dict[str, Any]] | None = None,
        *,
        rate_limit_at: tuple[int, ...] = (),
        reset_seconds: float = 1.0,
        now: Callable[[], float] | None = None,
        page_delay: float = 0.0,
    ) -> None:
        self.network = network
        self.lists = {"followers": followers, "following": following or []}
        self.rate_limit_at = set(rate_limit_at)
        self.reset_seconds = reset_seconds
        self.page_delay = page_delay  # seconds before each list answer (the crash test's window)
        self.now = now or (lambda: datetime.now(UTC).timestamp())
        self.requests = 0  # list requests, 429s included
        self.pages = 0  # list pages sent
        self.rate_limited = 0
        self.served: dict[str, set[str]] = {"followers": set(), "following": set()}
        self._lock = threading.Lock()
        self.url = ""
        self._stop: Callable[[], None] | None = None

    def __enter__(self) -> FollowersServer:
        self.url, self._stop = run_in_thread(self._app(), f"followers-{self.network}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._stop()

    def _app(self) -> Starlette:
        if self.network == "x":
            routes = [
                Route("/2/users/me", self._x_me),
                Route("/2/users/{uid}/{kind}", self._x_list),
            ]
        elif self.network == "bluesky":
            routes = [
                Route("/xrpc/com.atproto.server.createSession", self._b_create, methods=["POST"]),
                Route("/xrpc/com.atproto.server.getSession", self._b_session),
                Route("/xrpc/app.bsky.actor.getProfile", self._b_profile),
                Route("/xrpc/app.bsky.actor.getProfiles", self._b_profiles),
                Route("/xrpc/app.bsky.graph.getFollowers", self._b_list),
                Route("/xrpc/app.bsky.graph.getFollows", self._b_list),
            ]
        else:
            routes = [
                Route("/api/v1/accounts/verify_credentials", self._m_me),
                Route("/api/v1/accounts/{uid}/{kind}", self._m_list),
            ]
        return Starlette(routes=routes)

    # -- shared ------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    async def _limited(self) -> bool:
        if self.page_delay:
            await asyncio.sleep(self.page_delay)
        with self._lock:
            self.requests += 1
            if self.requests in self.rate_limit_at:
                self.rate_limited += 1
                return True
        return False

    def _slice(self, kind: str, offset: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
        items = self.lists[kind]
        chunk = items[offset : offset + limit]
        nxt = offset + limit if offset + limit < len(items) else None
        with self._lock:
            self.served[kind].update(self._id(o) for o in chunk)
            self.pages += 1
        return chunk, nxt

    def _id(self, obj: dict[str, Any]) -> str:
        return str(obj["did"] if self.network == "bluesky" else obj["id"])

    def served_ids(self, kind: str = "followers") -> set[str]:
        with self._lock:
            return set(self.served[kind])

    # -- X -----------------------------------------------------------------------

    def _x_error(self, status: int, title: str) -> Response:
        return _json({"title": title, "detail": title, "status": status}, status)

    async def _x_me(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._x_error(401, "Unauthorized")
        return _json(
            {
                "data": {
                    "id": X_USER_ID,
                    "username": "brand",
                    "name": "Brand",
                    "public_metrics": {
                        "followers_count": len(self.lists["followers"]),
                        "following_count": len(self.lists["following"]),
                    },
                }
            }
        )

    async def _x_list(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._x_error(401, "Unauthorized")
        kind = request.path_params["kind"]
        if request.path_params["uid"] != X_USER_ID or kind not in self.lists:
            return self._x_error(404, "Not Found Error")
        reset = str(int(self.now() + self.reset_seconds))
        if await self._limited():
            return _json(
                {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
                429,
                {
                    "x-rate-limit-limit": "15",
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": reset,
                },
            )
        try:
            limit = int(request.query_params.get("max_results", "100"))
        except ValueError:
            limit = 0
        offset = _offset(request.query_params.get("pagination_token"))
        if not 1 <= limit <= 1000 or offset is None:
            return self._x_error(400, "Invalid Request")
        chunk, nxt = self._slice(kind, offset, limit)
        meta: dict[str, Any] = {"result_count": len(chunk)}
        if nxt is not None:
            meta["next_token"] = _token(nxt)
        if offset:
            meta["previous_token"] = _token(max(0, offset - limit))
        return _json(
            {"data": chunk, "meta": meta},
            headers={
                "x-rate-limit-limit": "15",
                "x-rate-limit-remaining": "14",
                "x-rate-limit-reset": reset,
            },
        )

    # -- Bluesky -----------------------------------------------------------------

    def _b_error(self, status: int, error: str, headers: dict[str, str] | None = None) -> Response:
        return _json({"error": error, "message": error}, status, headers)

    async def _b_create(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        if body.get("identifier") != BSKY_HANDLE or body.get("password") != BSKY_PASSWORD:
            return self._b_error(401, "AuthenticationRequired")
        return _json(
            {"did": BSKY_DID, "handle": BSKY_HANDLE, "accessJwt": TOKEN, "refreshJwt": "r-" + TOKEN}
        )

    async def _b_session(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._b_error(401, "AuthenticationRequired")
        return _json({"did": BSKY_DID, "handle": BSKY_HANDLE, "active": True})

    async def _b_profile(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._b_error(401, "AuthenticationRequired")
        return _json(
            {
                "did": BSKY_DID,
                "handle": BSKY_HANDLE,
                "followersCount": len(self.lists["followers"]),
                "followsCount": len(self.lists["following"]),
                "postsCount": 10,
            }
        )

    async def _b_profiles(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._b_error(401, "AuthenticationRequired")
        wanted = request.query_params.getlist("actors")
        if not 1 <= len(wanted) <= 25:
            return self._b_error(400, "InvalidRequest")
        index = {o["did"]: o for kind in self.lists for o in self.lists[kind]}
        return _json({"profiles": [index[d] for d in wanted if d in index]})

    async def _b_list(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._b_error(401, "AuthenticationRequired")
        kind = "followers" if request.url.path.endswith("getFollowers") else "following"
        if request.query_params.get("actor") not in (BSKY_DID, BSKY_HANDLE):
            return self._b_error(400, "InvalidRequest")
        if await self._limited():
            reset = str(int(self.now() + self.reset_seconds))
            headers = {
                "ratelimit-limit": "3000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": reset,
            }
            return self._b_error(429, "RateLimitExceeded", headers)
        try:
            limit = int(request.query_params.get("limit", "50"))
        except ValueError:
            limit = 0
        offset = _offset(request.query_params.get("cursor"))
        if not 1 <= limit <= 100 or offset is None:
            return self._b_error(400, "InvalidRequest")
        chunk, nxt = self._slice(kind, offset, limit)
        # The list's views are the basic ones: no counts (getProfiles has them).
        views = [
            {
                k: v
                for k, v in o.items()
                if k not in ("followersCount", "followsCount", "postsCount")
            }
            for o in chunk
        ]
        out: dict[str, Any] = {"subject": {"did": BSKY_DID, "handle": BSKY_HANDLE}}
        out["followers" if kind == "followers" else "follows"] = views
        if nxt is not None:
            out["cursor"] = _token(nxt)
        return _json(out)

    # -- Mastodon ----------------------------------------------------------------

    async def _m_me(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"error": "The access token is invalid"}, 401)
        return _json(
            {
                "id": MASTODON_ID,
                "username": "brand",
                "acct": "brand",
                "followers_count": len(self.lists["followers"]),
                "following_count": len(self.lists["following"]),
            }
        )

    async def _m_list(self, request: Request) -> Response:
        if not self._authorised(request):
            return _json({"error": "The access token is invalid"}, 401)
        kind = request.path_params["kind"]
        if request.path_params["uid"] != MASTODON_ID or kind not in self.lists:
            return _json({"error": "Record not found"}, 404)
        if await self._limited():
            reset = datetime.fromtimestamp(self.now() + self.reset_seconds, UTC)
            return _json(
                {"error": "Too many requests"},
                429,
                {
                    "x-ratelimit-limit": "300",
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": reset.isoformat().replace("+00:00", "Z"),
                },
            )
        try:
            limit = min(80, int(request.query_params.get("limit", "40")))
        except ValueError:
            limit = 40
        items = self.lists[kind]
        # max_id is the id of the follow relation in Mastodon; here the
        # position in the list stands for it (newest follows first).
        max_id = request.query_params.get("max_id")
        offset = 0
        if max_id is not None:
            if not max_id.isdigit():
                return _json({"error": "bad max_id"}, 400)
            offset = len(items) - int(max_id) + 1
        chunk, nxt = self._slice(kind, max(0, offset), max(1, limit))
        base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        links = []
        if nxt is not None:
            links.append(f'<{base}?max_id={len(items) - nxt + 1}>; rel="next"')
        if chunk:
            links.append(f'<{base}?min_id={len(items) - offset}>; rel="prev"')
        headers = {"link": ", ".join(links)} if links else {}
        headers.update({"x-ratelimit-limit": "300", "x-ratelimit-remaining": "299"})
        return _json(chunk, headers=headers)

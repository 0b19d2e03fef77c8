"""Loopback servers for each network's *write* API, recording what they
receive and failing on demand.

- X: ``GET /2/users/me``, ``POST /2/tweets``, ``GET /2/users/{id}/tweets``,
  likes and retweets (``POST``/``DELETE``); no idempotency key (as on X).
- Bluesky: ``createSession``/``refreshSession`` (access tokens can be
  expired on demand), ``createRecord`` (a record key that holds a record is
  refused, as a PDS does), ``getRecord``, ``deleteRecord``, ``resolveHandle``.
- Mastodon: ``POST /api/v1/statuses`` honouring ``Idempotency-Key`` per
  account as Mastodon does (a repeat returns the first status), favourite,
  reblog, ``verify_credentials``, ``/api/v2/search``, ``/api/v2/instance``.

Faults (``Faults.next``, consumed one per creating request, in order):
``"store_then_502"`` — the post is stored but the answer is a 502;
``"store_then_hang"`` — stored, then no answer until the client gives up;
``"store_then_drop"`` — stored, then the connection drops in the middle of the answer;
``"503"`` — refused before storing; ``"429"`` — rate limited with a reset
``reset_in`` seconds ahead; ``"401"`` — the token is rejected.
``Faults.reads`` (consumed one per read a writer makes before posting: X's
``/2/users/me``, Bluesky's ``createSession``, Mastodon's ``/api/v2/instance``):
``"drop"`` — the connection drops in the middle of the answer; ``"502"``.
``delay_after_store`` slows every creating answer after the object is stored,
so a killed client often dies between the server storing and it recording.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


@dataclass
class Faults:
    next: deque[str] = field(default_factory=deque)
    reset_in: float = 2.0
    delay_after_store: float = 0.0
    reads: deque[str] = field(default_factory=deque)

    def take(self) -> str | None:
        return self.next.popleft() if self.next else None

    def read_fault(self) -> Response | None:
        """The answer to a read made before posting, if a fault is queued."""
        fault = self.reads.popleft() if self.reads else None
        if fault == "drop":
            return _DroppedConnection()
        if fault == "502":
            return JSONResponse({"error": "Bad Gateway"}, status_code=502)
        return None


def _rate_limited(fault_headers: dict[str, str]) -> JSONResponse:
    return JSONResponse({"error": "Too Many Requests"}, status_code=429, headers=fault_headers)


class _DroppedConnection(Response):
    """Starts an answer, then drops the connection mid-body: what a client sees
    when a proxy or the server dies after the post was stored."""

    async def __call__(self, scope, receive, send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"500")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"id": "', "more_body": True})
        raise ConnectionResetError("loopback fault: connection dropped after storing")


async def _after_store(fault: str | None, faults: Faults, body: dict[str, Any], code: int = 200):
    if faults.delay_after_store:
        await asyncio.sleep(faults.delay_after_store)
    if fault == "store_then_drop":
        return _DroppedConnection()
    if fault == "store_then_502":
        return JSONResponse({"error": "Bad Gateway"}, status_code=502)
    if fault == "store_then_hang":
        await asyncio.sleep(3600)
    return JSONResponse(body, status_code=code)


def _pre_store(
    fault: str | None, faults: Faults, reset_header: str, epoch: bool
) -> Response | None:
    if fault == "503":
        return JSONResponse({"error": "Service Unavailable"}, status_code=503)
    if fault == "429":
        value = str(int(time.time() + faults.reset_in)) if epoch else str(int(faults.reset_in))
        return _rate_limited({reset_header: value})
    if fault == "401":
        return JSONResponse({"error": "The access token is invalid"}, status_code=401)
    return None


# ---------------------------------------------------------------- X


@dataclass
class XState:
    token: str = "x-user-token"  # noqa: S105 - a loopback test credential
    user_id: str = "1000"
    username: str = "hubbubtest"
    faults: Faults = field(default_factory=Faults)
    tweets: list[dict[str, Any]] = field(default_factory=list)
    likes: list[str] = field(default_factory=list)
    retweets: list[str] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1_900_000_000_000_000_000))
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


def x_app(state: XState) -> FastAPI:
    app = FastAPI()

    def authorised(request: Request) -> bool:
        state.requests.append((request.method, request.url.path, dict(request.headers)))
        return request.headers.get("authorization") == f"Bearer {state.token}"

    unauthorised = JSONResponse({"title": "Unauthorized", "status": 401}, status_code=401)

    @app.get("/2/users/me")
    async def me(request: Request):
        if not authorised(request):
            return unauthorised
        if (fault := state.faults.read_fault()) is not None:
            return fault
        return {"data": {"id": state.user_id, "username": state.username, "name": "Test"}}

    @app.post("/2/tweets")
    async def create(request: Request):
        if not authorised(request):
            return unauthorised
        fault = state.faults.take()
        if fault == "echo_403":
            # A hostile or careless server quoting the request's credentials and
            # terminal escapes back in its error text.
            said = f"not allowed for {request.headers.get('authorization')} \x1b]0;PWN\x07"
            return JSONResponse({"detail": said}, status_code=403)
        early = _pre_store(fault, state.faults, "x-rate-limit-reset", epoch=True)
        if early is not None:
            return early
        body = await request.json()
        tweet = {"id": str(next(state.ids)), "text": body["text"], "created_at": time.time()}
        if "reply" in body:
            tweet["in_reply_to"] = body["reply"]["in_reply_to_tweet_id"]
        state.tweets.append(tweet)
        return await _after_store(
            fault, state.faults, {"data": {"id": tweet["id"], "text": tweet["text"]}}, 201
        )

    @app.get("/2/users/{user_id}/tweets")
    async def timeline(user_id: str, request: Request):
        if not authorised(request):
            return unauthorised
        mine = [{"id": t["id"], "text": t["text"]} for t in reversed(state.tweets)]
        return {"data": mine[:100], "meta": {"result_count": min(len(mine), 100)}}

    @app.post("/2/users/{user_id}/likes")
    async def like(user_id: str, request: Request):
        if not authorised(request):
            return unauthorised
        target = (await request.json())["tweet_id"]
        if target not in state.likes:
            state.likes.append(target)
        return {"data": {"liked": True}}

    @app.post("/2/users/{user_id}/retweets")
    async def retweet(user_id: str, request: Request):
        if not authorised(request):
            return unauthorised
        target = (await request.json())["tweet_id"]
        if target not in state.retweets:
            state.retweets.append(target)
        return {"data": {"retweeted": True}}

    return app


# ---------------------------------------------------------------- Bluesky


@dataclass
class BlueskyState:
    handle: str = "hubbub.test"
    did: str = "did:plc:hubbubtest"
    password: str = "app-pass-word-1234"  # noqa: S105 - a loopback test credential
    faults: Faults = field(default_factory=Faults)
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    sessions_created: int = 0
    login_attempts: int = 0
    refreshes: int = 0
    counter: itertools.count = field(default_factory=itertools.count)
    others: dict[str, str] = field(default_factory=lambda: {"alice.test": "did:plc:alice"})

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def posts(self) -> list[dict[str, Any]]:
        return [r for (col, _), r in self.records.items() if col == "app.bsky.feed.post"]


def bluesky_app(state: BlueskyState) -> FastAPI:
    app = FastAPI()

    def new_tokens() -> dict[str, str]:
        n = next(state.counter)
        access, refresh = f"access-{n}", f"refresh-{n}"
        state.access_tokens.add(access)
        state.refresh_tokens.add(refresh)
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "did": state.did,
            "handle": state.handle,
        }

    def bearer(request: Request) -> str:
        return request.headers.get("authorization", "").removeprefix("Bearer ")

    expired = JSONResponse(
        {"error": "ExpiredToken", "message": "Token has expired"}, status_code=400
    )

    def check(request: Request) -> Response | None:
        if bearer(request) not in state.access_tokens:
            return expired  # an atproto server says 400 ExpiredToken, not 401
        return None

    @app.post("/xrpc/com.atproto.server.createSession")
    async def create_session(request: Request):
        body = await request.json()
        state.login_attempts += 1
        if (fault := state.faults.read_fault()) is not None:
            return fault
        if body.get("identifier") != state.handle or body.get("password") != state.password:
            return JSONResponse({"error": "AuthenticationRequired"}, status_code=401)
        state.sessions_created += 1
        return new_tokens()

    @app.post("/xrpc/com.atproto.server.refreshSession")
    async def refresh_session(request: Request):
        token = bearer(request)
        if token not in state.refresh_tokens:
            return expired
        state.refresh_tokens.discard(token)
        state.refreshes += 1
        return new_tokens()

    @app.get("/xrpc/com.atproto.identity.resolveHandle")
    async def resolve(handle: str, request: Request):
        if handle == state.handle:
            return {"did": state.did}
        if handle in state.others:
            return {"did": state.others[handle]}
        return JSONResponse(
            {"error": "InvalidRequest", "message": "Unable to resolve handle"}, status_code=400
        )

    @app.get("/xrpc/com.atproto.repo.getRecord")
    async def get_record(repo: str, collection: str, rkey: str, request: Request):
        stored = state.records.get((collection, rkey))
        if stored is None or stored["repo"] != repo:
            return JSONResponse({"error": "RecordNotFound"}, status_code=400)
        return {"uri": stored["uri"], "cid": stored["cid"], "value": stored["value"]}

    @app.post("/xrpc/com.atproto.repo.createRecord")
    async def create_record(request: Request):
        problem = check(request)
        if problem is not None:
            return problem
        fault = state.faults.take()
        early = _pre_store(fault, state.faults, "ratelimit-reset", epoch=True)
        if early is not None:
            return early
        body = await request.json()
        collection, rkey = body["collection"], body.get("rkey") or f"auto{next(state.counter)}"
        if (collection, rkey) in state.records:
            return JSONResponse(
                {"error": "InvalidRequest", "message": "Record already exists"}, status_code=400
            )
        uri = f"at://{body['repo']}/{collection}/{rkey}"
        cid = f"bafy{abs(hash(uri)) % 10**12:012d}"
        state.records[(collection, rkey)] = {
            "repo": body["repo"],
            "uri": uri,
            "cid": cid,
            "value": body["record"],
        }
        return await _after_store(fault, state.faults, {"uri": uri, "cid": cid})

    @app.post("/xrpc/com.atproto.repo.deleteRecord")
    async def delete_record(request: Request):
        problem = check(request)
        if problem is not None:
            return problem
        body = await request.json()
        state.records.pop((body["collection"], body["rkey"]), None)
        return {}

    return app


# ---------------------------------------------------------------- Mastodon


@dataclass
class MastodonState:
    token: str = "mastodon-user-token"  # noqa: S105 - a loopback test credential
    username: str = "hubbub"
    faults: Faults = field(default_factory=Faults)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    idempotency: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    favourites: set[str] = field(default_factory=set)
    reblogs: set[str] = field(default_factory=set)
    ids: itertools.count = field(default_factory=lambda: itertools.count(110_000_000_000_000_000))
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    max_characters: int = 500
    base: str = ""


def mastodon_app(state: MastodonState) -> FastAPI:
    app = FastAPI()
    unauthorised = JSONResponse({"error": "The access token is invalid"}, status_code=401)

    def authorised(request: Request) -> bool:
        state.requests.append((request.method, request.url.path, dict(request.headers)))
        return request.headers.get("authorization") == f"Bearer {state.token}"

    def status_json(status: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": status["id"],
            "uri": f"{state.base}/users/{state.username}/statuses/{status['id']}",
            "url": f"{state.base}/@{state.username}/{status['id']}",
            "content": f"<p>{status['text']}</p>",
            "in_reply_to_id": status.get("in_reply_to_id"),
        }

    @app.get("/api/v1/accounts/verify_credentials")
    async def verify(request: Request):
        if not authorised(request):
            return unauthorised
        return {"id": "1", "username": state.username, "acct": state.username}

    @app.get("/api/v2/instance")
    async def instance(request: Request):
        state.requests.append((request.method, request.url.path, dict(request.headers)))
        if (fault := state.faults.read_fault()) is not None:
            return fault
        return {
            "domain": "127.0.0.1",
            "configuration": {
                "statuses": {
                    "max_characters": state.max_characters,
                    "characters_reserved_per_url": 23,
                }
            },
        }

    @app.post("/api/v1/statuses")
    async def create(request: Request):
        if not authorised(request):
            return unauthorised
        key = request.headers.get("idempotency-key")
        if key and (state.token, key) in state.idempotency:
            # Mastodon answers a repeated key with the status it made the first time.
            return status_json(state.idempotency[(state.token, key)])
        fault = state.faults.take()
        early = _pre_store(fault, state.faults, "x-ratelimit-reset", epoch=False)
        if early is not None:
            return early
        body = await request.json()
        text = body.get("status", "")
        if len(text) > state.max_characters:
            return JSONResponse(
                {"error": "Validation failed: Text character limit"}, status_code=422
            )
        status = {
            "id": str(next(state.ids)),
            "text": text,
            "in_reply_to_id": body.get("in_reply_to_id"),
        }
        state.statuses.append(status)
        if key:
            state.idempotency[(state.token, key)] = status
        return await _after_store(fault, state.faults, status_json(status))

    @app.get("/api/v2/search")
    async def search(q: str, request: Request):
        if not authorised(request):
            return unauthorised
        for status in state.statuses:
            if q.endswith("/" + status["id"]):
                return {"statuses": [status_json(status)], "accounts": [], "hashtags": []}
        return {"statuses": [], "accounts": [], "hashtags": []}

    @app.post("/api/v1/statuses/{status_id}/{verb}")
    async def act(status_id: str, verb: str, request: Request):
        if not authorised(request):
            return unauthorised
        target = next((s for s in state.statuses if s["id"] == status_id), None)
        if target is None:
            return JSONResponse({"error": "Record not found"}, status_code=404)
        {"favourite": state.favourites.add, "reblog": state.reblogs.add}.get(verb, lambda _: None)(
            status_id
        )
        if verb == "unfavourite":
            state.favourites.discard(status_id)
        if verb == "unreblog":
            state.reblogs.discard(status_id)
        return status_json(target)

    return app


# ---------------------------------------------------------------- running


class Running:
    """A uvicorn server on a free loopback port, in a daemon thread."""

    def __init__(self, app: FastAPI) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("loopback server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

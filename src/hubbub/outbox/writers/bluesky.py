"""Bluesky: posts, likes and reposts as records in the account's repository.

The action's idempotency key is the record key (``rkey``): creating a record
under a key that already holds one fails instead of making a copy, and
``getRecord`` under that key tells whether an earlier try landed. The
session (``createSession``, limited to 30 per 5 minutes) is kept, reused and
renewed with ``refreshSession``; a store callback keeps it encrypted so other
processes reuse it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlsplit

import httpx
import orjson

from hubbub.counting.bluesky import facets as find_facets
from hubbub.networks.bluesky import LoginBudget
from hubbub.networks.clock import SystemClock
from hubbub.networks.env import Credentials
from hubbub.outbox.outcome import AuthExpired, RateLimited, Refused, Sent
from hubbub.outbox.queue import Action
from hubbub.outbox.writers.base import target_url
from hubbub.outbox.writers.http import before_posting, json_object, request

DEFAULT_PDS = "https://bsky.social"
_RESET = ("ratelimit-reset", "retry-after")
_POST_URL = re.compile(r"^/profile/([^/]+)/post/([A-Za-z0-9._~:-]+)/?$")
_COLLECTION = {
    "post": "app.bsky.feed.post",
    "reply": "app.bsky.feed.post",
    "quote": "app.bsky.feed.post",
    "like": "app.bsky.feed.like",
    "repost": "app.bsky.feed.repost",
}

_LOGIN_BUDGETS: dict[str, LoginBudget] = {}

SessionLoad = Callable[[], bytes | None]
SessionSave = Callable[[bytes | None], None]


@dataclass(slots=True)
class _Session:
    did: str
    handle: str
    access: str
    refresh: str


@dataclass(frozen=True, slots=True)
class _Ref:
    uri: str
    cid: str
    value: dict[str, object]


class BlueskyWriter:
    network = "bluesky"

    def __init__(
        self,
        credentials: Credentials,
        client: httpx.AsyncClient,
        load_session: SessionLoad | None = None,
        save_session: SessionSave | None = None,
    ) -> None:
        lines = credentials.secret.splitlines()
        if len(lines) < 2:
            raise Refused("a Bluesky account needs its handle and an app password")
        self._identifier, self._password = lines[0].strip(), lines[1].strip()
        self._base = (credentials.server or DEFAULT_PDS).rstrip("/")
        self._client = client
        self._load = load_session
        self._save = save_session
        self._session: _Session | None = None

    # -- session ---------------------------------------------------------

    def _keep(self, body: dict[str, object]) -> _Session:
        did, handle = body.get("did"), body.get("handle")
        access, refresh = body.get("accessJwt"), body.get("refreshJwt")
        if not all(isinstance(v, str) for v in (did, handle, access, refresh)):
            raise Refused("the server's session answer is incomplete")
        session = _Session(str(did), str(handle), str(access), str(refresh))
        self._session = session
        if self._save is not None:
            self._save(orjson.dumps(body))
        return session

    async def _session_now(self) -> _Session:
        if self._session is not None:
            return self._session
        if self._load is not None:
            stored = self._load()
            if stored:
                try:
                    body = orjson.loads(stored)
                except orjson.JSONDecodeError:
                    body = None
                if isinstance(body, dict):
                    try:
                        return self._keep(body)
                    except Refused:
                        pass
        # createSession is limited to 30 per 5 minutes per account: the read
        # client's login budget, shared by every writer of this process.
        budget = _LOGIN_BUDGETS.setdefault(self._identifier, LoginBudget(SystemClock()))
        wait = budget.wait_needed()
        if wait > 0:
            raise RateLimited("createSession budget spent (30 per 5 minutes)", wait)
        budget.spend()
        response = await request(
            self._client,
            "POST",
            f"{self._base}/xrpc/com.atproto.server.createSession",
            headers={},
            json={"identifier": self._identifier, "password": self._password},
            reset_headers=_RESET,
        )
        return self._keep(json_object(response))

    async def refresh(self) -> bool:
        session = self._session
        self._session = None
        if session is not None:
            try:
                response = await request(
                    self._client,
                    "POST",
                    f"{self._base}/xrpc/com.atproto.server.refreshSession",
                    headers={"Authorization": f"Bearer {session.refresh}"},
                    reset_headers=_RESET,
                )
                self._keep(json_object(response))
                return True
            except (AuthExpired, Refused):
                pass
        # The refresh token is gone too: one new session from the app password.
        if self._save is not None:
            self._save(None)
        self._load = None
        try:
            await self._session_now()
        except (AuthExpired, Refused):
            return False
        return True

    async def _xrpc(
        self, method: str, name: str, *, json: object = None, params: dict[str, str] | None = None
    ) -> dict[str, object]:
        session = await self._session_now()
        response = await request(
            self._client,
            method,
            f"{self._base}/xrpc/{name}",
            headers={"Authorization": f"Bearer {session.access}"},
            json=json,
            params=params,
            reset_headers=_RESET,
        )
        return json_object(response)

    # -- reading what a write needs ---------------------------------------

    async def _did(self, actor: str) -> str:
        if actor.startswith("did:"):
            return actor
        body = await self._xrpc(
            "GET", "com.atproto.identity.resolveHandle", params={"handle": actor}
        )
        did = body.get("did")
        if not isinstance(did, str):
            raise Refused(f"cannot resolve the handle {actor}")
        return did

    async def _record(self, did: str, collection: str, rkey: str) -> _Ref | None:
        try:
            body = await self._xrpc(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": did, "collection": collection, "rkey": rkey},
            )
        except Refused:
            return None  # RecordNotFound is a 400
        uri, cid, value = body.get("uri"), body.get("cid"), body.get("value")
        if isinstance(uri, str) and isinstance(cid, str) and isinstance(value, dict):
            return _Ref(uri, cid, value)
        return None

    async def _target(self, url: str) -> _Ref:
        parts = urlsplit(url)
        if url.startswith("at://"):
            pieces = url[5:].split("/")
            if len(pieces) == 3:
                found = await self._record(await self._did(pieces[0]), pieces[1], pieces[2])
                if found:
                    return found
            raise Refused(f"no such Bluesky post {url}")
        match = _POST_URL.match(parts.path)
        if not match:
            raise Refused(f"not a Bluesky post URL: {url}")
        did = await self._did(match.group(1))
        found = await self._record(did, "app.bsky.feed.post", match.group(2))
        if found is None:
            raise Refused(f"no such Bluesky post {url}")
        return found

    # -- writing -----------------------------------------------------------

    def _url(self, session: _Session, uri: str) -> str:
        rkey = uri.rsplit("/", 1)[-1]
        return f"https://bsky.app/profile/{session.handle}/post/{rkey}"

    async def _post_record(self, action: Action, parent: Action | None) -> dict[str, object]:
        text = action.text
        record: dict[str, object] = {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": action.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        facets: list[dict[str, object]] = []
        for facet in find_facets(text):
            if facet.kind == "mention":
                try:
                    did = await self._did(facet.value)
                except Refused:
                    continue  # an unknown handle stays plain text
                facets.append(facet.to_record(did))
            else:
                facets.append(facet.to_record())
        if facets:
            record["facets"] = facets
        target = target_url(action)
        reply_to: _Ref | None = None
        if action.kind == "reply" and target:
            reply_to = await self._target(target)
        elif parent is not None and parent.remote_id:
            reply_to = await self._target(parent.remote_id)
        if reply_to is not None:
            parent_ref = {"uri": reply_to.uri, "cid": reply_to.cid}
            existing = reply_to.value.get("reply")
            root = existing.get("root") if isinstance(existing, dict) else None
            record["reply"] = {
                "root": root if isinstance(root, dict) else parent_ref,
                "parent": parent_ref,
            }
        if action.kind == "quote" and target:
            quoted = await self._target(target)
            record["embed"] = {
                "$type": "app.bsky.embed.record",
                "record": {"uri": quoted.uri, "cid": quoted.cid},
            }
        return record

    async def send(self, action: Action, parent: Action | None) -> Sent:
        session = await before_posting("opening a session", self._session_now())
        if action.kind in ("unlike", "unrepost"):
            return await self._undo(action, session)
        collection = _COLLECTION[action.kind]
        if collection == "app.bsky.feed.post":
            record = await before_posting(
                "reading the posts and handles it names", self._post_record(action, parent)
            )
        else:
            target = target_url(action)
            if not target:
                raise Refused(f"{action.kind} needs the URL of a post")
            subject = await before_posting("finding the post", self._target(target))
            record = {
                "$type": collection,
                "subject": {"uri": subject.uri, "cid": subject.cid},
                "createdAt": action.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            }
        try:
            body = await self._xrpc(
                "POST",
                "com.atproto.repo.createRecord",
                json={
                    "repo": session.did,
                    "collection": collection,
                    "rkey": action.idempotency_key,
                    "record": record,
                },
            )
        except Refused:
            # The key already holds a record: an earlier try landed. Adopt it.
            landed = await self._record(session.did, collection, action.idempotency_key)
            if landed is None:
                raise
            return Sent(landed.uri, self._url(session, landed.uri))
        uri = body.get("uri")
        if not isinstance(uri, str):
            raise Refused("the server's answer has no record URI")
        return Sent(uri, self._url(session, uri))

    async def _undo(self, action: Action, session: _Session) -> Sent:
        record_uri = action.payload.get("record")
        if not isinstance(record_uri, str) or not record_uri.startswith("at://"):
            raise Refused(f"{action.kind} needs the like or repost it undoes")
        _, _, rest = record_uri.partition("at://")
        repo, collection, rkey = (rest.split("/") + ["", "", ""])[:3]
        await self._xrpc(
            "POST",
            "com.atproto.repo.deleteRecord",
            json={"repo": repo or session.did, "collection": collection, "rkey": rkey},
        )
        return Sent(record_uri, None)

    async def find_existing(self, action: Action) -> Sent | None:
        if action.kind in ("unlike", "unrepost"):
            return None  # deleting twice is harmless
        session = await self._session_now()
        landed = await self._record(session.did, _COLLECTION[action.kind], action.idempotency_key)
        if landed is None:
            return None
        return Sent(landed.uri, self._url(session, landed.uri))

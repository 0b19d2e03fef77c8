"""Mastodon: statuses, favourites and reblogs through the REST API.

Every creating request carries the action's ``Idempotency-Key``: Mastodon
keeps the key for an hour per account and answers a repeat with the status
it made the first time, so a retry after an unknown outcome never posts twice.
Favourite and reblog are idempotent by nature (a second favourite changes
nothing). A post on another server is reached through ``/api/v2/search`` with
``resolve=true``, which makes this server fetch it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from hubbub.counting.mastodon import MastodonLimits
from hubbub.counting.mastodon import count as count_mastodon
from hubbub.networks.env import Credentials
from hubbub.outbox.outcome import Refused, Sent
from hubbub.outbox.queue import Action
from hubbub.outbox.writers.base import target_url
from hubbub.outbox.writers.http import before_posting, json_object, request

_LOCAL_STATUS = re.compile(r"^/(?:@[^/]+|users/[^/]+/statuses|web/statuses)/(\d+)/?$")
_RESET = ("x-ratelimit-reset", "retry-after")


class MastodonWriter:
    network = "mastodon"

    def __init__(self, credentials: Credentials, client: httpx.AsyncClient) -> None:
        if not credentials.server:
            raise Refused("a Mastodon account needs its server (hubbub account add --server)")
        self._base = credentials.server.rstrip("/")
        if "://" not in self._base:
            self._base = "https://" + self._base
        self._token = credentials.secret
        self._client = client
        self._limits: MastodonLimits | None = None

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._token}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    async def _status_id(self, url: str) -> str:
        parts = urlsplit(url)
        if parts.netloc == urlsplit(self._base).netloc:
            local = _LOCAL_STATUS.match(parts.path)
            if local:
                return local.group(1)
        response = await request(
            self._client,
            "GET",
            f"{self._base}/api/v2/search",
            headers=self._headers(),
            params={"q": url, "resolve": "true", "type": "statuses", "limit": "1"},
            reset_headers=_RESET,
        )
        statuses = json_object(response).get("statuses")
        if isinstance(statuses, list) and statuses and isinstance(statuses[0], dict):
            found = statuses[0].get("id")
            if isinstance(found, str):
                return found
        raise Refused(f"this Mastodon server cannot find the post {url}")

    @staticmethod
    def _sent(body: dict[str, object]) -> Sent:
        status_id = body.get("id")
        url = body.get("url") or body.get("uri")
        if not isinstance(status_id, str):
            raise Refused("the server's answer has no status id")
        return Sent(status_id, url if isinstance(url, str) else None)

    async def _server_limits(self) -> MastodonLimits:
        """This server's own text limits (``/api/v2/instance``), read once."""
        if self._limits is None:
            response = await request(
                self._client,
                "GET",
                f"{self._base}/api/v2/instance",
                headers={},
                reset_headers=_RESET,
            )
            self._limits = MastodonLimits.from_instance(json_object(response))
        return self._limits

    async def send(self, action: Action, parent: Action | None) -> Sent:
        kind = action.kind
        if kind in ("post", "reply", "quote"):
            limits = await before_posting("reading the server's limits", self._server_limits())
            counted = count_mastodon(action.text, limits)
            if not counted.ok:
                raise Refused(
                    f"too long for this server: {counted.length} of {counted.limit} characters"
                )
            form: dict[str, object] = {"status": action.text}
            target = target_url(action)
            if kind == "reply" and target:
                form["in_reply_to_id"] = await before_posting(
                    "finding the post replied to", self._status_id(target)
                )
            elif parent is not None and parent.remote_id:
                form["in_reply_to_id"] = parent.remote_id
            if kind == "quote" and target:
                form["quoted_status_id"] = await before_posting(
                    "finding the quoted post", self._status_id(target)
                )
            response = await request(
                self._client,
                "POST",
                f"{self._base}/api/v1/statuses",
                headers=self._headers(action.idempotency_key),
                json=form,
                reset_headers=_RESET,
            )
            return self._sent(json_object(response))
        target = target_url(action)
        if not target:
            raise Refused(f"{kind} needs the URL of a post")
        status_id = await before_posting("finding the post", self._status_id(target))
        verb = {
            "repost": "reblog",
            "unrepost": "unreblog",
            "like": "favourite",
            "unlike": "unfavourite",
        }[kind]
        response = await request(
            self._client,
            "POST",
            f"{self._base}/api/v1/statuses/{status_id}/{verb}",
            headers=self._headers(action.idempotency_key),
            reset_headers=_RESET,
        )
        return self._sent(json_object(response))

    async def find_existing(self, action: Action) -> Sent | None:
        # Sending again with the same Idempotency-Key returns the first result.
        return None

    async def refresh(self) -> bool:
        return False  # a user access token cannot be renewed by the client

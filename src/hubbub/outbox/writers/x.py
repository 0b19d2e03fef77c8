"""X: posts, replies, quotes, likes and reposts through the v2 API.

X has no idempotency key. Before sending again an action whose earlier try
may have reached X, the writer reads the account's own recent posts and
adopts one with the same text created since the action was queued. On the
loopback servers this makes "exactly once" hold; on the real API it is best
effort (X may rewrite a text's links, and its timeline can lag a few
seconds), which docs/outbox.md says plainly. Likes and reposts are
idempotent on X's side: repeating one changes nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import httpx

from hubbub.networks.env import Credentials
from hubbub.outbox.outcome import Refused, Sent
from hubbub.outbox.queue import Action
from hubbub.outbox.writers.base import target_url
from hubbub.outbox.writers.http import before_posting, json_object, request

DEFAULT_API = "https://api.x.com"
_RESET = ("x-rate-limit-reset", "retry-after")
_STATUS_URL = re.compile(r"^/(?:[^/]+|i/web)/status(?:es)?/(\d+)")


def tweet_id(url: str) -> str:
    if url.isdigit():
        return url
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.").removeprefix("mobile.")
    match = _STATUS_URL.match(parts.path)
    if host not in ("x.com", "twitter.com") or not match:
        raise Refused(f"not an X post URL: {url}")
    return match.group(1)


class XWriter:
    network = "x"

    def __init__(self, credentials: Credentials, client: httpx.AsyncClient) -> None:
        self._token = credentials.secret.strip()
        self._base = (credentials.server or DEFAULT_API).rstrip("/")
        self._client = client
        self._me: tuple[str, str] | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def _call(
        self, method: str, path: str, json: object = None, params: dict[str, str] | None = None
    ) -> dict[str, object]:
        response = await request(
            self._client,
            method,
            self._base + path,
            headers=self._headers(),
            json=json,
            params=params,
            reset_headers=_RESET,
        )
        return json_object(response)

    async def _user(self) -> tuple[str, str]:
        if self._me is None:
            body = await self._call("GET", "/2/users/me")
            data = body.get("data")
            if not isinstance(data, dict) or not isinstance(data.get("id"), str):
                raise Refused(
                    "this X token cannot act as a user (an app-only bearer token?): "
                    "add an OAuth 2.0 user token"
                )
            self._me = (str(data["id"]), str(data.get("username") or "i"))
        return self._me

    def _url(self, username: str, post_id: str) -> str:
        return f"https://x.com/{username}/status/{post_id}"

    async def send(self, action: Action, parent: Action | None) -> Sent:
        user_id, username = await before_posting("reading the account", self._user())
        kind = action.kind
        if kind in ("post", "reply", "quote"):
            body: dict[str, object] = {"text": action.text}
            target = target_url(action)
            if kind == "reply" and target:
                body["reply"] = {"in_reply_to_tweet_id": tweet_id(target)}
            elif parent is not None and parent.remote_id:
                body["reply"] = {"in_reply_to_tweet_id": parent.remote_id}
            if kind == "quote" and target:
                body["quote_tweet_id"] = tweet_id(target)
            answer = await self._call("POST", "/2/tweets", json=body)
            data = answer.get("data")
            if not isinstance(data, dict) or not isinstance(data.get("id"), str):
                raise Refused("X's answer has no post id")
            return Sent(str(data["id"]), self._url(username, str(data["id"])))
        target = target_url(action)
        if not target:
            raise Refused(f"{kind} needs the URL of a post")
        target_id = tweet_id(target)
        if kind == "like":
            await self._call("POST", f"/2/users/{user_id}/likes", json={"tweet_id": target_id})
        elif kind == "repost":
            await self._call("POST", f"/2/users/{user_id}/retweets", json={"tweet_id": target_id})
        elif kind == "unlike":
            await self._call("DELETE", f"/2/users/{user_id}/likes/{target_id}")
        else:
            await self._call("DELETE", f"/2/users/{user_id}/retweets/{target_id}")
        return Sent(target_id, target)

    async def find_existing(self, action: Action) -> Sent | None:
        if action.kind not in ("post", "reply", "quote"):
            return None
        user_id, username = await self._user()
        since = action.created_at - timedelta(minutes=1)
        body = await self._call(
            "GET",
            f"/2/users/{user_id}/tweets",
            params={
                "max_results": "100",
                "start_time": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tweet.fields": "created_at",
            },
        )
        data = body.get("data")
        if not isinstance(data, list):
            return None
        for item in data:
            if isinstance(item, dict) and item.get("text") == action.text:
                post_id = item.get("id")
                if isinstance(post_id, str):
                    return Sent(post_id, self._url(username, post_id))
        return None

    async def refresh(self) -> bool:
        return False  # the token given to `account add` is all Hubbub holds

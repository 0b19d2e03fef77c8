"""Bluesky followers: ``app.bsky.graph.getFollowers`` / ``getFollows`` (100
a page, ``cursor`` paging), then ``app.bsky.actor.getProfiles`` for the
page's accounts (25 at a time): the list endpoints return profile views
without post and follower counts, and the score needs those.

Through ``BlueskyClient``'s session (one login, refreshed), within the
AppView's published budget of 3,000 requests per 5 minutes.
"""

from __future__ import annotations

from typing import Any

from hubbub.networks.bluesky import BlueskyClient, RateLimited, XrpcError
from hubbub.networks.budget import WindowBudget
from hubbub.networks.followers import (
    KINDS,
    FollowerPage,
    FollowersError,
    FollowersRateLimited,
    Subject,
)

PAGE_SIZE = 100
PROFILES_PER_CALL = 25
REQUESTS_PER_WINDOW = 3000
WINDOW_SECONDS = 300.0
_CURSOR_CHARS = 500


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class BlueskyFollowers:
    network = "bluesky"
    page_size = PAGE_SIZE

    def __init__(self, client: BlueskyClient) -> None:
        self.client = client
        self.budget = WindowBudget(REQUESTS_PER_WINDOW, WINDOW_SECONDS, client.clock)

    async def _call(self, nsid: str, params: dict[str, Any]) -> dict[str, Any]:
        await self.budget.acquire()
        try:
            return await self.client.call("GET", nsid, params=params)
        except RateLimited as exc:
            raise FollowersRateLimited(f"{nsid}: {exc}", exc.reset_in) from None
        except XrpcError as exc:
            raise FollowersError(f"{nsid}: {exc}") from None

    async def whoami(self) -> Subject:
        session = await self._call("com.atproto.server.getSession", {})
        did = session.get("did")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise FollowersError("getSession: no DID")
        profile = await self._call("app.bsky.actor.getProfile", {"actor": did})
        return Subject(
            id=did[:200],
            handle=str(session.get("handle") or "")[:300],
            followers=_int(profile.get("followersCount")),
            following=_int(profile.get("followsCount")),
        )

    async def page(
        self, subject: Subject, kind: str, cursor: str | None, limit: int = PAGE_SIZE
    ) -> FollowerPage:
        if kind not in KINDS:
            raise ValueError(kind)
        nsid, key = (
            ("app.bsky.graph.getFollowers", "followers")
            if kind == "followers"
            else ("app.bsky.graph.getFollows", "follows")
        )
        params: dict[str, Any] = {"actor": subject.id, "limit": max(1, min(limit, PAGE_SIZE))}
        if cursor:
            params["cursor"] = cursor
        value = await self._call(nsid, params)
        views = value.get(key)
        if not isinstance(views, list):
            raise FollowersError(f"{nsid}: no {key} list")
        views = [v for v in views if isinstance(v, dict) and isinstance(v.get("did"), str)]
        detailed = await self._detailed([v["did"] for v in views])
        # A view the AppView did not detail (deleted or taken down since) is
        # kept as listed: the follower is real, its counts unknown.
        accounts = [detailed.get(v["did"], v) for v in views]
        nxt = value.get("cursor")
        if not isinstance(nxt, str) or not nxt or len(nxt) > _CURSOR_CHARS:
            nxt = None
        return FollowerPage(accounts, nxt)

    async def _detailed(self, dids: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(dids), PROFILES_PER_CALL):
            chunk = dids[start : start + PROFILES_PER_CALL]
            value = await self._call("app.bsky.actor.getProfiles", {"actors": chunk})
            for profile in value.get("profiles") or []:
                if isinstance(profile, dict) and profile.get("did") in chunk:
                    out[profile["did"]] = profile
        return out

    async def aclose(self) -> None:
        await self.client.aclose()

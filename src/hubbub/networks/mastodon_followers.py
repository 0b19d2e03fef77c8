"""Mastodon followers: ``GET /api/v1/accounts/:id/followers`` and
``/following``, 80 accounts a page, paged by the ``Link`` header's ``next``
URL (its ``max_id``, followed on the server's own origin only), within the
client's 300-requests-per-5-minutes budget and its reading of
``X-RateLimit-*``.
"""

from __future__ import annotations

from hubbub.networks.followers import (
    KINDS,
    FollowerPage,
    FollowersError,
    FollowersRateLimited,
    Subject,
)
from hubbub.networks.mastodon import MastodonClient, MastodonError, MastodonRateLimited

PAGE_SIZE = 80


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class MastodonFollowers:
    network = "mastodon"
    page_size = PAGE_SIZE

    def __init__(self, client: MastodonClient) -> None:
        self.client = client

    async def whoami(self) -> Subject:
        try:
            me = await self.client.verify_credentials()
        except MastodonRateLimited as exc:
            raise FollowersRateLimited(f"verify_credentials: {exc}", exc.reset_in) from None
        except MastodonError as exc:
            raise FollowersError(f"verify_credentials: {exc}") from None
        account_id = str(me.get("id") or "")
        if not account_id.isalnum() or len(account_id) > 64:
            raise FollowersError("verify_credentials: no usable account id")
        return Subject(
            id=account_id,
            handle=str(me.get("acct") or me.get("username") or "")[:300],
            followers=_int(me.get("followers_count")),
            following=_int(me.get("following_count")),
        )

    async def page(
        self, subject: Subject, kind: str, cursor: str | None, limit: int = PAGE_SIZE
    ) -> FollowerPage:
        if kind not in KINDS:
            raise ValueError(kind)
        if not subject.id.isalnum():
            raise FollowersError("a Mastodon account id is letters and digits")
        params = {"limit": str(max(1, min(limit, PAGE_SIZE)))}
        if cursor:
            params["max_id"] = cursor
        path = f"/api/v1/accounts/{subject.id}/{kind}"
        try:
            value, response = await self.client._get(path, params=params, auth=True)
        except MastodonRateLimited as exc:
            raise FollowersRateLimited(f"{kind}: {exc}", exc.reset_in) from None
        except MastodonError as exc:
            raise FollowersError(f"{kind}: {exc}") from None
        if not isinstance(value, list):
            raise FollowersError(f"{kind}: the answer is not a list of accounts")
        links = self.client._links(response.headers.get("link", ""))
        nxt = links.get("next") if value else None
        return FollowerPage([a for a in value if isinstance(a, dict)], nxt)

    async def aclose(self) -> None:
        await self.client.aclose()

"""X followers lookup: ``GET /2/users/:id/followers`` and ``/following``,
1000 users a page, ``pagination_token`` paging, 15 requests per 15 minutes
(X's published limit for both endpoints), through ``XClient``'s token,
base URL, clock and error handling.

X bills each user object these endpoints return, so the caller estimates
the cost from ``Subject.followers`` before a fetch and passes a ``limit``
that keeps under the owner's cap.
"""

from __future__ import annotations

from typing import Any

from hubbub.networks.backoff import Failure
from hubbub.networks.budget import WindowBudget
from hubbub.networks.followers import (
    KINDS,
    FollowerPage,
    FollowersError,
    FollowersRateLimited,
    Subject,
)
from hubbub.networks.x import ME_PATH, USER_FIELDS, XClient, XError

PAGE_SIZE = 1000
REQUESTS_PER_WINDOW = 15
WINDOW_SECONDS = 900.0
_TOKEN_CHARS = 200  # X's tokens are ~20 characters; a longer one is not X's


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class XFollowers:
    network = "x"
    page_size = PAGE_SIZE

    def __init__(self, client: XClient) -> None:
        self.client = client
        self.budget = WindowBudget(REQUESTS_PER_WINDOW, WINDOW_SECONDS, client.clock)
        self.me_budget = WindowBudget(75, WINDOW_SECONDS, client.clock)

    async def _get(self, path: str, budget: WindowBudget, what: str, params: dict[str, str]) -> Any:
        try:
            _body, value = await self.client._request("GET", path, budget, what, params=params)
        except XError as exc:
            if exc.kind is Failure.RATE_LIMIT:
                reset = 60.0 if exc.reset_in is None else exc.reset_in  # X's window, unknown reset
                raise FollowersRateLimited(str(exc), reset) from None
            raise FollowersError(str(exc)) from None
        if not isinstance(value, dict):
            raise FollowersError(f"{what}: the answer is not a JSON object")
        return value

    async def whoami(self) -> Subject:
        value = await self._get(ME_PATH, self.me_budget, "users/me", {"user.fields": USER_FIELDS})
        data = value.get("data")
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            raise FollowersError(
                "users/me: no user (an app-only token cannot name whose followers to read)"
            )
        metrics = data.get("public_metrics")
        metrics = metrics if isinstance(metrics, dict) else {}
        return Subject(
            id=data["id"][:64],
            handle=str(data.get("username") or "")[:100],
            followers=_int(metrics.get("followers_count")),
            following=_int(metrics.get("following_count")),
        )

    async def page(
        self, subject: Subject, kind: str, cursor: str | None, limit: int = PAGE_SIZE
    ) -> FollowerPage:
        if kind not in KINDS:
            raise ValueError(kind)
        if not subject.id.isdigit():
            raise FollowersError("an X user id is digits")
        params = {
            "max_results": str(max(1, min(limit, PAGE_SIZE))),
            "user.fields": USER_FIELDS,
        }
        if cursor:
            params["pagination_token"] = cursor
        value = await self._get(f"/2/users/{subject.id}/{kind}", self.budget, kind, params)
        data = value.get("data") or []
        if not isinstance(data, list):
            raise FollowersError(f"{kind}: data is not a list")
        meta = value.get("meta")
        token = meta.get("next_token") if isinstance(meta, dict) else None
        if not isinstance(token, str) or not token or len(token) > _TOKEN_CHARS:
            token = None
        return FollowerPage([u for u in data if isinstance(u, dict)], token)

    async def aclose(self) -> None:
        await self.client.aclose()

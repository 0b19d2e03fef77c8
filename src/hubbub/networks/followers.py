"""Follower lists, the same way on every network: who the account is, and
one page of its followers (or of whom it follows) with the cursor of the
next page. Each network's module (``x_followers``, ``bluesky_followers``,
``mastodon_followers``) turns its own errors into the two below, so the
fetch loop (``hubbub.audience.fetch``) honours a 429 the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

KINDS = ("followers", "following")


class FollowersError(Exception):
    """A follower call that failed and that retrying now will not fix."""


class FollowersRateLimited(FollowersError):
    """429: the network's window reopens in ``reset_in`` seconds (from its headers)."""

    def __init__(self, message: str, reset_in: float) -> None:
        super().__init__(message)
        self.reset_in = reset_in


@dataclass(frozen=True, slots=True)
class Subject:
    """The connected account, as its network names it."""

    id: str
    handle: str
    followers: int | None  # the network's own count, for estimates (None: not given)
    following: int | None


@dataclass(frozen=True, slots=True)
class FollowerPage:
    accounts: list[dict[str, Any]]  # account objects as the network sent them
    next_cursor: str | None  # None: this was the last page


class FollowerSource(Protocol):
    network: str
    page_size: int  # the most one page may hold

    async def whoami(self) -> Subject: ...

    async def page(
        self, subject: Subject, kind: str, cursor: str | None, limit: int
    ) -> FollowerPage: ...

    async def aclose(self) -> None: ...

"""Fetch a connected account's followers (or whom it follows) into a
snapshot, page by page, resumable.

Each page is stored with the cursor of the next one in one transaction
(``AudienceRepo.save_page``), so a fetch killed at any point restarts from
the first page it had not stored: nothing is lost, and a page fetched twice
adds nobody twice. A 429 waits for the network's own reset time (on the
injected clock) and asks again. Memory holds one page at a time.

X bills each user it returns: ``estimate`` says how many reads a fetch will
cost before it starts, and ``cap`` stops it (state ``stopped``) when the
next page would pass the owner's cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hubbub.audience.bot_model import score
from hubbub.audience.profile import profile_from_object
from hubbub.networks.clock import Clock
from hubbub.networks.env import Credentials
from hubbub.networks.followers import (
    FollowersError,
    FollowerSource,
    FollowersRateLimited,
    Subject,
)
from hubbub.store.audience_repo import AudienceRepo, Member, Snapshot

MAX_RATE_LIMIT_WAITS = 50  # in a row, without a page stored: then give up (state stays running)


@dataclass(frozen=True, slots=True)
class FetchResult:
    snapshot: Snapshot
    pages: int  # fetched by this run
    stored: int  # new members stored by this run
    waits: tuple[float, ...]  # seconds waited for rate limits, in order


def member_from(obj: dict[str, object], fetched_at: datetime) -> Member | None:
    """The stored form of an account object, scored at fetch time; None when
    it is not an account object the scorer can read."""
    profile = profile_from_object(obj, fetched_at)
    if profile is None or not profile.id or profile.id == "None":
        return None
    result = score(profile, fetched_at)
    return Member(
        member_id=profile.id[:200],
        position=0,
        handle=profile.handle,
        name=profile.name,
        description=profile.description,
        created_at=profile.created_at,
        posts=profile.posts,
        followers=profile.followers,
        following=profile.following,
        default_avatar=profile.default_avatar,
        has_url=profile.has_url,
        declared_bot=profile.declared_bot,
        declared_by=profile.declared_by,
        suspicion=result.suspicion,
        suspicious=result.suspicious,
        reasons=result.reasons,
        fetched_at=fetched_at,
    )


def source_for(
    credentials: Credentials, clock: Clock, base_url: str | None = None
) -> FollowerSource:
    """The follower source of a stored account, with that network's client."""
    if credentials.network == "x":
        from hubbub.networks.x import XClient
        from hubbub.networks.x_followers import XFollowers

        return XFollowers(XClient(credentials.secret.strip(), base_url=base_url, clock=clock))
    if credentials.network == "bluesky":
        from hubbub.networks.bluesky import DEFAULT_SERVICE, BlueskyClient, split_secret
        from hubbub.networks.bluesky_followers import BlueskyFollowers

        identifier, password = split_secret(credentials.secret)
        service = base_url or credentials.server or DEFAULT_SERVICE
        return BlueskyFollowers(BlueskyClient(identifier, password, service=service, clock=clock))
    if credentials.network == "mastodon":
        from hubbub.networks.mastodon import MastodonClient
        from hubbub.networks.mastodon_followers import MastodonFollowers

        server = base_url or credentials.server
        if not server:
            raise FollowersError("a Mastodon account needs its server")
        return MastodonFollowers(
            MastodonClient(server, token=credentials.secret.strip(), clock=clock)
        )
    raise FollowersError(f"unknown network {credentials.network!r}")


def estimate(subject: Subject, kind: str) -> int | None:
    """User objects a full fetch will read (the network's own count)."""
    return subject.followers if kind == "followers" else subject.following


async def fetch(
    repo: AudienceRepo,
    source: FollowerSource,
    account: str,
    clock: Clock,
    *,
    kind: str = "followers",
    cap: int | None = None,
    subject: Subject | None = None,
    on_page: Callable[[Snapshot, int], None] | None = None,
) -> FetchResult:
    """Fetch (or resume) the ``kind`` list of ``account`` into a snapshot."""
    who = subject or await source.whoami()
    snap = await asyncio.to_thread(
        repo.open_snapshot, account, source.network, kind, who.id, who.handle
    )
    cursor = snap.cursor
    stored_total = snap.members
    pages = stored = 0
    waits: list[float] = []
    in_a_row = 0
    if snap.pages > 0 and cursor is None:
        # The last page was stored; only the "done" mark was lost.
        await asyncio.to_thread(repo.finish, snap.id, "done")
        return FetchResult(_reload(repo, snap), 0, 0, ())
    while True:
        limit = source.page_size
        if cap is not None:
            left = cap - stored_total
            if left <= 0:
                note = f"stopped at the cap of {cap} user reads"
                await asyncio.to_thread(repo.finish, snap.id, "stopped", note)
                break
            limit = min(limit, left)
        try:
            page = await source.page(who, kind, cursor, limit)
        except FollowersRateLimited as exc:
            in_a_row += 1
            if in_a_row > MAX_RATE_LIMIT_WAITS:
                raise
            wait = max(exc.reset_in, 1.0)
            waits.append(wait)
            await clock.sleep(wait)
            continue
        in_a_row = 0
        now = datetime.fromtimestamp(clock.time(), UTC)
        members = [m for obj in page.accounts if (m := member_from(obj, now)) is not None]
        new = await asyncio.to_thread(repo.save_page, snap.id, members, page.next_cursor)
        pages += 1
        stored += new
        stored_total += new
        if on_page is not None:
            on_page(snap, stored_total)
        if page.next_cursor is None:
            await asyncio.to_thread(repo.finish, snap.id, "done")
            break
        if page.next_cursor == cursor:
            await asyncio.to_thread(
                repo.finish, snap.id, "stopped", "the network repeated a cursor"
            )
            break
        cursor = page.next_cursor
    return FetchResult(_reload(repo, snap), pages, stored, tuple(waits))


def _reload(repo: AudienceRepo, snap: Snapshot) -> Snapshot:
    found = repo.snapshot(snap.id)
    return found if found is not None else snap

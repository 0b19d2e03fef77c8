"""Follower snapshots of one workspace: the only SQL of the audience audit.

``AudienceRepo(scope)`` is built once per workspace (``hubbub.store.scope``)
and adds the workspace condition to every statement, so an audit can never
read another workspace's followers or posts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hubbub.store.audience_schema import audience_members, audience_settings, audience_snapshots
from hubbub.store.schema import post_aliases, posts
from hubbub.store.scope import Scope
from hubbub.store.web_schema import rooms

DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = 3650
_s = audience_snapshots
_m = audience_members
_cfg = audience_settings
_PAGE_ROWS = 1000  # rows fetched per round trip when streaming members or posts


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: int
    account: str
    network: str
    kind: str
    subject_id: str
    subject_handle: str
    state: str
    cursor: str | None
    pages: int
    members: int
    note: str | None
    started_at: datetime
    finished_at: datetime | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    """One stored follower: the public fields the score and the audit use."""

    member_id: str
    position: int
    handle: str
    name: str
    description: str
    created_at: datetime | None
    posts: int | None
    followers: int | None
    following: int | None
    default_avatar: bool | None
    has_url: bool
    declared_bot: bool
    declared_by: str | None
    # None: not scored, the profile gave none of the counts the score reads
    # (hubbub.audience.bot_model.counts_known); suspicious None: unknown.
    suspicion: float | None
    suspicious: bool | None
    reasons: tuple[str, ...]
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class PostTouch:
    """What engagement reads of a stored post: who wrote it and what it points at."""

    post_id: str
    author_id: str
    aliases: tuple[str, ...]
    reply_to: str | None
    quote_of: str | None
    repost_of: str | None
    mentions: tuple[str, ...]
    hashtags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AudienceSettings:
    retention_days: int
    x_read_cap: int | None


def _snapshot(row: sa.RowMapping) -> Snapshot:
    return Snapshot(
        id=row["id"],
        account=row["account"],
        network=row["network"],
        kind=row["kind"],
        subject_id=row["subject_id"],
        subject_handle=row["subject_handle"],
        state=row["state"],
        cursor=row["cursor"],
        pages=row["pages"],
        members=row["members"],
        note=row["note"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        expires_at=row["expires_at"],
    )


def _member(row: sa.RowMapping) -> Member:
    reasons = row["reasons"]
    scored = any(row[count] is not None for count in ("posts", "followers", "following"))
    return Member(
        member_id=row["member_id"],
        position=row["position"],
        handle=row["handle"],
        name=row["name"],
        description=row["description"],
        created_at=row["created_at"],
        posts=row["posts"],
        followers=row["followers"],
        following=row["following"],
        default_avatar=row["default_avatar"],
        has_url=bool(row["has_url"]),
        declared_bot=bool(row["declared_bot"]),
        declared_by=row["declared_by"],
        # The columns are NOT NULL: a follower that could not be scored was
        # stored as 0.0 / false (so were those fetched before "not scored"
        # existed). Its three counts are all missing: read it back as not scored.
        suspicion=float(row["suspicion"]) if scored else None,
        suspicious=bool(row["suspicious"]) if scored or row["suspicious"] else None,
        reasons=tuple(str(r) for r in reasons) if isinstance(reasons, list) else (),
        fetched_at=row["fetched_at"],
    )


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


class AudienceRepo:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.engine = scope.engine

    # -- settings ---------------------------------------------------------------

    def settings(self) -> AudienceSettings:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_cfg).where(self.scope.owns(_cfg))).mappings().first()
        if row is None:
            return AudienceSettings(DEFAULT_RETENTION_DAYS, None)
        return AudienceSettings(row["retention_days"], row["x_read_cap"])

    def set_settings(self, retention_days: int | None = None, x_read_cap: int | None = -1) -> None:
        """Change what is given (``x_read_cap=None`` clears the cap; -1 keeps it)."""
        current = self.settings()
        days = current.retention_days if retention_days is None else retention_days
        if not 1 <= days <= MAX_RETENTION_DAYS:
            raise ValueError(f"retention is 1 to {MAX_RETENTION_DAYS} days")
        cap = current.x_read_cap if x_read_cap == -1 else x_read_cap
        if cap is not None and cap < 0:
            raise ValueError("the X read cap is a number of users, 0 or more")
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            done = conn.execute(
                _cfg.update()
                .where(self.scope.owns(_cfg))
                .values(retention_days=days, x_read_cap=cap, updated_at=now)
            )
            if not done.rowcount:
                conn.execute(
                    _cfg.insert().values(
                        **self.scope.values(), retention_days=days, x_read_cap=cap, updated_at=now
                    )
                )
            # A shorter retention applies to what is kept already.
            self._shorten(conn, days)

    def _shorten(self, conn: sa.Connection, days: int) -> None:
        # Per row: the two backends share no interval arithmetic on stored times.
        rows = conn.execute(
            sa.select(_s.c.id, _s.c.started_at, _s.c.expires_at).where(self.scope.owns(_s))
        ).all()
        for sid, started, expires in rows:
            limit = started + timedelta(days=days)
            if expires > limit:
                conn.execute(
                    _s.update().where(self.scope.owns(_s), _s.c.id == sid).values(expires_at=limit)
                )

    # -- snapshots ----------------------------------------------------------------

    def open_snapshot(
        self, account: str, network: str, kind: str, subject_id: str, subject_handle: str
    ) -> Snapshot:
        """The unfinished snapshot of this list to resume, else a new one."""
        with self.engine.begin() as conn:
            row = (
                conn.execute(
                    sa.select(_s)
                    .where(
                        self.scope.owns(_s),
                        _s.c.account == account,
                        _s.c.kind == kind,
                        _s.c.state == "running",
                    )
                    .order_by(_s.c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is not None and row["subject_id"] == subject_id:
                return _snapshot(row)
            now = datetime.now(UTC)
            days = self.settings().retention_days
            sid = conn.execute(
                _s.insert()
                .values(
                    **self.scope.values(),
                    account=account,
                    network=network,
                    kind=kind,
                    subject_id=subject_id[:200],
                    subject_handle=subject_handle[:300],
                    state="running",
                    cursor=None,
                    pages=0,
                    members=0,
                    started_at=now,
                    updated_at=now,
                    expires_at=now + timedelta(days=days),
                )
                .returning(_s.c.id)
            ).scalar_one()
            found = conn.execute(sa.select(_s).where(_s.c.id == sid)).mappings().one()
        return _snapshot(found)

    def save_page(
        self, snapshot_id: int, members: Sequence[Member], next_cursor: str | None
    ) -> int:
        """Store one page and the cursor after it in one transaction; members
        already stored (a page fetched again after a crash) are skipped.
        Returns how many were new."""
        with self.engine.begin() as conn:
            owned = conn.execute(
                sa.select(_s.c.members).where(self.scope.owns(_s), _s.c.id == snapshot_id)
            ).first()
            if owned is None:
                raise LookupError(f"no snapshot {snapshot_id} in this workspace")
            ids = list({m.member_id for m in members})
            seen: set[str] = set()
            for start in range(0, len(ids), 500):
                seen.update(
                    conn.execute(
                        sa.select(_m.c.member_id).where(
                            _m.c.snapshot_id == snapshot_id,
                            self.scope.owns(_m),
                            _m.c.member_id.in_(ids[start : start + 500]),
                        )
                    ).scalars()
                )
            position = owned[0]
            rows = []
            for m in members:
                if m.member_id in seen:
                    continue
                seen.add(m.member_id)
                rows.append(
                    {
                        **self.scope.values(),
                        "snapshot_id": snapshot_id,
                        "member_id": m.member_id,
                        "position": position,
                        "handle": m.handle[:300],
                        "name": m.name[:300],
                        "description": m.description[:1000],
                        "created_at": m.created_at,
                        "posts": m.posts,
                        "followers": m.followers,
                        "following": m.following,
                        "default_avatar": m.default_avatar,
                        "has_url": m.has_url,
                        "declared_bot": m.declared_bot,
                        "declared_by": m.declared_by,
                        "suspicion": m.suspicion or 0.0,  # None: see _member
                        "suspicious": bool(m.suspicious),
                        "reasons": list(m.reasons),
                        "fetched_at": m.fetched_at,
                    }
                )
                position += 1
            if rows:
                conn.execute(_m.insert(), rows)
            conn.execute(
                _s.update()
                .where(self.scope.owns(_s), _s.c.id == snapshot_id)
                .values(
                    cursor=next_cursor,
                    pages=_s.c.pages + 1,
                    members=position,
                    updated_at=datetime.now(UTC),
                )
            )
        return len(rows)

    def finish(self, snapshot_id: int, state: str, note: str | None = None) -> None:
        if state not in ("done", "stopped", "running"):
            raise ValueError(state)
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(
                _s.update()
                .where(self.scope.owns(_s), _s.c.id == snapshot_id)
                .values(
                    state=state,
                    note=(note or None) and note[:500],
                    updated_at=now,
                    finished_at=now if state != "running" else None,
                )
            )

    def snapshots(self, account: str | None = None, kind: str = "followers") -> list[Snapshot]:
        """Newest first."""
        stmt = sa.select(_s).where(self.scope.owns(_s), _s.c.kind == kind)
        if account is not None:
            stmt = stmt.where(_s.c.account == account)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(_s.c.id.desc()).limit(1000)).mappings().all()
        return [_snapshot(r) for r in rows]

    def snapshot(self, snapshot_id: int) -> Snapshot | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(_s).where(self.scope.owns(_s), _s.c.id == snapshot_id))
                .mappings()
                .first()
            )
        return _snapshot(row) if row is not None else None

    def accounts(self) -> list[str]:
        """Accounts with at least one finished snapshot."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(_s.c.account)
                    .where(self.scope.owns(_s), _s.c.state == "done")
                    .distinct()
                    .order_by(_s.c.account)
                ).scalars()
            )

    def iter_members(self, snapshot_id: int) -> Iterator[Member]:
        """A snapshot's members in served order, streamed (not all in memory)."""
        last = -1
        while True:
            with self.engine.connect() as conn:
                rows = (
                    conn.execute(
                        sa.select(_m)
                        .where(
                            self.scope.owns(_m),
                            _m.c.snapshot_id == snapshot_id,
                            _m.c.position > last,
                        )
                        .order_by(_m.c.position)
                        .limit(_PAGE_ROWS)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                return
            for row in rows:
                yield _member(row)
            last = rows[-1]["position"]

    def member_ids(self, snapshot_id: int) -> set[str]:
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    sa.select(_m.c.member_id).where(
                        self.scope.owns(_m), _m.c.snapshot_id == snapshot_id
                    )
                ).scalars()
            )

    # -- posts, for engagement ----------------------------------------------------

    def posts_between(self, network: str, since: datetime, until: datetime) -> Iterator[PostTouch]:
        """Stored posts of ``network`` created in [since, until), streamed by key."""
        cols = (
            posts.c.pk,
            posts.c.post_id,
            posts.c.author_id,
            posts.c.aliases,
            posts.c.reply_to,
            posts.c.quote_of,
            posts.c.repost_of,
            posts.c.mentions,
            posts.c.hashtags,
        )
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    sa.select(*cols)
                    .where(
                        self.scope.owns(posts),
                        posts.c.network == network,
                        posts.c.created_at >= since,
                        posts.c.created_at < until,
                        posts.c.deleted.is_(False),
                        posts.c.pk > last,
                    )
                    .order_by(posts.c.pk)
                    .limit(_PAGE_ROWS)
                ).all()
            if not rows:
                return
            for r in rows:
                yield PostTouch(
                    post_id=r.post_id,
                    author_id=r.author_id,
                    aliases=_strings(r.aliases),
                    reply_to=r.reply_to,
                    quote_of=r.quote_of,
                    repost_of=r.repost_of,
                    mentions=_strings(r.mentions),
                    hashtags=_strings(r.hashtags),
                )
            last = rows[-1].pk

    def post_refs_by(self, network: str, author_id: str) -> set[str]:
        """Every id and alias of the stored posts ``author_id`` wrote (any
        time: a reply in the window may answer an older post)."""
        out: set[str] = set()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(posts.c.post_id, posts.c.aliases).where(
                    self.scope.owns(posts),
                    posts.c.network == network,
                    posts.c.author_id == author_id,
                )
            )
            for post_id, aliases in rows:
                out.add(post_id)
                out.update(_strings(aliases))
        return out

    def authors_of(self, network: str, refs: set[str]) -> dict[str, str]:
        """Post id (or alias) → author id, for the stored posts among ``refs``."""
        out: dict[str, str] = {}
        wanted = list(refs)
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                for post_id, author in conn.execute(
                    sa.select(posts.c.post_id, posts.c.author_id).where(
                        self.scope.owns(posts),
                        posts.c.network == network,
                        posts.c.post_id.in_(chunk),
                    )
                ):
                    out[post_id] = author
                for alias, author in conn.execute(
                    sa.select(post_aliases.c.alias, posts.c.author_id)
                    .select_from(
                        post_aliases.join(
                            posts,
                            sa.and_(
                                posts.c.workspace_id == post_aliases.c.workspace_id,
                                posts.c.network == post_aliases.c.network,
                                posts.c.post_id == post_aliases.c.post_id,
                            ),
                        )
                    )
                    .where(
                        self.scope.owns(post_aliases),
                        post_aliases.c.network == network,
                        post_aliases.c.alias.in_(chunk),
                    )
                ):
                    out[alias] = author
        return out

    def room_tags(self) -> set[str]:
        """The workspace's rooms' hashtags (folded): posting with one is coming to its chat."""
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(rooms.c.tag).where(self.scope.owns(rooms))).scalars())

    # -- privacy -------------------------------------------------------------------

    def delete_account(self, account: str) -> int:
        """Every snapshot (and its members) of ``account``; returns snapshots removed."""
        with self.engine.begin() as conn:
            ids = list(
                conn.execute(
                    sa.select(_s.c.id).where(self.scope.owns(_s), _s.c.account == account)
                ).scalars()
            )
            self._delete(conn, ids)
        return len(ids)

    def expire(self, now: datetime | None = None) -> int:
        """Delete snapshots past their expiry; returns how many."""
        when = now or datetime.now(UTC)
        with self.engine.begin() as conn:
            ids = list(
                conn.execute(
                    sa.select(_s.c.id).where(self.scope.owns(_s), _s.c.expires_at <= when)
                ).scalars()
            )
            self._delete(conn, ids)
        return len(ids)

    def _delete(self, conn: sa.Connection, ids: list[int]) -> None:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            conn.execute(_m.delete().where(self.scope.owns(_m), _m.c.snapshot_id.in_(chunk)))
            conn.execute(_s.delete().where(self.scope.owns(_s), _s.c.id.in_(chunk)))

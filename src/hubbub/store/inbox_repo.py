"""The inbox's cases, timeline, claims, labels, saved replies, rules and
settings, scoped to one workspace (``hubbub.store.scope``).

Every statement carries ``scope.owns(table)``; a case of another workspace
is simply not found (``CaseNotFound``, a 404), never "forbidden". Case
building (posts → cases) is in ``inbox_repo_build``; the numbers behind
response-time reports in ``inbox_repo_report``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from hubbub.author_labels import AuthorLabels, carries_handle
from hubbub.inbox.errors import Claimed, InboxError
from hubbub.inbox.model import (
    Case,
    CaseEvent,
    CasePost,
    CaseSummary,
    Claim,
    Counts,
    Priority,
    Status,
)
from hubbub.store import schema as t
from hubbub.store.inbox_repo_settings import ACTING_ROLES, DEFAULT_CAP, SettingsRepo
from hubbub.store.inbox_schema import (
    inbox_agents,
    inbox_case_events,
    inbox_case_labels,
    inbox_case_posts,
    inbox_cases,
)
from hubbub.store.known_handles import known_handles_in
from hubbub.store.listen_schema import post_classes
from hubbub.store.outbox_schema import outbox_actions
from hubbub.store.sql import insert_ignore

_c = inbox_cases
_p = inbox_case_posts
_e = inbox_case_events
_l = inbox_case_labels
PREVIEW_CHARS = 200


class InboxRepo(SettingsRepo):
    """Cases of ``scope``'s workspace (and, inherited, its inbox settings)."""

    # -- reading cases -------------------------------------------------------

    def wake(self, conn: sa.Connection, now: datetime) -> None:
        """Snoozed cases whose time came are open again (with a timeline line)."""
        due = list(
            conn.execute(
                sa.select(_c.c.id).where(
                    self.scope.owns(_c),
                    _c.c.status == Status.SNOOZED.value,
                    _c.c.snoozed_until <= now,
                )
            ).scalars()
        )
        for case_id in due:
            moved = conn.execute(
                _c.update()
                .where(self.scope.owns(_c), _c.c.id == case_id, _c.c.status == "snoozed")
                .values(status=Status.OPEN.value, snoozed_until=None, updated_at=now)
            ).rowcount
            if moved:
                self._event(
                    conn, case_id, "status", "hubbub", now, detail={"from": "snoozed", "to": "open"}
                )

    def _names(self, conn: sa.Connection, authors: Iterable[tuple[str, str, str]]) -> AuthorLabels:
        """How the authors are shown (``hubbub.author_labels``): one lookup
        for those stored without a handle (a Jetstream post's DID)."""
        unique = set(authors)
        unnamed = [(n, i) for n, i, h in unique if not carries_handle(n, i, h)]
        known = known_handles_in(conn, self.scope, unnamed) if unnamed else {}
        return AuthorLabels(sorted(unique), known)

    def _summaries(
        self,
        conn: sa.Connection,
        rows: Sequence[sa.RowMapping],
        now: datetime,
        names: AuthorLabels | None = None,
    ) -> list[CaseSummary]:
        if names is None:
            names = self._names(conn, (_author(r) for r in rows))
        ids = [int(r["id"]) for r in rows]
        labels: dict[int, list[str]] = {i: [] for i in ids}
        posts: dict[int, list[str]] = {i: [] for i in ids}
        preview: dict[int, str] = {}
        if ids:
            for case_id, label in conn.execute(
                sa.select(_l.c.case_id, _l.c.label)
                .where(self.scope.owns(_l), _l.c.case_id.in_(ids))
                .order_by(_l.c.label)
            ):
                labels[int(case_id)].append(label)
            stmt = (
                sa.select(_p.c.case_id, _p.c.post_id, t.posts.c.text)
                .select_from(_p.outerjoin(t.posts, t.posts.c.pk == _p.c.post_pk))
                .where(self.scope.owns(_p), _p.c.case_id.in_(ids))
                .order_by(_p.c.posted_at, _p.c.post_id)
            )
            for case_id, post_id, text in conn.execute(stmt):
                posts[int(case_id)].append(post_id)
                if text is not None:
                    preview[int(case_id)] = text[:PREVIEW_CHARS]
        return [
            _summary(
                r,
                tuple(labels[int(r["id"])]),
                tuple(posts[int(r["id"])]),
                preview.get(int(r["id"]), ""),
                now,
                names,
            )
            for r in rows
        ]

    def list_cases(
        self,
        *,
        statuses: tuple[Status, ...] | None,
        assignee: str | None,
        unassigned: bool,
        priority: str | None,
        label: str | None,
        network: str | None,
        limit: int,
        before_id: int | None,
        now: datetime,
    ) -> list[CaseSummary]:
        stmt = sa.select(_c).where(self.scope.owns(_c))
        if statuses is None:
            stmt = stmt.where(_c.c.status != Status.RESOLVED.value)
        else:
            stmt = stmt.where(_c.c.status.in_([s.value for s in statuses]))
        if assignee is not None:
            stmt = stmt.where(_c.c.assignee == assignee)
        if unassigned:
            stmt = stmt.where(_c.c.assignee.is_(None))
        if priority is not None:
            stmt = stmt.where(_c.c.priority == priority)
        if network is not None:
            stmt = stmt.where(_c.c.network == network)
        if label is not None:
            stmt = stmt.where(
                _c.c.id.in_(
                    sa.select(_l.c.case_id).where(
                        self.scope.owns(_l), _l.c.label == label.strip().casefold()
                    )
                )
            )
        if before_id is not None:
            stmt = stmt.where(_c.c.id < before_id)
        stmt = stmt.order_by(_c.c.id.desc()).limit(limit)
        with self.engine.begin() as conn:
            self.wake(conn, now)
            rows = list(conn.execute(stmt).mappings())
            return self._summaries(conn, rows, now)

    def counts(self, user: str, now: datetime) -> Counts:
        with self.engine.begin() as conn:
            self.wake(conn, now)
            by_status = {
                str(s): int(n)
                for s, n in conn.execute(
                    sa.select(_c.c.status, sa.func.count())
                    .where(self.scope.owns(_c))
                    .group_by(_c.c.status)
                )
            }
            live = sa.and_(self.scope.owns(_c), _c.c.status != Status.RESOLVED.value)
            mine = conn.execute(
                sa.select(sa.func.count()).where(live, _c.c.assignee == user)
            ).scalar_one()
            unassigned = conn.execute(
                sa.select(sa.func.count()).where(live, _c.c.assignee.is_(None))
            ).scalar_one()
        total = sum(n for s, n in by_status.items() if s != Status.RESOLVED.value)
        return Counts(all=total, mine=int(mine), unassigned=int(unassigned), by_status=by_status)

    def summary(self, case_id: int, now: datetime) -> CaseSummary:
        with self.engine.connect() as conn:
            return self._summaries(conn, [self._case_row(conn, case_id)], now)[0]

    def get_case(self, case_id: int, now: datetime) -> Case:
        from hubbub.inbox.accuracy import classifier_accuracy
        from hubbub.inbox.hours import clocks_for

        with self.engine.begin() as conn:
            self.wake(conn, now)
            row = self._case_row(conn, case_id)
            stmt = (
                sa.select(
                    _p.c.network,
                    _p.c.post_id,
                    _p.c.posted_at,
                    t.posts.c.url,
                    t.posts.c.author_id,
                    t.posts.c.author_handle,
                    t.posts.c.text,
                    post_classes.c.intent,
                    post_classes.c.sentiment,
                )
                .select_from(
                    _p.outerjoin(t.posts, t.posts.c.pk == _p.c.post_pk).outerjoin(
                        post_classes, post_classes.c.post_pk == _p.c.post_pk
                    )
                )
                .where(self.scope.owns(_p), _p.c.case_id == case_id)
                .order_by(_p.c.posted_at, _p.c.post_id)
            )
            found = list(conn.execute(stmt))
            # One lookup names the case's author and its posts' authors.
            names = self._names(
                conn,
                [
                    _author(row),
                    *(
                        (r.network, r.author_id, r.author_handle)
                        for r in found
                        if r.author_id is not None
                    ),
                ],
            )
            summary = self._summaries(conn, [row], now, names)[0]
            posts = tuple(_case_post(r, summary, names) for r in found)
            timeline = self._timeline(conn, case_id)
            hours = self.hours_in(conn)
            target = self.target_in(conn, Priority(row["priority"]))
        first, resolution = clocks_for(
            opened_at=row["opened_at"],
            seen_at=row["created_at"],
            first_response_at=row["first_response_at"],
            resolved_at=row["resolved_at"] if row["status"] == Status.RESOLVED.value else None,
            target=target,
            hours=hours,
            now=now,
        )
        return Case(
            summary=summary,
            posts=posts,
            timeline=timeline,
            first_response=first,
            resolution=resolution,
            accuracy=classifier_accuracy(),
            account=row["account"],
        )

    def _timeline(self, conn: sa.Connection, case_id: int) -> tuple[CaseEvent, ...]:
        from hubbub.outbox.status_text import describe

        o = outbox_actions
        stmt = (
            sa.select(
                _e,
                o.c.status.label("outbox_status"),
                o.c.remote_url,
                o.c.error.label("outbox_error"),
                o.c.maybe_sent.label("outbox_maybe_sent"),
            )
            .select_from(_e.outerjoin(o, sa.and_(o.c.id == _e.c.outbox_id, self.scope.owns(o))))
            .where(self.scope.owns(_e), _e.c.case_id == case_id)
            .order_by(_e.c.id)
        )
        return tuple(
            CaseEvent(
                id=int(r["id"]),
                at=r["at"],
                actor=r["actor"],
                kind=r["kind"],
                text=r["text"],
                detail=dict(r["detail"]) if isinstance(r["detail"], dict) else {},
                outbox_id=r["outbox_id"],
                outbox_status=r["outbox_status"],
                url=r["remote_url"],
                outbox_error=r["outbox_error"],
                outbox_maybe_sent=bool(r["outbox_maybe_sent"]),
                outbox_text=(
                    None
                    if r["outbox_status"] is None
                    else describe(
                        r["outbox_status"],
                        r["outbox_error"],
                        bool(r["outbox_maybe_sent"]),
                        r["remote_url"],
                    )
                ),
            )
            for r in conn.execute(stmt).mappings()
        )

    def stamp(self) -> str:
        with self.engine.connect() as conn:
            latest, count = conn.execute(
                sa.select(sa.func.max(_c.c.updated_at), sa.func.count()).where(self.scope.owns(_c))
            ).one()
            event = conn.execute(
                sa.select(sa.func.max(_e.c.id)).where(self.scope.owns(_e))
            ).scalar_one()
            sent = conn.execute(
                sa.select(sa.func.max(outbox_actions.c.updated_at))
                .select_from(_e.join(outbox_actions, outbox_actions.c.id == _e.c.outbox_id))
                .where(self.scope.owns(_e))
            ).scalar_one()
        return f"{count}-{event or 0}-{latest.isoformat() if latest else ''}-" + (
            sent.isoformat() if sent else ""
        )

    # -- timeline and changes -------------------------------------------------------

    def _event(
        self,
        conn: sa.Connection,
        case_id: int,
        kind: str,
        actor: str,
        at: datetime,
        *,
        text: str | None = None,
        detail: dict[str, object] | None = None,
        reply_key: str | None = None,
    ) -> int:
        return int(
            conn.execute(
                _e.insert()
                .values(
                    **self.scope.values(),
                    case_id=case_id,
                    at=at,
                    actor=actor[:120],
                    kind=kind,
                    text=text,
                    detail=detail or {},
                    reply_key=reply_key,
                )
                .returning(_e.c.id)
            ).scalar_one()
        )

    def add_event(
        self, case_id: int, kind: str, actor: str, at: datetime, *, text: str | None = None
    ) -> CaseEvent:
        with self.engine.begin() as conn:
            self._case_row(conn, case_id)
            event_id = self._event(conn, case_id, kind, actor, at, text=text)
            self._touch(conn, case_id, at)
        return CaseEvent(id=event_id, at=at, actor=actor, kind=kind, text=text, detail={})

    def _touch(self, conn: sa.Connection, case_id: int, at: datetime, **values: object) -> None:
        conn.execute(
            _c.update()
            .where(self.scope.owns(_c), _c.c.id == case_id)
            .values(updated_at=at, **values)
        )

    def assign(self, case_id: int, user: str | None, actor: str, at: datetime) -> CaseSummary:
        with self.engine.begin() as conn:
            row = self._case_row(conn, case_id)
            if user is not None:
                role = self._user_role(conn, user)
                if role is None:
                    raise InboxError(f"no user named {user!r} in this workspace")
                if role not in ACTING_ROLES:
                    raise InboxError(f"{user} is a viewer and cannot take cases")
            self._assign(conn, row, user, actor, at, how="hand")
        return self.summary(case_id, at)

    def _assign(
        self,
        conn: sa.Connection,
        row: sa.RowMapping,
        user: str | None,
        actor: str,
        at: datetime,
        *,
        how: str,
    ) -> None:
        before = row["assignee"]
        if before == user:
            return
        values: dict[str, object] = {"assignee": user}
        if user is not None and row["status"] == Status.NEW.value:
            values["status"] = Status.OPEN.value
        self._touch(conn, int(row["id"]), at, **values)
        self._event(
            conn,
            int(row["id"]),
            "assign",
            actor,
            at,
            detail={"from": before, "to": user, "how": how},
        )
        if user is not None:
            # The robin's memory: when each agent last got a case (a row is
            # made on first use; availability and cap keep their defaults).
            moved = conn.execute(
                inbox_agents.update()
                .where(self.scope.owns(inbox_agents), inbox_agents.c.user_name == user)
                .values(last_assigned_at=at)
            ).rowcount
            if not moved:
                conn.execute(
                    insert_ignore(conn, inbox_agents).values(
                        **self.scope.values(),
                        user_name=user,
                        available=True,
                        cap=DEFAULT_CAP,
                        last_assigned_at=at,
                    )
                )

    def auto_assign(self, case_id: int, actor: str, at: datetime) -> CaseSummary:
        with self.engine.begin() as conn:
            row = self._case_row(conn, case_id)
            chosen = self._next_agent(conn)
            if chosen is None:
                raise InboxError("no available agent has room under their cap")
            self._assign(conn, row, chosen, actor, at, how="round robin")
        return self.summary(case_id, at)

    def _next_agent(self, conn: sa.Connection) -> str | None:
        """The available agent under their cap who was given a case longest
        ago (never given one first, then by name): the round robin's turn."""
        agents = [a for a in self._agents(conn) if a.available and a.open_cases < a.cap]
        if not agents:
            return None
        last = {
            r.user_name: r.last_assigned_at
            for r in conn.execute(
                sa.select(inbox_agents.c.user_name, inbox_agents.c.last_assigned_at).where(
                    self.scope.owns(inbox_agents)
                )
            )
        }
        agents.sort(key=lambda a: (last.get(a.name) is not None, last.get(a.name) or at0, a.name))
        return agents[0].name

    def set_status(
        self, case_id: int, status: Status, until: datetime | None, actor: str, at: datetime
    ) -> CaseSummary:
        with self.engine.begin() as conn:
            row = self._case_row(conn, case_id)
            before = row["status"]
            values: dict[str, object] = {"status": status.value, "snoozed_until": until}
            if status is Status.RESOLVED:
                values["resolved_at"] = at
                values["claimed_by"] = None
                values["claim_until"] = None
            elif before == Status.RESOLVED.value:
                values["resolved_at"] = None
            if before != status.value or until != row["snoozed_until"]:
                self._touch(conn, case_id, at, **values)
                detail: dict[str, object] = {"from": before, "to": status.value}
                if until is not None:
                    detail["until"] = until.isoformat()
                self._event(conn, case_id, "status", actor, at, detail=detail)
        return self.summary(case_id, at)

    def set_priority(
        self, case_id: int, priority: Priority, actor: str, at: datetime
    ) -> CaseSummary:
        with self.engine.begin() as conn:
            row = self._case_row(conn, case_id)
            if row["priority"] != priority.value:
                self._touch(conn, case_id, at, priority=priority.value)
                self._event(
                    conn,
                    case_id,
                    "priority",
                    actor,
                    at,
                    detail={"from": row["priority"], "to": priority.value},
                )
        return self.summary(case_id, at)

    def set_labels(
        self, case_id: int, labels: tuple[str, ...], actor: str, at: datetime
    ) -> CaseSummary:
        with self.engine.begin() as conn:
            self._case_row(conn, case_id)
            before = tuple(
                conn.execute(
                    sa.select(_l.c.label)
                    .where(self.scope.owns(_l), _l.c.case_id == case_id)
                    .order_by(_l.c.label)
                ).scalars()
            )
            if before != labels:
                conn.execute(_l.delete().where(self.scope.owns(_l), _l.c.case_id == case_id))
                if labels:
                    conn.execute(
                        _l.insert(),
                        [{**self.scope.values(), "case_id": case_id, "label": x} for x in labels],
                    )
                self._touch(conn, case_id, at)
                self._event(
                    conn,
                    case_id,
                    "labels",
                    actor,
                    at,
                    detail={"from": list(before), "to": list(labels)},
                )
        return self.summary(case_id, at)

    # -- "being answered" ---------------------------------------------------------------

    def claim(self, case_id: int, user: str, at: datetime, until: datetime) -> Claim:
        free = sa.or_(_c.c.claimed_by.is_(None), _c.c.claimed_by == user, _c.c.claim_until <= at)
        with self.engine.begin() as conn:
            # Compare-and-set: two agents clicking at once, one wins.
            moved = conn.execute(
                _c.update()
                .where(self.scope.owns(_c), _c.c.id == case_id, free)
                .values(claimed_by=user, claim_until=until, updated_at=at)
            ).rowcount
            if not moved:
                row = self._case_row(conn, case_id)
                raise Claimed(row["claimed_by"], row["claim_until"].isoformat())
        return Claim(user, until)

    def check_claim(self, conn: sa.Connection, row: sa.RowMapping, user: str, at: datetime) -> None:
        holder, until = row["claimed_by"], row["claim_until"]
        if holder and holder != user and until is not None and until > at:
            raise Claimed(holder, until.isoformat())

    def release(self, case_id: int, user: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            self._case_row(conn, case_id)
            conn.execute(
                _c.update()
                .where(self.scope.owns(_c), _c.c.id == case_id, _c.c.claimed_by == user)
                .values(claimed_by=None, claim_until=None, updated_at=at)
            )


at0 = datetime.min.replace(tzinfo=UTC)  # never given a case: first in the robin


def _author(row: sa.RowMapping) -> tuple[str, str, str]:
    return (row["network"], row["author_id"], row["author_handle"])


def _case_post(r: Any, summary: CaseSummary, names: AuthorLabels) -> CasePost:
    # A post row gone from the store (deleted upstream) is the case author's.
    network, author_id = (
        (r.network, r.author_id)
        if r.author_id
        else (
            summary.network,
            summary.author_id,
        )
    )
    return CasePost(
        network=r.network,
        post_id=r.post_id,
        url=r.url,
        author=r.author_handle or summary.author,
        text=r.text or "",
        posted_at=r.posted_at,
        intent=r.intent,
        sentiment=r.sentiment,
        author_handle=names.handle(network, author_id),
        author_label=names.label(network, author_id),
    )


def _summary(
    row: sa.RowMapping,
    labels: tuple[str, ...],
    post_ids: tuple[str, ...],
    preview: str,
    now: datetime,
    names: AuthorLabels,
) -> CaseSummary:
    claim = None
    if row["claimed_by"] and row["claim_until"] is not None and row["claim_until"] > now:
        claim = Claim(row["claimed_by"], row["claim_until"])
    return CaseSummary(
        id=int(row["id"]),
        network=row["network"],
        author=row["author_handle"],
        author_id=row["author_id"],
        status=Status(row["status"]),
        priority=Priority(row["priority"]),
        assignee=row["assignee"],
        intent=row["intent"],
        sentiment=row["sentiment"],
        origin=row["origin"],
        labels=labels,
        post_ids=post_ids,
        opened_at=row["opened_at"],
        last_post_at=row["last_post_at"],
        snoozed_until=row["snoozed_until"],
        first_response_at=row["first_response_at"],
        resolved_at=row["resolved_at"],
        claim=claim,
        preview=preview,
        author_handle=names.handle(row["network"], row["author_id"]),
        author_label=names.label(row["network"], row["author_id"]),
    )

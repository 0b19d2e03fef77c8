"""Inbox settings of one workspace: saved replies, rules, business hours,
targets and agents (availability, caps). The base of ``InboxRepo``; every
statement carries ``scope.owns(table)``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from hubbub.inbox.errors import CaseNotFound, InboxError
from hubbub.inbox.model import PRIORITIES, Agent, Hours, Priority, Rule, SavedReply, Status, Target
from hubbub.inbox.public_text import public_handle, public_name
from hubbub.inbox.templates import fields_of
from hubbub.store import schema as t
from hubbub.store.inbox_schema import (
    inbox_agents,
    inbox_cases,
    inbox_rules,
    inbox_saved_replies,
    inbox_settings,
    inbox_targets,
)
from hubbub.store.scope import Scope
from hubbub.store.web_schema import users
from hubbub.store.workspace_settings import timezone_in, write_timezone

_c = inbox_cases
DEFAULT_CAP = 10  # open cases an agent gets from the round robin unless set
ACTING_ROLES = ("owner", "agent")


class SettingsRepo:
    """Settings of ``scope``'s workspace's inbox."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    @property
    def engine(self) -> sa.Engine:
        return self.scope.engine

    def _case_row(self, conn: sa.Connection, case_id: int) -> sa.RowMapping:
        row = (
            conn.execute(sa.select(_c).where(self.scope.owns(_c), _c.c.id == case_id))
            .mappings()
            .first()
        )
        if row is None:
            raise CaseNotFound(case_id)
        return row

    def _user_role(self, conn: sa.Connection, name: str) -> str | None:
        return conn.execute(
            sa.select(users.c.role).where(self.scope.owns(users), users.c.name == name)
        ).scalar_one_or_none()

    # -- saved replies ---------------------------------------------------------------

    def _saved(self, row: sa.RowMapping) -> SavedReply:
        return SavedReply(
            code=row["code"],
            text=row["text"],
            updated_by=row["updated_by"],
            updated_at=row["updated_at"],
            fields=fields_of(row["text"]),
        )

    def saved_replies(self) -> list[SavedReply]:
        s = inbox_saved_replies
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s).where(self.scope.owns(s)).order_by(s.c.code))
            return [self._saved(r) for r in rows.mappings()]

    def saved_reply(self, code: str) -> SavedReply | None:
        s = inbox_saved_replies
        with self.engine.connect() as conn:
            row = (
                conn.execute(sa.select(s).where(self.scope.owns(s), s.c.code == code))
                .mappings()
                .first()
            )
        return self._saved(row) if row else None

    def save_reply(self, code: str, text: str, actor: str, at: datetime) -> SavedReply:
        s = inbox_saved_replies
        with self.engine.begin() as conn:
            moved = conn.execute(
                s.update()
                .where(self.scope.owns(s), s.c.code == code)
                .values(text=text, updated_by=actor[:120], updated_at=at)
            ).rowcount
            if not moved:
                conn.execute(
                    s.insert().values(
                        **self.scope.values(),
                        code=code,
                        text=text,
                        updated_by=actor[:120],
                        created_at=at,
                        updated_at=at,
                    )
                )
        found = self.saved_reply(code)
        assert found is not None
        return found

    def delete_saved_reply(self, code: str) -> bool:
        s = inbox_saved_replies
        with self.engine.begin() as conn:
            return bool(
                conn.execute(s.delete().where(self.scope.owns(s), s.c.code == code)).rowcount
            )

    def template_fields(self, case_id: int, agent: str) -> dict[str, str]:
        """The values a saved reply may use for a case: fixed, all strings."""
        with self.engine.connect() as conn:
            row = self._case_row(conn, case_id)
            name = conn.execute(
                sa.select(t.authors.c.display_name).where(
                    self.scope.owns(t.authors),
                    t.authors.c.network == row["network"],
                    t.authors.c.author_id == row["author_id"],
                )
            ).scalar_one_or_none()
        handle = str(row["author_handle"])
        # Both come from the customer's profile and go into the brand's public
        # post: cleaned of links, mentions, tags and invisible characters.
        return {
            "name": public_name(name, handle),
            "handle": public_handle(handle),
            "agent": agent,
            "case": str(row["id"]),
            "network": str(row["network"]),
        }

    # -- rules ---------------------------------------------------------------------------

    def rules(self) -> list[Rule]:
        r, q = inbox_rules, t.saved_queries
        stmt = (
            sa.select(r.c.id, q.c.name, r.c.intents, r.c.created_by, r.c.created_at)
            .select_from(r.join(q, q.c.id == r.c.query_id))
            .where(self.scope.owns(r), self.scope.owns(q))
            .order_by(q.c.name)
        )
        with self.engine.connect() as conn:
            return [
                Rule(
                    int(row.id),
                    row.name,
                    tuple(row.intents.split(",")),
                    row.created_by,
                    row.created_at,
                )
                for row in conn.execute(stmt)
            ]

    def add_rule(
        self, saved_query: str, intents: tuple[str, ...], actor: str, at: datetime
    ) -> Rule:
        r, q = inbox_rules, t.saved_queries
        with self.engine.begin() as conn:
            query_id = conn.execute(
                sa.select(q.c.id).where(self.scope.owns(q), q.c.name == saved_query)
            ).scalar_one_or_none()
            if query_id is None:
                raise InboxError(
                    f"no saved query named {saved_query!r} (hubbub listen add NAME QUERY)"
                )
            value = ",".join(intents)
            moved = conn.execute(
                r.update()
                .where(self.scope.owns(r), r.c.query_id == query_id)
                .values(intents=value, created_by=actor[:120], created_at=at)
            ).rowcount
            if not moved:
                conn.execute(
                    r.insert().values(
                        **self.scope.values(),
                        query_id=query_id,
                        intents=value,
                        created_by=actor[:120],
                        created_at=at,
                    )
                )
        return next(rule for rule in self.rules() if rule.saved_query == saved_query)

    def rule_open_cases(self, rule_id: int) -> int:
        """How many cases the rule made that are not resolved."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        self.scope.owns(_c),
                        _c.c.rule_id == rule_id,
                        _c.c.status != Status.RESOLVED.value,
                    )
                ).scalar_one()
            )

    def remove_rule(self, rule: int | str) -> bool:
        r, q = inbox_rules, t.saved_queries
        with self.engine.begin() as conn:
            if isinstance(rule, int):
                cond = r.c.id == rule
            else:
                cond = r.c.query_id.in_(
                    sa.select(q.c.id).where(self.scope.owns(q), q.c.name == rule)
                )
            return bool(conn.execute(r.delete().where(self.scope.owns(r), cond)).rowcount)

    # -- settings -----------------------------------------------------------------------

    def hours_in(self, conn: sa.Connection) -> Hours:
        s = inbox_settings
        row = conn.execute(sa.select(s).where(self.scope.owns(s))).mappings().first()
        # The zone is the workspace's one time zone (reports use it too), not
        # the inbox's older copy: see store/workspace_settings.py.
        zone = timezone_in(conn, self.scope)
        if row is None:
            return Hours(timezone=zone)
        return Hours(
            timezone=zone,
            days=tuple(int(d) for d in row["days"]),
            start_minute=int(row["start_minute"]),
            end_minute=int(row["end_minute"]),
            auto_assign=bool(row["auto_assign"]),
            mention_intents=tuple(i for i in row["mention_intents"].split(",") if i),
        )

    def hours(self) -> Hours:
        with self.engine.connect() as conn:
            return self.hours_in(conn)

    def set_hours(self, hours: Hours, at: datetime) -> Hours:
        s = inbox_settings
        values = {
            "timezone": hours.timezone,
            "days": "".join(str(d) for d in sorted(set(hours.days))),
            "start_minute": hours.start_minute,
            "end_minute": hours.end_minute,
            "auto_assign": hours.auto_assign,
            "mention_intents": ",".join(sorted(set(hours.mention_intents))),
            "updated_at": at,
        }
        with self.engine.begin() as conn:
            moved = conn.execute(s.update().where(self.scope.owns(s)).values(**values)).rowcount
            if not moved:
                conn.execute(s.insert().values(**self.scope.values(), **values))
            write_timezone(conn, self.scope, hours.timezone)
        return self.hours()

    def target_in(self, conn: sa.Connection, priority: Priority) -> Target:
        g = inbox_targets
        row = conn.execute(
            sa.select(g.c.first_response_minutes, g.c.resolution_minutes).where(
                self.scope.owns(g), g.c.priority == priority.value
            )
        ).first()
        if row is None:
            return Target(priority, None, None)
        return Target(priority, row[0], row[1])

    def targets(self) -> list[Target]:
        with self.engine.connect() as conn:
            return [self.target_in(conn, Priority(p)) for p in PRIORITIES]

    def set_target(self, priority: Priority, first: int | None, resolution: int | None) -> Target:
        g = inbox_targets
        values = {"first_response_minutes": first, "resolution_minutes": resolution}
        with self.engine.begin() as conn:
            moved = conn.execute(
                g.update()
                .where(self.scope.owns(g), g.c.priority == priority.value)
                .values(**values)
            ).rowcount
            if not moved:
                conn.execute(
                    g.insert().values(**self.scope.values(), priority=priority.value, **values)
                )
            return self.target_in(conn, priority)

    def _agents(self, conn: sa.Connection) -> list[Agent]:
        a = inbox_agents
        people = list(
            conn.execute(
                sa.select(users.c.name, users.c.role)
                .where(self.scope.owns(users), users.c.role.in_(ACTING_ROLES))
                .order_by(users.c.name)
            )
        )
        settings = {
            r.user_name: (bool(r.available), int(r.cap))
            for r in conn.execute(
                sa.select(a.c.user_name, a.c.available, a.c.cap).where(self.scope.owns(a))
            )
        }
        load = {
            name: int(n)
            for name, n in conn.execute(
                sa.select(_c.c.assignee, sa.func.count())
                .where(
                    self.scope.owns(_c),
                    _c.c.assignee.is_not(None),
                    _c.c.status.in_([Status.NEW.value, Status.OPEN.value, Status.PENDING.value]),
                )
                .group_by(_c.c.assignee)
            )
        }
        return [
            Agent(
                name=p.name,
                role=p.role,
                available=settings.get(p.name, (True, DEFAULT_CAP))[0],
                cap=settings.get(p.name, (True, DEFAULT_CAP))[1],
                open_cases=load.get(p.name, 0),
            )
            for p in people
        ]

    def agents(self) -> list[Agent]:
        with self.engine.connect() as conn:
            return self._agents(conn)

    def set_agent(self, user: str, *, available: bool | None, cap: int | None) -> Agent:
        a = inbox_agents
        with self.engine.begin() as conn:
            role = self._user_role(conn, user)
            if role is None:
                raise InboxError(f"no user named {user!r} in this workspace")
            if role not in ACTING_ROLES:
                raise InboxError(f"{user} is a viewer and cannot take cases")
            row = conn.execute(
                sa.select(a.c.available, a.c.cap).where(self.scope.owns(a), a.c.user_name == user)
            ).first()
            new_available = available if available is not None else (row[0] if row else True)
            new_cap = cap if cap is not None else (row[1] if row else DEFAULT_CAP)
            if row is None:
                conn.execute(
                    a.insert().values(
                        **self.scope.values(), user_name=user, available=new_available, cap=new_cap
                    )
                )
            else:
                conn.execute(
                    a.update()
                    .where(self.scope.owns(a), a.c.user_name == user)
                    .values(available=new_available, cap=new_cap)
                )
            return next(x for x in self._agents(conn) if x.name == user)

"""The audit log: who did what, in one workspace.

How to record (any layer; the repository is the only code that writes the
table)::

    from hubbub.store.audit import AuditLog
    from hubbub.store.scope import scope, existing_scope

    log = AuditLog(existing_scope(store, workspace))     # web: the signed-in user's
    log.record(user.name, "role_changed", target="ana",
               detail={"from": "viewer", "to": "agent"}, address=client_ip)

    log = AuditLog(scope(store, workspace))               # CLI / runtime
    log.record(cli_actor(), "export", target="posts.jsonl", detail={"posts": 120})

Sign-in (the web sign-in routes)::

    log.record(user.name, "signin", address=ip)           # success
    log.record(user.name, "signout", address=ip)
    record_failed_signin(store, form_workspace, form_name, address=ip)   # any failure

``record_failed_signin`` decides where a failure goes: the workspace named in
the form when it exists (its owners are the ones whose users are being
guessed), else ``default`` (the server operator's own workspace), with the
name of the missing workspace in the detail. A form must never create a
workspace, and putting failures against unknown workspaces in *some* log is
what lets an operator see someone probing names.

Rules, enforced here so a caller cannot get them wrong:

- ``action`` is one of ``ACTIONS`` (a closed set; a new kind of event is an
  edit here, so the page's filter and the docs list every possible value).
  Anything else raises ``ValueError``: a typo must fail in tests, not write
  an event nobody can filter for.
- ``actor`` is a user name or ``cli:<os user>`` (``hubbub.cli.audit.cli_actor``).
- Text (actor, target, address, detail strings) may come from the network and
  is hostile: control, surrogate and bidi-override characters become U+FFFD,
  and each field is cut to its column's length with a trailing "…".
- ``detail`` is a small flat JSON object (at most ``MAX_DETAIL_KEYS`` keys of
  str/int/float/bool/None). A key that names a secret (password, token,
  secret, key) raises ``ValueError``: secrets never reach the log.
- ``at`` defaults to now; a naive datetime is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from hubbub.store.api import DEFAULT_WORKSPACE, Store
from hubbub.store.audit_schema import audit_events
from hubbub.store.scope import Scope, existing_scope, scope
from hubbub.store.transactions import run_write

# Every kind of event the log can hold.
ACTIONS: frozenset[str] = frozenset(
    {
        # sign-in (web)
        "signin",
        "signin_failed",
        "signout",
        "session_revoked",
        # users
        "user_created",
        "role_changed",
        "password_changed",
        "user_deleted",
        # network accounts
        "account_connected",
        "account_changed",
        "account_removed",
        # data leaving the workspace
        "export",
        # deletions and closings of things other people rely on
        "saved_query_created",
        "saved_query_deleted",
        "room_closed",
        "room_deleted",
        "case_deleted",
        "outbox_cancelled",
        "settings_changed",
    }
)

MAX_ACTOR = 120
MAX_TARGET = 200
MAX_ADDRESS = 64
MAX_DETAIL_KEYS = 12
MAX_DETAIL_KEY = 40
MAX_DETAIL_TEXT = 200
MAX_PAGE = 500

DetailValue = str | int | float | bool | None
_SECRET_WORDS = ("password", "secret", "token", "key", "cookie")
# Characters that can reorder or hide text on a screen or a terminal.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, DetailValue]
    address: str | None

    def as_json(self) -> dict[str, object]:
        """The entry as the API and ``hubbub audit --format jsonl`` give it."""
        return {
            "id": self.id,
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
            "address": self.address,
        }


def clean_text(text: str, limit: int) -> str:
    """``text`` safe to store and show: no control, surrogate or bidi
    characters (PostgreSQL refuses NUL; terminals obey escapes), at most
    ``limit`` characters."""
    out = "".join(
        "\ufffd" if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text
    )
    if len(out) > limit:
        out = out[: limit - 1] + "…"
    return out


def _optional(text: str | None, limit: int) -> str | None:
    return None if text is None else clean_text(str(text), limit)


def _clean_detail(detail: Mapping[str, DetailValue] | None) -> dict[str, DetailValue] | None:
    if not detail:
        return None
    if len(detail) > MAX_DETAIL_KEYS:
        raise ValueError(f"audit detail has {len(detail)} keys, at most {MAX_DETAIL_KEYS}")
    out: dict[str, DetailValue] = {}
    for key, value in detail.items():
        lowered = key.lower()
        if any(word in lowered for word in _SECRET_WORDS):
            raise ValueError(f"audit detail key {key!r} names a secret; secrets are never logged")
        if isinstance(value, str):
            value = clean_text(value, MAX_DETAIL_TEXT)
        elif not (value is None or isinstance(value, bool | int | float)):
            raise ValueError(f"audit detail {key!r} is {type(value).__name__}, not a scalar")
        out[clean_text(key, MAX_DETAIL_KEY)] = value
    return out


def _entry(row: sa.RowMapping) -> AuditEntry:
    detail = row["detail"]
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        target=row["target"],
        detail=dict(detail) if isinstance(detail, dict) else {},
        address=row["address"],
    )


class AuditLog:
    """The audit log of one workspace (see the module docstring)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def _values(
        self,
        actor: str,
        action: str,
        target: str | None,
        detail: Mapping[str, DetailValue] | None,
        address: str | None,
        at: datetime | None,
    ) -> dict[str, object]:
        """The row of one event, cleaned (see the module docstring)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        if at is None:
            at = datetime.now(UTC)
        elif at.tzinfo is None:
            raise ValueError("audit times are aware datetimes (UTC)")
        return {
            **self.scope.values(),
            "at": at,
            "actor": clean_text(actor, MAX_ACTOR) or "?",
            "action": action,
            "target": _optional(target, MAX_TARGET),
            "detail": _clean_detail(detail),
            "address": _optional(address, MAX_ADDRESS),
        }

    def record(
        self,
        actor: str,
        action: str,
        *,
        target: str | None = None,
        detail: Mapping[str, DetailValue] | None = None,
        address: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """Append one event; its id."""
        values = self._values(actor, action, target, detail, address, at)

        def write(conn: sa.Connection) -> int:
            result = conn.execute(audit_events.insert().values(**values))
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

        return run_write(self.scope.engine, write)

    def record_once_per_hour(
        self,
        actor: str,
        action: str,
        *,
        target: str | None = None,
        detail: Mapping[str, DetailValue] | None = None,
        address: str | None = None,
        at: datetime | None = None,
    ) -> int | None:
        """Append the event unless the same actor already did ``action`` to
        the same ``target`` from the same ``address`` in the same clock hour
        (UTC); the new event's id, or None when one was already there.

        For what anyone may repeat without signing in (a public room's
        recap): recording each fetch let a loop grow the log without bound,
        while the first of each hour still says who took what, from where,
        and when. ``detail`` is not compared (it holds counts that change as
        posts arrive). The row stays append-only: nothing is counted up.

        One statement (INSERT ... SELECT ... WHERE NOT EXISTS) on the index
        (action, workspace, actor, at). Two fetches racing in the same
        instant on PostgreSQL may both insert; the rate limit in front of
        the route bounds that to a handful, which is the point."""
        values = self._values(actor, action, target, detail, address, at)
        when = values["at"]
        assert isinstance(when, datetime)
        hour = when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        a = audit_events
        seen = sa.exists().where(
            self.scope.owns(a),
            a.c.action == values["action"],
            a.c.actor == values["actor"],
            a.c.at >= hour,
            a.c.at < hour + timedelta(hours=1),
            a.c.target.is_not_distinct_from(values["target"]),
            a.c.address.is_not_distinct_from(values["address"]),
        )
        names = list(values)
        row = sa.select(*(sa.bindparam(None, values[n], type_=a.c[n].type) for n in names))
        stmt = a.insert().from_select(names, row.where(~seen)).returning(a.c.id)

        def write(conn: sa.Connection) -> int | None:
            found = conn.execute(stmt).scalar_one_or_none()
            return None if found is None else int(found)

        return run_write(self.scope.engine, write)

    def _select(self, since: datetime | None, action: str | None) -> sa.Select:
        a = audit_events
        stmt = sa.select(a).where(self.scope.owns(a))
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("since is an aware datetime (UTC)")
            stmt = stmt.where(a.c.at >= since)
        if action is not None:
            stmt = stmt.where(a.c.action == action)
        return stmt

    def page(
        self,
        *,
        since: datetime | None = None,
        action: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[AuditEntry]:
        """Newest first: up to ``limit`` events with id below ``before`` (the
        last id of the previous page), at or after ``since``."""
        limit = max(1, min(limit, MAX_PAGE))
        a = audit_events
        stmt = self._select(since, action)
        if before is not None:
            stmt = stmt.where(a.c.id < before)
        stmt = stmt.order_by(a.c.id.desc()).limit(limit)
        with self.scope.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(stmt).mappings()]

    def iter_since(
        self, since: datetime | None = None, *, action: str | None = None, batch: int = 500
    ) -> Iterator[AuditEntry]:
        """Every event at or after ``since``, oldest first, in keyset pages
        (a long log is never held in memory)."""
        a = audit_events
        base = self._select(since, action)
        last = 0
        while True:
            stmt = base.where(a.c.id > last).order_by(a.c.id).limit(batch)
            with self.scope.engine.connect() as conn:
                rows = [_entry(row) for row in conn.execute(stmt).mappings()]
            if not rows:
                return
            yield from rows
            last = rows[-1].id


class BadSince(ValueError):
    """A ``since`` that names no time; the message says what would."""


_AGE = re.compile(r"(\d{1,6})([mhdw])")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """The time ``--since`` (CLI) or ``since=`` (page, API) names: a date
    (``2026-11-30``, midnight UTC), an ISO time (``2026-11-30T08:00Z``; no
    zone means UTC) or an age back from now (``30m``, ``24h``, ``7d``, ``2w``).
    One reader for all three entry points so they accept the same words."""
    value = text.strip()
    if not value or len(value) > 40:
        raise BadSince(
            "expected a date (2026-11-30), an ISO time (2026-11-30T08:00Z) "
            f"or an age (30m, 24h, 7d, 2w); got {text[:40]!r}"
        )
    age = _AGE.fullmatch(value)
    if age:
        base = now or datetime.now(UTC)
        try:
            return base - timedelta(**{_AGE_UNITS[age.group(2)]: int(age.group(1))})
        except OverflowError:  # 999999w: before year 1
            raise BadSince(f"{value!r} reaches back before the year 1") from None
    try:
        when = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise BadSince(
            "expected a date (2026-11-30), an ISO time (2026-11-30T08:00Z) "
            f"or an age (30m, 24h, 7d, 2w); got {value!r}"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def record_failed_signin(
    store: Store,
    workspace: str | None,
    name: str,
    *,
    address: str | None = None,
    fallback: str = DEFAULT_WORKSPACE,
) -> int:
    """Record a failed sign-in for ``name`` (as typed, cut to length) in the
    workspace named by the form if it exists, else in ``fallback`` (the
    server's own workspace, which exists: its owners are the operator's) with
    the missing name in the detail (see the module docstring for why). Never
    creates a workspace a visitor named."""
    named = workspace or fallback
    detail: dict[str, DetailValue] | None = None
    found = None
    # A name with characters no database stores (NUL) names no workspace;
    # looking it up would be a database error on PostgreSQL.
    if clean_text(named, len(named)) == named:
        try:
            found = existing_scope(store, named)
        except LookupError:
            found = None
    if found is None:
        found = scope(store, fallback)
        detail = {"workspace": named}
    # The actor is the name that was claimed: "who tried to be ana".
    return AuditLog(found).record(name or "?", "signin_failed", detail=detail, address=address)

"""A workspace's own settings: its time zone.

The time zone is one setting per workspace, ``workspaces.timezone`` (an IANA
name, UTC by default). Everything local to the workspace reads it: report
dates, volume buckets, hour and weekday (``hubbub.analyze``) and the inbox's
business hours (``store/inbox_repo_settings.py``). A user sets one time zone
and expects every page to agree, so ``hubbub workspace set-timezone`` and
``hubbub inbox hours --timezone`` write the same column. ``inbox_settings``
has a ``timezone`` column of its own from before; it is kept equal on every
write (migration 0014 copied it to the workspace once) and no longer read.
"""

from __future__ import annotations

import zoneinfo

import sqlalchemy as sa

from hubbub.store import schema as t
from hubbub.store.inbox_schema import inbox_settings
from hubbub.store.scope import Scope

DEFAULT_TIMEZONE = "UTC"
MAX_TIMEZONE = 64  # the column's length; the longest IANA name is about 30
# Listed by zoneinfo on some systems, yet not places: the machine's own zone
# (a link that changes with the server) and tzdata's "no zone" placeholder.
_NOT_ZONES = frozenset({"localtime", "Factory"})


class TimezoneError(ValueError):
    """A time zone name that is not an IANA zone this machine knows."""


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone name (``Europe/Warsaw``, ``UTC``);
    :class:`TimezoneError` naming it otherwise. Only names in the zone
    database's list count, so a file that happens to sit in the zone
    directory (``localtime``: whatever this machine's zone is) is not taken
    for a zone."""
    known = (zoneinfo.available_timezones() - _NOT_ZONES) | {DEFAULT_TIMEZONE}
    if name in known:
        return name
    hint = "an IANA name such as Europe/Warsaw, America/Los_Angeles or UTC"
    if len(name) <= MAX_TIMEZONE:
        # Zone names are case-sensitive on Linux: say which one was meant.
        same = sorted(z for z in known if z.casefold() == name.casefold())
        if same:
            hint = f"did you mean {same[0]!r}?"
    shown = name if len(name) <= MAX_TIMEZONE else name[:MAX_TIMEZONE] + "…"
    raise TimezoneError(f"unknown time zone {shown!r} ({hint})")


def timezone_in(conn: sa.Connection, scope: Scope) -> str:
    """The workspace's time zone on an open connection (UTC when unset)."""
    w = t.workspaces
    found = conn.execute(sa.select(w.c.timezone).where(w.c.id == scope.id)).scalar()
    return str(found) if found else DEFAULT_TIMEZONE


def write_timezone(conn: sa.Connection, scope: Scope, name: str) -> None:
    """Store ``name`` (checked already) as the workspace's time zone, in the
    caller's transaction; the inbox's older copy follows."""
    w = t.workspaces
    conn.execute(w.update().where(w.c.id == scope.id).values(timezone=name))
    conn.execute(inbox_settings.update().where(scope.owns(inbox_settings)).values(timezone=name))


class WorkspaceSettings:
    """The settings of ``scope``'s workspace."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def timezone(self) -> str:
        with self.scope.engine.connect() as conn:
            return timezone_in(conn, self.scope)

    def set_timezone(self, name: str) -> str:
        """Make ``name`` the workspace's time zone; the zone it had before.
        :class:`TimezoneError` (nothing written) when it is not a zone."""
        check_timezone(name)
        with self.scope.engine.begin() as conn:
            old = timezone_in(conn, self.scope)
            write_timezone(conn, self.scope, name)
        return old

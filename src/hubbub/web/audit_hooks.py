"""The web's entries in the audit log (``hubbub.store.audit``): sign-ins
(failed ones too), sign-outs, ended sessions, the web's deletions and its
downloads of the workspace's data (``audit_export``).

Two helpers, so every route records the same way: in the acting user's
workspace (a failed sign-in: where ``record_failed_signin`` puts it; an
export: the workspace whose data left), with the client's address, off the
event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from fastapi import Request

from hubbub.store.audit import AuditLog, DetailValue, record_failed_signin
from hubbub.store.scope import existing_scope
from hubbub.web.accounts import User
from hubbub.web.client_address import client_address


async def audit_event(
    request: Request,
    user: User | None,
    action: str,
    workspace: str,
    *,
    subject: str | None = None,
    target: str | None = None,
    detail: Mapping[str, DetailValue] | None = None,
) -> None:
    """Record ``action`` by ``user`` in ``workspace``. Without a user the
    action is a failed sign-in and ``subject`` the name that was tried."""
    store = request.app.state.store
    address = client_address(request, getattr(request.app.state, "trusted_proxies", ()))

    def write() -> None:
        if user is None:
            # Unknown workspaces fall back to the server's own, never "default"
            # (which may not exist and must not be created by a visitor).
            fallback = request.app.state.settings.workspace
            record_failed_signin(
                store, workspace, subject or "", address=address, fallback=fallback
            )
            return
        log = AuditLog(existing_scope(store, user.workspace))
        log.record(user.name, action, target=target, detail=detail, address=address)

    await asyncio.to_thread(write)


# Who downloads a public room's recap without signing in. It has a space, and
# a user name never does (``accounts.name_usable``), so no user can be taken
# for an anonymous visitor, nor one for a user.
ANONYMOUS = "anonymous visitor"


async def audit_export(
    request: Request,
    user: User | None,
    workspace: str,
    *,
    target: str,
    detail: Mapping[str, DetailValue],
) -> None:
    """Record that ``user`` (None: an anonymous visitor of a public room)
    downloaded ``target`` (the file name the browser saves) of ``workspace``'s
    data: an ``export``, as ``hubbub export`` and ``hubbub report`` record.
    ``detail`` says what was exported, e.g. ``{"command": "report",
    "format": "csv", "saved": "brand"}``, and how much when that is cheap to
    know. Called once the download is built, before it is sent.

    An anonymous visitor's download is recorded once per hour per file
    (``target``: room, day and format) and client address
    (``AuditLog.record_once_per_hour``): anyone can fetch a public recap in
    a loop, and each fetch adding a row let them grow the database without
    bound. A signed-in user's every download is recorded."""
    store = request.app.state.store
    address = client_address(request, getattr(request.app.state, "trusted_proxies", ()))
    actor = user.name if user is not None else ANONYMOUS

    def write() -> None:
        log = AuditLog(existing_scope(store, workspace))
        if user is None:
            log.record_once_per_hour(actor, "export", target=target, detail=detail, address=address)
        else:
            log.record(actor, "export", target=target, detail=detail, address=address)

    await asyncio.to_thread(write)

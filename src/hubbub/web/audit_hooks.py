"""The web's entries in the audit log (``hubbub.store.audit``): sign-ins
(failed ones too), sign-outs, ended sessions and the web's deletions.

One helper, so every route records the same way: in the acting user's
workspace (a failed sign-in: where ``record_failed_signin`` puts it), with
the client's address, off the event loop.
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

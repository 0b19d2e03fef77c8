"""The audit log for owners: ``GET /audit`` (a page) and ``GET /api/audit``
(JSON), both newest first, filtered by time and kind, paged by id.

Only owners read it: it names every user, their addresses and what they
did. Agents and viewers get 403, visitors 401 (the page sends them to sign
in). The log read is always the signed-in owner's own workspace; nothing in
the request can name another one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hubbub.i18n import _
from hubbub.store.audit import ACTIONS, AuditEntry, AuditLog, BadSince, parse_since
from hubbub.store.scope import NoSuchWorkspace, existing_scope
from hubbub.web.accounts import User
from hubbub.web.deps import current_user
from hubbub.web.roles import require_role

router = APIRouter()

PAGE_SIZE = 50
MAX_API_LIMIT = 200
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Filters:
    since: datetime | None
    since_text: str
    action: str | None
    before: int | None


def _owner(request: Request) -> User:
    # The one role rule of the app (hubbub.web.roles): 401, or 403 below owner.
    return require_role(request, "owner")


def _filters(since: str | None, action: str | None, before: int | None) -> Filters:
    """The query's filters, or 400 naming what is wrong (never a 500: the
    values are whatever a URL held)."""
    since_text = (since or "").strip()
    when = None
    if since_text:
        try:
            when = parse_since(since_text)
        except BadSince as exc:
            raise HTTPException(400, "since: " + str(exc)) from None
    if action == "":
        action = None
    if action is not None and action not in ACTIONS:
        raise HTTPException(400, _("action: no such kind of event"))
    return Filters(when, since_text, action, before)


async def _page(request: Request, user: User, filters: Filters, limit: int) -> list[AuditEntry]:
    store = request.app.state.store
    name = user.workspace  # the signed-in owner's own; nothing else is asked

    def read() -> list[AuditEntry]:
        log = AuditLog(existing_scope(store, name))
        return log.page(
            since=filters.since, action=filters.action, before=filters.before, limit=limit
        )

    try:
        return await asyncio.to_thread(read)
    except NoSuchWorkspace:  # the user's workspace went away under them
        raise HTTPException(404, _("No such workspace.")) from None


_since_q = Query(None, max_length=40)
_action_q = Query(None, max_length=40)
_before_q = Query(None, ge=1, le=MAX_ID)


_REFUSALS: dict[int | str, dict[str, object]] = {
    400: {"description": "A since or action that names nothing (the message says why)"},
    401: {"description": "Not signed in"},
    403: {"description": "Signed in, but not an owner"},
}


@router.get("/api/audit", responses=_REFUSALS)
async def audit_json(
    request: Request,
    since: str | None = _since_q,
    action: str | None = _action_q,
    before: int | None = _before_q,
    limit: int = Query(PAGE_SIZE, ge=1, le=MAX_API_LIMIT),
) -> JSONResponse:
    """Events newest first; ``next`` is the ``before`` of the following page
    (null on the last)."""
    user = _owner(request)
    filters = _filters(since, action, before)
    entries = await _page(request, user, filters, limit + 1)
    more = len(entries) > limit
    entries = entries[:limit]
    return JSONResponse(
        {
            "events": [e.as_json() for e in entries],
            "next": entries[-1].id if more and entries else None,
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/audit", response_class=HTMLResponse, responses=_REFUSALS)
async def audit_page(
    request: Request,
    since: str | None = _since_q,
    action: str | None = _action_q,
    before: int | None = _before_q,
) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/audit", status_code=303)
    _owner(request)
    error = None
    try:
        filters = _filters(since, action, before)
    except HTTPException as exc:
        error = str(exc.detail)
        filters = Filters(None, (since or "")[:40], None, None)
    entries = [] if error else await _page(request, user, filters, PAGE_SIZE + 1)
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    context = {
        "request": request,
        "user": user,
        "csrf": request.state.session["csrf"],
        "entries": entries,
        "actions": sorted(ACTIONS),
        "filters": filters,
        "error": error,
        "next_before": entries[-1].id if more and entries else None,
    }
    return request.app.state.templates.TemplateResponse(
        request,
        "audit.html",
        context,
        status_code=400 if error else 200,
        headers={"Cache-Control": "no-store"},
    )

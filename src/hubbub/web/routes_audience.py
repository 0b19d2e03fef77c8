"""The audience audit page: ``/audience`` (accounts with snapshots),
``/audience/{account}`` (the audit, the follower list sorted and filtered
by query parameters, no script needed), ``/audience/{account}/followers.csv``
(every follower's figures, the same rows as ``hubbub audience audit
--format csv``).

Signed-in users of any role read (viewers too); nothing here changes
state. The workspace is the signed-in user's: an account of another
workspace, or one without a snapshot, is 404 like one that does not exist.
"""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hubbub.audience.audit import (
    Audit,
    AuditError,
    FollowerRow,
    audit_rows,
    build_audit,
    follower_rows,
    parse_window,
)
from hubbub.audience.render import NETWORK_LABELS
from hubbub.i18n import _
from hubbub.store.audience_repo import AudienceRepo
from hubbub.store.audit import DetailValue
from hubbub.store.scope import NoSuchWorkspace, existing_scope
from hubbub.web.accounts import User
from hubbub.web.audit_hooks import audit_export
from hubbub.web.deps import current_user

router = APIRouter()

PAGE_ROWS = 100
SHOWS = ("all", "engaged", "active", "passive", "suspicious")
SORTS = ("suspicion", "interactions", "handle", "followers")
MAX_ACCOUNT = 100


def _workspace(request: Request, user: User) -> str:
    # A user carries their workspace once workspaces are per user (issue 10);
    # until then the server's one workspace.
    found = getattr(user, "workspace", None)
    return found if isinstance(found, str) and found else str(request.app.state.settings.workspace)


def _repo(request: Request, user: User) -> AudienceRepo:
    try:
        return AudienceRepo(existing_scope(request.app.state.store, _workspace(request, user)))
    except NoSuchWorkspace:
        raise HTTPException(404, _("No such account.")) from None


def _window(text: str) -> timedelta:
    try:
        return parse_window(text[:10])
    except ValueError:
        raise HTTPException(400, _("A window is a number of days or weeks, e.g. 90d.")) from None


def _account(name: str) -> str:
    if not name or len(name) > MAX_ACCOUNT:
        raise HTTPException(404, _("No such account."))
    return name


def _context(request: Request, user: User, **extra: Any) -> dict[str, Any]:
    return {"request": request, "user": user, "csrf": request.state.session["csrf"], **extra}


@router.get("/audience", response_class=HTMLResponse)
async def audience_index(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/audience", status_code=303)
    repo = _repo(request, user)
    snaps = await asyncio.to_thread(repo.snapshots)
    latest: dict[str, Any] = {}
    for snap in snaps:  # newest first: the first seen per account is its latest
        latest.setdefault(snap.account, snap)
    rows = [
        {"account": a, "network": NETWORK_LABELS.get(s.network, s.network), "snapshot": s}
        for a, s in sorted(latest.items())
    ]
    return request.app.state.templates.TemplateResponse(
        request, "audience_index.html", _context(request, user, rows=rows)
    )


def _sort_key(sort: str) -> Any:
    if sort == "interactions":
        return lambda r: (-r.interactions, r.member.position)
    if sort == "handle":
        return lambda r: (r.member.handle.lower(), r.member.position)
    if sort == "followers":
        return lambda r: (-(r.member.followers or 0), r.member.position)
    # Not scored (None) after every score, 0.0 included.
    return lambda r: (
        r.member.suspicion is None,
        -(r.member.suspicion or 0.0),
        r.member.position,
    )


def _page_data(
    repo: AudienceRepo, account: str, span: timedelta, show: str, sort: str, page: int
) -> tuple[Audit, list[FollowerRow], int]:
    audit = build_audit(repo, account, span)
    wanted: list[FollowerRow] = []
    for row in audit_rows(repo, audit):
        if show == "suspicious" and not row.member.suspicious:
            continue
        if show in ("engaged", "active", "passive") and row.klass != show:
            continue
        wanted.append(row)
    wanted.sort(key=_sort_key(sort))
    start = (page - 1) * PAGE_ROWS
    return audit, wanted[start : start + PAGE_ROWS], len(wanted)


@router.get("/audience/{account}", response_class=HTMLResponse)
async def audience_page(
    request: Request,
    account: str,
    window: str = "90d",
    show: str = "all",
    sort: str = "suspicion",
    page: int = 1,
) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse(
            "/login?next=" + quote("/audience/" + account[:MAX_ACCOUNT], safe=""), status_code=303
        )
    name = _account(account)
    span = _window(window)
    show = show if show in SHOWS else "all"
    sort = sort if sort in SORTS else "suspicion"
    page = max(1, min(page, 100_000))
    repo = _repo(request, user)
    try:
        audit, rows, total = await asyncio.to_thread(_page_data, repo, name, span, show, sort, page)
    except AuditError:
        raise HTTPException(404, _("No such account.")) from None
    pages = max(1, -(-total // PAGE_ROWS))
    context = _context(
        request,
        user,
        audit=audit,
        network_label=NETWORK_LABELS.get(audit.snapshot.network, "?"),
        rows=rows,
        total=total,
        show=show,
        sort=sort,
        window=window[:10],
        page=page,
        pages=pages,
        shows=SHOWS,
        sorts=SORTS,
        base="/audience/" + quote(name, safe=""),
    )
    return request.app.state.templates.TemplateResponse(request, "audience_audit.html", context)


@router.get("/audience/{account}/followers.csv")
async def audience_csv(request: Request, account: str, window: str = "90d") -> Response:
    user = current_user(request)
    if user is None:
        raise HTTPException(401, _("Sign in first."))
    name = _account(account)
    span = _window(window)
    repo = _repo(request, user)

    def build() -> tuple[str, int]:
        from hubbub.audience.csv_export import write_follower_csv

        out = io.StringIO()
        rows = write_follower_csv(out, follower_rows(repo, name, span))
        return out.getvalue(), rows

    try:
        body, rows = await asyncio.to_thread(build)
    except AuditError:
        raise HTTPException(404, _("No such account.")) from None
    filename = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    # Every follower's figures leave the workspace: audited as an export.
    detail: dict[str, DetailValue] = {"command": "audience audit", "format": "csv"}
    detail |= {"account": name, "followers": rows}
    await audit_export(
        request, user, _workspace(request, user), target=f"audience-{filename}.csv", detail=detail
    )
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audience-{filename}.csv"',
            "Cache-Control": "no-store",
        },
    )

"""Signing in and out, and a user's own account: their sessions and password.

Sign-in asks the throttle before checking any password (a refused guess
costs no argon2 work) and answers a throttled attempt with 429 and
``Retry-After`` at once; nothing here sleeps. A browser that signed in before
is counted under its device token, so someone guessing the owner's password
elsewhere does not lock the owner out of it. A successful sign-in starts a
server-side session under a new cookie (new visitor id and CSRF token: no
session fixation); logout deletes the session's row, so a copy of the cookie
is worth nothing afterwards.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hubbub.i18n import _, ngettext
from hubbub.store.api import MAX_WORKSPACE_NAME
from hubbub.web.accounts import (
    MAX_PASSWORD_CHARS,
    User,
    authenticate,
    password_problem,
    set_password,
    sign_in_workspace,
)
from hubbub.web.audit_hooks import audit_event
from hubbub.web.deps import client_address, current_user
from hubbub.web.routes_pages import _page, _safe_next
from hubbub.web.security import AUTH, Sessions
from hubbub.web.signin_throttle import Attempt, Refused
from hubbub.web.user_sessions import (
    SessionInfo,
    end_session,
    list_sessions,
    revoke_sessions,
    start_session,
)

router = APIRouter()
# Ids are 64-bit keys: a larger number is refused here (422), not by the database.
SessionId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _page(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    name: str = Form("", max_length=4096),
    password: str = Form(""),  # its own rule below answers an over-long one
    next: str = Form("/", max_length=4096),
    workspace: str = Form("", max_length=MAX_WORKSPACE_NAME),
) -> Response:
    """Sign in to ``workspace`` (optional: without it, the only workspace
    that has a user of that name, else the server's default)."""
    target = _safe_next(next)

    def again(status: int, error: str) -> HTMLResponse:
        return _page(
            request, "login.html", status=status, next=target, error=error, workspace=workspace
        )

    app = request.app
    ws = await asyncio.to_thread(
        sign_in_workspace, app.state.store, name, workspace.strip(), app.state.settings.workspace
    )
    account = account_key(ws, name)
    sessions = app.state.sessions
    device = sessions.device_for(request, account)
    verdict = app.state.signin_throttle.begin(account, client_address(request), device)
    if isinstance(verdict, Refused):
        return _throttled(again(429, _too_many(verdict.retry_after)), verdict)
    wrong = _("Wrong name or password.")
    if len(password) > MAX_PASSWORD_CHARS:
        # The same rule as at creation: such a password cannot exist. It is a
        # failed sign-in like any other (throttled, audited, 401, never
        # hashed), and the message says why rather than a bare "wrong".
        verdict.failed()
        await audit_event(request, None, "signin_failed", ws, subject=name.strip()[:100])
        return again(401, f"{wrong} {password_problem(password) or ''}".strip())
    user = await _check_password(request, verdict, ws, name, password)
    if user is None:
        await audit_event(request, None, "signin_failed", ws, subject=name.strip()[:100])
        return again(401, wrong)
    await _sign_in(request, user)
    await audit_event(request, user, "signin", ws)
    response = RedirectResponse(target, status_code=303)
    sessions.set_device_cookie(request, response, account)
    return response


def account_key(workspace: str, name: str) -> str:
    """What throttling and the device cookie count a sign-in under: the
    account, which is a name within a workspace (a line break separates
    them: neither can hold one)."""
    return f"{workspace}\n{name.strip()}"


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = request.state.session.get(AUTH)
    if isinstance(token, str):
        await asyncio.to_thread(end_session, request.app.state.store, token)
        _sessions_ended(request)
        user = current_user(request)
        if user is not None:
            await audit_event(request, user, "signout", user.workspace)
    request.state.session = Sessions.new()
    request.state.session_changed = True
    return RedirectResponse("/", status_code=303)


@router.get("/account", response_class=HTMLResponse)
async def account_page(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return RedirectResponse("/login?next=/account", status_code=303)
    return await _account(request, user)


@router.post("/account/sessions/{session_id}/revoke")
async def revoke_one(request: Request, session_id: SessionId) -> Response:
    user = _signed_in(request)
    await _revoke(request, user, session_id=session_id)
    if session_id == request.state.session_id:
        return _signed_out(request)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/sessions/revoke-others")
async def revoke_others(request: Request) -> Response:
    user = _signed_in(request)
    await _revoke(request, user, keep=request.state.session_id)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    current_password: str = Form(""),
    new_password: str = Form(""),
    confirm_password: str = Form(""),
) -> Response:
    """Every session of the user ends (a thief's too); this browser gets a new one."""
    user = _signed_in(request)
    problem = password_problem(new_password)
    if problem is None and new_password != confirm_password:
        problem = _("The new passwords do not match.")
    if problem is not None:
        return await _account(request, user, status=422, error=problem)
    if len(current_password) > MAX_PASSWORD_CHARS:
        return await _account(request, user, status=401, error=_("Wrong current password."))
    account = account_key(user.workspace, user.name)
    device = request.app.state.sessions.device_for(request, account)
    verdict = request.app.state.signin_throttle.begin(account, client_address(request), device)
    if isinstance(verdict, Refused):
        page = await _account(request, user, status=429, error=_too_many(verdict.retry_after))
        return _throttled(page, verdict)
    checked = await _check_password(request, verdict, user.workspace, user.name, current_password)
    if checked is None:
        return await _account(request, user, status=401, error=_("Wrong current password."))
    app = request.app
    await asyncio.to_thread(set_password, app.state.store, user.workspace, user.name, new_password)
    await audit_event(request, user, "password_changed", user.workspace, target=user.name)
    _sessions_ended(request)
    await _sign_in(request, user)
    return RedirectResponse("/account?changed=1", status_code=303)


@router.get("/api/account/sessions")
async def my_sessions(request: Request) -> list[dict[str, Any]]:
    user = _signed_in(request)
    return [_session_json(s, request) for s in await _sessions(request, user)]


@router.delete("/api/account/sessions/{session_id}")
async def delete_my_session(request: Request, session_id: SessionId) -> dict[str, Any]:
    user = _signed_in(request)
    if not await _revoke(request, user, session_id=session_id):
        raise HTTPException(404, _("No such session."))
    if session_id == request.state.session_id:
        request.state.session = Sessions.new()
        request.state.session_changed = True
    return {"ended": session_id}


def _signed_in(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise HTTPException(401, _("Sign in first."))
    return user


async def _check_password(
    request: Request, attempt: Attempt, workspace: str, name: str, password: str
) -> User | None:
    app = request.app
    try:
        user = await asyncio.to_thread(authenticate, app.state.store, workspace, name, password)
    except BaseException:
        attempt.abandoned()
        raise
    if user is None:
        attempt.failed()
    else:
        attempt.succeeded()
    return user


async def _sign_in(request: Request, user: User) -> None:
    app = request.app
    sessions = app.state.sessions
    old = request.state.session.get(AUTH)
    token, session_id = await asyncio.to_thread(
        start_session,
        app.state.store,
        user.workspace,
        user.id,
        now=sessions.clock(),
        policy=sessions.policy,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    if isinstance(old, str):
        await asyncio.to_thread(end_session, app.state.store, old)
    # A new visitor id and CSRF token with the new session (no session fixation).
    request.state.session = Sessions.new(token)
    request.state.session_changed = True
    request.state.session_id = session_id
    request.state.user = user


def _signed_out(request: Request) -> Response:
    request.state.session = Sessions.new()
    request.state.session_changed = True
    return RedirectResponse("/", status_code=303)


async def _sessions(request: Request, user: User) -> list[SessionInfo]:
    app = request.app
    sessions = app.state.sessions
    return await asyncio.to_thread(
        list_sessions,
        app.state.store,
        user.workspace,
        user.id,
        now=sessions.clock(),
        policy=sessions.policy,
    )


async def _revoke(
    request: Request, user: User, *, session_id: int | None = None, keep: int | None = None
) -> int:
    app = request.app
    ended = await asyncio.to_thread(
        revoke_sessions,
        app.state.store,
        user.workspace,
        user.id,
        session_id=session_id,
        keep=keep,
    )
    _sessions_ended(request)
    if ended:
        what = "all others" if keep is not None else str(session_id)
        await audit_event(
            request,
            user,
            "session_revoked",
            user.workspace,
            target=user.name,
            detail={"sessions": ended, "which": what},
        )
    return ended


def _sessions_ended(request: Request) -> None:
    """Open WebSockets of ended sessions stop reading private rooms now, not
    at the next periodic check (hub.Hubs.check_readers)."""
    tenants = getattr(request.app.state, "tenants", None)
    if tenants is not None:
        tenants.sessions_changed()


async def _account(
    request: Request, user: User, *, status: int = 200, error: str | None = None
) -> HTMLResponse:
    sessions = await _sessions(request, user)
    return _page(
        request,
        "account.html",
        status=status,
        sessions=sessions,
        current_id=request.state.session_id,
        error=error,
        changed=request.query_params.get("changed") == "1" and error is None,
        when=_when,
    )


def _session_json(info: SessionInfo, request: Request) -> dict[str, Any]:
    return {
        "id": info.id,
        "created_at": _iso(info.created_at),
        "last_seen_at": _iso(info.last_seen_at),
        "expires_at": _iso(info.expires_at),
        "address": info.address,
        "user_agent": info.user_agent,
        "current": info.id == request.state.session_id,
    }


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _throttled(response: HTMLResponse, verdict: Refused) -> HTMLResponse:
    response.headers["Retry-After"] = str(verdict.retry_after)
    return response


def _too_many(seconds: int) -> str:
    if seconds < 120:
        wait = ngettext("{n} second", "{n} seconds", seconds).format(n=seconds)
    else:
        minutes = -(-seconds // 60)
        wait = ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
    return _("Too many failed sign-ins. Try again in {wait}.").format(wait=wait)

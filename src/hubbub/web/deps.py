"""Request helpers shared by the routes: the signed-in user, host checks, rooms."""

from __future__ import annotations

import asyncio

from fastapi import HTTPException, Request
from starlette.requests import HTTPConnection

from hubbub.i18n import _
from hubbub.web.accounts import User
from hubbub.web.client_address import client_address as _client_address
from hubbub.web.rooms import RoomError, normalise_tag
from hubbub.web.user_sessions import LiveSession, resolve_session

HOST_ROLES = ("owner", "agent")


def current_user(request: Request) -> User | None:
    """The signed-in user, as the security middleware found the session (a
    live ``user_sessions`` row), or None for a visitor."""
    return getattr(request.state, "user", None)


def session_for_token(conn: HTTPConnection, token: str) -> LiveSession | None:
    """The live session a cookie's token names (None: ended or unknown).
    Blocking (it may write the idle time or drop an ended row): call it in a
    thread."""
    app = conn.app
    sessions = app.state.sessions
    return resolve_session(
        app.state.store,
        app.state.settings.workspace,
        token,
        now=sessions.clock(),
        policy=sessions.policy,
    )


async def resolve_session_token(conn: HTTPConnection, token: str) -> LiveSession | None:
    return await asyncio.to_thread(session_for_token, conn, token)


def connection_user(conn: HTTPConnection) -> User | None:
    """The signed-in user of a WebSocket (the session middleware sees HTTP
    only). Blocking: call it in a thread."""
    from hubbub.web.security import AUTH

    session = conn.app.state.sessions.load(conn)
    token = session.get(AUTH) if isinstance(session, dict) else None
    if not isinstance(token, str):
        return None
    live = session_for_token(conn, token)
    return live.user if live else None


def client_address(conn: HTTPConnection) -> str:
    """The client's address: the socket's, or as the operator's trusted
    proxies report it (``HUBBUB_TRUSTED_PROXIES``); never a header otherwise."""
    return _client_address(conn, getattr(conn.app.state, "trusted_proxies", ()))


def require_host(request: Request) -> User:
    user = current_user(request)
    if user is None:
        raise HTTPException(401, _("Sign in first."))
    if user.role not in HOST_ROLES:
        raise HTTPException(403, _("Only hosts can do this."))
    return user


def room_tag(tag: str) -> str:
    try:
        return normalise_tag(tag)
    except RoomError:
        raise HTTPException(404, _("No such room.")) from None

"""Request helpers shared by the routes: the signed-in user, host checks, rooms."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from starlette.requests import HTTPConnection

from hubbub.i18n import _
from hubbub.tags import TagError, parse_tag
from hubbub.web.accounts import User
from hubbub.web.client_address import client_address as _client_address
from hubbub.web.roles import require_role
from hubbub.web.rooms import HOST_ROLES, Room, RoomsFull
from hubbub.web.user_sessions import LiveSession, resolve_session
from hubbub.web.workspaces import Tenant

if TYPE_CHECKING:
    from hubbub.web.hub import RoomHub

__all__ = [
    "HOST_ROLES",
    "current_user",
    "readable_room",
    "require_host",
    "require_role",
    "room_tag",
    "tenant",
]


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
    # Any workspace's session: the session tells which workspace it is in.
    return resolve_session(
        app.state.store, None, token, now=sessions.clock(), policy=sessions.policy
    )


async def resolve_session_token(conn: HTTPConnection, token: str) -> LiveSession | None:
    return await asyncio.to_thread(session_for_token, conn, token)


def session_token(conn: HTTPConnection) -> str | None:
    """The session token a connection's (validly signed) cookie carries, live or not."""
    from hubbub.web.security import AUTH

    session = conn.app.state.sessions.load(conn)
    token = session.get(AUTH) if isinstance(session, dict) else None
    return token if isinstance(token, str) else None


def connection_user(conn: HTTPConnection) -> User | None:
    """The signed-in user of a WebSocket (the session middleware sees HTTP
    only). Blocking: call it in a thread."""
    token = session_token(conn)
    if token is None:
        return None
    live = session_for_token(conn, token)
    return live.user if live else None


def tenant(conn: HTTPConnection) -> Tenant:
    """The workspace the request acts in (found by the security middleware,
    see ``hubbub.web.workspaces``)."""
    found: Tenant | None = getattr(conn.state, "tenant", None)
    if found is None:  # a route outside the middleware's reach: the default's
        default: Tenant = conn.app.state.tenants.default
        return default
    return found


def require_host(request: Request) -> User:
    """An agent or owner (who act in rooms and listening): see ``roles``."""
    return require_role(request, "agent")


def client_address(conn: HTTPConnection) -> str:
    """The client's address: the socket's, or as the operator's trusted
    proxies report it (``HUBBUB_TRUSTED_PROXIES``); never a header otherwise."""
    return _client_address(conn, getattr(conn.app.state, "trusted_proxies", ()))


def room_tag(tag: str) -> str:
    """The edge check of a tag in a URL: the folded key, or 404."""
    try:
        return parse_tag(tag)
    except TagError:
        raise HTTPException(404, _("No such room.")) from None


def readable_room(request: Request, tag: str, user: User | None) -> Room:
    """The room ``tag`` names if ``user`` (None: anonymous) may read it: it
    exists (a host opened it, or the configuration or a source names it) and
    is public, or the reader is signed in. Otherwise 404, the same answer as
    for a tag that is no room, so private rooms are not revealed."""
    room = tenant(request).hubs.room(room_tag(tag))
    if room is None or (not room.public and user is None):
        raise HTTPException(404, _("No such room."))
    return room


async def live_hub(request: Request, room: Room) -> RoomHub:
    """The room's live hub; 503 when the limit on live rooms is reached."""
    from hubbub.web.hub import RETRY_AFTER

    try:
        return await tenant(request).hubs.get(room.tag)
    except RoomsFull as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": str(RETRY_AFTER)}) from None
    except KeyError:  # closed by a host a moment ago
        raise HTTPException(404, _("No such room.")) from None

"""Request helpers shared by the routes: the signed-in user, host checks, rooms."""

from __future__ import annotations

from fastapi import HTTPException, Request

from hubbub.i18n import _
from hubbub.web.accounts import User, get_user
from hubbub.web.rooms import RoomError, normalise_tag

HOST_ROLES = ("owner", "agent")


def current_user(request: Request) -> User | None:
    if hasattr(request.state, "user"):
        return request.state.user
    uid = request.state.session.get("uid")
    user = None
    if isinstance(uid, int):
        user = get_user(request.app.state.store, request.app.state.settings.workspace, uid)
    request.state.user = user
    return user


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

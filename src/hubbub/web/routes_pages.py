"""HTML pages: home, the room and its projector view (sign-in and the account
page are in ``routes_account``)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hubbub.i18n import _
from hubbub.web.deps import current_user, require_host, room_tag, tenant
from hubbub.web.roles import has_role

router = APIRouter()


def _page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    user = current_user(request)
    context.update(
        request=request,
        user=user,
        is_host=has_role(user, "agent"),
        is_owner=has_role(user, "owner"),
        csrf=request.state.session["csrf"],
        # The workspace's URL prefix ("/w/NAME") when the URL named one.
        base=getattr(request.state, "base", ""),
    )
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    signed_in = current_user(request) is not None
    rooms = tenant(request).hubs.rooms.values()
    tags = sorted(r.tag for r in rooms if r.public or signed_in)
    return _page(request, "index.html", rooms=tags)


@router.get("/rooms", response_class=HTMLResponse, include_in_schema=False)
async def open_room(request: Request, tag: str = "") -> Response:
    key = room_tag(tag)
    return RedirectResponse(f"{_base(request)}/rooms/{key}", status_code=303)


@router.get("/rooms/{tag}", response_class=HTMLResponse)
async def room_page(request: Request, tag: str, projector: bool = False) -> HTMLResponse:
    return _room(request, tag, projector)


@router.get("/rooms/{tag}/projector", response_class=HTMLResponse)
async def projector_page(request: Request, tag: str) -> HTMLResponse:
    return _room(request, tag, True)


def _room(request: Request, tag: str, projector: bool) -> HTMLResponse:
    """The room, if the visitor may read it; a host sees a room nobody has
    opened yet as a form to open it; everyone else gets 404."""
    key = room_tag(tag)
    user = current_user(request)
    room = tenant(request).hubs.room(key)
    if room is not None and (room.public or user is not None):
        return _page(request, "room.html", tag=key, projector=projector)
    if room is None and has_role(user, "agent"):
        return _page(request, "room.html", status=404, tag=key, projector=False, closed=True)
    raise HTTPException(404, _("No such room."))


@router.post("/rooms/{tag}/open", include_in_schema=False)
async def open_room_form(request: Request, tag: str, public: str = Form("")) -> Response:
    """The host's form on an unopened room: open it, then show it."""
    require_host(request)
    key = room_tag(tag)
    here = tenant(request)
    await asyncio.to_thread(here.rooms.ensure, key, public=bool(public))
    await here.hubs.refresh(key)
    return RedirectResponse(f"{_base(request)}/rooms/{key}", status_code=303)


def _base(request: Request) -> str:
    base = getattr(request.state, "base", "")
    return base if isinstance(base, str) else ""


def _safe_next(value: str) -> str:
    # Only local paths: "//evil.example" and "/\evil" would leave the site.
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value

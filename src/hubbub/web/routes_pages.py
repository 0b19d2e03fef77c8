"""HTML pages: home, the room and its projector view (sign-in and the account
page are in ``routes_account``)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hubbub.web.deps import HOST_ROLES, current_user, room_tag
from hubbub.web.rooms import configured_tags

router = APIRouter()


def _page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    user = current_user(request)
    context.update(
        request=request,
        user=user,
        is_host=bool(user and user.role in HOST_ROLES),
        csrf=request.state.session["csrf"],
    )
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    app = request.app
    tags = await asyncio.to_thread(configured_tags, app.state.store, app.state.settings.workspace)
    return _page(request, "index.html", rooms=tags)


@router.get("/rooms", response_class=HTMLResponse, include_in_schema=False)
async def open_room(request: Request, tag: str = "") -> Response:
    key = room_tag(tag)
    return RedirectResponse(f"/rooms/{key}", status_code=303)


@router.get("/rooms/{tag}", response_class=HTMLResponse)
async def room_page(request: Request, tag: str, projector: bool = False) -> HTMLResponse:
    key = room_tag(tag)
    return _page(request, "room.html", tag=key, projector=projector)


@router.get("/rooms/{tag}/projector", response_class=HTMLResponse)
async def projector_page(request: Request, tag: str) -> HTMLResponse:
    key = room_tag(tag)
    return _page(request, "room.html", tag=key, projector=True)


def _safe_next(value: str) -> str:
    # Only local paths: "//evil.example" and "/\evil" would leave the site.
    if not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    return value

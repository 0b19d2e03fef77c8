"""HTML pages: home, sign in/out, the room and its projector view."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hubbub.i18n import _
from hubbub.web.accounts import authenticate
from hubbub.web.deps import HOST_ROLES, current_user, room_tag
from hubbub.web.rooms import configured_tags
from hubbub.web.security import Sessions

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


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return _page(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request, name: str = Form(""), password: str = Form(""), next: str = Form("/")
) -> Response:
    app = request.app
    user = await asyncio.to_thread(
        authenticate, app.state.store, app.state.settings.workspace, name[:100], password[:1000]
    )
    if user is None:
        return _page(
            request,
            "login.html",
            status=401,
            next=_safe_next(next),
            error=_("Wrong name or password."),
        )
    # A new session id and CSRF token at sign-in (no session fixation).
    request.state.session = Sessions.new(user.id)
    request.state.session_changed = True
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    request.state.session = Sessions.new()
    request.state.session_changed = True
    return RedirectResponse("/", status_code=303)


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

"""JSON API of rooms: posts, state, host controls, approval queue, posting.

State changes are CSRF-checked by the security middleware before they get
here; these handlers check who may do what.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from hubbub.i18n import _
from hubbub.web import compose
from hubbub.web.deps import HOST_ROLES, current_user, require_host, room_tag
from hubbub.web.rooms import RoomError, post_json

router = APIRouter(prefix="/api")


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    pipeline = request.app.state.pipeline
    sources = pipeline.health() if hasattr(pipeline, "health") else {}
    return {"ok": True, "sources": sources}


@router.get("/rooms/{tag}/posts")
async def room_posts(request: Request, tag: str, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first; hidden authors and held posts left out."""
    key = room_tag(tag)
    hub = await request.app.state.hubs.get(key)
    repo = request.app.state.rooms
    posts = await asyncio.to_thread(repo.visible_posts, hub.room, max(1, min(limit, 500)))
    return [post_json(p, hub.room) for p in posts]


@router.get("/rooms/{tag}/state")
async def room_state(request: Request, tag: str) -> dict[str, Any]:
    key = room_tag(tag)
    hub = await request.app.state.hubs.get(key)
    user = current_user(request)
    host = bool(user and user.role in HOST_ROLES)
    data = hub.room.for_host() if host else hub.room.public()
    data["me"] = {"name": user.name if user else None, "host": host}
    data["pending_version"] = hub.pending_version if host else None
    return data


class RoomSettingsIn(BaseModel):
    allow_guests: bool | None = None
    approval: bool | None = None


@router.post("/rooms/{tag}/settings")
async def update_settings(request: Request, tag: str, body: RoomSettingsIn) -> dict[str, Any]:
    require_host(request)
    key = room_tag(tag)
    repo = request.app.state.rooms
    await asyncio.to_thread(
        repo.update, key, allow_guests=body.allow_guests, approval=body.approval
    )
    room = await request.app.state.hubs.refresh(key)
    return room.for_host()


class PersonIn(BaseModel):
    role: str = Field(max_length=16)
    network: str = Field(max_length=16)
    who: str = Field(max_length=300)  # handle for host/guest; author id for muted/blocked
    label: str | None = Field(default=None, max_length=300)
    on: bool = True


@router.post("/rooms/{tag}/people")
async def set_person(request: Request, tag: str, body: PersonIn) -> dict[str, Any]:
    require_host(request)
    key = room_tag(tag)
    repo = request.app.state.rooms
    try:
        await asyncio.to_thread(
            repo.set_person, key, body.role, body.network, body.who, body.label, body.on
        )
    except RoomError as exc:
        raise HTTPException(422, str(exc)) from None
    room = await request.app.state.hubs.refresh(key)
    return room.for_host()


@router.get("/rooms/{tag}/pending")
async def pending(request: Request, tag: str) -> list[dict[str, Any]]:
    require_host(request)
    key = room_tag(tag)
    hub = await request.app.state.hubs.get(key)
    posts = await asyncio.to_thread(request.app.state.rooms.pending, hub.room)
    return [post_json(p, hub.room) for p in posts]


class DecisionIn(BaseModel):
    network: str = Field(max_length=16)
    id: str = Field(max_length=1000)
    approve: bool


@router.post("/rooms/{tag}/decide")
async def decide(request: Request, tag: str, body: DecisionIn) -> dict[str, Any]:
    user = require_host(request)
    key = room_tag(tag)
    hub = await request.app.state.hubs.get(key)
    post = await asyncio.to_thread(
        request.app.state.rooms.decide, hub.room, body.network, body.id, body.approve, user.name
    )
    if post is not None:
        hub.broadcast(post)
    return {"ok": True, "published": post is not None}


class PostIn(BaseModel):
    text: str = Field(max_length=2000)
    name: str | None = Field(default=None, max_length=200)  # web guests only
    thread: bool = False


@router.post("/rooms/{tag}/posts", status_code=201)
async def write_post(request: Request, tag: str, body: PostIn) -> dict[str, Any]:
    app = request.app
    key = room_tag(tag)
    hub = await app.state.hubs.get(key)
    user = current_user(request)
    text = body.text.strip()
    if not text:
        raise HTTPException(422, _("Write something first."))
    if user is not None:
        author_id, handle, display = f"web:user:{user.id}", user.name, user.name
    else:
        if not hub.room.allow_guests:
            raise HTTPException(403, _("This room does not take posts from guests."))
        name = compose.clean_name(body.name or "")
        if not name:
            raise HTTPException(422, _("Choose a name to post as a guest."))
        author_id = "web:guest:" + request.state.session["sid"]
        handle, display = name, name
        client = request.client.host if request.client else "-"
        if not app.state.guest_limiter.allow(f"{client}|{key}"):
            raise HTTPException(429, _("Slow down: too many posts from guests at this address."))
    if ("web", author_id) in hub.room.hidden:
        raise HTTPException(403, _("You cannot post in this room."))
    final = compose.with_hashtag(text, key)
    if len(final) > compose.MAX_WEB_TEXT:
        raise HTTPException(422, _("Too long: at most 500 characters."))
    reply_to = hub.last_own.get(author_id) if body.thread else None
    post = compose.web_post(
        text, key, author_id=author_id, handle=handle, display_name=display, reply_to=reply_to
    )
    hub.last_own[author_id] = post.id
    await app.state.pipeline.submit(post)
    return post_json(post, hub.room)

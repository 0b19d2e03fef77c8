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
from hubbub.outbox import public_post_text
from hubbub.web import compose
from hubbub.web.client_address import address_block
from hubbub.web.deps import (
    client_address,
    current_user,
    live_hub,
    readable_room,
    require_host,
    room_tag,
    tenant,
)
from hubbub.web.roles import has_role
from hubbub.web.room_reposts import without_hidden
from hubbub.web.rooms import GUEST_PREFIX, Room, RoomError, post_json

router = APIRouter(prefix="/api")


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    from hubbub.web.health_view import health_view  # overall state only, unless signed in

    return health_view(request)


@router.get("/rooms/{tag}/posts")
async def room_posts(request: Request, tag: str, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first; hidden authors, held posts and posts a host removed left
    out. Public rooms for everyone, private ones for signed-in users; any
    other tag is 404."""
    from hubbub.web.routes_chat import removed_posts

    room = readable_room(request, tag, current_user(request))
    hub = await live_hub(request, room)
    repo = tenant(request).rooms
    posts = await asyncio.to_thread(repo.visible_posts, hub.room, max(1, min(limit, 500)))
    removed = await asyncio.to_thread(removed_posts, request, hub.room.tag)
    shown = [p for p in posts if (p.network, p.id) not in removed]
    # A repost with nothing of its own to show is shown by its original, and
    # left out with it when the room hides the original.
    shown, labels, originals = await asyncio.to_thread(repo.page_names, hub.room, shown, removed)
    return [post_json(p, hub.room, labels, originals) for p in shown]


@router.get("/rooms/{tag}/state")
async def room_state(request: Request, tag: str) -> dict[str, Any]:
    user = current_user(request)
    room = readable_room(request, tag, user)
    hub = await live_hub(request, room)
    host = has_role(user, "agent")
    data = hub.room.for_host() if host else hub.room.public_view()
    data["me"] = {
        "name": user.name if user else None,
        "host": host,
        # Guests and viewers post under the same rules (allow_guests, blocks, queue).
        "member": host,
    }
    data["pending_version"] = hub.pending_version if host else None
    return data


class OpenIn(BaseModel):
    public: bool = True


@router.post("/rooms/{tag}/open")
async def open_room(request: Request, tag: str, body: OpenIn) -> dict[str, Any]:
    """A host opens a room: from now on it exists (public unless asked not to be)."""
    require_host(request)
    key = room_tag(tag)
    room = await _open(request, key, public=body.public)
    return room.for_host()


async def _open(request: Request, key: str, *, public: bool = True) -> Room:
    here = tenant(request)
    await asyncio.to_thread(here.rooms.ensure, key, public=public)
    room = await here.hubs.refresh(key)
    assert room is not None
    return room


def _existing(request: Request, tag: str) -> str:
    """The key of a room of the request's workspace; 404 for any other tag
    (changing a room does not open it: ``/open`` does)."""
    key = room_tag(tag)
    if tenant(request).hubs.room(key) is None:
        raise HTTPException(404, _("No such room."))
    return key


class RoomSettingsIn(BaseModel):
    allow_guests: bool | None = None
    approval: bool | None = None
    public: bool | None = None


@router.post("/rooms/{tag}/settings")
async def update_settings(request: Request, tag: str, body: RoomSettingsIn) -> dict[str, Any]:
    require_host(request)
    key = _existing(request, tag)
    here = tenant(request)
    await asyncio.to_thread(
        here.rooms.update,
        key,
        allow_guests=body.allow_guests,
        approval=body.approval,
        public=body.public,
    )
    room = await here.hubs.refresh(key)
    assert room is not None
    return room.for_host()


@router.post("/guests/close")
async def close_guests(request: Request) -> dict[str, Any]:
    """Stop guest (and viewer) posting in every room at once."""
    require_host(request)
    here = tenant(request)
    tags = await asyncio.to_thread(here.rooms.close_guests)
    for key in tags:
        await here.hubs.refresh(key)
    return {"ok": True, "closed": tags}


class PersonIn(BaseModel):
    role: str = Field(max_length=16)
    network: str = Field(max_length=16)
    who: str = Field(max_length=300)  # handle for host/guest; author id for muted/blocked
    label: str | None = Field(default=None, max_length=300)
    on: bool = True


@router.post("/rooms/{tag}/people")
async def set_person(request: Request, tag: str, body: PersonIn) -> dict[str, Any]:
    require_host(request)
    key = _existing(request, tag)
    here = tenant(request)
    try:
        await asyncio.to_thread(
            here.rooms.set_person, key, body.role, body.network, body.who, body.label, body.on
        )
    except RoomError as exc:
        raise HTTPException(422, str(exc)) from None
    room = await here.hubs.refresh(key)
    assert room is not None
    return room.for_host()


@router.get("/rooms/{tag}/pending")
async def pending(request: Request, tag: str) -> list[dict[str, Any]]:
    user = require_host(request)
    hub = await live_hub(request, readable_room(request, tag, user))
    repo = tenant(request).rooms
    posts = await asyncio.to_thread(repo.pending, hub.room)
    # A held repost of what the room hides is not worth a decision: left out.
    removed = await asyncio.to_thread(repo.removed, hub.room.tag)
    posts, labels, originals = await asyncio.to_thread(repo.page_names, hub.room, posts, removed)
    return [post_json(p, hub.room, labels, originals) for p in posts]


class DecisionIn(BaseModel):
    network: str = Field(max_length=16)
    id: str = Field(max_length=1000)
    approve: bool


@router.post("/rooms/{tag}/decide")
async def decide(request: Request, tag: str, body: DecisionIn) -> dict[str, Any]:
    user = require_host(request)
    hub = await live_hub(request, readable_room(request, tag, user))
    here = tenant(request)
    post = await asyncio.to_thread(
        here.rooms.decide, hub.room, body.network, body.id, body.approve, user.name
    )
    if post is not None:
        removed = await asyncio.to_thread(here.rooms.removed, hub.room.tag)
        originals, hidden = await asyncio.to_thread(here.rooms.originals, hub.room, [post], removed)
        # Approved, but a repost of what the room hides stays out of the stream.
        post = next(iter(without_hidden([post], hidden)), None)
        if post is not None:
            await here.hubs.publish_approved(post, hub.room.tag, originals)
    return {"ok": True, "published": post is not None}


def _refusal(tag: str, key: str, *, viewer: bool) -> str:
    """Why a guest's (or viewer's) post may not go into room ``tag``."""
    if viewer:
        if tag == key:
            return _("This room takes posts from hosts only (not from guests or viewers).")
        return _("#{tag} takes posts from hosts only (not from guests or viewers).").format(tag=tag)
    if tag == key:
        return _("This room does not take posts from guests.")
    return _("#{tag} does not take posts from guests.").format(tag=tag)


class PostIn(BaseModel):
    text: str = Field(max_length=2000)
    name: str | None = Field(default=None, max_length=200)  # web guests only
    thread: bool = False


@router.post("/rooms/{tag}/posts", status_code=201)
async def write_post(request: Request, tag: str, body: PostIn) -> dict[str, Any]:
    """Write into a room. Hosts (owners, agents) post into any room; web
    guests (anonymous visitors) and viewers only where every room the post
    names is public and takes guest posts, and their posts wait in the
    approval queue wherever one of those rooms has it. A viewer may do what a
    guest may (signing out would allow it anyway), under their own name.

    The text is cleaned on the way in, as outgoing posts are: no control
    characters, terminal sequences or bidi overrides are stored or served."""
    app = request.app
    here = tenant(request)
    hubs = here.hubs
    user = current_user(request)
    room = readable_room(request, tag, user)
    key = room.tag
    text = public_post_text.clean(body.text).strip()
    if not text:
        raise HTTPException(422, _("Write something first."))
    final = compose.with_hashtag(text, key)
    if len(final) > compose.MAX_WEB_TEXT:
        raise HTTPException(422, _("Too long: at most 500 characters."))
    member = has_role(user, "agent")
    if user is not None:
        author_id, handle, display = f"web:user:{user.id}", user.name, user.name
    else:
        name = compose.clean_name(body.name or "")
        author_id = GUEST_PREFIX + request.state.session["sid"]
        handle = display = name
    if not member:
        address = client_address(request)
        for t in compose.room_tags(final):
            other = hubs.room(t)
            if other is None or not other.public or not other.allow_guests:
                raise HTTPException(403, _refusal(t, key, viewer=user is not None))
            if other.blocks(author_id, address, display):
                raise HTTPException(403, _("You cannot post in this room."))
        if not display:
            raise HTTPException(422, _("Choose a name to post as a guest."))
        if not app.state.guest_limiter.allow(f"{here.name}|{address_block(address)}|{key}"):
            raise HTTPException(
                429,
                _("Slow down: too many posts from guests at this address."),
                headers=app.state.guest_limiter.retry_after_headers(),
            )
        await asyncio.to_thread(here.rooms.note_guest, author_id, address, display)
    elif ("web", author_id) in room.hidden:
        raise HTTPException(403, _("You cannot post in this room."))
    hub = await live_hub(request, room)
    reply_to = hub.last_own.get(author_id) if body.thread else None
    post = compose.web_post(
        text, key, author_id=author_id, handle=handle, display_name=display, reply_to=reply_to
    )
    held = not member and hubs.needs_approval(post)
    if held:
        # Held before it is stored, so no reader sees it before a host decides.
        for t in compose.room_tags(post.text):
            other = hubs.room(t)
            if other is not None and other.approval and other.id is not None:
                await asyncio.to_thread(here.rooms.hold, other, post)
                live = hubs.live(t)
                if live is not None:
                    live.pending_version += 1
    hub.last_own[author_id] = post.id
    await here.pipeline.submit(post)
    data = post_json(post, hub.room)
    data["held"] = held
    return data

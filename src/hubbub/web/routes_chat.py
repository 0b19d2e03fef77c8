"""Chat routes of a room: the Q&A of every stored post, catching up after a
cursor, pins, removals and the recap downloads.

Reading follows the room's visibility (``readable_room``: public rooms for
everyone, private ones for signed-in users, 404 otherwise); pinning and
removing are for hosts, and the security middleware has checked the CSRF
token and Origin of every POST before it gets here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from hubbub.author_labels import AuthorLabels
from hubbub.chat.moderation import is_spam
from hubbub.chat.qa import build_qa, question_text
from hubbub.chat.repo import MAX_PAGE, ChatRepo
from hubbub.i18n import _
from hubbub.post import Post
from hubbub.query.tokens import fold
from hubbub.store.audit import DetailValue
from hubbub.web.audit_hooks import audit_export
from hubbub.web.client_address import address_block, client_address
from hubbub.web.deps import current_user, live_hub, readable_room, require_host, tenant
from hubbub.web.errors import invalid
from hubbub.web.ratelimit import RateLimiter
from hubbub.web.room_reposts import Key, shown_text
from hubbub.web.rooms import Room, post_json

router = APIRouter(prefix="/api")
# How far back from the newest post the room's Q&A looks: longer than any
# chat, shorter than the gap between two chats on the same hashtag.
QA_WINDOW = timedelta(hours=12)
# Posts stored in one batch share a time; stay clear of the batch in flight.
SETTLE_MARGIN = timedelta(seconds=2)
QA_FRESH = 2.0  # seconds a computed Q&A serves readers while nothing it sees changed


def _chat(request: Request) -> ChatRepo:
    here = tenant(request)
    if here.chat is None:  # one per workspace, made on first use
        here.chat = ChatRepo(request.app.state.store, here.name)
    return here.chat


QACache = dict[str, tuple[tuple[object, ...], float, dict[str, Any]]]


def _qa_cache(request: Request) -> QACache:
    cache: QACache = tenant(request).chat_qa
    return cache


def removed_posts(request: Request, tag: str) -> set[tuple[str, str]]:
    """(network, post id) of the posts a host took out of room ``tag``."""
    return _chat(request).removed(tag)


def _visible(request: Request, room: Room, posts: list[Post]) -> list[Post]:
    """What any reader of the room may see: no hidden author, no post held
    for approval or rejected, no post a host removed."""
    return tenant(request).rooms.shown(room, posts, _chat(request).removed(room.tag))


def _page(
    request: Request, room: Room, posts: list[Post]
) -> tuple[list[Post], AuthorLabels, dict[Key, Post]]:
    """``_visible`` less the reposts of what the room hides, with the page's
    author labels and the originals its reposts are shown by."""
    removed = _chat(request).removed(room.tag)
    rooms = tenant(request).rooms
    return rooms.page_names(room, rooms.shown(room, posts, removed), removed)


def chat_post_json(
    post: Post,
    room: Room,
    cursor: int | None = None,
    labels: AuthorLabels | None = None,
    originals: Mapping[Key, Post] | None = None,
) -> dict[str, Any]:
    """A post as the room's API sends it, plus the projector's spam flag and
    the catch-up cursor where there is one; ``labels``: the page's author
    names, ``originals``: its reposts' (``RoomRepo.page_names``)."""
    data = post_json(post, room, labels, originals)
    data["spam"] = is_spam(shown_text(post, originals))
    if cursor is not None:
        data["cursor"] = cursor
    return data


# -- Q&A ---------------------------------------------------------------------


@router.get("/rooms/{tag}/qa")
async def room_qa(request: Request, tag: str) -> dict[str, Any]:
    """Every question of the chat with every answer, from every stored post
    of the chat: the posts of the ``QA_WINDOW`` before its newest one, so
    last week's chat on the same hashtag does not mix its Q1 into today's."""
    room = readable_room(request, tag, current_user(request))
    repo = _chat(request)
    cache = _qa_cache(request)

    def work() -> dict[str, Any]:
        # Every reader of a busy chat asks again after each answer: compute it
        # once per new post (the cursor), removal, host or block, and at most
        # every QA_FRESH seconds for what the key does not see (approvals).
        key = (
            repo.cursor(room.tag),
            frozenset(repo.removed(room.tag)),
            repo.hosts(room.tag),
            frozenset(room.hidden),
        )
        hit = cache.get(room.tag)
        if hit is not None and hit[0] == key and time.monotonic() - hit[1] < QA_FRESH:
            return hit[2]
        answer = _qa_json(request, room, repo, key[2])
        cache[room.tag] = (key, time.monotonic(), answer)
        return answer

    return await asyncio.to_thread(work)


def _qa_json(
    request: Request, room: Room, repo: ChatRepo, hosts: frozenset[tuple[str, str]]
) -> dict[str, Any]:
    newest = repo.newest_time(room.tag)
    since = newest - QA_WINDOW if newest is not None else None
    posts = _visible(request, room, [p for _pk, p in repo.posts(room.tag, since)])
    qa = build_qa(posts, hosts)
    labels = tenant(request).rooms.author_labels(posts)
    return {
        "questions": [
            {
                "number": q.number,
                "text": question_text(q.post.text, room.tag),
                "post": chat_post_json(q.post, room, labels=labels),
                "answers": [chat_post_json(a, room, labels=labels) for a in q.answers],
            }
            for q in qa.questions
        ]
    }


# -- catching up -------------------------------------------------------------


@router.get("/rooms/{tag}/feed")
async def room_feed(
    request: Request,
    tag: str,
    # Bounded at the edge: a cursor is a 64-bit row key, pages are at most MAX_PAGE.
    after: int | None = Query(default=None, ge=0, le=2**63 - 1),
    last: int = Query(default=100, ge=1, le=MAX_PAGE),
    limit: int = Query(default=200, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:
    """Posts in the order they were stored, oldest first, with a cursor.

    Without ``after``: the newest ``last`` posts and the cursor after them
    (a page opening). With ``after``: what was stored after that cursor, in
    pages of ``limit``; ``more`` says another page waits. A page that
    reconnects, or was dropped for being too slow, asks with the last cursor
    it has and gets every post it missed, in order.
    """
    room = readable_room(request, tag, current_user(request))
    repo = _chat(request)

    def work() -> dict[str, Any]:
        page = repo.newest(room.tag, last) if after is None else repo.after(room.tag, after, limit)
        shown, labels, originals = _page(request, room, [p for _pk, p in page.posts])
        keep = {(p.network, p.id) for p in shown}
        return {
            "posts": [
                chat_post_json(p, room, pk, labels, originals)
                for pk, p in page.posts
                if (p.network, p.id) in keep
            ],
            "cursor": page.cursor,
            "more": page.more,
        }

    return await asyncio.to_thread(work)


@router.get("/rooms/{tag}/cursor")
async def room_cursor(
    request: Request, tag: str, seen: float = Query(ge=0, le=4_102_444_800)
) -> dict[str, int]:
    """A cursor a page may move up to while its socket stays open, so a page
    that drops after hours asks for what it missed, not for hours of posts.

    ``seen`` is the ``entered_at`` of the newest live post the page has
    handled. Posts reach a socket in the order they were stored, so every
    post stored before that one entered has reached the page too: the
    cursor is the newest of those (with a margin for batching)."""
    room = readable_room(request, tag, current_user(request))
    before = min(datetime.now(UTC), datetime.fromtimestamp(seen, UTC)) - SETTLE_MARGIN
    return {"cursor": await asyncio.to_thread(_chat(request).settled_cursor, room.tag, before)}


# -- pins and removals -------------------------------------------------------


class PostRef(BaseModel):
    network: str = Field(max_length=16)
    id: str = Field(max_length=1000)
    on: bool = True


async def _pins_json(request: Request, room: Room) -> list[dict[str, Any]]:
    def work() -> list[dict[str, Any]]:
        pins, labels, originals = _page(request, room, _chat(request).pins(room.tag))
        return [chat_post_json(p, room, labels=labels, originals=originals) for p in pins]

    return await asyncio.to_thread(work)


@router.get("/rooms/{tag}/pins")
async def room_pins(request: Request, tag: str) -> list[dict[str, Any]]:
    room = readable_room(request, tag, current_user(request))
    return await _pins_json(request, room)


async def _room_post(request: Request, room: Room, ref: PostRef) -> Post:
    if "\x00" in ref.id or "\x00" in ref.network:  # no stored id has one (PostgreSQL refuses it)
        raise HTTPException(404, _("No such post in this room."))
    post = await asyncio.to_thread(
        request.app.state.store.get_post, ref.network, ref.id, tenant(request).name
    )
    if post is None or post.deleted or room.tag not in {fold(t.lstrip("#")) for t in post.hashtags}:
        raise HTTPException(404, _("No such post in this room."))
    return post


@router.post("/rooms/{tag}/pin")
async def pin(request: Request, tag: str, body: PostRef) -> dict[str, Any]:
    """Pin a post above the stream for every reader (``on: false`` unpins)."""
    user = require_host(request)
    room = readable_room(request, tag, user)
    post = await _room_post(request, room, body)
    await asyncio.to_thread(
        _chat(request).set_pin, room.tag, post.network, post.id, user.name, body.on
    )
    pins = await _pins_json(request, room)
    hub = await live_hub(request, room)
    hub.announce({"event": "pins", "pins": pins})
    return {"ok": True, "pins": pins}


@router.post("/rooms/{tag}/remove")
async def remove(request: Request, tag: str, body: PostRef) -> dict[str, Any]:
    """Take a post out of the room for everyone: page, projector, Q&A, catch-up."""
    user = require_host(request)
    room = readable_room(request, tag, user)
    post = await _room_post(request, room, body)
    await asyncio.to_thread(
        _chat(request).set_removed, room.tag, post.network, post.id, user.name, body.on
    )
    hub = await live_hub(request, room)
    hub.originals.forget()  # its reposts go (or come back) with it in the live stream too
    hub.announce({"event": "removed", "network": post.network, "post": post.id, "on": body.on})
    hub.announce({"event": "pins", "pins": await _pins_json(request, room)})
    return {"ok": True}


# -- recap downloads ---------------------------------------------------------


@router.get("/rooms/{tag}/recap")
async def recap(
    request: Request, tag: str, format: str = "html", on: str | None = None
) -> Response:
    """The chat's recap (``hubbub recap``) as a download: html, md, pdf or json."""
    from hubbub.chat.pdf_fonts import FontsMissing
    from hubbub.chat.recap import NoPosts, RecapError, build_recap, parse_day
    from hubbub.chat.recap_output import FORMATS, MEDIA_TYPES, recap_filename, render_recap

    room = readable_room(request, tag, current_user(request))
    if format not in FORMATS:
        raise invalid("query", "format", _("Choose a format: html, md, pdf or json."))
    app = request.app
    # Before any work: a loop of downloads builds no files and, for an
    # anonymous visitor, would only repeat the hour's audit entry anyway.
    address = client_address(request, app.state.trusted_proxies)
    limiter: RateLimiter = app.state.recap_limiter
    if not limiter.allow(f"{tenant(request).name}|{address_block(address)}|recap"):
        raise HTTPException(
            429,
            _("Slow down: too many recap downloads from this address."),
            headers=limiter.retry_after_headers(),
        )

    def work() -> tuple[dict[str, Any], bytes]:
        day: date | None = parse_day(on) if on else None
        data = build_recap(
            app.state.store,
            room.tag,
            day=day,
            workspace=tenant(request).name,
            # What the room shows: held posts and hidden authors stay out.
            visible=lambda posts: _visible(request, room, posts),
        )
        return data, render_recap(data, format)

    try:
        data, body = await asyncio.to_thread(work)
    except NoPosts as exc:
        raise HTTPException(404, str(exc)) from None
    except RecapError as exc:
        raise invalid("query", "on", str(exc)) from None
    except FontsMissing as exc:
        raise HTTPException(503, str(exc)) from None
    name = recap_filename(data, format)
    # A day of the room's posts leaves the workspace: audited as ``hubbub
    # recap`` is (an anonymous reader of a public room as "anonymous visitor").
    detail: dict[str, DetailValue] = {"command": "recap", "format": format, "tag": room.tag}
    detail |= {"day": str(data["day"]), "posts": int(data["posts"])}
    await audit_export(
        request, current_user(request), tenant(request).name, target=name, detail=detail
    )
    return Response(
        body,
        media_type=MEDIA_TYPES[format],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # A downloaded HTML recap opened from this origin must not run anything.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        },
    )

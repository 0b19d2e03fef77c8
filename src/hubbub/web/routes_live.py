"""WebSocket ``/api/rooms/{tag}/live`` (and ``/w/{workspace}/api/rooms/{tag}/live``
for a workspace's public room): one JSON object per new post.

The handshake is refused with an HTTP answer, like the API's: 404 for a tag
that is no room (or a private room and no signed-in user), 503 with
``Retry-After`` when the limit on live rooms or readers is reached.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.responses import JSONResponse

from hubbub.store.scope import NoSuchWorkspace
from hubbub.tags import TagError, parse_tag
from hubbub.web.deps import connection_user, session_token
from hubbub.web.hub import FRAMES_EXTENSION, RETRY_AFTER, Client
from hubbub.web.rooms import RoomsFull
from hubbub.web.security import origin_allowed
from hubbub.web.workspaces import WorkspaceNotHere, tenant_for

router = APIRouter()


async def _refuse(websocket: WebSocket, status: int, detail: str) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        headers = {"Retry-After": str(RETRY_AFTER)} if status == 503 else None
        await websocket.send_denial_response(
            JSONResponse({"detail": detail}, status_code=status, headers=headers)
        )
    else:  # a server without the denial extension: a close before accept (403)
        await websocket.close(code=1013 if status == 503 else 1008)


@router.websocket("/api/rooms/{tag}/live")
async def live(websocket: WebSocket, tag: str) -> None:
    app = websocket.app
    if not origin_allowed(websocket, app.state.settings.allowed_origins):
        # Closing before accept makes the server answer the handshake with 403.
        await websocket.close(code=1008)
        return
    user = await asyncio.to_thread(connection_user, websocket)
    try:
        hubs = (await tenant_for(websocket, user)).hubs
    except (NoSuchWorkspace, WorkspaceNotHere):
        await _refuse(websocket, 404, "No such room.")
        return
    try:
        room = hubs.room(parse_tag(tag))
    except TagError:
        room = None
    if room is not None and not room.public and user is None:
        room = None
    if room is None:
        await _refuse(websocket, 404, "No such room.")
        return
    try:
        hubs.check_reader()
        hub = await hubs.get(room.tag)
    except RoomsFull as exc:
        await _refuse(websocket, 503, str(exc))
        return
    except KeyError:
        await _refuse(websocket, 404, "No such room.")
        return
    await websocket.accept()
    # Under ``hubbub serve`` posts are written to the socket by the hub
    # directly (see hub.py); the sender task then only closes the socket.
    frames = websocket.scope.get("extensions", {}).get(FRAMES_EXTENSION) or {}
    # The session is checked again while the socket is open (Hubs.check_readers):
    # a logout or a revoke ends its reading of a room that is not public.
    client = hub.join(frames.get("writer"), token=session_token(websocket))
    sender = asyncio.create_task(_send(websocket, client))
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
    except WebSocketDisconnect:
        pass
    finally:
        hub.leave(client)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _send(websocket: WebSocket, client: Client) -> None:
    while True:
        message = await client.queue.get()
        if message is None:
            # Overflowed or shutting down: 1013 "try again later" tells the page
            # to reload; 1008 when the reader may no longer read the room.
            with contextlib.suppress(Exception):
                await websocket.close(code=client.close_code)
            return
        await websocket.send_text(message)

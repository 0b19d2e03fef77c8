"""WebSocket ``/api/rooms/{tag}/live``: one JSON object per new post."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from hubbub.web.hub import FRAMES_EXTENSION, Client
from hubbub.web.rooms import RoomError, normalise_tag
from hubbub.web.security import origin_allowed

router = APIRouter()


@router.websocket("/api/rooms/{tag}/live")
async def live(websocket: WebSocket, tag: str) -> None:
    app = websocket.app
    if not origin_allowed(websocket, app.state.settings.allowed_origins):
        # Closing before accept makes the server answer the handshake with 403.
        await websocket.close(code=1008)
        return
    try:
        key = normalise_tag(tag)
    except RoomError:
        await websocket.close(code=1008)
        return
    hub = await app.state.hubs.get(key)
    await websocket.accept()
    # Under ``hubbub serve`` posts are written to the socket by the hub
    # directly (see hub.py); the sender task then only closes the socket.
    frames = websocket.scope.get("extensions", {}).get(FRAMES_EXTENSION) or {}
    client = hub.join(frames.get("writer"))
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
            # Overflowed or shutting down: 1013 "try again later" tells the page to reload.
            with contextlib.suppress(Exception):
                await websocket.close(code=1013)
            return
        await websocket.send_text(message)

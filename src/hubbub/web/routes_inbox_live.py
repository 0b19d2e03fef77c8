"""WebSocket ``/api/inbox/live``: a nudge to every open inbox page of a
workspace whenever something in that workspace's inbox changes.

A nudge carries the inbox's change stamp and nothing else; the page then
refetches the list and the open case through the JSON API with its own
session. So the socket never holds case text, and what a page may see is
decided in one place, the API.

Changes are found two ways: a route of this process that changed something
nudges at once (``nudge``); everything else (the pipeline making a case from
a new post, another web process, the command line, a claim running out) is
found by one poller per workspace with open pages, reading the service's
stamp every second. No pages open, no polling.

The session is checked again while the socket is open: a sign-out or a
revoke closes it (1008), as the rooms' sockets do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from starlette.responses import JSONResponse

from hubbub.inbox.model import Actor
from hubbub.inbox.service import Inbox
from hubbub.store.scope import NoSuchWorkspace, existing_scope
from hubbub.web.deps import connection_user, session_for_token, session_token
from hubbub.web.security import origin_allowed

log = logging.getLogger(__name__)
router = APIRouter()

POLL_SECONDS = 1.0
# Some changes move no stamp: a claim running out, a snooze's time coming
# (woken when the cases are next read). Pages are nudged this often anyway.
REFRESH_SECONDS = 30.0
SESSION_CHECK_SECONDS = 10.0
MAX_PAGES_PER_WORKSPACE = 500  # open inbox sockets; more are told to retry later
# The stamp is read as the operator: it is a version number, not data.
_WATCHER = Actor("hubbub")


class Watch:
    """The open inbox pages of one workspace and the poller that serves them."""

    def __init__(self, workspace: str, inbox: Inbox) -> None:
        self.workspace = workspace
        self.inbox = inbox
        self.pages: set[asyncio.Queue[str]] = set()
        self.stamp: str | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def join(self) -> asyncio.Queue[str]:
        # Two nudges waiting say no more than one: a full queue drops the next.
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=2)
        # Every page hears the current stamp first (a page that reconnects
        # refetches what it missed); a new poller's first read tells them all.
        if self.stamp is not None:
            queue.put_nowait(self._message(self.stamp))
        self.pages.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"hubbub-inbox-{self.workspace}")
        return queue

    def leave(self, queue: asyncio.Queue[str]) -> None:
        self.pages.discard(queue)
        if not self.pages:
            self._wake.set()  # the poller sees nobody left and ends

    def poke(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        while self.pages:
            try:
                stamp = await asyncio.to_thread(self.inbox.stamp, _WATCHER)
            except Exception as exc:  # noqa: BLE001 - a database hiccup: try again next tick
                log.warning("inbox stamp of %r failed: %s", self.workspace, type(exc).__name__)
            else:
                if stamp != self.stamp or loop.time() - sent_at >= REFRESH_SECONDS:
                    self.stamp = stamp
                    sent_at = loop.time()
                    self._send(self._message(stamp))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=POLL_SECONDS)

    @staticmethod
    def _message(stamp: str) -> str:
        return orjson.dumps({"type": "changed", "stamp": stamp}).decode()

    def _send(self, message: str) -> None:
        for queue in list(self.pages):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(message)


def _watches(app: FastAPI) -> dict[str, Watch]:
    found: dict[str, Watch] | None = getattr(app.state, "inbox_watches", None)
    if found is None:
        found = app.state.inbox_watches = {}
    return found


def nudge(app: FastAPI, workspace: str) -> None:
    """Something changed in ``workspace``'s inbox: its pages hear at once.
    Called on the event loop, by the API routes after a change."""
    watch = _watches(app).get(workspace)
    if watch is not None:
        watch.poke()


async def _refuse(websocket: WebSocket, status: int, detail: str) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(JSONResponse({"detail": detail}, status_code=status))
    else:  # a server without the denial extension: a close before accept (403)
        await websocket.close(code=1013 if status == 503 else 1008)


@router.websocket("/api/inbox/live")
async def live(websocket: WebSocket) -> None:
    app = websocket.app
    if not origin_allowed(websocket, app.state.settings.allowed_origins):
        await websocket.close(code=1008)  # before accept: the handshake answers 403
        return
    user = await asyncio.to_thread(connection_user, websocket)
    if user is None:
        await _refuse(websocket, 401, "Sign in first.")
        return
    workspace = user.workspace  # the socket hears its user's own workspace only
    watches = _watches(app)
    watch = watches.get(workspace)
    if watch is None:
        try:
            scope = await asyncio.to_thread(existing_scope, app.state.store, workspace)
        except NoSuchWorkspace:
            await _refuse(websocket, 404, "No such workspace.")
            return
        watch = watches.setdefault(workspace, Watch(workspace, Inbox(scope)))
    if len(watch.pages) >= MAX_PAGES_PER_WORKSPACE:
        await _refuse(websocket, 503, "Too many open inbox pages; try again later.")
        return
    await websocket.accept()
    queue = watch.join()
    token = session_token(websocket)
    receiver = asyncio.create_task(websocket.receive())
    loop = asyncio.get_running_loop()
    checked = loop.time()
    try:
        while True:
            getter = asyncio.create_task(queue.get())
            done, _pending = await asyncio.wait(
                {receiver, getter},
                timeout=SESSION_CHECK_SECONDS,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if getter in done:
                await websocket.send_text(getter.result())
            else:
                getter.cancel()
            if receiver in done:
                message = receiver.result()
                if message["type"] == "websocket.disconnect":
                    break
                receiver = asyncio.create_task(websocket.receive())  # pages send nothing
            if loop.time() - checked >= SESSION_CHECK_SECONDS:
                checked = loop.time()
                if not await _still_signed_in(websocket, token):
                    await websocket.close(code=1008)
                    break
    except (WebSocketDisconnect, RuntimeError):
        pass  # the page went away mid-send
    finally:
        watch.leave(queue)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


async def _still_signed_in(websocket: WebSocket, token: str | None) -> bool:
    if token is None:
        return False
    live = await asyncio.to_thread(session_for_token, websocket, token)
    return live is not None

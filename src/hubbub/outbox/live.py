"""The outbox sender as one of the runtime's live consumers: ``hubbub serve``
and ``hubbub worker`` send whatever is queued (by ``hubbub post --no-wait``,
later the compose box and the inbox).

Nothing is opened until an action is queued: a workspace with no accounts
needs no accounts key and makes no network client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hubbub.outbox.queue import Outbox, Status
from hubbub.store import Store

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0


class OutboxSender:
    def __init__(self, store: Store, workspace: str, db_url: str) -> None:
        self._outbox = Outbox(store, workspace)
        self._store = store
        self._workspace = workspace
        self._db_url = db_url
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hubbub-outbox")

    async def _idle_until_work(self) -> bool:
        while not self._stop.is_set():
            pending = await asyncio.to_thread(
                self._outbox.list, status=Status.QUEUED.value, limit=1
            )
            if pending:
                return True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=POLL_SECONDS)
        return False

    async def _run(self) -> None:
        from hubbub.networks.secrets import AccountsKeyError, load_box
        from hubbub.outbox.sender import Sender
        from hubbub.outbox.service import writer_factory
        from hubbub.outbox.writers.http import new_client

        if not await self._idle_until_work():
            return
        try:
            box = load_box(self._db_url)
        except AccountsKeyError as exc:
            log.warning("outbox not sent: %s", exc)
            return
        async with new_client() as client:
            sender = Sender(self._outbox, writer_factory(self._store, box, self._workspace, client))
            await sender.run_forever(self._stop, poll=POLL_SECONDS)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            # A send in flight finishes (its row is settled) or, if it takes
            # too long, is cancelled: its lease runs out and the next sender
            # looks upstream before sending again.
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
            except TimeoutError:
                self._task.cancel()
                await asyncio.gather(self._task, return_exceptions=True)

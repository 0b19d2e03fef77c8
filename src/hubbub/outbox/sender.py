"""The sender: claims one outbox row at a time and carries it out.

Order of writes for one try (why each comes where it does):

1. ``claim`` — the row is ours until the lease ends; ``attempts`` counts it.
2. If an earlier try may have reached the network (``maybe_sent``), ask the
   writer for that result first and adopt it: no second post.
3. ``mark_maybe_sent`` — committed *before* the request leaves, so a crash
   from here on makes the next sender look before it creates.
4. The request, with the row's idempotency key.
5. ``mark_sent`` with the network's id and URL.

A 5xx, a timeout or a lost connection is an unknown outcome: tried again
after ``retry_delays`` (2 s, 6 s, 18 s: four tries within about 30 s), then
``failed`` with the reason. A 429 waits out its reset without using a try.
An expired token is renewed once; a refusal is final at once.

A request that never left (the name did not resolve, the connection was
refused, the TLS handshake failed) is not an unknown outcome: the row's
``maybe_sent`` is cleared again (unless an earlier try may have landed) and
it fails ("not sent, safe to retry: <cause>") at once when a person is waiting
(``retry_not_sent=False``: ``hubbub post``, ``hubbub inbox reply``), or is
tried again on the same schedule by a worker, which nobody watches.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import Callable
from datetime import timedelta

from hubbub.outbox import budget
from hubbub.outbox.outcome import (
    AuthExpired,
    NotReady,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    Refused,
    SendError,
)
from hubbub.outbox.queue import Action, Outbox
from hubbub.outbox.writers.base import Writer

log = logging.getLogger(__name__)

RETRY_DELAYS = (2.0, 6.0, 18.0)
LEASE_SECONDS = 60.0
THREAD_WAIT = 1.0

WriterFor = Callable[[str, str], Writer]  # (account, network) -> writer


class Sender:
    def __init__(
        self,
        outbox: Outbox,
        writer_for: WriterFor,
        *,
        owner: str | None = None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        lease_seconds: float = LEASE_SECONDS,
        retry_not_sent: bool = True,
    ) -> None:
        self.outbox = outbox
        self.writer_for = writer_for
        self.owner = owner or f"{os.getpid()}-{secrets.token_hex(4)}"
        self.retry_delays = retry_delays
        self.lease_seconds = lease_seconds
        self.retry_not_sent = retry_not_sent
        self._refreshed: set[int] = set()
        self._pending_refresh: set[tuple[str, str]] = set()

    async def send_one(self, batch: str | None = None) -> Action | None:
        """Claim and carry out one due action; None when nothing is due."""
        action = self.outbox.claim(self.owner, lease_seconds=self.lease_seconds, batch=batch)
        if action is None:
            return None
        try:
            await self._carry_out(action)
        except SendError as exc:
            self._settle(action, exc)
        except Exception as exc:  # noqa: BLE001 - a bug in one writer must not stop the others
            log.exception("outbox action %s: unexpected error", action.id)
            self.outbox.mark_failed(action.id, self.owner, f"internal error: {type(exc).__name__}")
        return self.outbox.get(action.id)

    async def _carry_out(self, action: Action) -> None:
        now = self.outbox.now()
        window = budget.BUDGETS[action.network].window
        wait = budget.wait_until(
            action.network,
            action.kind,
            self.outbox.sent_since(action.account, now - window),
            now,
        )
        if wait is not None:
            self.outbox.retry_later(
                action.id, self.owner, wait, "waiting for the account's budget", count_try=False
            )
            return
        parent: Action | None = None
        if action.payload.get("thread"):
            found = self.outbox.thread_parent(action)
            if found is False:
                raise NotReady("waiting for the thread's earlier post")
            parent = found if isinstance(found, Action) else None
        writer = self.writer_for(action.account, action.network)
        if action.maybe_sent:
            landed = await writer.find_existing(action)
            if landed is not None:
                self.outbox.mark_sent(action.id, self.owner, landed.remote_id, landed.url)
                return
        if not self.outbox.mark_maybe_sent(action.id, self.owner):
            return  # the lease was lost (we were too slow): someone else owns it now
        result = await writer.send(action, parent)
        self.outbox.mark_sent(action.id, self.owner, result.remote_id, result.url)

    def _settle(self, action: Action, exc: SendError) -> None:
        now = self.outbox.now()
        if isinstance(exc, RateLimited):
            at = now + timedelta(seconds=max(1.0, exc.reset_in))
            self.outbox.retry_later(
                action.id, self.owner, at, f"rate limited: {exc.reason}", count_try=False
            )
        elif isinstance(exc, NotReady):
            at = now + timedelta(seconds=THREAD_WAIT)
            self.outbox.retry_later(action.id, self.owner, at, exc.reason, count_try=False)
        elif isinstance(exc, AuthExpired):
            if action.id not in self._refreshed:
                self._refreshed.add(action.id)
                self._refresh_then_retry(action, exc)
            else:
                self.outbox.mark_failed(
                    action.id,
                    self.owner,
                    f"token expired or revoked ({exc.reason}): add the account again",
                )
        elif isinstance(exc, NotSent):
            if not action.maybe_sent:
                # This try sent nothing and no earlier one may have: the next
                # try creates without looking upstream first.
                self.outbox.mark_not_sent(action.id, self.owner)
            tries = action.attempts
            if self.retry_not_sent and tries <= len(self.retry_delays):
                at = now + timedelta(seconds=self.retry_delays[tries - 1])
                self.outbox.retry_later(action.id, self.owner, at, f"not sent: {exc.reason}")
            elif action.maybe_sent:
                # This try sent nothing, but an earlier one may have landed: not
                # "safe to retry" (a retry looks upstream first all the same).
                self.outbox.mark_failed(
                    action.id,
                    self.owner,
                    f"outcome unknown after {tries} tries: an earlier try may have "
                    f"been posted; the last one sent nothing ({exc.reason})",
                )
            else:
                self.outbox.mark_failed(
                    action.id, self.owner, f"not sent, safe to retry: {exc.reason}"
                )
        elif isinstance(exc, OutcomeUnknown):
            tries = action.attempts
            if tries <= len(self.retry_delays):
                at = now + timedelta(seconds=self.retry_delays[tries - 1])
                self.outbox.retry_later(action.id, self.owner, at, f"outcome unknown: {exc.reason}")
            else:
                self.outbox.mark_failed(
                    action.id, self.owner, f"outcome unknown after {tries} tries: {exc.reason}"
                )
        elif isinstance(exc, Refused):
            self.outbox.mark_failed(action.id, self.owner, exc.reason)
        else:
            self.outbox.mark_failed(action.id, self.owner, exc.reason)

    def _refresh_then_retry(self, action: Action, exc: AuthExpired) -> None:
        # Renewal happens on the next try, inside the event loop; mark the row
        # due now without using a try so the refresh gets its one chance.
        self._pending_refresh.add((action.account, action.network))
        self.outbox.retry_later(
            action.id,
            self.owner,
            self.outbox.now(),
            f"renewing session: {exc.reason}",
            count_try=False,
        )

    async def _renew_pending(self) -> None:
        while self._pending_refresh:
            account, network = self._pending_refresh.pop()
            try:
                await self.writer_for(account, network).refresh()
            except SendError as exc:
                log.warning("renewing %s session failed: %s", network, exc.reason)

    async def run_batch(self, batch: str, *, poll: float = 0.2, deadline: float = 120.0) -> None:
        """Send every action of ``batch`` until each is sent, failed or cancelled
        (or ``deadline`` seconds pass: the rest stays queued for a worker)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while loop.time() < end:
            await self._renew_pending()
            done = await self.send_one(batch=batch)
            if done is not None:
                continue
            pending = [
                a for a in self.outbox.list(batch=batch) if a.status in ("queued", "sending")
            ]
            if not pending:
                return
            await asyncio.sleep(poll)

    async def run_forever(self, stop: asyncio.Event, *, poll: float = 1.0) -> None:
        """The worker's loop: send whatever is due until ``stop`` is set."""
        while not stop.is_set():
            await self._renew_pending()
            done = await self.send_one()
            if done is None:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=poll)
                except TimeoutError:
                    pass

"""The shape every network writer has."""

from __future__ import annotations

from typing import Protocol

from hubbub.outbox.outcome import Sent
from hubbub.outbox.queue import Action


class Writer(Protocol):
    network: str

    async def send(self, action: Action, parent: Action | None) -> Sent:
        """Carry out ``action`` (``parent``: the thread post it follows, if any).
        Must be safe to call again for the same action: the same idempotency
        key must never make a second upstream object."""
        ...

    async def find_existing(self, action: Action) -> Sent | None:
        """After a try whose outcome is unknown: the upstream result of
        ``action`` if the network has it (None: it has not, send again)."""
        ...

    async def refresh(self) -> bool:
        """Renew an expired session or token; False when it cannot be renewed."""
        ...


def target_url(action: Action) -> str | None:
    value = action.payload.get("target")
    return value if isinstance(value, str) and value else None

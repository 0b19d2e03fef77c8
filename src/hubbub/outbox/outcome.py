"""What a network said about one try of an action, as the sender needs it.

A writer returns ``Sent`` or raises one of these; the sender decides what
happens to the row. The messages never carry a secret (writers build them
from status codes and the network's error names, not from request headers).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sent:
    remote_id: str
    url: str | None


class SendError(Exception):
    """Base of every outcome other than success."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutcomeUnknown(SendError):
    """A 5xx, a timeout or a lost connection after the request left: the
    network may or may not have acted. Retry with the same idempotency."""


class NotSent(SendError):
    """The request never left: the name did not resolve, the connection was
    refused, the TLS handshake failed, or no connection came in time. The
    network cannot have acted, so trying again is safe (no lookup first)."""


class RateLimited(SendError):
    """429: wait ``reset_in`` seconds (from the network's reset header)."""

    def __init__(self, reason: str, reset_in: float) -> None:
        super().__init__(reason)
        self.reset_in = reset_in


class Refused(SendError):
    """The network answered and said no (a 4xx other than 401/429): final."""


class AuthExpired(SendError):
    """401: the token or session expired or was revoked."""


class NotReady(SendError):
    """The action waits on another (a thread's earlier post): try again soon."""

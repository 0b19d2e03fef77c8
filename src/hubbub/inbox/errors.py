"""What the inbox refuses, as exception types the CLI and the page map to
their answers (usage error / 400, 404, 403, 409)."""

from __future__ import annotations


class InboxError(ValueError):
    """A request that cannot be done as asked (bad status, unknown user,
    text too long…); the message says why, in words for a person."""


class CaseNotFound(LookupError):
    """No such case in this workspace (another workspace's case too: 404, never 403)."""


class NotAllowed(PermissionError):
    """The actor's role may not do this (viewers read; owners manage settings)."""


class Claimed(InboxError):
    """Another agent is answering this case right now (``user`` until ``until``)."""

    def __init__(self, user: str, until: str) -> None:
        super().__init__(f"{user} is answering this case (until {until})")
        self.user = user
        self.until = until


class TemplateError(InboxError):
    """A saved reply's text uses something the template engine refuses
    (attributes, indexes, format specs, unknown or unbalanced fields)."""

"""One outbox row's state in words a person acts on: whether a reply or post
went out, and if not, why and whether trying again is safe.

The row's ``status`` alone hides what matters most: a ``failed`` row whose
request may have reached the network (``maybe_sent``) is not the same as one
that never left, since retrying the first may post twice. The error text was
redacted and cleaned when stored; callers still clean it for their medium.
"""

from __future__ import annotations

from hubbub.i18n import _
from hubbub.store.outbox_repo import Action, Status


def status_text(action: Action | None) -> str:
    """``sent URL``, ``queued``, ``failed: reason``, ``outcome unknown: reason``…"""
    if action is None:
        return _("no outbox record")
    return describe(action.status, action.error, action.maybe_sent, action.remote_url)


def describe(
    status: Status | str, error: str | None, maybe_sent: bool, remote_url: str | None
) -> str:
    """``status_text`` of a row's columns, for readers that have them without
    an ``Action`` (the inbox's case timeline reads them in its own query)."""
    error = error or ""
    if status == Status.SENT:
        return f"{_('sent')} {remote_url}" if remote_url else _("sent")
    if status == Status.FAILED:
        if maybe_sent:
            # An earlier try may have landed: say so before the reason, so
            # nobody retries it blindly. The reason may already open with it.
            if error.startswith("outcome unknown"):
                return error
            return _("outcome unknown: {reason}").format(reason=error or "-")
        return _("failed: {reason}").format(reason=error or "-")
    if status == Status.QUEUED and error:
        return _("queued, will try again (last try: {reason})").format(reason=error)
    if status == Status.QUEUED:
        return _("queued")
    if status == Status.SENDING:
        return _("sending")
    return _("cancelled")

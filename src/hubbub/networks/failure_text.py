"""How a failure without an HTTP answer reads for people.

Network clients used to put such failures in the shape of an HTTP error
("HTTP 0: ConnectError: …", "0 ConnectError …"), or name only the error's
type ("rules: ConnectError"). No status was received, so none is shown:
``connection failed: <what the library or the OS said>``, or ``connection
lost: …`` for a connection that worked and then broke. The text is the
caller's to redact (with its own secrets known) before it is shown.
"""

from __future__ import annotations

CONNECTION_FAILED = "connection failed"
CONNECTION_LOST = "connection lost"
_CAUSE_CHARS = 200


def cause(exc: BaseException) -> str:
    """What ``exc`` says, on one line and short; its type's name when it
    says nothing (httpx's timeouts often carry no message)."""
    text = " ".join(str(exc).split())[:_CAUSE_CHARS]
    return text or type(exc).__name__


def connection_failed(exc: BaseException, *, lost: bool = False) -> str:
    """``connection failed: <cause>`` (``connection lost: …`` when ``lost``)."""
    return f"{CONNECTION_LOST if lost else CONNECTION_FAILED}: {cause(exc)}"

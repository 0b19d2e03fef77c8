"""Tables of inbox: The team inbox: cases, their timeline, rules, saved replies, business hours.

Registered on the shared ``metadata``; migration 0010 creates them.
"""

from __future__ import annotations

from hubbub.store.schema import metadata  # noqa: F401 - tables register on it

INBOX_TABLES: tuple[str, ...] = ()

"""Tables of audience: Audience audit: followers fetched per connected account, and their engagement.

Registered on the shared ``metadata``; migration 0011 creates them.
"""

from __future__ import annotations

from hubbub.store.schema import metadata  # noqa: F401 - tables register on it

AUDIENCE_TABLES: tuple[str, ...] = ()

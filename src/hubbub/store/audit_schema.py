"""Tables of audit: The audit log: who did what (sign-ins, role changes, account connections, exports, deletions).

Registered on the shared ``metadata``; migration 0009 creates them.
"""

from __future__ import annotations

from hubbub.store.schema import metadata  # noqa: F401 - tables register on it

AUDIT_TABLES: tuple[str, ...] = ()

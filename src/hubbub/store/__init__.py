"""The store: one interface over SQLite (default) and PostgreSQL.

Every row belongs to a workspace; every method takes the workspace name and
scopes its queries here, in one place.

    store = open_store("./hubbub.db")          # or sqlite:///…, postgresql://…
    counts = store.ingest([Ingest(item, raw)], workspace="default", cursor=("sim:x", "42"))
    posts = store.search("#chat -is:repost", workspace="default", limit=50)
    store.close()
"""

from __future__ import annotations

from hubbub.store.api import (
    Ingest,
    IngestCounts,
    IngestResult,
    RawPayload,
    Store,
    open_store,
    resolve_db_url,
)

__all__ = [
    "Ingest",
    "IngestCounts",
    "IngestResult",
    "RawPayload",
    "Store",
    "open_store",
    "resolve_db_url",
]

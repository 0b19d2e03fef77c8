"""A chat's stored data, as the chat feature names it.

The SQL lives in ``hubbub.store.chat_repo`` (the store is the one door to
every workspace's rows); this module only binds it to a workspace by name,
the way the recap and the chat routes ask for it.
"""

from __future__ import annotations

from hubbub.store import Store
from hubbub.store.chat_repo import MAX_PAGE, ChatData, Page
from hubbub.store.scope import scope


class ChatRepo(ChatData):
    """The chats of ``workspace``, created on first use as the CLI does (code
    holding a ``Scope`` from ``existing_scope`` builds ``ChatData`` itself)."""

    def __init__(self, store: Store, workspace: str) -> None:
        super().__init__(scope(store, workspace))
        self.store = store
        self.workspace = workspace


__all__ = ["MAX_PAGE", "ChatRepo", "Page"]

"""A workspace, taken once: what every repository in ``store/`` is built on.

Isolation between workspaces is a property of this layer, not of features:
a repository is constructed with a ``Scope`` and adds ``scope.owns(table)``
to every statement it writes, so a feature cannot forget a condition it never
writes. ``tests/store/test_one_door.py`` checks that no code outside
``hubbub/store/`` names the workspace column at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from hubbub.store.api import Store


class NoSuchWorkspace(LookupError):
    """A workspace name that names no workspace (the web answers 404)."""


@dataclass(frozen=True)
class Scope:
    """One workspace of one store: its name and id."""

    store: Store
    name: str
    id: int

    @property
    def engine(self) -> sa.Engine:
        return self.store.engine

    def owns(self, table: sa.Table | sa.sql.Alias) -> sa.ColumnElement[bool]:
        """The condition that a row of ``table`` belongs to this workspace."""
        return table.c.workspace_id == self.id

    def values(self) -> dict[str, int]:
        """The column values a new row of this workspace carries."""
        return {"workspace_id": self.id}


def scope(store: Store, workspace: str) -> Scope:
    """The scope of ``workspace``, creating the workspace on first use (the
    command line and the runtime name workspaces into being)."""
    return Scope(store, workspace, store.workspace_id(workspace))


def existing_scope(store: Store, workspace: str) -> Scope:
    """The scope of an existing workspace; ``NoSuchWorkspace`` otherwise (a
    name in a URL or a sign-in form must not create one)."""
    found = store.find_workspace(workspace)
    if found is None:
        raise NoSuchWorkspace(workspace)
    return Scope(store, workspace, found)

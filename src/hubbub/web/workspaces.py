"""Every workspace on one server: which one a request acts in, and each
workspace's rooms, live hubs and pipeline.

A request's workspace is, in this order: the one its URL names
(``/w/{workspace}/...``, for public pages and their API), else the
signed-in user's, else the server's default (``serve --workspace``). A
signed-in user acts only in their own workspace: a URL naming another one
answers 404, as does a workspace that does not exist (and nothing is
created for it).

Each workspace gets its own ``Tenant``, made on first use: its rooms, its
``Hubs`` (the registry is thereby keyed by workspace and tag) and the
pipeline its web posts go through. The default workspace uses the
runtime's pipeline, fed by the configured sources; another workspace gets
a pipeline of its own without sources, so a post stored in one workspace
is only ever published to that workspace's rooms.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from starlette.requests import HTTPConnection

from hubbub.store import Store
from hubbub.store.scope import NoSuchWorkspace, Scope
from hubbub.web.accounts import User, existing_workspace
from hubbub.web.hub import Hubs
from hubbub.web.rooms import RoomRepo

if TYPE_CHECKING:
    from hubbub.chat.repo import ChatRepo
    from hubbub.settings import Settings

log = logging.getLogger(__name__)
PREFIX = "/w/"
# A bound on the live workspaces one server keeps (each has hubs and a
# pipeline task); far above what one agency runs.
MAX_TENANTS = 500


class WorkspaceNotHere(LookupError):
    """The request names a workspace it may not act in (the web answers 404)."""


@dataclass(eq=False)
class Tenant:
    """One workspace of this server: its scope, rooms, hubs and pipeline."""

    scope: Scope
    rooms: RoomRepo
    hubs: Hubs
    pipeline: Any  # hubbub.pipeline.Pipeline, or a test's stand-in
    own_pipeline: bool
    chat: ChatRepo | None = None
    chat_qa: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.scope.name


HubsFactory = Callable[[Any, RoomRepo], Hubs]


class Tenants:
    """The workspaces this server has served so far, made on first use."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        make_hubs: HubsFactory,
        runtime_pipeline: Callable[[str], Any] | None = None,
    ) -> None:
        self.store = store
        # The runtime's pipeline of a workspace it follows on the networks
        # (None: it follows none there); rooms subscribe to it so network
        # posts arrive live, not only after a reload.
        self.runtime_pipeline = runtime_pipeline
        self.settings = settings
        self.make_hubs = make_hubs
        self.default_name = settings.workspace
        self._by_name: dict[str, Tenant] = {}
        self._lock = asyncio.Lock()

    async def add_default(self, pipeline: Any, fed: tuple[list[str], list[str]]) -> Tenant:
        """The default workspace, on the runtime's pipeline (created if new:
        the operator named it)."""
        from hubbub.store.scope import scope

        sc = await asyncio.to_thread(scope, self.store, self.default_name)
        tenant = await self._build(sc, pipeline, own=False, fed=fed)
        self._by_name[sc.name] = tenant
        return tenant

    @property
    def default(self) -> Tenant:
        return self._by_name[self.default_name]

    async def get(self, name: str) -> Tenant:
        """The tenant of an existing workspace; ``NoSuchWorkspace`` otherwise."""
        found = self._by_name.get(name)
        if found is not None:
            return found
        sc = await asyncio.to_thread(existing_workspace, self.store, name)
        if sc is None:
            raise NoSuchWorkspace(name)
        async with self._lock:
            found = self._by_name.get(name)
            if found is not None:
                return found
            if len(self._by_name) >= MAX_TENANTS:
                raise NoSuchWorkspace(name)
            followed = self.runtime_pipeline(sc.name) if self.runtime_pipeline else None
            if followed is not None:
                tenant = await self._build(sc, followed, own=False, fed=([], []))
            else:
                from hubbub.pipeline import Pipeline

                pipeline = Pipeline(self.store, sc.name)
                await pipeline.start()
                tenant = await self._build(sc, pipeline, own=True, fed=([], []))
            self._by_name[name] = tenant
            return tenant

    async def _build(
        self, sc: Scope, pipeline: Any, *, own: bool, fed: tuple[list[str], list[str]]
    ) -> Tenant:
        repo = RoomRepo(self.store, sc)
        hubs = self.make_hubs(pipeline, repo)
        await hubs.load(*fed)
        return Tenant(sc, repo, hubs, pipeline, own)

    def all(self) -> list[Tenant]:
        return list(self._by_name.values())

    def sessions_changed(self) -> None:
        """A session ended: every workspace's open sockets are checked now."""
        for tenant in self._by_name.values():
            tenant.hubs.sessions_changed()

    async def stop(self) -> None:
        for tenant in list(self._by_name.values()):
            await tenant.hubs.stop()
            if tenant.own_pipeline:
                await tenant.pipeline.stop()
        self._by_name.clear()


def url_workspace(path: str) -> str | None:
    """The workspace a path names (``/w/{workspace}/...``), or None."""
    if not path.startswith(PREFIX):
        return None
    name = path[len(PREFIX) :].partition("/")[0]
    return unquote(name) if name else None


def base_path(workspace: str | None) -> str:
    """The prefix of a workspace's public URLs ('' for none named)."""
    return "" if workspace is None else PREFIX + quote(workspace, safe="")


async def tenant_for(conn: HTTPConnection, user: User | None) -> Tenant:
    """The workspace ``conn`` acts in (see module doc). ``WorkspaceNotHere``
    for another workspace than a signed-in user's; ``NoSuchWorkspace`` for
    one that does not exist."""
    tenants: Tenants = conn.app.state.tenants
    named = conn.path_params.get("workspace") if conn.path_params else None
    if not isinstance(named, str):
        named = url_workspace(conn.url.path)
    if named is not None:
        if user is not None and user.workspace != named:
            raise WorkspaceNotHere(named)
        return await tenants.get(named)
    if user is not None:
        return await tenants.get(user.workspace)
    return tenants.default

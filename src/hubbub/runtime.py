"""The runtime: store + pipeline + sources + live consumers, assembled from
settings and run together.

``hubbub serve`` hands a Runtime to the web app (``create_app(settings,
runtime=...)``), which starts it in its lifespan; ``hubbub worker`` runs one
with no web server until SIGINT/SIGTERM. Either way the same pieces run:

- the **store** (opened here unless handed one);
- the **pipeline** (normalise → store → publish; unless handed one);
- the **sources**: the specs in settings or on the command line
  (``sim:``, ``replay:``, ``x:``, ``bluesky:``, ``mastodon:``), plus, for each
  network where the workspace has an account and no source was named, the
  source that follows its saved queries and rooms there
  (``follow_accounts``). Without an account nothing dials out;
- the **listener** (``hubbub.listen.live``): matching, classifying, alerts;
- **every other workspace** that has a network account: its implied
  sources on a pipeline of its own, so its posts are stored into it and
  reach only its consumers, with its own listener (no alert webhook: that
  one is the operator's), inbox watcher, outbox sender and health rows
  (``WorkspaceShare``; ``pipeline_for``). Sources named in settings or on
  the command line belong to the runtime's own workspace;
- the **accounts watcher**: every ``accounts_check_seconds`` (2 s) it reads
  every workspace's account stamps (``hubbub account add/remove`` run in
  other processes) and brings each workspace whose accounts changed in step
  (``hubbub.sources.followed``): a removed account's sources are stopped and
  their connections closed, an added one's started, a workspace that
  connected its first account gets its share; every
  ``follows_check_seconds`` (30 s) it also works out each workspace's implied
  sources again, so a Mastodon hashtag a room or saved query gained is
  followed (and one lost is dropped) without an account changing;
- the **health writer**: network sources' health, to the store once a second,
  so ``hubbub sources status`` in another process can read it; it also
  touches the rows of every running source each time (a heartbeat), so a
  runtime killed without a word shows as stale instead of "connected".
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hubbub.networks.clock import Clock, SystemClock
from hubbub.networks.env import Credentials, Follows, SourceEnv
from hubbub.networks.health import HealthBoard, State
from hubbub.networks.secrets import SecretBox
from hubbub.pipeline import Pipeline
from hubbub.settings import Settings
from hubbub.sources.base import Source, describe_error
from hubbub.sources.followed import Followed, Stamps, close_unstarted
from hubbub.store import Store, open_store
from hubbub.store.leases import try_lease
from hubbub.store.network_accounts import account_stamps

log = logging.getLogger(__name__)

HEALTH_WRITE_SECONDS = 1.0
STOP_SECONDS = 12.0  # worker promises a clean stop within 15 s

# Per network, ``module:function(store, workspace, accounts) -> [spec, …]``:
# the sources that follow a workspace's saved queries and rooms there when
# it has an account and no source was named. Imported only when needed.
AUTO_SPECS: dict[str, str] = {
    "x": "hubbub.sources.x_specs:auto_specs",
    "bluesky": "hubbub.sources.bluesky:auto_specs",
    "mastodon": "hubbub.sources.mastodon:auto_specs",
}


# How often the runtime reads the stored accounts of every workspace, so an
# account removed in another process stops being followed (its connection
# closed) within a few seconds, and an added one starts without a restart.
# One small query a round.
ACCOUNTS_CHECK_SECONDS = 2.0
# How often the hashtags each workspace asks for are read again (Mastodon's
# implied sources are one per hashtag; X's rules and Bluesky's filter are
# re-read as often by the sources themselves).
FOLLOWS_CHECK_SECONDS = 30.0


class LiveConsumer(Protocol):
    async def stop(self) -> None: ...


@dataclass(eq=False)
class WorkspaceShare:
    """Another workspace's share of the runtime: its network sources on a
    pipeline of its own (so its posts are stored into it, and only its
    listeners and rooms see them), its listener, inbox, outbox and health."""

    name: str
    health: HealthBoard
    env: SourceEnv
    followed: Followed
    pipeline: Pipeline
    consumers: list[LiveConsumer] = field(default_factory=list)

    @property
    def sources(self) -> list[Source]:
        return self.followed.sources


def workspace_follows(store: Store, workspace: str) -> Follows:
    """Active saved queries and the hashtags of the workspace's public rooms."""
    from hubbub.listen.saved import list_queries
    from hubbub.store.rooms_repo import RoomRows
    from hubbub.store.scope import scope

    queries = tuple(
        (q.name, q.query) for q in list_queries(store, workspace=workspace, active_only=True)
    )
    return Follows(queries=queries, hashtags=RoomRows(scope(store, workspace)).public_tags())


LIMIT_PREFIX = "HUBBUB_LIMIT_"


def limits_from_env(environ: dict[str, str] | None = None) -> dict[str, float]:
    """Network limits from ``HUBBUB_LIMIT_<NAME>=<number>`` variables, e.g.
    ``HUBBUB_LIMIT_X_SEARCH_PER_WINDOW=300`` (a user token's recent-search
    budget). Names are the fields of each network's limits (``XLimits``…),
    prefixed by the network. Networks change their numbers; these let an
    operator follow without a new release."""
    import math
    import os

    env = os.environ if environ is None else environ
    out: dict[str, float] = {}
    for key, raw in env.items():
        if not key.startswith(LIMIT_PREFIX):
            continue
        try:
            value = float(raw)
        except ValueError:
            log.warning("%s=%r ignored: not a number", key, raw)
            continue
        if math.isfinite(value) and value > 0:
            out[key[len(LIMIT_PREFIX) :].lower()] = value
    return out


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        store: Store | None = None,
        pipeline: Pipeline | None = None,
        sources: Sequence[str] | None = None,
        follow_accounts: bool = True,
        listen: bool = True,
        send_outbox: bool = True,
        clock: Clock | None = None,
        accounts_check_seconds: float = ACCOUNTS_CHECK_SECONDS,
        follows_check_seconds: float = FOLLOWS_CHECK_SECONDS,
    ) -> None:
        self.settings = settings
        self.workspace = settings.workspace
        self._given_store = store
        self._given_pipeline = pipeline
        self.specs: tuple[str, ...] = tuple(settings.sources if sources is None else sources)
        self.follow_accounts = follow_accounts
        self.listen = listen
        self.send_outbox = send_outbox  # queued outbox actions are sent by this runtime
        self.clock: Clock = clock or SystemClock()
        self.health = HealthBoard(self.clock)
        self.store: Store | None = store
        self.pipeline: Pipeline | None = pipeline
        self.listener: LiveConsumer | None = None
        self.inbox: LiveConsumer | None = None  # hubbub.inbox.live: posts become cases
        self.outbox_sender: LiveConsumer | None = None
        self.env: SourceEnv | None = None
        self.started = False
        self.accounts_check_seconds = accounts_check_seconds
        self.account_checks = 0  # rounds of the accounts watcher done (tests wait on it)
        self.follows_check_seconds = follows_check_seconds
        self._follows_checked: float | None = None  # clock.monotonic() of the last refresh
        self._own: Followed | None = None
        self._health_task: asyncio.Task[None] | None = None
        self._accounts_task: asyncio.Task[None] | None = None
        self._box: SecretBox | None = None
        # Other workspaces with a network account, by name (see WorkspaceShare).
        self.others: dict[str, WorkspaceShare] = {}
        # Workspaces whose share could not start, with the accounts it was
        # tried with: tried again when those change, not every round.
        self._refused: dict[str, Stamps] = {}
        # One round at a time (the watcher's, or one asked for by a caller).
        self._accounts_lock = asyncio.Lock()

    @property
    def sources(self) -> list[Source]:
        """The runtime's own workspace's running sources (named and implied)."""
        return self._own.sources if self._own is not None else []

    def pipeline_for(self, workspace: str) -> Pipeline | None:
        """The pipeline that stores and publishes ``workspace``'s network posts
        (the web's rooms of that workspace subscribe to it), if this runtime runs one."""
        if workspace == self.workspace:
            return self.pipeline
        share = self.others.get(workspace)
        return share.pipeline if share is not None else None

    # -- assembling ----------------------------------------------------------

    def _secrets(self) -> SecretBox:
        from hubbub.networks.secrets import load_box

        if self._box is None:
            self._box = load_box(self.settings.db_url)
        return self._box

    def _account(
        self, network: str, name: str | None, workspace: str | None = None
    ) -> Credentials | None:
        from hubbub.store.network_accounts import AccountError, get_credentials, has_account

        assert self.store is not None
        ws = workspace or self.workspace
        if name is None and not has_account(self.store, ws, network):
            return None
        try:
            return get_credentials(self.store, self._secrets(), ws, network=network, name=name)
        except AccountError:
            if name is None:
                raise  # several accounts and none named: say so
            return None

    def build_env(
        self, store: Store, workspace: str | None = None, health: HealthBoard | None = None
    ) -> SourceEnv:
        """What ``workspace``'s network sources get (default: the runtime's own)."""
        ws = workspace or self.workspace
        return SourceEnv(
            workspace=ws,
            clock=self.clock,
            health=health or self.health,
            account=lambda network, name: self._account(network, name, ws),
            follows=lambda: workspace_follows(store, ws),
            stored_cursor=lambda name: store.get_cursor(name, ws),
            limits=limits_from_env(),
            lease=lambda name: try_lease(store, name),
            load_session=lambda name: self._load_session(name, ws),
            save_session=lambda name, data: self._save_session(name, data, ws),
        )

    def _load_session(self, name: str, workspace: str | None = None) -> bytes | None:
        from hubbub.store.network_accounts import load_session

        assert self.store is not None
        return load_session(self.store, self._secrets(), workspace or self.workspace, name)

    def _save_session(self, name: str, data: bytes, workspace: str | None = None) -> None:
        from hubbub.store.network_accounts import save_session

        assert self.store is not None
        save_session(self.store, self._secrets(), workspace or self.workspace, name, data)

    def build_source(self, spec: str, env: SourceEnv | None = None) -> Source:
        """The source a spec names (ValueError says what is wrong)."""
        from hubbub.sources.network_specs import is_network_spec, network_source_from_spec
        from hubbub.sources.spec import source_from_spec

        if is_network_spec(spec):
            env = env or self.env
            assert env is not None
            return network_source_from_spec(spec, env)
        return source_from_spec(spec)

    def auto_specs(self, named: Sequence[str], workspace: str | None = None) -> list[str]:
        """Specs of the networks that have an account and no named source."""
        from hubbub.store.network_accounts import list_accounts

        assert self.store is not None
        ws = workspace or self.workspace
        accounts = list_accounts(self.store, ws)
        named_networks = {spec.partition(":")[0] for spec in named}
        out: list[str] = []
        for network, target in AUTO_SPECS.items():
            mine = [a for a in accounts if a.network == network]
            if not mine or network in named_networks:
                continue
            module_name, _, function = target.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                log.warning(
                    "%s accounts are configured but %s sources are not available", network, network
                )
                continue
            make: Callable[[Store, str, list[object]], list[str]] = getattr(module, function)
            out.extend(make(self.store, ws, mine))  # type: ignore[arg-type]
        return out

    async def check(self) -> None:
        """Build every source (named and implied) without starting any, so a
        bad spec or a missing account is a clear error before a server
        starts (ValueError, AccountError, AccountsKeyError)."""
        own = self.store is None
        store = (
            self.store
            if self.store is not None
            else await asyncio.to_thread(open_store, self.settings.db)
        )
        try:
            self.store, self.env = store, self.build_env(store)
            specs = list(self.specs)
            if self.follow_accounts:
                specs += await asyncio.to_thread(self.auto_specs, specs)
            for spec in specs:
                await close_unstarted(self.build_source(spec))
        finally:
            if own:
                store.close()
                self.store = None
            self.env = None
            self.health = HealthBoard(self.clock)

    # -- running -------------------------------------------------------------

    async def start(self) -> None:
        if self.started:
            raise RuntimeError("runtime already started")
        self.started = True
        if self.store is None:
            self.store = await asyncio.to_thread(open_store, self.settings.db)
        store = self.store
        self.env = self.build_env(store)
        stamps = await asyncio.to_thread(account_stamps, store)
        fresh = self.pipeline is None
        if self.pipeline is None:
            self.pipeline = Pipeline(store, self.workspace)
        self._own = Followed(
            self.workspace,
            self.pipeline,
            self.env,
            named=self.specs,
            implied=self.auto_specs if self.follow_accounts else None,
            build=self.build_source,
        )
        # Strict: a bad spec or an unreadable account stops the start with
        # a clear error, before anything dials out.
        await self._own.sync(stamps.get(self.workspace, frozenset()), strict=True)
        if fresh:
            await self.pipeline.start()
        if self.listen:
            from hubbub.listen.live import start_listening

            # Its own bus consumer, not a pipeline stage: off the rooms' latency path.
            self.listener = await start_listening(store, self.settings, self.pipeline)
            from hubbub.inbox.live import InboxWatcher

            self.inbox = watcher = InboxWatcher(store, self.workspace, self.pipeline)
            watcher.start()
        if self.send_outbox:
            from hubbub.outbox.live import OutboxSender

            sender = OutboxSender(store, self.workspace, self.settings.db_url)
            sender.start()
            self.outbox_sender = sender
        if self.follow_accounts:
            await self._follow_others(stamps)
        # Also without follow_accounts: a named source's account may be removed.
        self._accounts_task = asyncio.create_task(self._watch_accounts(), name="hubbub-accounts")
        self._health_task = asyncio.create_task(self._write_health(), name="hubbub-health")

    # -- every workspace -------------------------------------------------------

    async def sync_accounts(self) -> None:
        """One round of the accounts watcher: bring every workspace whose
        stored accounts changed since the last round in step with them."""
        assert self.store is not None and self._own is not None
        async with self._accounts_lock:
            stamps = await asyncio.to_thread(account_stamps, self.store)
            own = stamps.get(self.workspace, frozenset())
            if own != self._own.synced:
                await self._own.sync(own)
            if self.follow_accounts:
                await self._follow_others(stamps)
                await self._refresh_follows()
            self.account_checks += 1

    async def _refresh_follows(self) -> None:
        """Every ``follows_check_seconds``: each workspace's implied sources
        worked out again, for the hashtags its rooms and saved queries gained
        or lost (``Followed.refresh``)."""
        assert self._own is not None
        now = self.clock.monotonic()
        if (
            self._follows_checked is not None
            and now - self._follows_checked < self.follows_check_seconds
        ):
            return
        self._follows_checked = now
        followed = [self._own] + [share.followed for share in self.others.values()]
        for one in followed:
            try:
                await one.refresh()
            except Exception as exc:  # noqa: BLE001 - the other workspaces go on; retried next time
                log.warning(
                    "workspace %r: follows not refreshed: %s", one.workspace, describe_error(exc)
                )

    async def _follow_others(self, stamps: dict[str, Stamps]) -> None:
        """Start the share of every other workspace that has a network account
        and none yet, and sync those running whose accounts changed (one with
        no account left keeps its pipeline, which the web's rooms of that
        workspace may use, with no network source). One workspace's broken
        account (a key that cannot decrypt it, two accounts and none named)
        is logged and skips that workspace only."""
        for name, mine in stamps.items():
            if name == self.workspace or name in self.others or not self.started:
                continue
            if self._refused.get(name) == mine:
                continue
            try:
                await self._start_share(name, mine)
                self._refused.pop(name, None)
            except Exception as exc:  # noqa: BLE001 - the other workspaces go on
                self._refused[name] = mine
                log.error("workspace %r not followed: %s", name, describe_error(exc))
        for name, share in list(self.others.items()):
            mine = stamps.get(name, frozenset())
            if mine == share.followed.synced:
                continue
            try:
                await share.followed.sync(mine)
            except Exception as exc:  # noqa: BLE001 - the other workspaces go on; retried next round
                log.warning("workspace %r: accounts not followed: %s", name, describe_error(exc))

    async def _watch_accounts(self) -> None:
        while True:
            await asyncio.sleep(self.accounts_check_seconds)
            try:
                await self.sync_accounts()
            except Exception as exc:  # noqa: BLE001 - try again next round
                log.warning("accounts not checked: %s", describe_error(exc))

    async def _start_share(self, name: str, stamps: Stamps) -> WorkspaceShare:
        assert self.store is not None
        store = self.store
        health = HealthBoard(self.clock)
        env = self.build_env(store, name, health)
        pipeline = Pipeline(store, name)
        followed = Followed(
            name,
            pipeline,
            env,
            named=(),
            implied=lambda named: self.auto_specs(named, name),
            build=self.build_source,
        )
        await followed.sync(stamps, strict=True)
        await pipeline.start()
        share = WorkspaceShare(name, health, env, followed, pipeline)
        # Known before its consumers start, so a stop meanwhile stops it too.
        self.others[name] = share
        if self.listen:
            from hubbub.inbox.live import InboxWatcher
            from hubbub.listen.live import Listener

            # No alert webhook: the one configured is the operator's, for the
            # default workspace; another workspace's spikes must not reach it.
            listener = Listener(store, name, pipeline)
            await listener.start()
            watcher = InboxWatcher(store, name, pipeline)
            watcher.start()
            share.consumers += [listener, watcher]
        if self.send_outbox:
            from hubbub.outbox.live import OutboxSender

            sender = OutboxSender(store, name, self.settings.db_url)
            sender.start()
            share.consumers.append(sender)
        log.info("workspace %r: following %d network sources", name, len(share.sources))
        return share

    async def _stop_shares(self) -> None:
        for share in list(self.others.values()):
            # Consumers first (newest first: the outbox before the listener), then
            # the pipeline, which flushes what its sources had received.
            for consumer in reversed(share.consumers):
                await consumer.stop()
            await share.pipeline.stop()

    async def stop(self) -> None:
        """Stop sources, flush what was received, stop consumers, close what we opened."""
        if not self.started:
            return
        self.started = False
        if self._accounts_task is not None:
            # Before the pipelines stop: a round half done must not add sources to them.
            self._accounts_task.cancel()
            await asyncio.gather(self._accounts_task, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_SECONDS):
                await self._stop_shares()
                if self.outbox_sender is not None:
                    await self.outbox_sender.stop()
                if self.inbox is not None:
                    await self.inbox.stop()
                if self.listener is not None:
                    await self.listener.stop()
                if self._given_pipeline is None and self.pipeline is not None:
                    await self.pipeline.stop()
        if self._health_task is not None:
            self._health_task.cancel()
            await asyncio.gather(self._health_task, return_exceptions=True)
        for _name, board in self._boards():
            for tracker in board.trackers():
                if tracker.snapshot.state is not State.STOPPED:
                    tracker.stopped("the runtime running it stopped")
        await self._flush_health()
        if self._given_store is None and self.store is not None:
            self.store.close()

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _boards(self) -> list[tuple[str, HealthBoard]]:
        """(workspace, its health board): the runtime's own, then the others'."""
        return [(self.workspace, self.health)] + [
            (share.name, share.health) for share in self.others.values()
        ]

    async def _flush_health(self) -> None:
        from hubbub.store.source_health import write_health

        if self.store is None:
            return
        for workspace, board in self._boards():
            snapshots = board.take_dirty()
            if not snapshots:
                continue
            try:
                await asyncio.to_thread(write_health, self.store, workspace, snapshots)
            except Exception as exc:  # noqa: BLE001 - health must never stop ingest
                log.warning("source health not written: %s", describe_error(exc))

    async def _beat(self) -> None:
        """Mark the rows of this runtime's live sources fresh (see source_health)."""
        from hubbub.store.source_health import touch_health

        if self.store is None:
            return
        for workspace, board in self._boards():
            live = [t.source for t in board.trackers() if t.snapshot.state is not State.STOPPED]
            if not live:
                continue
            try:
                await asyncio.to_thread(
                    touch_health, self.store, workspace, live, self.clock.time()
                )
            except Exception as exc:  # noqa: BLE001 - health must never stop ingest
                log.warning("source health heartbeat not written: %s", describe_error(exc))

    async def _write_health(self) -> None:
        while True:
            await asyncio.sleep(HEALTH_WRITE_SECONDS)
            await self._flush_health()
            await self._beat()


async def run_until_signalled(runtime: Runtime, ready: Callable[[], None] | None = None) -> None:
    """Start ``runtime``, run until SIGINT or SIGTERM, then stop it cleanly
    (within ``STOP_SECONDS``: sources stop, what was received is stored)."""
    import signal

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
        if ready is not None:
            ready()
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await runtime.stop()

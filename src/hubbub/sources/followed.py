"""The sources one workspace runs, kept in step with its network accounts
while the runtime runs.

Accounts are added and removed from other processes (``hubbub account add``
and ``remove`` write the database; the server runs elsewhere), so the runtime
reads every workspace's account stamps every couple of seconds
(``account_stamps``: one small query, no secrets) and hands each workspace
whose stamps changed to ``Followed.sync``. The database is polled rather than
listened to because it is the one channel every deployment shares: the
embedded default has no Redis, and SQLite has no LISTEN/NOTIFY.

``sync`` works out the specs the workspace should run now (those named in the
settings or on the command line, plus those its accounts imply) and compares
them with what runs:

- a source no longer wanted, or built with an account that has since been
  removed or replaced (a new token under the same name), is stopped: its pump
  is cancelled and its connections are closed before ``sync`` returns, so its
  credentials are not used again; its health says why;
- a wanted spec that does not run is built and started.

What a workspace asks for also changes without its accounts: Mastodon runs
one implied source per hashtag of its rooms and saved queries. ``refresh``
(every ``follows_check_seconds``, 30 s, like X's rules and Bluesky's
filter) works the specs out again and syncs when they differ.

Which accounts a source was built with is recorded while it is built (the
network factories ask ``SourceEnv.account`` then, and only then), so this
needs no knowledge of each network's specs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hubbub.networks.env import Credentials, SourceEnv
from hubbub.sources.base import Source, describe_error
from hubbub.store.network_accounts import AccountStamp

log = logging.getLogger(__name__)

# What a source's build asked ``SourceEnv.account`` for: (network, account
# name), the name None for "the workspace's only account there".
AccountKey = tuple[str, str | None]
Stamps = frozenset[AccountStamp]

# Reasons only: the health line puts "stopped: " before them.
REMOVED = "its account was removed from the workspace"
# Another account under the name, or one where there was none: the source is
# built again with what is stored now (its health moves on when it connects).
CHANGED = "the account it uses changed"
# No account implies it any more, or (Mastodon) no room or saved query asks
# for its hashtag any more.
UNWANTED = "the workspace no longer asks for it"


class SourceRunner(Protocol):
    """What ``Followed`` needs of a pipeline."""

    def add_source(self, source: Source) -> None: ...

    async def remove_source(self, name: str) -> bool: ...


def accounts_for(stamps: Stamps, key: AccountKey) -> tuple[AccountStamp, ...]:
    """The account rows a lookup of ``key`` reads, as the runtime resolves it:
    the one with that name, or (no name) every account of the network (the
    lookup needs exactly one; a second one makes it an error, a change too)."""
    network, name = key
    if name is not None:
        chosen = [s for s in stamps if s.name == name]
    else:
        chosen = [s for s in stamps if s.network == network]
    return tuple(sorted(chosen, key=lambda s: s.id))


async def close_unstarted(source: Source) -> None:
    """Close the clients of a source that was built but never read (reading
    it closes them at its end)."""
    clients = [getattr(source, "client", None), *getattr(source, "clients", ())]
    closers = [getattr(c, "aclose", None) for c in clients if c is not None]
    if not any(closers):
        closers = [getattr(source, "aclose", None)]
    for close in closers:
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


@dataclass(slots=True)
class _Running:
    source: Source
    # Per lookup made while it was built, the account rows it found then.
    used: dict[AccountKey, tuple[AccountStamp, ...]]


class Followed:
    """One workspace's sources on one pipeline (see the module doc).

    ``named``: specs run whatever the accounts (settings, ``--source``);
    ``implied``: the specs the workspace's accounts imply given the named ones
    (blocking: it reads the store), or None when accounts are not followed;
    ``build``: a spec and an env → the source (ValueError and the accounts
    errors say what is wrong)."""

    def __init__(
        self,
        workspace: str,
        pipeline: SourceRunner,
        env: SourceEnv,
        *,
        named: Sequence[str],
        implied: Callable[[Sequence[str]], list[str]] | None,
        build: Callable[[str, SourceEnv], Source],
    ) -> None:
        self.workspace = workspace
        self.pipeline = pipeline
        self.env = env
        self.named = tuple(named)
        self.implied = implied
        self.build = build
        self.synced: Stamps | None = None  # the account stamps of the last sync
        self.wanted: tuple[str, ...] = ()  # the specs the last sync ran
        self._running: dict[str, _Running] = {}  # by spec

    @property
    def sources(self) -> list[Source]:
        return [run.source for run in self._running.values()]

    async def sync(self, stamps: Stamps, *, strict: bool = False) -> None:
        """Stop what the accounts no longer allow, start what they now imply.

        ``strict`` (at start): a source that cannot be built raises, and
        nothing is started. Otherwise it is logged and skipped until the
        accounts change again (so a broken account is not retried, and logged,
        every few seconds), and the other sources go on."""
        await self._sync(stamps, await self._wanted(), strict=strict)

    async def refresh(self) -> None:
        """Sync again if what the workspace asks for changed with the same
        accounts: Mastodon's implied specs are one per hashtag of its rooms
        and saved queries, which change without an account changing. Nothing
        is built when the specs are those of the last sync (so a source that
        could not be built is not retried, and logged, each time)."""
        if self.synced is None or self.implied is None:
            return
        specs = await self._wanted()
        if tuple(specs) != self.wanted:
            await self._sync(self.synced, specs, strict=False)

    async def _wanted(self) -> list[str]:
        specs = list(dict.fromkeys(self.named))
        if self.implied is not None:
            implied = await asyncio.to_thread(self.implied, self.named)
            specs += [spec for spec in implied if spec not in specs]
        return specs

    async def _sync(self, stamps: Stamps, specs: list[str], *, strict: bool) -> None:
        stale = {
            spec: reason
            for spec, run in self._running.items()
            if (reason := self._stale(spec, run, specs, stamps)) is not None
        }
        built: list[tuple[str, Source, set[AccountKey]]] = []
        try:
            for spec in specs:
                if spec in self._running and spec not in stale:
                    continue
                try:
                    source, asked = self._build(spec)
                except Exception as exc:
                    if strict:
                        raise
                    log.warning(
                        "workspace %r: source %s not started: %s",
                        self.workspace,
                        spec,
                        describe_error(exc),
                    )
                    continue
                built.append((spec, source, asked))
            # Before the new ones start: a replaced stream lets go of its
            # connection (and X's one-per-app lease) first.
            for spec, reason in stale.items():
                run = self._running.pop(spec)
                await self.pipeline.remove_source(run.source.name)
                self._mark_stopped(run.source.name, reason)
                log.info("workspace %r: source %s stopped: %s", self.workspace, spec, reason)
        except BaseException:
            for _spec, source, _asked in built:
                await close_unstarted(source)
            raise
        for spec, source, asked in built:
            try:
                self.pipeline.add_source(source)
            except ValueError as exc:  # two specs that name one source
                await close_unstarted(source)
                if strict:
                    raise
                log.warning("workspace %r: source %s not started: %s", self.workspace, spec, exc)
                continue
            # A source started afresh under a name that stopped before (its
            # account removed, then added back; or replaced) shares that
            # name's tracker: it starts clean rather than showing the old
            # source's reason as its last error. After add_source, which
            # refuses a name already running (whose tracker this is).
            self._mark_starting(source.name)
            self._running[spec] = _Running(source, {k: accounts_for(stamps, k) for k in asked})
            if not strict:
                log.info("workspace %r: source %s started", self.workspace, spec)
        self.synced = stamps
        self.wanted = tuple(specs)

    def _stale(self, spec: str, run: _Running, specs: list[str], stamps: Stamps) -> str | None:
        now = {key: accounts_for(stamps, key) for key in run.used}
        if any(found and not now[key] for key, found in run.used.items()):
            return REMOVED
        if now != run.used:
            return CHANGED
        return None if spec in specs else UNWANTED

    def _build(self, spec: str) -> tuple[Source, set[AccountKey]]:
        asked: set[AccountKey] = set()
        lookup = self.env.account

        def account(network: str, name: str | None) -> Credentials | None:
            asked.add((network, name))
            return lookup(network, name)

        return self.build(spec, dataclasses.replace(self.env, account=account)), asked

    def _mark_stopped(self, name: str, reason: str) -> None:
        for tracker in self.env.health.trackers():
            if tracker.source == name:
                tracker.stopped(reason)

    def _mark_starting(self, name: str) -> None:
        for tracker in self.env.health.trackers():
            if tracker.source == name:
                tracker.starting()

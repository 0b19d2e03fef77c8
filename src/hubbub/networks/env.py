"""What the runtime hands a network source: ``SourceEnv``.

A network source needs a clock, its health tracker, the workspace's
credentials for the network, and what the workspace follows (saved queries,
public rooms' hashtags). The runtime builds one ``SourceEnv`` per workspace
(``hubbub.runtime``); tests build their own with a ``FakeClock`` and
in-memory callables. Nothing here opens a database: the callables do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hubbub.networks.clock import Clock, SystemClock
from hubbub.networks.health import HealthBoard


@dataclass(frozen=True, slots=True)
class Credentials:
    """One network account's secret, decrypted, in memory only."""

    name: str
    network: str  # x | bluesky | mastodon
    secret: str = field(repr=False)  # X token; Bluesky "handle\napp password"; Mastodon token
    server: str | None = None  # Mastodon base URL (Bluesky: PDS, optional)

    def secret_values(self) -> tuple[str, ...]:
        """The parts of the secret an error text must never show, for
        ``hubbub.sources.base.redact(known=...)``: the token, or Bluesky's app
        password (its first line, the handle, names the account and may show)."""
        lines = [line.strip() for line in self.secret.splitlines() if line.strip()]
        if self.network == "bluesky" and len(lines) == 2:
            return (lines[1],)
        return tuple(lines)


@dataclass(frozen=True, slots=True)
class Follows:
    """What a workspace follows on the networks: active saved queries
    (name, query text in the Hubbub search language) and the hashtags of its
    public rooms (folded, no '#')."""

    queries: tuple[tuple[str, str], ...] = ()
    hashtags: tuple[str, ...] = ()


# (network, account name or None) → the account's credentials, or None when
# the workspace has none (None name: the workspace's only account there).
AccountLookup = Callable[[str, str | None], Credentials | None]
# Called with (account name, session bytes) to keep a refreshed session
# (Bluesky) encrypted in the store.
SessionSaver = Callable[[str, bytes], None]
# (account name) → the session kept for it, or None. Blocking.
SessionLoader = Callable[[str], bytes | None]
FollowsReader = Callable[[], Follows]


class Lease(Protocol):
    def release(self) -> None: ...


class _Granted:
    def release(self) -> None:
        pass


def _always(_name: str) -> Lease | None:
    return _Granted()


def _no_account(network: str, name: str | None) -> Credentials | None:
    return None


def _no_follows() -> Follows:
    return Follows()


@dataclass(slots=True)
class SourceEnv:
    workspace: str = "default"
    clock: Clock = field(default_factory=SystemClock)
    health: HealthBoard = field(default_factory=HealthBoard)
    account: AccountLookup = _no_account
    follows: FollowsReader = _no_follows  # blocking (reads the store): call via to_thread
    # Cursor lookup for sources that keep more than one position (X: per rule).
    # Blocking as well; (source name) → the stored cursor or None.
    stored_cursor: Callable[[str], str | None] = lambda _name: None
    # Limits from configuration (hubbub.settings): name → number, per network.
    limits: dict[str, float] = field(default_factory=dict)
    # Bluesky sessions kept (encrypted) with their account, so a restarted
    # source refreshes instead of spending a scarce createSession.
    load_session: SessionLoader = lambda _name: None
    save_session: SessionSaver = lambda _name, _data: None
    # (name) → a lease no other process holds, or None (blocking). X's stream
    # takes one per token: one connection per app, whatever runs it.
    lease: Callable[[str], Lease | None] = _always

    def limit(self, name: str, default: float) -> float:
        return float(self.limits.get(name, default))

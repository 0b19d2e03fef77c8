"""Queueing what a person asks for (``hubbub post``, later the compose box),
and building the writers a sender needs from the workspace's accounts.

Everything that would make a network refuse the text is checked here, before
a row exists: each network's own count (``hubbub.counting``) against its
limit, the accounts to use, and which network a reply target belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from hubbub.counting import count_text
from hubbub.counting.bluesky import MAX_BYTES as BLUESKY_MAX_BYTES
from hubbub.networks.secrets import AccountsKeyError, SecretBox
from hubbub.outbox import public_post_text
from hubbub.outbox.outcome import Refused
from hubbub.outbox.queue import Action, Outbox, OutboxError, new_batch_id
from hubbub.outbox.writers.base import Writer
from hubbub.outbox.writers.bluesky import BlueskyWriter
from hubbub.outbox.writers.mastodon import MastodonWriter
from hubbub.outbox.writers.x import XWriter
from hubbub.store import Store
from hubbub.store.network_accounts import (
    AccountError,
    get_credentials,
    list_accounts,
    load_session,
    save_session,
)


@dataclass(frozen=True, slots=True)
class Queued:
    batch: str
    actions: tuple[Action, ...]


def network_of_url(url: str) -> str:
    """Which network a post URL belongs to."""
    if url.startswith("at://"):
        return "bluesky"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboxError(f"not a post URL: {url!r}")
    host = parts.hostname.lower().removeprefix("www.").removeprefix("mobile.")
    if host in ("x.com", "twitter.com"):
        return "x"
    if host == "bsky.app":
        return "bluesky"
    return "mastodon"


def choose_accounts(
    store: Store, workspace: str, networks: Sequence[str] | None, account: str | None
) -> list[tuple[str, str]]:
    """(account name, network) pairs to act with; errors name the choices.

    ``account`` names accounts, comma-separated, at most one per network. Alone
    it picks those accounts' networks; with ``networks`` it picks the account
    for its network, and the other networks still use their only account."""
    accounts = list_accounts(store, workspace)
    named: dict[str, str] = {}  # network -> the account named for it
    for name in (n.strip() for n in (account or "").split(",") if n.strip()):
        match = [a for a in accounts if a.name == name]
        if not match:
            names = ", ".join(a.name for a in accounts) or "none"
            raise OutboxError(f"no account named {name!r} (accounts: {names})")
        network = match[0].network
        if networks and network not in networks:
            raise OutboxError(f"account {name!r} is on {network}, not {', '.join(networks)}")
        if network in named:
            raise OutboxError(
                f"one account per network: {named[network]}, {name} are both {network}"
            )
        named[network] = name
    if networks:
        wanted = list(networks)
    else:
        wanted = list(named) if named else sorted({a.network for a in accounts})
    if not wanted:
        raise OutboxError("no network accounts yet: add one with `hubbub account add`")
    chosen: list[tuple[str, str]] = []
    for network in wanted:
        if network in named:
            chosen.append((named[network], network))
            continue
        there = [a.name for a in accounts if a.network == network]
        if not there:
            raise OutboxError(
                f"no {network} account in this workspace (hubbub account add {network})"
            )
        if len(there) > 1:
            raise OutboxError(
                f"several {network} accounts ({', '.join(sorted(there))}): choose one with --account"
            )
        chosen.append((there[0], network))
    return chosen


def too_long(text: str, networks: Sequence[str]) -> list[tuple[str, str]]:
    """(network, reason) for each network that would refuse ``text``."""
    problems: list[tuple[str, str]] = []
    for network, counted in count_text(text, tuple(networks)).items():
        if not counted.ok:
            if not text.strip():
                reason = "the text is empty"
            elif counted.length > counted.limit:
                reason = f"too long: {counted.length} of {counted.limit}"
            elif network == "bluesky" and len(text.encode()) > BLUESKY_MAX_BYTES:
                # Under 300 graphemes but over the record's 3,000 bytes (long emoji sequences).
                reason = f"too long: {len(text.encode())} of {BLUESKY_MAX_BYTES} bytes"
            else:
                reason = "the text holds characters the network refuses"
            problems.append((network, reason))
    return problems


def queue_post(
    outbox: Outbox,
    text: str,
    *,
    networks: Sequence[str] | None = None,
    account: str | None = None,
    reply_to: str | None = None,
    thread: bool = False,
) -> Queued:
    """One row per network, in one batch; nothing is queued if any is refused."""
    text = public_post_text.clean(text)  # measured as it will go out (enqueue cleans too)
    if reply_to is not None:
        target_network = network_of_url(reply_to)
        if networks and any(n != target_network for n in networks):
            raise OutboxError(
                f"a reply goes to the network of the post it answers ({target_network})"
            )
        networks = [target_network]
    try:
        pairs = choose_accounts(outbox.store, outbox.workspace, networks, account)
    except AccountError as exc:
        raise OutboxError(str(exc)) from None
    problems = too_long(text, [network for _, network in pairs])
    if problems:
        raise OutboxError("; ".join(f"{network}: {reason}" for network, reason in problems))
    batch = new_batch_id()
    actions = []
    for name, network in pairs:
        payload: dict[str, object] = {"text": text}
        if reply_to is not None:
            payload["target"] = reply_to
        if thread:
            payload["thread"] = True
        kind = "reply" if reply_to is not None else "post"
        actions.append(
            outbox.enqueue(batch=batch, account=name, network=network, kind=kind, payload=payload)
        )
    return Queued(batch, tuple(actions))


def writer_factory(
    store: Store, box: SecretBox, workspace: str, client: httpx.AsyncClient
) -> Callable[[str, str], Writer]:
    """Writers built from the workspace's accounts, one per account, reused."""
    cache: dict[str, Writer] = {}

    def writer_for(account: str, network: str) -> Writer:
        if account in cache:
            return cache[account]
        try:
            creds = get_credentials(store, box, workspace, network=network, name=account)
        except (AccountError, AccountsKeyError) as exc:
            raise Refused(str(exc)) from None
        writer: Writer
        if network == "x":
            writer = XWriter(creds, client)
        elif network == "bluesky":
            writer = BlueskyWriter(
                creds,
                client,
                load_session=lambda: load_session(store, box, workspace, account),
                save_session=lambda data: save_session(store, box, workspace, account, data),
            )
        else:
            writer = MastodonWriter(creds, client)
        cache[account] = writer
        return writer

    return writer_for

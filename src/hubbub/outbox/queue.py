"""The outbox of one workspace: what may be queued, and the states a row goes through.

Every state change is one short transaction, written *before* the network
is asked anything, so a crash at any point leaves a row that tells the next
sender what may have happened:

- ``queued``: nothing of this try has left.
- ``sending`` with ``maybe_sent`` false: claimed; the request has not left.
- ``sending`` with ``maybe_sent`` true: the request may have reached the
  network. Whoever picks the row up next (after the lease ran out) must look
  for the result upstream before creating anything (``Writer.find_existing``).
- ``sent`` / ``failed`` / ``cancelled``: final until a person retries.

Claiming is a compare-and-set on the row (``UPDATE … WHERE status and lease
still as read``), which both SQLite and PostgreSQL make atomic, so two
senders in two processes never own one row. The rows are read and written by
``hubbub.store.outbox_repo`` (the store is the one door to a workspace's data).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from hubbub.outbox import public_post_text
from hubbub.store import Store
from hubbub.store.outbox_repo import FINAL, Action, OutboxActions, Status
from hubbub.store.scope import scope

KINDS = ("post", "reply", "quote", "repost", "like", "unrepost", "unlike")
NETWORKS = ("x", "bluesky", "mastodon")
MAX_TEXT = 100_000  # characters; far above any network's limit, a guard at the edge


def new_batch_id() -> str:
    return secrets.token_hex(8)


def new_idempotency_key() -> str:
    # 13 base32 characters: also a valid Bluesky record key (TID alphabet and
    # length), so the same key names the record on every try.
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    first = "234567abcdefghij"  # a TID's first character keeps the top bit clear
    return secrets.choice(first) + "".join(secrets.choice(alphabet) for _ in range(12))


class OutboxError(ValueError):
    """A request the outbox refuses (unknown network or kind, text too long…)."""


class Outbox(OutboxActions):
    """One workspace's outbox: checks what is queued, then stores it."""

    def __init__(self, store: Store, workspace: str = "default") -> None:
        super().__init__(scope(store, workspace))
        self.store = store
        self.workspace = workspace

    def enqueue(
        self,
        *,
        batch: str,
        account: str,
        network: str,
        kind: str,
        payload: Mapping[str, object],
    ) -> Action:
        if network not in NETWORKS:
            raise OutboxError(f"unknown network {network!r}")
        if kind not in KINDS:
            raise OutboxError(f"unknown action {kind!r}")
        text = payload.get("text")
        if isinstance(text, str):
            # Every public post passes here, so this is where its text loses
            # terminal escapes, other controls and bidi overrides. Removed, not
            # refused: rows are also queued where nobody reads an error (a chat's
            # scheduled posts, a saved reply filled from a customer's profile),
            # and what is removed carries no word of the text, only hides or
            # reorders it. The caller sees the cleaned text in the row.
            cleaned = public_post_text.clean(text)
            if cleaned != text:
                payload = {**payload, "text": cleaned}
            if len(cleaned) > MAX_TEXT:
                raise OutboxError(f"text longer than {MAX_TEXT} characters")
        return self.add(
            batch=batch,
            account=account,
            network=network,
            kind=kind,
            payload=payload,
            idempotency_key=new_idempotency_key(),
        )


__all__ = [
    "FINAL",
    "KINDS",
    "MAX_TEXT",
    "NETWORKS",
    "Action",
    "Outbox",
    "OutboxError",
    "Status",
    "new_batch_id",
    "new_idempotency_key",
]

"""A reply from a case: checked, recorded in the timeline, queued once in
the outbox, threaded under the customer's latest post.

Exactly once, in three steps that each survive a crash:

1. the timeline line is written with the reply's key (unique per
   workspace): the same key again finds it instead of a second line;
2. the outbox row is queued in a batch named after the key, unless that
   batch exists already (a crash between 1 and 3 leaves the batch);
3. the timeline line is pointed at the outbox row.

The outbox then sends it exactly once (its own idempotency key per row), and
only when it records the reply ``sent`` is the case answered (first
response, status pending): see ``hubbub.store.inbox_repo_reply``.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from hubbub.inbox.errors import InboxError
from hubbub.inbox.model import Actor, CaseEvent
from hubbub.outbox import public_post_text
from hubbub.outbox.queue import Outbox, OutboxError
from hubbub.outbox.service import choose_accounts, too_long
from hubbub.store.inbox_repo_reply import BATCH_PREFIX, ReplyRepo, ReplyTarget
from hubbub.store.network_accounts import AccountError

MAX_REPLY = 5_000
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,32}$")


def new_key() -> str:
    return secrets.token_hex(12)


def batch_of(key: str) -> str:
    return (BATCH_PREFIX + key)[:32]


def pick_account(repo: ReplyRepo, target: ReplyTarget, account: str | None) -> str:
    """The account a reply goes out from: the one named, else the case's,
    else the workspace's only account on that network."""
    name = account or target.account
    try:
        pairs = choose_accounts(repo.scope.store, repo.scope.name, [target.network], name)
    except (OutboxError, AccountError) as exc:
        raise InboxError(str(exc)) from None
    return pairs[0][0]


def send_reply(
    repo: ReplyRepo,
    actor: Actor,
    case_id: int,
    text: str,
    *,
    key: str | None,
    account: str | None,
    at: datetime,
) -> CaseEvent:
    if key is None:
        key = new_key()
    elif not _KEY.match(key):
        raise InboxError("a reply key is 8 to 32 letters, digits, '-' or '_'")
    reserved = repo.reply_by_key(key)
    if reserved is None:
        # Cleaned as the outbox will clean it, so the timeline shows what went out.
        text = public_post_text.clean(text).strip()
        if not text:
            raise InboxError("a reply needs some text")
        if len(text) > MAX_REPLY:
            raise InboxError(f"a reply has at most {MAX_REPLY} characters")
        target = repo.reply_target(case_id, actor.name, at)  # CaseNotFound, Claimed
        problems = too_long(text, [target.network])
        if problems:
            raise InboxError("; ".join(f"{network}: {reason}" for network, reason in problems))
        name = pick_account(repo, target, account)
        reserved = repo.reserve_reply(case_id, key, text, actor.name, at, target, name)
    if reserved.case_id != case_id:
        raise InboxError("that reply key belongs to another case")
    if reserved.outbox_id is None:
        outbox = Outbox(repo.scope.store, repo.scope.name)
        batch = batch_of(key)
        existing = outbox.list(batch=batch, limit=1)
        if existing:
            action = existing[0]
        else:
            try:
                action = outbox.enqueue(
                    batch=batch,
                    account=reserved.account,
                    network=reserved.network,
                    kind="reply",
                    payload={"text": reserved.text, "target": reserved.target},
                )
            except OutboxError as exc:
                raise InboxError(str(exc)) from None
        repo.attach_reply(reserved, action.id, actor.name, at)
    return repo.reply_event(reserved.event_id)

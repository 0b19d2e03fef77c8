"""Shared helpers of the inbox tests: a store with connected accounts whose
handles are known, and posts as the networks' parsers would give them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubbub.inbox.model import Actor
from hubbub.inbox.replies import batch_of
from hubbub.networks.secrets import SecretBox
from hubbub.outbox.queue import Outbox
from hubbub.post import Author, Post
from hubbub.store import Ingest, Store
from hubbub.store.inbox_repo_reply import ReplyRepo, Reserved
from hubbub.store.network_accounts import add_account, record_check
from hubbub.store.scope import Scope
from hubbub.store.users_repo import UserRepo

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OPERATOR = Actor("cli:test")


def connect(store: Store, box: SecretBox, workspace: str = "default") -> None:
    """A Mastodon and an X account whose `account check` said who they are."""
    add_account(store, box, workspace, "mastodon", "masto", "token", server="http://127.0.0.1:9")
    record_check(store, workspace, "masto", "ok: @acme@social.example")
    add_account(store, box, workspace, "x", "xacct", "token", server="http://127.0.0.1:9")
    record_check(store, workspace, "xacct", "ok: @acme")


def post(
    network: str,
    post_id: str,
    author: str,
    text: str,
    *,
    minutes: float = 0,
    reply_to: str | None = None,
    conversation_id: str | None = None,
    mentions: tuple[str, ...] = (),
) -> Post:
    return Post(
        network=network,
        id=post_id,
        author=Author(network, f"id-{author}", author, display_name=author.title()),
        text=text,
        created_at=T0 + timedelta(minutes=minutes),
        url=f"https://social.example/@{author}/{post_id.rsplit('/', 1)[-1]}"
        if network == "mastodon"
        else None,
        langs=("en",),
        reply_to=reply_to,
        conversation_id=conversation_id,
        mentions=mentions,
    )


def ingest(store: Store, *posts: Post, workspace: str = "default") -> None:
    store.ingest([Ingest(p) for p in posts], workspace)


def add_user(scope: Scope, name: str, role: str) -> None:
    UserRepo(scope).add(name, "not-a-real-hash", role)


def reply_sent_at(repo: ReplyRepo, reserved: Reserved, key: str, at: datetime) -> int:
    """Queue a reserved reply in the outbox as ``send_reply`` does, point the
    reply at it, and have a sender record it sent at ``at`` (the moment the
    case counts as answered). The outbox row's id."""
    outbox = Outbox(repo.scope.store, repo.scope.name)
    outbox.now = lambda: at  # type: ignore[method-assign]  # the sender's clock
    action = outbox.enqueue(
        batch=batch_of(key),
        account=reserved.account,
        network=reserved.network,
        kind="reply",
        payload={"text": reserved.text, "target": reserved.target},
    )
    repo.attach_reply(reserved, action.id, "sender", at)
    claimed = outbox.claim("test-sender", batch=batch_of(key))
    assert claimed is not None and claimed.id == action.id
    assert outbox.mark_sent(action.id, "test-sender", f"remote-{action.id}", None)
    return action.id

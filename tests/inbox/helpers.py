"""Shared helpers of the inbox tests: a store with connected accounts whose
handles are known, and posts as the networks' parsers would give them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubbub.inbox.model import Actor
from hubbub.networks.secrets import SecretBox
from hubbub.post import Author, Post
from hubbub.store import Ingest, Store
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

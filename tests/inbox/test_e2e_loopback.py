"""The inbox end to end through the real runtime, on SQLite and PostgreSQL.

A loopback X server streams posts to the runtime (``x:stream`` with the
rules Hubbub asks for); a loopback X write server takes replies. The brand
account "acme" writes; a second account reads the stream. Checked: a
mention becomes a case, a listening match becomes a case by its rule, a
reply goes out once (same key twice: one tweet), threaded under the
customer's post, and the case shows it sent; the customer's answer to our
reply joins the case; resolving and a new post reopen it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hubbub.inbox.model import Actor
from hubbub.inbox.service import Inbox
from hubbub.listen import add_query
from hubbub.networks.secrets import load_box, new_key_text
from hubbub.runtime import Runtime
from hubbub.settings import Settings
from hubbub.store import open_store
from hubbub.store.network_accounts import add_account, record_check
from hubbub.store.scope import scope
from tests.inbox.helpers import add_user
from tests.loopback.write_servers import Running, XState, x_app
from tests.loopback.x_server import XServer, call_in_loop, serve_in_thread, snowflake

TAG = "acmehelp"
ANN = Actor("ann", "agent")


def _publish(server: XServer, tweet: dict[str, Any], user: dict[str, Any]) -> None:
    """A tweet appears on X: stored on the loopback server, pushed to the stream."""
    server.posts[tweet["id"]] = tweet
    server.users[user["id"]] = user
    server.published.append(tweet["id"])
    for queue in server._listeners:  # noqa: SLF001 - the loopback's own push queue
        queue.put_nowait(tweet["id"])


def _tweet(
    n: int,
    text: str,
    user: dict[str, Any],
    *,
    reply_to: str | None = None,
    conversation: str | None = None,
    mentions: tuple[str, ...] = (),
) -> dict[str, Any]:
    ms = int(time.time() * 1000) + n
    tweet_id = snowflake(ms, n)
    tweet: dict[str, Any] = {
        "id": tweet_id,
        "text": f"{text} #{TAG}",
        "author_id": user["id"],
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ms / 1000)),
        "lang": "en",
        "conversation_id": conversation or tweet_id,
        "edit_history_tweet_ids": [tweet_id],
        "entities": {
            "hashtags": [{"start": len(text) + 1, "end": len(text) + 2 + len(TAG), "tag": TAG}],
            "mentions": [
                {"start": 0, "end": len(m) + 1, "username": m, "id": "42"} for m in mentions
            ],
        },
    }
    if reply_to:
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": reply_to}]
    return tweet


CUSTOMER = {"id": "777", "username": "cust", "name": "Cust Omer"}
BUYER = {"id": "778", "username": "buyer", "name": "Bea Buyer"}


@pytest.fixture
def loopback() -> Iterator[tuple[XServer, str, XState, str]]:
    reader = XServer(recorded=[], keepalive=0.5)
    writes = XState(username="acme")
    with serve_in_thread(reader) as x_url, Running(x_app(writes)) as w:
        yield reader, x_url, writes, w.url


def _until(check: Callable[[], Any], what: str, timeout: float = 45.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_mentions_and_matches_become_cases_and_a_reply_goes_out_once(
    db_url: str, loopback: tuple[XServer, str, XState, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    reader, x_url, writes, write_url = loopback
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    store = open_store(db_url)
    box = load_box(db_url)
    add_account(store, box, "default", "x", "reader", reader.token, server=x_url)
    add_account(store, box, "default", "x", "acme", writes.token, server=write_url)
    record_check(store, "default", "acme", "ok: @acme")  # what `hubbub account check` writes
    add_query(store, "help", f"#{TAG}", workspace="default")
    inbox = Inbox(scope(store, "default"))
    add_user(inbox.scope, "ann", "agent")
    inbox.add_rule(Actor("cli:test"), "help", ["lead"])

    runtime = Runtime(
        Settings(db=db_url),
        store=store,
        sources=[f"x:stream?url={x_url}&account=reader"],
        follow_accounts=False,
    )
    # The runtime runs on its own loop in a thread, as under `hubbub worker`;
    # this thread plays the people and the networks.
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def on_loop(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)

    try:
        on_loop(runtime.start())
        # The stream is connected once the server holds our rule.
        _until(lambda: reader.rules and reader.open_streams, "the X stream")
        complaint = _tweet(
            1, "@acme my order arrived broken and nobody answers", CUSTOMER, mentions=("acme",)
        )
        lead = _tweet(2, "I want to buy 20 licenses for my team", BUYER)
        praise = _tweet(3, "@acme thanks, love it!", BUYER, mentions=("acme",))
        for tweet, user in ((complaint, CUSTOMER), (lead, BUYER), (praise, BUYER)):
            call_in_loop(reader, _publish, reader, tweet, user)

        def cases() -> dict[str, Any]:
            return {c.author: c for c in inbox.list_cases(ANN)}

        try:
            found = _until(lambda: (c := cases()) and len(c) == 2 and c, "two cases")
        except AssertionError:
            stored = [(p.id, p.author.handle, p.mentions, p.text) for p in store.search(None)]
            raise AssertionError(f"cases {cases()}; stored {stored}") from None
        assert found["cust"].origin == "mention" and found["cust"].intent == "complaint"
        assert found["cust"].post_ids == (complaint["id"],)
        assert found["buyer"].origin == "rule" and found["buyer"].intent == "lead"
        case_id = found["cust"].id

        # Two tries with one key (a double click, a retried request): one reply.
        inbox.assign(ANN, case_id, "ann")
        first = inbox.reply(
            ANN, case_id, "Sorry about that, Cust. DM us your order number.", key="reply-key-0001"
        )
        again = inbox.reply(
            ANN, case_id, "Sorry about that, Cust. DM us your order number.", key="reply-key-0001"
        )
        assert again.id == first.id and again.outbox_id == first.outbox_id
        sent = _until(
            lambda: next(
                (
                    e
                    for e in inbox.get_case(ANN, case_id).timeline
                    if e.kind == "reply" and e.outbox_status == "sent"
                ),
                None,
            ),
            "the reply sent",
        )
        assert len(writes.tweets) == 1
        ours = writes.tweets[0]
        assert ours["in_reply_to"] == complaint["id"]  # threaded under the customer's post
        assert ours["text"] == "Sorry about that, Cust. DM us your order number."
        assert sent.url and ours["id"] in sent.url
        case = inbox.get_case(ANN, case_id)
        assert case.summary.status == "pending"
        assert case.first_response.met_at is not None

        # The customer answers our reply: it joins the case and reopens it.
        follow = _tweet(
            4,
            "@acme it is 12345",
            CUSTOMER,
            reply_to=ours["id"],
            conversation=complaint["id"],
            mentions=("acme",),
        )
        call_in_loop(reader, _publish, reader, follow, CUSTOMER)
        _until(lambda: len(inbox.get_case(ANN, case_id).posts) == 2, "the follow-up")
        assert inbox.get_case(ANN, case_id).summary.status == "open"

        inbox.resolve(ANN, case_id)
        again_post = _tweet(
            5,
            "@acme it broke again",
            CUSTOMER,
            reply_to=follow["id"],
            conversation=complaint["id"],
            mentions=("acme",),
        )
        call_in_loop(reader, _publish, reader, again_post, CUSTOMER)
        reopened = _until(
            lambda: (c := inbox.get_case(ANN, case_id)).summary.status == "open" and c,
            "the case reopened",
        )
        assert reopened.summary.post_ids == (complaint["id"], follow["id"], again_post["id"])
        assert len(inbox.list_cases(ANN)) == 2  # nothing became a case twice
        assert len(writes.tweets) == 1
    finally:
        on_loop(runtime.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        store.close()

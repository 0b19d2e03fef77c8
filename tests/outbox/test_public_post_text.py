"""Text Hubbub posts publicly never carries C0/C1 controls (but the newline)
or bidi embeddings, overrides and isolates, whoever queued it: the outbox's
queueing removes them (a whole terminal sequence goes), LRM/RLM and zero-width
joiners stay. And ``status_text`` tells a failed row that never left from one
whose outcome is unknown."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from hubbub.networks.secrets import load_box, new_key_text
from hubbub.outbox.queue import Outbox, Status
from hubbub.outbox.sender import Sender
from hubbub.outbox.service import queue_post, writer_factory
from hubbub.outbox.status_text import status_text
from hubbub.outbox.writers.http import new_client
from hubbub.store import open_store
from hubbub.store.network_accounts import add_account
from tests.loopback.write_servers import MastodonState, Running, mastodon_app

HOSTILE = "sale \x1b[31mRED\x1b[0m\u202etxet\u202c \u2066x\u2069\tnow\r\nבית\u200f! 👩\u200d💻\x07\x85\x7f"
CLEAN = "sale REDtxet x now\nבית\u200f! 👩\u200d💻"


def test_every_queued_post_is_cleaned_and_goes_out_clean(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    state = MastodonState()
    with Running(mastodon_app(state)) as server, open_store(sqlite_url) as store:
        state.base = server.url
        box = load_box(sqlite_url)
        add_account(store, box, "default", "mastodon", "m", state.token, server=server.url)
        outbox = Outbox(store, "default")
        queued = queue_post(outbox, HOSTILE)
        # The lower door too: a row queued straight into the outbox is cleaned.
        direct = outbox.enqueue(
            batch="direct", account="m", network="mastodon", kind="post", payload={"text": HOSTILE}
        )
        assert direct.text == CLEAN

        async def send() -> None:
            async with new_client(5.0) as client:
                sender = Sender(outbox, writer_factory(store, box, "default", client))
                await sender.run_batch(queued.batch, poll=0.02, deadline=30)

        asyncio.run(send())
        (row,) = outbox.list(batch=queued.batch)
    assert row.status == Status.SENT and row.text == CLEAN
    assert [s["text"] for s in state.statuses] == [CLEAN]


def test_status_text_says_what_a_person_can_do(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    with open_store(sqlite_url) as store:
        outbox = Outbox(store, "default")
        row = outbox.enqueue(
            batch="b", account="m", network="mastodon", kind="post", payload={"text": "hi"}
        )
    assert status_text(row) == "queued"
    assert status_text(None) == "no outbox record"
    failed = dataclasses.replace(row, status=Status.FAILED, error="HTTP 422: too long")
    assert status_text(failed) == "failed: HTTP 422: too long"
    unknown = dataclasses.replace(
        failed, maybe_sent=True, error="outcome unknown after 4 tries: HTTP 502"
    )
    assert status_text(unknown) == "outcome unknown after 4 tries: HTTP 502"
    # Refused on a later try, but an earlier one may have landed: still unknown.
    later = dataclasses.replace(unknown, error="token expired or revoked")
    assert status_text(later) == "outcome unknown: token expired or revoked"
    retrying = dataclasses.replace(row, error="outcome unknown: HTTP 502")
    assert status_text(retrying) == "queued, will try again (last try: outcome unknown: HTTP 502)"
    sent = dataclasses.replace(row, status=Status.SENT, remote_url="https://m.example/@a/1")
    assert status_text(sent) == "sent https://m.example/@a/1"

"""A network's error answer is stored with the outbox row and shown by
`hubbub outbox list`: a server that echoes the request's token and terminal
escapes back must not get either into the row (it used to be stored as sent)."""

from __future__ import annotations

from hubbub.outbox.queue import Outbox
from hubbub.store import open_store
from tests.loopback.write_servers import Running, XState, x_app
from tests.outbox.test_not_sent import _one_post, _send, key  # noqa: F401 - the fixture


def test_an_echoed_token_and_escapes_are_not_stored(sqlite_url: str, key: str) -> None:  # noqa: F811
    state = XState(token="x-user-token-5ecret-canary")  # noqa: S106 - a loopback credential
    with Running(x_app(state)) as server, open_store(sqlite_url) as store:
        action_id = _one_post(store, sqlite_url, server.url, state.token)
        state.faults.next.append("echo_403")
        outbox = Outbox(store, "default")
        _send(store, sqlite_url, outbox, retry_not_sent=False, retry_delays=())
        row = outbox.get(action_id)
    assert row is not None and row.status == "failed" and row.error
    assert "HTTP 403" in row.error and "not allowed for" in row.error
    assert state.token not in row.error and "5ecret" not in row.error
    assert "\x1b" not in row.error and "\x07" not in row.error

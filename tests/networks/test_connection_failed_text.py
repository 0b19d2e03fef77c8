"""A failure without an HTTP answer names no HTTP status.

The Mastodon client said "HTTP 0: ConnectError: …" and the Bluesky client
"0 ConnectError …" when nothing answered: a status that was never received,
and an error type where the reason should be. Each now says ``connection
failed: <what the connection attempt said>`` (X's client too: see
test_x_rules_sync_health), and keeps status 0 for its callers' backoff.
"""

from __future__ import annotations

import socket

import pytest

from hubbub.networks.bluesky import BlueskyClient, XrpcError
from hubbub.networks.clock import FakeClock
from hubbub.networks.mastodon import MastodonClient, MastodonError

REFUSED = "connection failed: All connection attempts failed"


def _nobody_listens() -> str:
    """A loopback URL whose port was just free: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_mastodon_says_connection_failed() -> None:
    client = MastodonClient(_nobody_listens(), token="mastodon-secret-token-123")  # noqa: S106
    try:
        with pytest.raises(MastodonError) as caught:
            await client.instance()
    finally:
        await client.aclose()
    assert str(caught.value) == REFUSED
    assert caught.value.status == 0  # still "no answer" for the source's backoff


async def test_bluesky_says_connection_failed() -> None:
    client = BlueskyClient(
        "someone.example", "app-pass-word-1234", service=_nobody_listens(), clock=FakeClock()
    )
    try:
        with pytest.raises(XrpcError) as caught:
            await client.login()
    finally:
        await client.aclose()
    assert str(caught.value) == REFUSED
    assert caught.value.status == 0 and caught.value.error == "ConnectError"

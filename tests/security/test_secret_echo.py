"""A server that echoes our credentials back in its refusal (the reviewer's
finding: ``account check`` printed ``bad token *** tok-SECRET-123456``).

For X, Bluesky and Mastodon, ``hubbub account check`` against a loopback
server that refuses the account and echoes its secret (raw, in the header,
in the login body) shows the refusal and never the secret: not on standard
output or error, not in the stored check result, not in ``account list``;
and no escape code from the server reaches the terminal. The sources' health
(what ``hubbub sources status`` and the web show) is checked the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.networks.clock import FakeClock
from hubbub.networks.env import Credentials, SourceEnv
from hubbub.networks.health import State
from hubbub.sources.network_specs import network_source_from_spec
from hubbub.store import open_store
from hubbub.store.network_accounts import list_accounts
from tests.security.echo_servers import echo_server

X_TOKEN = "AAAAAAAAAAAAAAAAAAAAAtok-SECRET-123456xyz"  # noqa: S105 - a test canary
BLUESKY_PASSWORD = "abcd-efgh-ijkl-mnop"  # noqa: S105 - an app password's shape
MASTODON_TOKEN = "masto-SECRET-token-987654321"  # noqa: S105

# What each network's account is added with (stdin), and the secret to look for.
ACCOUNTS = {
    "x": (["x", "--name", "acc"], X_TOKEN + "\n", X_TOKEN),
    "bluesky": (
        ["bluesky", "--name", "acc"],
        f"me.example\n{BLUESKY_PASSWORD}\n",
        BLUESKY_PASSWORD,
    ),
    "mastodon": (["mastodon", "--name", "acc"], MASTODON_TOKEN + "\n", MASTODON_TOKEN),
}


def _no_terminal_controls(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text)


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_account_check_never_shows_an_echoed_secret(tmp_path: Path, network: str) -> None:
    db = str(tmp_path / "h.db")
    args, stdin, secret = ACCOUNTS[network]
    runner = CliRunner()
    with echo_server(network) as server:
        server_args = ["--server", server.url] if network == "mastodon" else []
        added = runner.invoke(main, ["account", "add", *args, *server_args, "--db", db], stdin)
        assert added.exit_code == 0, added.output
        checked = runner.invoke(main, ["account", "check", "acc", "--url", server.url, "--db", db])
    # Refused, and says so (exit 1, the reason on standard error) ...
    assert checked.exit_code == 1, checked.output
    assert "check failed" in checked.stderr
    assert "401" in checked.stderr or "AuthenticationRequired" in checked.stderr
    # ... without the secret or the server's escape codes.
    for text in (checked.stdout, checked.stderr):
        assert secret not in text
        _no_terminal_controls(text)
    with open_store(db) as store:
        (info,) = list_accounts(store, "default")
    assert info.check_result is not None and info.check_result.startswith("failed: ")
    assert secret not in info.check_result
    _no_terminal_controls(info.check_result)
    listed = runner.invoke(main, ["account", "list", "--db", db])
    assert listed.exit_code == 0 and secret not in listed.output
    _no_terminal_controls(listed.output)


def test_a_secret_echoed_as_the_handle_is_not_shown(tmp_path: Path) -> None:
    """A server that answers the check with the token where the username goes."""
    db = str(tmp_path / "h.db")
    runner = CliRunner()
    with echo_server("x", me_ok=True) as server:
        runner.invoke(main, ["account", "add", "x", "--name", "acc", "--db", db], X_TOKEN + "\n")
        checked = runner.invoke(main, ["account", "check", "acc", "--url", server.url, "--db", db])
    assert checked.exit_code == 0, checked.output
    assert "acc: ok (@" in checked.stdout
    assert X_TOKEN not in checked.output
    _no_terminal_controls(checked.output)
    with open_store(db) as store:
        (info,) = list_accounts(store, "default")
    assert info.check_result and X_TOKEN not in info.check_result
    _no_terminal_controls(info.check_result)


def test_audience_fetch_never_shows_an_echoed_secret(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    runner = CliRunner()
    with echo_server("x") as server:
        runner.invoke(main, ["account", "add", "x", "--name", "acc", "--db", db], X_TOKEN + "\n")
        fetched = runner.invoke(main, ["audience", "fetch", "acc", "--url", server.url, "--db", db])
    assert fetched.exit_code == 1, fetched.output
    assert "401" in fetched.stderr
    assert X_TOKEN not in fetched.output
    _no_terminal_controls(fetched.output)


# The sources' health: each network's source, refused by the echoing server.
SOURCES = {
    "x": ("x:stream?url={url}", Credentials("acc", "x", X_TOKEN), X_TOKEN),
    "bluesky": (
        "bluesky:search:hubchat?url={url}",
        Credentials("acc", "bluesky", f"me.example\n{BLUESKY_PASSWORD}"),
        BLUESKY_PASSWORD,
    ),
    "mastodon": (
        "mastodon:home@{url}",
        Credentials("acc", "mastodon", MASTODON_TOKEN, server="{url}"),
        MASTODON_TOKEN,
    ),
}


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
async def test_source_health_never_shows_an_echoed_secret(network: str) -> None:
    spec, credentials, secret = SOURCES[network]
    with echo_server(network) as server:
        if credentials.server:
            credentials = Credentials(
                credentials.name, network, credentials.secret, server=server.url
            )
        env = SourceEnv(clock=FakeClock(scale=0.001), account=lambda _n, _name: credentials)
        source = network_source_from_spec(spec.format(url=server.url), env)
        (tracker,) = env.health.trackers()
        seen: list[str] = []

        async def watch() -> None:
            # Every reason the tracker shows on the way, until it gives up.
            while tracker.snapshot.state is not State.STOPPED:
                seen.append(tracker.snapshot.reason or "")
                await asyncio.sleep(0.01)

        async def drain() -> None:
            async for _item in source:
                pass

        reading = asyncio.create_task(drain())
        try:
            await asyncio.wait_for(watch(), 30)
        finally:
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
    reason = tracker.snapshot.reason or ""
    assert reason, "the refusal is shown"
    for text in [reason, *seen, tracker.snapshot.line()]:
        assert secret not in text
        _no_terminal_controls(text)

"""mastodon:… specs as users write them (clear errors, the token applied
only to its own server), the home timeline over streaming, and
``hubbub account check`` for a Mastodon account against the loopback server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.networks.clock import FakeClock
from hubbub.networks.env import Credentials, SourceEnv
from hubbub.sources.mastodon import MastodonSource
from hubbub.sources.network_specs import network_source_from_spec
from hubbub.store import Store, open_store
from tests.conftest import require_shared_data
from tests.loopback.mastodon_server import MastodonServer, generated_statuses, load_templates
from tests.networks.connector_oracle import assert_exactly, ingest_until

TOKEN = "canary-mastodon-9b1d"  # noqa: S105 - a loopback token


def env_with(server: str | None, clock: FakeClock | None = None) -> SourceEnv:
    def account(network: str, name: str | None) -> Credentials | None:
        if network != "mastodon" or server is None:
            return None
        return Credentials("toot", "mastodon", TOKEN, server=server)

    return SourceEnv(clock=clock or FakeClock(), account=account)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'hubbub.db'}")
    yield s
    s.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mastodon:tag:@mastodon.social", "a hashtag is letters"),
        ("mastodon:tag:hub-chat@mastodon.social", "letters, digits and _"),
        ("mastodon:tag:hubchat", "expected mastodon:tag:TAG@SERVER"),
        ("mastodon:tag:hubchat@ftp://x.org", "not a Mastodon server"),
        ("mastodon:tag:hubchat@https://u:p@x.org", "must not carry credentials"),
        ("mastodon:local@mastodon.social", "unknown Mastodon timeline"),
        ("mastodon:public@a.example,b.example", "read from one server"),
        ("mastodon:home@mastodon.social", "needs a Mastodon account on that server"),
        ("mastodon:tag:x@a.example?via=carrier-pigeon", "sse or ws"),
        ("mastodon:tag:x@a.example?poll=0.1", "at least 1 second"),
        ("mastodon:tag:x@a.example?colour=red", "unknown option"),
    ],
)
def test_bad_specs_are_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        network_source_from_spec(spec, env_with(None))


def test_token_goes_only_to_its_own_server() -> None:
    src = network_source_from_spec(
        "mastodon:tag:HubChat@mastodon.social,https://Fosstodon.org/,http://127.0.0.1:8081",
        env_with("https://fosstodon.org"),
    )
    assert isinstance(src, MastodonSource)
    assert src.tag == "HubChat" and src.name.startswith("mastodon:tag:HubChat@")
    tokens = {c.base: c.has_token for c in src.clients}
    assert tokens == {
        "https://mastodon.social": False,
        "https://fosstodon.org": True,
        "http://127.0.0.1:8081": False,
    }
    assert all(TOKEN not in repr(c) for c in src.clients)


async def test_home_timeline_streams_with_the_account(store: Store) -> None:
    clock = FakeClock(scale=0.2)
    with MastodonServer(token=TOKEN, now=clock.time) as server:
        base = load_templates(require_shared_data() / "payloads" / "mastodon")
        server.post(generated_statuses(base, 12, tag="anything"))
        src = network_source_from_spec(f"mastodon:home@{server.base}", env_with(server.base, clock))
        store.set_cursor(src.name, orjson.dumps({server.host: "0"}).decode())
        stored = await ingest_until(store, src, "mastodon", server.uris())
        assert_exactly(stored, server.uris())
        assert any(p == "/api/v1/streaming/user" for p, _, _ in server.requests)


def _cli(args: list[str], stdin: str = "") -> object:
    return CliRunner().invoke(main, args, input=stdin)


def test_account_check_command(tmp_path: Path) -> None:
    db = str(tmp_path / "h.db")
    with MastodonServer(token=TOKEN) as server:
        for name, token in (("good", TOKEN), ("bad", "not-the-token")):
            added = _cli(
                ["account", "add", "mastodon", "--name", name, "--server", server.base, "--db", db],
                token + "\n",
            )
            assert added.exit_code == 0, added.output  # type: ignore[attr-defined]
        ok = _cli(["account", "check", "good", "--db", db])
        assert ok.exit_code == 0, ok.output  # type: ignore[attr-defined]
        assert f"@hubbub@{server.host}" in ok.output  # type: ignore[attr-defined]
        bad = _cli(["account", "check", "bad", "--db", db])
        assert bad.exit_code != 0  # type: ignore[attr-defined]
        assert "refused" in bad.output and "not-the-token" not in bad.output  # type: ignore[attr-defined]
        assert "Traceback" not in bad.output  # type: ignore[attr-defined]
        for _path, query, _headers in server.requests:
            assert TOKEN not in query


def test_auto_specs_follow_room_and_query_hashtags_on_each_account_server(store: Store) -> None:
    from datetime import UTC, datetime

    from hubbub.listen.saved import add_query
    from hubbub.sources.mastodon import auto_specs
    from hubbub.store.network_accounts import AccountInfo
    from hubbub.web.rooms import RoomRepo

    RoomRepo(store, "default").ensure("OurChat", public=True)
    RoomRepo(store, "default").ensure("backstage", public=False)
    add_query(store, "brand", "(#Hubbub OR launch) -#spam")
    now = datetime.now(UTC)
    accounts = [
        AccountInfo("toot", "mastodon", "https://mastodon.social", now, None, None),
        AccountInfo("local", "mastodon", "http://127.0.0.1:8081", now, None, None),
    ]
    specs = auto_specs(store, "default", accounts)
    assert sorted(specs) == sorted(
        f"mastodon:tag:{tag}@{server}?account={name}"
        for name, server in (
            ("toot", "https://mastodon.social"),
            ("local", "http://127.0.0.1:8081"),
        )
        for tag in ("hubbub", "ourchat")
    )
    for spec in specs:  # each one builds, and the account's token goes with it
        src = network_source_from_spec(spec, env_with(spec.split("@")[1].split("?")[0]))
        assert isinstance(src, MastodonSource) and src.clients[0].has_token


def test_the_token_only_streams_to_the_server_or_its_subdomains() -> None:
    from hubbub.sources.mastodon import streaming_allowed

    assert streaming_allowed("wss://streaming.mastodon.social", "https://mastodon.social")
    assert streaming_allowed("wss://mastodon.social", "https://mastodon.social")
    assert streaming_allowed("ws://127.0.0.1:8081", "http://127.0.0.1:8081")
    for elsewhere in (
        "wss://evil.example",
        "wss://mastodon.social.evil.example",
        "wss://notmastodon.social",
        "ws://streaming.mastodon.social",  # a downgrade from https
        "wss://169.254.169.254",
    ):
        assert not streaming_allowed(elsewhere, "https://mastodon.social"), elsewhere


def test_request_budget_comes_from_configuration() -> None:
    source_env = env_with(None)
    source_env.limits["mastodon_requests_per_5min"] = 120
    src = network_source_from_spec("mastodon:tag:x@a.example,b.example", source_env)
    assert isinstance(src, MastodonSource)
    assert [c.budget.limit for c in src.clients] == [120, 120]
    assert all(c.budget is not src.clients[0].budget for c in src.clients[1:])  # one per server

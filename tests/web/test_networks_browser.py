"""The connectors as a room reader sees them: the app built as ``hubbub
serve`` builds it (``create_app`` with its own Runtime from settings naming
an X stream, a Bluesky Jetstream and a Mastodon tag source, each pointed at a
loopback server speaking the network's real protocol; an X account holding
the loopback server's token), a public room ``#tag``, and Chromium.

Posts published on each loopback network appear live in the room, and the
header line shows each network's state — Mastodon's loopback then answers
429 with a reset, and the header says "rate-limited until …". Anonymous
readers get network, state and times only; the members' status page has the
per-source detail."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from hubbub.networks.health import HealthSnapshot, State
from hubbub.networks.secrets import load_box, new_key_text
from hubbub.store import open_store
from hubbub.store.network_accounts import add_account
from hubbub.store.source_health import write_health
from hubbub.web.rooms import RoomRepo
from tests.conftest import require_shared_data
from tests.loopback.jetstream_server import JetstreamServer, generated_posts, load_recorded
from tests.loopback.mastodon_server import (
    MastodonServer,
    RestFault,
    generated_statuses,
    load_templates,
)
from tests.loopback.x_server import XServer, call_in_loop, load_recorded_tweets
from tests.web.conftest import Server, login, open_room, start_server, stop_server

pytestmark = pytest.mark.slow

TAG = "hubnets"
X_ACCOUNT = "xloop"
RESET_SECONDS = 900  # Mastodon's 429 outlasts the test: the header must say so


class LoopThread:
    """One event loop in a thread for the asyncio loopback servers (X and
    Jetstream), so the web server's loop and the test's thread stay free."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(15)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclass
class Nets:
    server: Server
    x: XServer
    jet: JetstreamServer
    masto: MastodonServer
    loops: LoopThread


@pytest.fixture(scope="module")
def networks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nets]:
    shared = require_shared_data()
    payloads = shared / "payloads"
    tmp: Path = tmp_path_factory.mktemp("networks")
    mp = pytest.MonkeyPatch()
    mp.setenv("HUBBUB_ACCOUNTS_KEY", new_key_text())
    loops = LoopThread()
    x = XServer(load_recorded_tweets(payloads))
    jet = JetstreamServer()
    masto = MastodonServer()
    server: Server | None = None
    try:
        x_url = loops.run(x.start())
        jet_url = loops.run(jet.start())
        masto.start()
        db = tmp / "hubbub.db"
        # The room and the account exist before the runtime starts: it reads
        # the rooms to follow (X rules, Jetstream's filter) when it starts.
        with open_store(str(db)) as store:
            RoomRepo(store, "default").ensure(TAG, public=True)
            add_account(store, load_box(str(db)), "default", "x", X_ACCOUNT, x.token, server=x_url)
        sources = (
            f"x:stream?url={x_url}",
            f"bluesky:jetstream?url={jet_url}",
            f"mastodon:tag:{TAG}@{masto.base}?poll=1",
        )
        server = start_server(tmp, sources=sources)
        open_room(server, TAG)
        yield Nets(server, x, jet, masto, loops)
    finally:
        if server is not None:
            stop_server(server)
        masto.stop()
        loops.run(jet.stop())
        loops.run(x.stop())
        loops.close()
        mp.undo()


def _wait(predicate: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.1)


def _networks_json(server: Server, cookies: httpx.Cookies | None = None) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, timeout=10, cookies=cookies) as client:
        response = client.get("/api/networks")
    assert response.status_code == 200
    return dict(response.json())


def test_posts_from_every_network_appear_live_and_the_header_shows_each_state(
    networks: Nets, page: Any
) -> None:
    from playwright.sync_api import expect

    server, x, jet, masto = networks.server, networks.x, networks.jet, networks.masto
    payloads = require_shared_data() / "payloads"

    # Every source is connected (X has its rule, Jetstream and Mastodon answer).
    def all_connected() -> bool:
        states = {n["network"]: n["state"] for n in _networks_json(server)["networks"]}
        return states == {"x": "connected", "bluesky": "connected", "mastodon": "connected"}

    _wait(all_connected, "all three sources connecting")
    page.goto(f"{server.url}/rooms/{TAG}")
    header = page.locator("#networks")
    expect(header).to_contain_text("X: connected", timeout=15_000)
    expect(header).to_contain_text("Bluesky: connected")
    expect(header).to_contain_text("Mastodon: connected")

    # Posts published on each network now, while the page is open.
    x_ids = call_in_loop(x, x.publish_generated, 2, TAG)
    now_us = int(time.time() * 1_000_000)
    jet_posts = generated_posts(
        load_recorded(payloads / "bluesky_jetstream"), 2, tag=TAG, start_us=now_us
    )
    networks.loops.run(_publish(jet, jet_posts))
    masto.post(
        generated_statuses(
            load_templates(payloads / "mastodon"), 2, tag=TAG, origin="loop.example", first=500
        )
    )
    for network in ("x", "bluesky", "mastodon"):
        expect(page.locator(f'#posts > li[data-network~="{network}"]')).not_to_have_count(
            0, timeout=30_000
        )
    assert x_ids

    # Mastodon's next timeline request is answered 429 with a reset.
    masto.rest_faults.append(
        RestFault("429", at=masto.timeline_requests + 1, reset_in=RESET_SECONDS)
    )
    expect(header).to_contain_text("Mastodon: rate-limited until", timeout=20_000)
    expect(header).to_contain_text("X: connected")
    expect(header).to_contain_text("Bluesky: connected")
    reset = _networks_json(server)
    masto_state = next(n for n in reset["networks"] if n["network"] == "mastodon")
    until = datetime.fromtimestamp(masto_state["until"], UTC).strftime("%H:%M:%S UTC")
    expect(header).to_contain_text(f"Mastodon: rate-limited until {until}")


async def _publish(jet: JetstreamServer, events: list[dict[str, Any]]) -> None:
    # On the servers' loop: publish wakes the subscribers' asyncio.Event.
    jet.publish(events)


def test_anonymous_readers_see_no_source_names_or_accounts(
    networks: Nets,
) -> None:
    server, x, masto = networks.server, networks.x, networks.masto
    _wait(lambda: len(_networks_json(server)["networks"]) == 3, "health rows for three networks")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        public = client.get("/api/networks").text + client.get(f"/rooms/{TAG}").text
        status = client.get("/status", follow_redirects=False)
    for secret_or_identifying in (
        X_ACCOUNT,
        x.token,
        "x:stream",
        "jetstream",
        "mastodon:tag",
        "127.0.0.1",
        masto.host,
        "default",
    ):
        assert secret_or_identifying not in public
    for item in _networks_json(server)["networks"]:
        assert set(item) == {"network", "label", "state", "until", "next_at", "line"}
    assert status.status_code == 303
    assert status.headers["location"].startswith("/login")


def test_members_status_page_shows_each_source(networks: Nets, page: Any) -> None:
    from playwright.sync_api import expect

    server = networks.server
    login(page, server.url)
    page.click("a.nav-status")
    rows = page.locator("tr.source-row")
    expect(rows).to_have_count(3)
    expect(page.locator(".source-name", has_text="x:stream")).to_have_count(1)
    expect(page.locator(".source-name", has_text="bluesky:jetstream")).to_have_count(1)
    expect(page.locator(".source-name", has_text=f"mastodon:tag:{TAG}")).to_have_count(1)
    assert "Gaps backfilled" in page.content()

    # Network text in a source's name or reason is shown as text, not markup
    # (a row as another process's runtime would write it).
    hostile = "<img src=x onerror=window.pwned=1>"
    snap = HealthSnapshot(
        f"x:search:{hostile}", "x", State.RECONNECTING, attempt=1, next_at=time.time() + 60
    )
    snap.reason, snap.updated_at = f"HTTP 503 <b>{hostile}</b>", time.time()
    with open_store(str(server.db)) as store:
        write_health(store, "default", [snap])
    page.reload()
    expect(rows).to_have_count(4)
    expect(page.locator(".source-name", has_text=hostile)).to_have_count(1)
    expect(page.locator(".reason", has_text=f"HTTP 503 <b>{hostile}</b>")).to_have_count(1)
    assert page.locator("main img, main b").count() == 0
    assert page.evaluate("window.pwned") is None

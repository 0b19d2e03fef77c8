"""A real Hubbub server for the web tests: uvicorn in a thread on a free
loopback port, a real SQLite file, the real pipeline; and Debian's chromium
driven by Playwright."""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hubbub.post import Author, Post
from hubbub.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery"  # noqa: S105 - a test account
_ids = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    app: object
    thread: threading.Thread
    uvicorn_server: object
    db: Path
    extra: dict = field(default_factory=dict)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.app.state.loop  # type: ignore[attr-defined]

    def call(self, coro):  # noqa: ANN001, ANN201
        """Run a coroutine on the server's event loop and wait for it."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=15)

    def set_person(self, tag: str, role: str, network: str, who: str) -> None:
        self.app.state.rooms.set_person(tag, role, network, who)  # type: ignore[attr-defined]
        self.call(self.app.state.hubs.refresh(tag))  # type: ignore[attr-defined]

    def submit(self, post: Post, *, wait_stored: bool = True) -> None:
        """Hand a post to the server's pipeline, as a source would, and (by
        default) wait until the pipeline has stored it: the pipeline is
        asynchronous, so an API read right after submit could race it."""
        future = asyncio.run_coroutine_threadsafe(self.app.state.pipeline.submit(post), self.loop)  # type: ignore[attr-defined]
        future.result(timeout=10)
        if wait_stored:
            store = self.app.state.store  # type: ignore[attr-defined]
            deadline = time.monotonic() + 15
            while store.get_post(post.network, post.id) is None:
                if time.monotonic() > deadline:
                    pytest.fail(f"the pipeline did not store {post.id} within 15 s")
                time.sleep(0.02)


def make_post(
    tag: str,
    text: str,
    *,
    network: str = "x",
    handle: str | None = None,
    name: str | None = None,
    author_id: str | None = None,
    langs: tuple[str, ...] = ("en",),
    repost_of: str | None = None,
    reply_to: str | None = None,
    sensitive: bool = False,
    content_warning: str | None = None,
    created_at: datetime | None = None,
    post_id: str | None = None,
) -> Post:
    n = next(_ids)
    handle = handle or f"user{n}"
    if post_id is None:
        post_id = {
            "x": str(10**15 + n),
            "bluesky": f"at://did:plc:test{n}/app.bsky.feed.post/{n}",
            "mastodon": f"https://masto.example/users/u/statuses/{n}",
        }.get(network, f"{network}:{n}")
    full = text if f"#{tag}".lower() in text.lower() else f"{text} #{tag}"
    return Post(
        network=network,
        id=post_id,
        author=Author(
            network=network,
            id=author_id or f"{network}-author-{handle}",
            handle=handle,
            display_name=name or handle,
        ),
        text=full,
        created_at=created_at or datetime.now(UTC) - timedelta(seconds=1),
        langs=langs,
        repost_of=repost_of,
        reply_to=reply_to,
        hashtags=(tag,),
        sensitive=sensitive,
        content_warning=content_warning,
    )


def start_server(
    tmp: Path, sources: tuple[str, ...] = (), guest_rate: float = 100_000, **settings_extra: object
) -> Server:

    from hubbub.store import open_store
    from hubbub.web.accounts import create_user

    db = tmp / "hubbub.db"
    with open_store(str(db)) as store:
        create_user(store, "default", "host", PASSWORD, role="owner")
    # Bound here and handed to uvicorn still bound: a port picked, closed and
    # bound again later could be taken meanwhile by another pytest-xdist
    # worker's server.
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = int(listening.getsockname()[1])
    try:
        return _serve(db, listening, port, sources, guest_rate, settings_extra)
    except BaseException:
        listening.close()  # uvicorn owns it only once it serves
        raise


def _serve(
    db: Path,
    listening: socket.socket,
    port: int,
    sources: tuple[str, ...],
    guest_rate: float,
    settings_extra: dict[str, object],
) -> Server:
    import uvicorn

    from hubbub.store import open_store
    from hubbub.web import create_app

    settings = Settings(
        db=str(db),
        host="127.0.0.1",
        port=port,
        sources=sources,
        guest_posts_per_minute=guest_rate,
        **settings_extra,
    )  # type: ignore[arg-type]
    pipeline = None
    try:
        import hubbub.pipeline as real

        real.Pipeline  # noqa: B018 - the real pipeline, once it exists
    except (ImportError, AttributeError):
        from tests.web._stub_pipeline import StubPipeline

        if sources:
            pytest.skip("the pipeline (and its simulator) is not available yet")
        pipeline = StubPipeline(open_store(str(db)))
    app = create_app(settings, pipeline=pipeline)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listening]}, name="hubbub-test-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    srv = Server(f"http://127.0.0.1:{port}", app, thread, server, db)
    if pipeline is not None:
        srv.extra["stub_store"] = pipeline.store
    return srv


def stop_server(server: Server) -> None:
    server.uvicorn_server.should_exit = True  # type: ignore[attr-defined]
    server.thread.join(timeout=20)
    stub = server.extra.get("stub_store")
    if stub is not None:
        stub.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("web"))
    yield srv
    stop_server(srv)


@pytest.fixture
def tag(request: pytest.FixtureRequest) -> str:
    """A fresh room per test, so tests sharing a server do not see each other;
    on the module's ``server`` it is opened (public), as a host would."""
    key = "t" + format(abs(hash(request.node.nodeid)) % 10**8, "08d")
    if "server" in request.fixturenames:
        open_room(request.getfixturevalue("server"), key)
    return key


def open_room(server: Server, tag: str, *, public: bool = True) -> None:
    """Open room ``tag`` as a host does (rooms are not created by URLs)."""
    server.app.state.rooms.ensure(tag, public=public)  # type: ignore[attr-defined]
    server.call(server.app.state.hubs.refresh(tag))  # type: ignore[attr-defined]


def _chromium_or_skip() -> None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = f"{CHROMIUM} not installed (Debian package chromium; `make browser`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


# Module scope, not session: Playwright's sync API keeps an event loop set on
# the main thread while it runs, which breaks asyncio tests collected after it
# (pytest-asyncio, asyncio.run). Ending it with each module keeps test order
# irrelevant; a Chromium start costs about a second.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


@pytest.fixture
def host_page(browser, server: Server) -> Iterator[object]:
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    login(pg, server.url)
    yield pg
    context.close()


def login(pg, base: str, name: str = "host", password: str = PASSWORD) -> None:
    pg.goto(base + "/login")
    pg.fill("input[name=name]", name)
    pg.fill("input[name=password]", password)
    pg.click("form.login button[type=submit]")
    pg.wait_for_url(base + "/")


def http_client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=10)

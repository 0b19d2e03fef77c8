"""``hubbub serve`` and ``hubbub demo``: thin wrappers over
``hubbub.web.create_app`` (``hubbub user`` is in ``users.py``)."""

from __future__ import annotations

import errno
import logging
import secrets
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from hubbub.cli.data import db_option
from hubbub.cli.errors import workspace_name
from hubbub.i18n import _
from hubbub.settings import Settings
from hubbub.terminal_text import log_to_terminal

DEMO_TAG = "hubchat"
DEMO_SOURCE = f"sim:{DEMO_TAG}?rate=3&seed=1&speed=20"


def _check_sources(specs: tuple[str, ...]) -> None:
    from hubbub.sources.network_specs import is_network_spec
    from hubbub.sources.spec import source_from_spec

    for spec in specs:
        if is_network_spec(spec):
            continue  # needs the workspace's accounts: checked when the runtime starts
        try:
            source_from_spec(spec)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--source") from None


_WS_PROTOCOL: Any = None


def websocket_protocol() -> type:
    """uvicorn's sans-I/O ``websockets`` protocol plus the ``hubbub.frames``
    scope extension: a writer that puts ready frames straight on the
    connection's transport, so a room writes each post's frame to 100
    sockets without 100 ASGI sends (see ``hubbub.web.hub``)."""
    global _WS_PROTOCOL
    if _WS_PROTOCOL is not None:
        return _WS_PROTOCOL
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    from hubbub.web.hub import FRAMES_EXTENSION

    class _Writer:
        __slots__ = ("_proto",)

        def __init__(self, proto: WebSocketsSansIOProtocol) -> None:
            self._proto = proto

        def write(self, data: bytes) -> bool:
            proto = self._proto
            transport = proto.transport
            if proto.close_sent or not proto.handshake_complete or transport.is_closing():
                return False
            transport.write(data)
            return True

        def buffered(self) -> int:
            return int(self._proto.transport.get_write_buffer_size())

    class HubbubWebSocketProtocol(WebSocketsSansIOProtocol):
        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)  # builds the scope; the app runs later
            scope = getattr(self, "scope", None)  # none when the handshake was refused
            if scope is not None:
                scope.setdefault("extensions", {})[FRAMES_EXTENSION] = {"writer": _Writer(self)}

        async def send(self, message: Any) -> None:
            await super().send(message)
            if message["type"] == "websocket.http.response.body" and not message.get("more_body"):
                # A refused handshake (404, 503) is a complete answer; uvicorn
                # would otherwise log an error for every one, a log flood
                # anyone could cause.
                self.handshake_complete = True

    _WS_PROTOCOL = HubbubWebSocketProtocol
    return _WS_PROTOCOL


def uvicorn_config(app: Any, host: str, port: int, **extra: Any) -> Any:
    """The uvicorn configuration ``hubbub serve`` runs (tests and the
    benchmark use it too, so they measure what ships)."""
    import uvicorn

    options: dict[str, Any] = {
        "log_level": "warning",
        "lifespan": "on",
        # uvicorn would otherwise take X-Forwarded-For from any loopback peer
        # as the client address, letting a spoofed header dodge the guest
        # rate limit.
        "proxy_headers": False,
        "ws": websocket_protocol(),
        # Live posts go out as ready, uncompressed frames (the same bytes to
        # every client); a per-connection deflate context would cost memory
        # and CPU for nothing.
        "ws_per_message_deflate": False,
    }
    options.update(extra)
    return uvicorn.Config(app, host=host, port=port, **options)


def _run(settings: Settings, *, follow_accounts: bool = True) -> None:
    import asyncio

    import uvicorn

    from hubbub.networks.secrets import AccountsKeyError
    from hubbub.runtime import Runtime
    from hubbub.store.engine import StoreError
    from hubbub.store.network_accounts import AccountError
    from hubbub.web import create_app

    # Hubbub's own warnings quote servers (reasons, names): cleaned like all terminal
    # output (they reached stderr raw through logging's last-resort handler).
    log_to_terminal("hubbub", logging.WARNING)
    # One process: the web app over a runtime that runs the sources too.
    runtime = Runtime(settings, follow_accounts=follow_accounts)
    try:
        asyncio.run(runtime.check())  # a bad source is a clear error, not a traceback
    except (ValueError, StoreError, AccountError, AccountsKeyError) as exc:
        raise click.ClickException(str(exc)) from None
    app = create_app(settings, runtime=runtime)
    uvicorn.Server(uvicorn_config(app, settings.host, settings.port)).run()


@click.command("serve")
@db_option
@click.option(
    "--host", default=None, help="Address to listen on. Default 127.0.0.1, or $HUBBUB_HOST."
)
@click.option("--port", type=int, default=None, help="Port. Default 8000, or $HUBBUB_PORT.")
@click.option(
    "--workspace",
    default="default",
    show_default=True,
    callback=workspace_name,
    help="The default workspace: the one anonymous visitors of /rooms/TAG see and the "
    "sources feed. Users of every workspace sign in; other workspaces' public rooms "
    "are at /w/WORKSPACE/rooms/TAG.",
)
@click.option(
    "--source",
    "sources",
    multiple=True,
    metavar="SRC",
    help="Feed the rooms: sim:TAG[?rate=R&seed=S&speed=F], replay:FILE[?speed=F&maxgap=S], "
    "x:stream, x:search:QUERY, bluesky:…, mastodon:… Repeatable.",
)
@click.option(
    "--no-accounts",
    is_flag=True,
    help="Do not follow the networks of the workspace's accounts here (when "
    "`hubbub worker` does: X allows one stream connection per app).",
)
def serve(
    db: str | None,
    host: str | None,
    port: int | None,
    workspace: str,
    sources: tuple[str, ...],
    no_accounts: bool,
) -> None:
    """Run the web app: live rooms, posting, accounts."""
    settings = Settings.from_env(
        db=db, host=host, port=port, workspace=workspace, sources=tuple(sources) or None
    )
    _check_sources(settings.sources)
    _check_rooms(settings)
    _check_web_settings(settings)
    banner = _("Hubbub at http://{host}:{port}/").format(host=settings.host, port=settings.port)
    try:
        click.echo(banner)
    except OSError as exc:
        # Started with stdout closed (`hubbub serve >&-`, a daemon): the banner is
        # not the server's output, so serving goes on without it.
        if exc.errno != errno.EBADF:
            raise
    _run(settings, follow_accounts=not no_accounts)


def _check_rooms(settings: Settings) -> None:
    """The configured rooms (``HUBBUB_ROOMS``) pass the one tag check, or exit 2."""
    from hubbub.tags import TagError

    try:
        settings.room_tags()
    except TagError as exc:
        raise click.BadParameter(str(exc), param_hint="HUBBUB_ROOMS") from None


def _check_web_settings(settings: Settings) -> None:
    """Refuse to start, in one line and exit 2, without a session key of
    known origin or with unreadable trusted proxies or allowed hosts."""
    from hubbub.settings import SecretKeyError
    from hubbub.web.client_address import ProxySettingError, parse_networks
    from hubbub.web.host_guard import HostSettingError, configured_hosts

    try:
        settings.resolved_secret()
        parse_networks(settings.trusted_proxies)
        configured_hosts(settings.allowed_hosts)
    except (SecretKeyError, ProxySettingError, HostSettingError) as exc:
        click.echo(_("hubbub serve: {reason}").format(reason=exc), err=True)
        raise SystemExit(2) from None


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _mark_sim_cast(repo: object) -> None:
    """Highlight the simulated chat's host and guests in the demo room."""
    from hubbub.sources.sim_cast import cast_for

    cast = cast_for(1)  # the demo source uses seed=1
    for role, people in (("host", (cast.host,)), ("guest", cast.guests)):
        for person in people:
            for network in person.networks:
                repo.set_person(DEMO_TAG, role, network, person.handle_on(network))  # type: ignore[attr-defined]
                if network == "bluesky":  # shown by handle once its identity event is stored
                    repo.set_person(DEMO_TAG, role, network, person.bsky_handle)  # type: ignore[attr-defined]


@click.command("demo")
@click.option(
    "--port", type=int, default=8000, show_default=True, help="Port (another free one if taken)."
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the demo database. Default: a new temporary folder.",
)
def demo(port: int, folder: str | None) -> None:
    """Start Hubbub offline with a simulated chat on #hubchat and a demo login."""
    from hubbub.store import open_store
    from hubbub.web.accounts import create_user, set_password, user_exists
    from hubbub.web.rooms import RoomRepo

    base = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="hubbub-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    db = str(base / "hubbub.db")
    host = "127.0.0.1"
    if not _port_free(host, port):
        port = _free_port(host)
    password = secrets.token_urlsafe(9)
    with open_store(db) as store:
        if user_exists(store, "default", "demo"):
            set_password(store, "default", "demo", password)
        else:
            create_user(store, "default", "demo", password, role="owner")
        _mark_sim_cast(RoomRepo(store, "default"))
    settings = Settings.from_env(
        db=db, host=host, port=port, workspace="default", sources=(DEMO_SOURCE,)
    )
    url = f"http://{host}:{port}/rooms/{DEMO_TAG}"
    click.echo(_("Hubbub demo: {url}").format(url=url))
    click.echo(_("Sign in as: demo / {password}").format(password=password))
    click.echo(_("Data in {folder} (Ctrl-C to stop)").format(folder=base))
    sys.stdout.flush()
    _run(settings)


COMMANDS = [serve, demo]

"""DNS rebinding: a page at attacker.example re-resolved to 127.0.0.1 is
same-origin with itself, so its requests carry ``Host: attacker.example:PORT``
and a matching Origin. The server refuses them by their Host, on HTTP and on
the WebSocket handshake, before any other part of the app runs; the names a
user reaches it by (addresses, localhost, configured names) still work."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from hubbub.settings import Settings
from hubbub.web.host_guard import HostPolicy, HostSettingError, canonical_host
from tests.web.conftest import Server, open_room, start_server, stop_server

ROOM = "guardroom"
PUBLIC_NAME = "hub.example.com"
ORIGIN_NAME = "chat.example.org"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("host"),
        allowed_hosts=(PUBLIC_NAME,),
        allowed_origins=(f"https://{ORIGIN_NAME}",),
    )
    open_room(srv, ROOM)
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose reverse proxy is on loopback (so is this test)."""
    srv = start_server(
        tmp_path_factory.mktemp("proxy"),
        allowed_hosts=(PUBLIC_NAME,),
        trusted_proxies=("127.0.0.1",),
    )
    yield srv
    stop_server(srv)


def _port(server: Server) -> int:
    port = urlsplit(server.url).port
    assert port is not None
    return port


def _get(server: Server, path: str, host: str, **headers: str) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        return client.get(path, headers={"Host": host, **headers})


def _raw(server: Server, head: str) -> tuple[int, bytes, bytes]:
    """Send ``head`` (request line and headers, exactly as written) and return
    the status, the response's headers and its body."""
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode("latin-1") + b"\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and data.startswith(b"HTTP/1.1 101"):
                break
    head_part, _, body = data.partition(b"\r\n\r\n")
    return int(head_part.split(b" ", 2)[1]), head_part, body


def _handshake(server: Server, host: str, path: str = f"/api/rooms/{ROOM}/live") -> int:
    status, _head, _body = _raw(
        server,
        f"GET {path} HTTP/1.1\nHost: {host}\nUpgrade: websocket\nConnection: Upgrade\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n"
        f"Origin: http://{host}\n",
    )
    return status


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert "HUBBUB_ALLOWED_HOSTS" in response.text
    assert "attacker" not in response.text
    # Nothing behind the guard ran: no session was started for this visitor.
    assert "set-cookie" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    "path", ["/login", f"/rooms/{ROOM}", f"/api/rooms/{ROOM}/posts", "/static/room.js", "/"]
)
def test_a_rebinding_host_is_refused_on_every_path(guarded: Server, path: str) -> None:
    host = f"attacker.example:{_port(guarded)}"
    _assert_refused(_get(guarded, path, host, Origin=f"http://{host}"))


def test_a_rebinding_post_is_refused_before_csrf_or_body_are_looked_at(guarded: Server) -> None:
    host = f"attacker.example:{_port(guarded)}"
    with httpx.Client(base_url=guarded.url, timeout=10) as client:
        response = client.post(
            f"/api/rooms/{ROOM}/posts",
            json={"text": "hi", "name": "guest"},
            headers={"Host": host, "Origin": f"http://{host}"},
        )
    _assert_refused(response)  # 400 from the guard, not the CSRF check's 403


def test_a_rebinding_websocket_handshake_is_refused(guarded: Server) -> None:
    assert _handshake(guarded, f"attacker.example:{_port(guarded)}") == 400
    assert _handshake(guarded, f"127.0.0.1:{_port(guarded)}") == 101


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "127.0.0.1",
        "localhost:{port}",
        "LocalHost",
        "localhost.:{port}",
        "[::1]:{port}",
        "192.0.2.7:8000",  # an address of this machine, or a NAT in front of it
        f"{PUBLIC_NAME}:{{port}}",
        f"{PUBLIC_NAME.upper()}:443",  # ports are not compared: proxies change them
        PUBLIC_NAME,
        ORIGIN_NAME,  # the host of an allowed origin
    ],
)
def test_the_names_users_reach_the_server_by_pass(guarded: Server, host: str) -> None:
    response = _get(guarded, "/login", host.format(port=_port(guarded)))
    assert response.status_code == 200, response.text
    assert _handshake(guarded, host.format(port=_port(guarded))) == 101


@pytest.mark.parametrize(
    "host",
    [
        f"evil.{PUBLIC_NAME}",
        f"{PUBLIC_NAME}.attacker.example",
        "localhost.attacker.example",
        "127.0.0.1.nip.io",
        "1.2.3",
        "attacker.example:80:80",
        "user@127.0.0.1",
        "[::1",
        "<script>alert(1)</script>",
        "a" * 300,
    ],
)
def test_other_and_malformed_hosts_are_refused_without_echo(guarded: Server, host: str) -> None:
    status, head, body = _raw(guarded, f"GET /login HTTP/1.1\nHost: {host}\nConnection: close\n")
    assert status == 400
    assert b"HUBBUB_ALLOWED_HOSTS" in body
    assert host.encode() not in head + body


def test_two_host_headers_are_refused(guarded: Server) -> None:
    status, _head, _body = _raw(
        guarded,
        "GET /login HTTP/1.1\nHost: 127.0.0.1\nHost: attacker.example\nConnection: close\n",
    )
    assert status == 400


def test_a_trusted_proxy_forwarding_a_rebinding_host_is_refused(behind_proxy: Server) -> None:
    """The proxy rewrote Host to its upstream; X-Forwarded-Host is the name the
    browser used, and from a trusted proxy it is checked too."""
    own = f"127.0.0.1:{_port(behind_proxy)}"
    refused = _get(behind_proxy, "/login", own, **{"X-Forwarded-Host": "attacker.example"})
    _assert_refused(refused)
    chained = _get(
        behind_proxy, "/login", own, **{"X-Forwarded-Host": f"{PUBLIC_NAME}, attacker.example"}
    )
    assert chained.status_code == 400
    ok = _get(behind_proxy, "/login", own, **{"X-Forwarded-Host": f"{PUBLIC_NAME}:443"})
    assert ok.status_code == 200


def test_x_forwarded_host_from_an_untrusted_peer_is_ignored(guarded: Server) -> None:
    """Anyone can write the header; nothing in the app reads it from them."""
    own = f"127.0.0.1:{_port(guarded)}"
    response = _get(guarded, "/login", own, **{"X-Forwarded-Host": "attacker.example"})
    assert response.status_code == 200


def test_a_server_on_every_address_says_how_to_allow_its_names(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from hubbub.web import create_app

    db = str(tmp_path / "h.db")
    with caplog.at_level(logging.WARNING, logger="hubbub.web.host_guard"):
        create_app(Settings(db=db, host="0.0.0.0"))  # noqa: S104 - what a user sets
    (record,) = caplog.records
    assert "HUBBUB_ALLOWED_HOSTS" in record.getMessage()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hubbub.web.host_guard"):
        create_app(Settings(db=db, host="0.0.0.0", allowed_hosts=(PUBLIC_NAME,)))  # noqa: S104
        create_app(Settings(db=db, host="127.0.0.1"))
        create_app(Settings(db=db, host="myhost.lan"))  # bound by name: that name is allowed
    assert caplog.records == []


def test_policy_of_settings() -> None:
    policy = HostPolicy.from_settings(
        Settings.from_env(
            {
                "HUBBUB_ALLOWED_HOSTS": " Hub.Example.com:8443 , [2001:db8::1] ",
                "HUBBUB_ALLOWED_ORIGINS": "https://chat.example.org,not an origin",
                "HUBBUB_HOST": "myhost.lan",
            }
        )
    )
    assert policy.names == {"hub.example.com", "2001:db8::1", "chat.example.org", "myhost.lan"}
    assert policy.allows("myhost.lan:8000")
    assert not policy.allows("otherhost.lan:8000")
    anyone = HostPolicy.from_settings(Settings(allowed_hosts=("*",)))
    assert anyone.allows("attacker.example")
    with pytest.raises(HostSettingError, match="https://hub.example.com/"):
        HostPolicy.from_settings(Settings(allowed_hosts=("https://hub.example.com/",)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[::1]:8000", "::1"),
        ("[0:0::1]", "::1"),
        ("127.0.0.1:8000", "127.0.0.1"),
        ("Example.COM.", "example.com"),
        ("example.com:", None),
        ("example.com:http", None),
        ("exa mple.com", None),
        ("[::1]x", None),
        ("", None),
    ],
)
def test_canonical_host(text: str, expected: str | None) -> None:
    assert canonical_host(text) == expected


def test_serve_refuses_an_unusable_allowed_host(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hubbub.cli", "serve", "--db", str(tmp_path / "h.db")],
        capture_output=True,
        timeout=120,
        env={**os.environ, "HUBBUB_ALLOWED_HOSTS": "hub.example.com,https://hub.example.com/"},
        stdin=subprocess.DEVNULL,
    )
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        "hubbub serve: allowed host 'https://hub.example.com/' is not a host name or address "
        "(a name without scheme or path, e.g. hub.example.com)"
    ]


def test_the_served_websocket_protocol_refuses_with_400_and_logs_nothing(tmp_path: Path) -> None:
    """``hubbub serve`` runs its own WebSocket protocol (cli/serve.py): the
    refused handshake is a complete answer there too, not a logged error."""
    import threading
    import time

    import uvicorn

    from hubbub.cli.serve import uvicorn_config
    from hubbub.web import create_app
    from tests.web.conftest import free_port

    port = free_port()
    app = create_app(Settings(db=str(tmp_path / "h.db"), port=port, rooms=(ROOM,)))
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append  # type: ignore[method-assign,assignment]
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        logging.getLogger("uvicorn.error").addHandler(handler)
        served = Server(f"http://127.0.0.1:{port}", app, thread, server, tmp_path)
        assert _handshake(served, f"attacker.example:{port}") == 400
        assert _handshake(served, f"localhost:{port}") == 101
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
        server.should_exit = True
        thread.join(timeout=30)
    assert [r.getMessage() for r in records] == []

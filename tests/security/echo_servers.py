"""A loopback server that refuses credentials the way each network does, and
echoes them back in its error text, as a hostile or merely careless server
(or proxy) might: the X API v2 problem JSON (``title``/``detail``), Bluesky's
XRPC error (``error``/``message``) for ``createSession``, Mastodon's
``{"error": …}`` (its instance and streaming endpoints answer, so a source
gets as far as its REST backfill). The echoes carry terminal escape codes too.

Real HTTP/1.1 on a loopback socket (``http.server`` in a thread), so the
connectors' own HTTP client, headers and error parsing are what is tested.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ESCAPES = "\x1b]0;PWNED\x07\x1b[2J\u202e"


class _Echo(BaseHTTPRequestHandler):
    server: EchoServer

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        auth = self.headers.get("authorization") or ""
        token = auth.partition(" ")[2]
        status, value = self.server.answer(self.path, auth, token, body)
        payload = value if isinstance(value, bytes) else json.dumps(value).encode()
        self.send_response(status)
        kind = "text/plain" if isinstance(value, bytes) else "application/json; charset=utf-8"
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, *_args: object) -> None:
        pass


class EchoServer(ThreadingHTTPServer):
    """Answers every request as ``network`` refusing it, echoing what it got.
    ``me_ok``: X's ``/2/users/me`` answers 200 with the token as the username
    (a server that echoes it where a handle is expected)."""

    daemon_threads = True

    def __init__(self, network: str, *, me_ok: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Echo)
        self.network = network
        self.me_ok = me_ok

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, path: str, auth: str, token: str, body: str) -> tuple[int, object]:
        if self.network == "x":
            if self.me_ok and path.startswith("/2/users/me"):
                return 200, {"data": {"id": "1", "username": f"{ESCAPES}{token}"}}
            # X's problem shape; the title is what Hubbub shows first.
            return 401, {
                "title": f"Unauthorized {token} {ESCAPES}",
                "detail": f"bad header {auth}",
                "type": "about:blank",
                "status": 401,
            }
        if self.network == "bluesky":
            password = ""
            if body:
                try:
                    password = str(json.loads(body).get("password", ""))
                except ValueError:
                    password = body
            return 401, {
                "error": "AuthenticationRequired",
                "message": f"Invalid identifier or password {password} in {body} {ESCAPES}",
            }
        if path.startswith(("/api/v2/instance", "/api/v1/instance")):
            return 200, {"domain": "127.0.0.1", "version": "4.5.0"}
        if path.startswith("/api/v1/streaming/health"):
            return 200, b"OK"
        if path.startswith("/api/v1/streaming/"):
            # Opens (Mastodon's ":)" comment) and ends: the source then backfills
            # over REST, which refuses the token and echoes it.
            return 200, b":)\n\n"
        return 401, {"error": f"The access token is invalid {token} ({auth}) {ESCAPES}"}


@contextmanager
def echo_server(network: str, *, me_ok: bool = False) -> Iterator[EchoServer]:
    server = EchoServer(network, me_ok=me_ok)
    thread = threading.Thread(target=server.serve_forever, name=f"echo-{network}", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)

"""Limits at the edge, hit over HTTP as an attacker would: oversized bodies
(declared or chunked) refused with 413 before anything reads them, long and
deep queries answered 422 naming the limit or run, and a 422 that survives
any JSON (lone surrogates, NaN)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from hubbub.settings import Settings
from tests.web.conftest import Server, http_client
from tests.web.test_listen_api import signed_in

LIMIT = 1024 * 1024  # the default setting
LISTEN_ROUTES = ("/api/listen/preview", "/api/listen/scorecard", "/api/listen/report")


@pytest.fixture
def host(server: Server) -> Iterator[tuple[httpx.Client, str]]:
    client, token = signed_in(server)
    yield client, token
    client.close()


@pytest.fixture
def guest(server: Server) -> Iterator[tuple[httpx.Client, str]]:
    """An anonymous visitor with a session cookie and its CSRF token."""
    client = http_client(server)
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    yield client, token.group(1)
    client.close()


def _headers(server: Server, token: str, ctype: str = "application/json") -> dict[str, str]:
    return {"x-csrf-token": token, "origin": server.url, "content-type": ctype}


# -- case 12: a lone surrogate -------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "a\\ud800b", "name": "guest"}',
        b'{"text": "hello", "name": "\\udc00"}',
        b'{"text": NaN, "name": "guest"}',
        b'{"text": "a\\ud800b", "name": Infinity}',
    ],
)
def test_json_no_utf8_can_hold_is_a_422_not_a_500(
    server: Server, guest: tuple[httpx.Client, str], body: bytes
) -> None:
    client, token = guest
    r = client.post("/api/rooms/limitsroom/posts", content=body, headers=_headers(server, token))
    assert r.status_code == 422, r.text
    errors = r.json()["detail"]
    assert errors and all(e["loc"][0] == "body" for e in errors)


def test_a_long_invalid_value_is_echoed_cut(
    server: Server, guest: tuple[httpx.Client, str]
) -> None:
    client, token = guest
    body = b'{"text": ["' + b"x" * 100_000 + b'"], "name": "guest"}'
    r = client.post("/api/rooms/limitsroom/posts", content=body, headers=_headers(server, token))
    assert r.status_code == 422
    assert len(r.content) < 2_000


# -- case 11: long queries -------------------------------------------------------


def _distinct_words(n: int) -> str:
    """``n`` different one-character words (CJK ideographs): the longest
    chain of words the web's 2,000-character limit lets through."""
    return " ".join(chr(0x4E00 + i) for i in range(n))


@pytest.mark.parametrize("route", LISTEN_ROUTES)
def test_a_999_word_query_runs(route: str, host: tuple[httpx.Client, str]) -> None:
    client, _ = host
    for query in (_distinct_words(999), " OR ".join(chr(0x4E00 + i) for i in range(400))):
        r = client.get(route, params={"q": query})
        assert r.status_code == 200, r.text[:300]
    assert client.get(LISTEN_ROUTES[0], params={"q": _distinct_words(999)}).json()["count"] == 0


@pytest.mark.parametrize("route", LISTEN_ROUTES)
def test_a_20000_word_query_is_refused_naming_the_limit(
    route: str, host: tuple[httpx.Client, str]
) -> None:
    client, _ = host
    r = client.get(route, params={"q": " ".join(["w"] * 20_000)})
    assert r.status_code == 422
    assert "2000 characters" in r.json()["error"]


@pytest.mark.parametrize("route", LISTEN_ROUTES)
def test_a_query_nested_too_deep_is_refused_naming_the_limit(
    route: str, host: tuple[httpx.Client, str]
) -> None:
    client, _ = host
    r = client.get(route, params={"q": "(" * 70 + "a" + ")" * 70})
    assert r.status_code == 422
    assert "64 deep" in r.json()["error"]


def test_a_mistake_in_a_query_is_still_a_400(host: tuple[httpx.Client, str]) -> None:
    client, _ = host
    r = client.get(LISTEN_ROUTES[0], params={"q": "(unclosed"})
    assert r.status_code == 400
    assert r.json()["position"] == 0


# -- request bodies --------------------------------------------------------------


def _raw_request(server: Server, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (and ``body``) on a plain socket; the status and body
    of the answer. A server that waits for a body never sent times out."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def _length(data: bytes) -> int:
    found = re.search(rb"(?i)content-length: *(\d+)", data.split(b"\r\n\r\n", 1)[0])
    return int(found.group(1)) if found else 0


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(server: Server) -> None:
    """Only the headers are sent: the answer comes without waiting for the
    2 MB, and before the CSRF check would read the form for its token."""
    host = urlsplit(server.url).netloc
    status, body = _raw_request(
        server,
        f"POST /login HTTP/1.1\nHost: {host}\n"
        "Content-Type: application/x-www-form-urlencoded\n"
        f"Content-Length: {2 * LIMIT}\n",
    )
    assert status == 413
    assert b"1 MB" in body and str(LIMIT).encode() in body


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"a" * min(size, total - sent)
        sent += size


def test_a_chunked_body_over_the_limit_is_refused(
    server: Server, guest: tuple[httpx.Client, str]
) -> None:
    client, token = guest
    for ctype in ("application/x-www-form-urlencoded", "application/json"):
        r = client.post(
            "/api/rooms/limitsroom/posts",
            content=_chunks(3 * LIMIT),  # an iterator: sent chunked, no length
            headers={"origin": server.url, "content-type": ctype},
        )
        assert r.status_code == 413, r.text[:200]
        assert r.json()["limit"] == LIMIT


def test_bodies_up_to_the_limit_are_read(server: Server, host: tuple[httpx.Client, str]) -> None:
    """A valid request padded to just under the limit, declared and chunked."""
    client, token = host
    for n, chunked in ((1, False), (2, True)):
        json_body = f'{{"name": "padded{n}", "query": "padword{n}"}}'.encode()
        body = json_body + b" " * (LIMIT - len(json_body) - 1)
        # An iterator is sent chunked, with no Content-Length.
        content = iter([body[: LIMIT // 2], body[LIMIT // 2 :]]) if chunked else body
        r = client.post("/api/listen/queries", content=content, headers=_headers(server, token))
        assert r.status_code == 201, r.text[:200]
        r = client.delete(f"/api/listen/queries/padded{n}", headers=_headers(server, token))
        assert r.status_code == 200


def test_the_limit_is_a_setting() -> None:
    assert Settings().max_body_bytes == LIMIT
    assert Settings.from_env({"HUBBUB_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048

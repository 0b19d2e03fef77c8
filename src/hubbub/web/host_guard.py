"""The Host allow-list: a request addressed to a name this server does not
answer to is refused with 400 before anything else runs.

Why: a DNS-rebinding page (``attacker.example`` re-resolved to 127.0.0.1)
is, to the browser, same-origin with itself. It sends ``Host:
attacker.example:8000`` and a matching ``Origin``, which passes every Origin
check, and reads the answers: sign-in, guest pages and guest posting, the
public JSON API. Only the Host header gives it away, so it is checked here,
in plain ASGI middleware outside every other one (HTTP and WebSocket alike).

Allowed without configuration, whatever the bound address:

- IP address literals (``127.0.0.1``, ``[::1]``, ``192.168.1.5``): a
  rebinding page's Host is always its own domain name, never an address, and
  a page at an address is same-origin only with what that address serves;
- ``localhost``: browsers resolve it themselves, never through a DNS the
  attacker answers;
- the bound address when it is a name (``--host myhost.lan``).

Configured: ``HUBBUB_ALLOWED_HOSTS`` (names or addresses, a port is ignored;
``*`` turns the check off) and the host of every ``HUBBUB_ALLOWED_ORIGINS``
entry. Ports are not compared: a reverse proxy answers on 443 and forwards
to 8000 with the Host unchanged, and a rebinding name is refused whatever
port it carries.

Behind a trusted proxy (``HUBBUB_TRUSTED_PROXIES``) that sends
``X-Forwarded-Host``, every name in it must be allowed too: it is the name
the browser used. From any other peer the header is ignored, as the rest of
the app ignores it.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from hubbub.i18n import _
from hubbub.web.client_address import Network
from hubbub.web.security import SECURITY_HEADERS

if TYPE_CHECKING:
    from hubbub.settings import Settings

log = logging.getLogger(__name__)

ANY_HOST = "*"
_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_PORT = re.compile(r"[0-9]{1,5}")
_MAX_NAME = 253  # the longest name DNS can carry
_WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


class HostSettingError(ValueError):
    """An ``allowed_hosts`` entry that is no host name or address: one line."""


def canonical_host(text: str) -> str | None:
    """The host of ``text`` (a Host header's value or a configured entry) as
    compared: a name in lower case without its port or final dot, or an IP
    address in its usual form (``::1``, not ``[::1]:8000``); None if ``text``
    is neither."""
    text = text.strip().lower()
    if text.startswith("["):
        inner, closed, rest = text[1:].partition("]")
        if not closed or (rest and not (rest[:1] == ":" and _PORT.fullmatch(rest[1:]))):
            return None
        return _address(inner, version=6)
    if text.count(":") > 1:  # an IPv6 address written bare (a setting, not a header)
        return _address(text, version=6)
    name, colon, port = text.partition(":")
    if colon and not _PORT.fullmatch(port):
        return None
    name = name.removesuffix(".")
    if len(name) > _MAX_NAME or not _NAME.fullmatch(name):
        return None
    return _address(name, version=4) or name


def _address(text: str, version: int) -> str | None:
    try:
        return str(ipaddress.IPv6Address(text) if version == 6 else ipaddress.IPv4Address(text))
    except ValueError:
        return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Which host names requests may be addressed to (beyond addresses and
    ``localhost``, which always may)."""

    names: frozenset[str] = frozenset()
    any_host: bool = False  # ``*`` configured: no check at all

    @classmethod
    def from_settings(cls, settings: Settings) -> HostPolicy:
        """The policy of ``settings``; HostSettingError names a bad entry."""
        names = set(configured_hosts(settings.allowed_hosts))
        any_host = ANY_HOST in names
        names.discard(ANY_HOST)
        names.update(_origin_hosts(settings.allowed_origins))
        bound = canonical_host(settings.host)
        if bound is not None and settings.host not in _WILDCARD_BINDS:
            names.add(bound)
        return cls(frozenset(names), any_host)

    def allows(self, header_value: str) -> bool:
        """Whether a Host (or X-Forwarded-Host) value names this server."""
        if self.any_host:
            return True
        host = canonical_host(header_value)
        if host is None:
            return False
        return host == "localhost" or _is_address(host) or host in self.names


def configured_hosts(entries: Iterable[str]) -> tuple[str, ...]:
    """The ``allowed_hosts`` entries in canonical form (``*`` kept as is)."""
    hosts = []
    for entry in entries:
        if entry.strip() == ANY_HOST:
            hosts.append(ANY_HOST)
            continue
        host = canonical_host(entry)
        if host is None:
            raise HostSettingError(
                f"allowed host {entry!r} is not a host name or address "
                "(a name without scheme or path, e.g. hub.example.com)"
            )
        hosts.append(host)
    return tuple(hosts)


def _origin_hosts(origins: Iterable[str]) -> Iterator[str]:
    for origin in origins:
        try:
            hostname = urlsplit(origin.strip()).hostname
        except ValueError:
            continue  # not an origin: it matches no Origin header either
        host = canonical_host(hostname) if hostname else None
        if host is not None:
            yield host


def warn_if_names_are_refused(settings: Settings, policy: HostPolicy) -> None:
    """Say once, at start-up, that a server on a network address answers to
    addresses only until its names are configured: someone who opens
    http://myhost.lan:8000/ must learn why it says 400 and what to set."""
    if policy.any_host or policy.names:
        return
    host = settings.host.strip()
    bound = canonical_host(host) if host not in _WILDCARD_BINDS else "0.0.0.0"  # noqa: S104
    if bound is None or bound == "localhost" or ipaddress.ip_address(bound).is_loopback:
        return
    log.warning(
        "listening on %s: requests addressed to a host name are refused (400) as a "
        "defence against DNS rebinding; IP addresses and localhost work. To reach "
        "Hubbub by name, set HUBBUB_ALLOWED_HOSTS=name[,name...]",
        host or "every address",
    )


class HostGuard:
    """Refuse HTTP requests and WebSocket handshakes whose Host (or, from a
    trusted proxy, X-Forwarded-Host) is not allowed by ``policy``."""

    def __init__(
        self, app: ASGIApp, policy: HostPolicy, trusted_proxies: tuple[Network, ...] = ()
    ) -> None:
        self.app = app
        self.policy = policy
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._allowed(scope):
            await _refuse(scope, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        hosts: list[str] = []
        forwarded: list[str] = []
        for name, value in scope.get("headers", ()):
            if name == b"host":
                hosts.append(value.decode("latin-1"))
            elif name == b"x-forwarded-host":
                forwarded.extend(value.decode("latin-1").split(","))
        if len(hosts) > 1:
            return False  # which one a part of the stack reads is anyone's guess
        # No Host (HTTP/1.0) or an empty one: not a browser, so not a rebinding page.
        if hosts and hosts[0].strip() and not self.policy.allows(hosts[0]):
            return False
        if forwarded and self._from_trusted_proxy(scope):
            return all(self.policy.allows(value) for value in forwarded)
        return True

    def _from_trusted_proxy(self, scope: Scope) -> bool:
        client = scope.get("client")
        if not self.trusted_proxies or not client:
            return False
        try:
            peer = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(peer in network for network in self.trusted_proxies)


async def _refuse(scope: Scope, send: Send) -> None:
    # The refused name is not repeated: it is the attacker's text.
    body = (
        _(
            "Refused: this server does not answer to that host name. "
            "Its operator can add the name to HUBBUB_ALLOWED_HOSTS."
        )
        + "\n"
    ).encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        # A request body, if any, is not read: the connection cannot be reused.
        (b"connection", b"close"),
        *((name.encode(), value.encode()) for name, value in SECURITY_HEADERS.items()),
    ]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 400, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:  # a server without the denial extension answers a close before accept with 403
        await send({"type": "websocket.close", "code": 1008})

"""The client's address, for limits keyed by address.

The socket's peer is the truth unless the operator named trusted proxies
(``HUBBUB_TRUSTED_PROXIES``: addresses or networks). Only then is
``X-Forwarded-For`` read, from the right, skipping the trusted hops: the first
address a trusted proxy did not add itself is the client. Anyone can write
that header, so trusting it from an untrusted peer would let each request
pick a fresh address and dodge every limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProxySettingError(ValueError):
    """A trusted proxy entry that is not an address or a network."""


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ProxySettingError(
                f"trusted proxy {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    ip = _parse(address)
    return ip is not None and any(ip in net for net in trusted)


def address_block(address: str) -> str:
    """The key a limit counts ``address`` under: an IPv4 address as it is
    (an IPv4-mapped IPv6 address as its IPv4), an IPv6 address as its /64.

    One subscriber usually holds a whole /64 (2^64 addresses), so a limit
    keyed by the full IPv6 address is dodged by picking a fresh one per
    request. Anything that is not an address is kept (cut to 64 characters)."""
    ip = _parse(address)
    if ip is None:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def client_address(conn: HTTPConnection, trusted: tuple[Network, ...] = ()) -> str:
    peer = conn.client.host if conn.client else "-"
    if not trusted or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(conn.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        ip = _parse(hop)
        if ip is None:
            break  # garbage from outside the proxies: stop at the last trustworthy hop
        if not any(ip in net for net in trusted):
            return str(ip)
        peer = str(ip)
    return peer

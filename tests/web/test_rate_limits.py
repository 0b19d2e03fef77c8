"""The guest and recap limiters: what one client is, and what a flood of keys does.

- An IPv6 client counts per /64 (``address_block``): keyed by the full
  address, each of a subscriber's 2^64 addresses had a fresh bucket.
- A full limiter forgets its least recently used keys: it had cleared every
  bucket, so enough new keys reset everyone's limit, the flooder's own too.
"""

from __future__ import annotations

import pytest

from hubbub.web.client_address import address_block
from hubbub.web.ratelimit import RateLimiter
from hubbub.web.signin_throttle import _address_key


@pytest.mark.parametrize(
    ("address", "block"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        ("testclient", "testclient"),
        ("x" * 300, "x" * 64),
    ],
)
def test_address_block(address: str, block: str) -> None:
    assert address_block(address) == block
    assert _address_key(address) == "addr:" + block  # sign-in counts the same way


def test_fresh_ipv6_addresses_in_one_block_share_a_bucket() -> None:
    limiter = RateLimiter(3, per_seconds=60.0)
    allowed = [
        limiter.allow(f"room|{address_block(f'2001:db8::{i:x}')}|k", now=0.0) for i in range(10)
    ]
    assert allowed == [True] * 3 + [False] * 7
    assert limiter.allow(f"room|{address_block('2001:db8:0:1::1')}|k", now=0.0)  # another /64


def test_a_flood_of_new_keys_does_not_reset_a_busy_key() -> None:
    limiter = RateLimiter(2, per_seconds=60.0, max_keys=100)
    assert limiter.allow("busy", now=0.0) and limiter.allow("busy", now=0.0)
    assert not limiter.allow("busy", now=0.0)
    for i in range(99):
        limiter.allow(f"new-{i}", now=0.0)
    assert not limiter.allow("busy", now=0.0)  # still limited: it was used most recently
    for i in range(99, 400):
        limiter.allow(f"new-{i}", now=0.0)
        assert not limiter.allow("busy", now=0.0)
    assert len(limiter._buckets) <= 100


def test_a_limit_of_zero_allows_nothing_and_promises_no_retry() -> None:
    limiter = RateLimiter(0, per_seconds=60.0)
    assert not any(limiter.allow("k", now=t) for t in (0.0, 1.0, 86_400.0))
    assert limiter.retry_after_headers() == {}  # "come back in 60 s" would be false
    assert RateLimiter(20).retry_after_headers() == {"Retry-After": "3"}
    assert RateLimiter(0.5).allow("k", now=0.0)  # under one a minute still lets one through


def test_a_room_block_of_a_guest_address_covers_its_ipv6_block() -> None:
    from hubbub.web.rooms import Room

    room = Room(1, "chat", allow_guests=True)
    room.blocked_addresses.add(address_block("2001:db8:7::1"))
    assert room.blocks("web:guest:new", "2001:db8:7:0:dead::beef", "fresh")
    assert room.blocks("web:guest:new", "2001:DB8:7::2", None)
    assert not room.blocks("web:guest:new", "2001:db8:7:1::1", "fresh")
    room.blocked_addresses.add(address_block("::ffff:198.51.100.4"))
    assert room.blocks("web:guest:new", "198.51.100.4", None)
    assert not room.blocks("web:guest:new", "198.51.100.5", None)


def test_a_bucket_refills_with_time() -> None:
    limiter = RateLimiter(2, per_seconds=60.0)
    assert limiter.allow("k", now=0.0) and limiter.allow("k", now=0.0)
    assert not limiter.allow("k", now=10.0)  # a third of a token back
    assert limiter.allow("k", now=31.0)
    assert not limiter.allow("k", now=31.0)


def test_the_recap_limit_is_a_setting_and_counts_ipv6_per_block(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """HUBBUB_RECAP_DOWNLOADS_PER_MINUTE, through a real server that trusts
    loopback as its proxy (each request names its client in X-Forwarded-For)."""
    from contextlib import closing
    from datetime import timedelta

    from hubbub.store import open_store
    from tests.audience import audience_data as data
    from tests.web.conftest import open_room, start_server, stop_server
    from tests.web.test_room_access import visitor

    srv = start_server(
        tmp_path_factory.mktemp("recap-limit"),
        trusted_proxies=("127.0.0.1",),
        recap_downloads_per_minute=2.0,
    )
    try:
        with open_store(str(srv.db)) as store:
            data.load(store)
        open_room(srv, data.ROOM)
        day = (data.NOW - timedelta(days=3)).date().isoformat()
        anon, _token = visitor(srv)
        with closing(anon):

            def fetch(address: str) -> tuple[int, str | None]:
                r = anon.get(
                    f"/api/rooms/{data.ROOM}/recap",
                    params={"format": "json", "on": day},
                    headers={"X-Forwarded-For": address},
                )
                return r.status_code, r.headers.get("retry-after")

            # Three addresses of one /64: one client, two downloads a minute.
            assert fetch("2001:db8:7:7::1")[0] == 200
            assert fetch("2001:db8:7:7::2")[0] == 200
            assert fetch("2001:db8:7:7:ffff::3") == (429, "30")
            assert fetch("2001:db8:7:8::1")[0] == 200  # the next /64 is someone else
    finally:
        stop_server(srv)

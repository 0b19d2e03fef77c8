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


def test_a_bucket_refills_with_time() -> None:
    limiter = RateLimiter(2, per_seconds=60.0)
    assert limiter.allow("k", now=0.0) and limiter.allow("k", now=0.0)
    assert not limiter.allow("k", now=10.0)  # a third of a token back
    assert limiter.allow("k", now=31.0)
    assert not limiter.allow("k", now=31.0)

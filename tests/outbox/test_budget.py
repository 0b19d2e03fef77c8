"""Each network's write budget, counted from what the account sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubbub.outbox.budget import wait_until

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_x_allows_100_posts_per_15_minutes():
    sent = [(NOW - timedelta(minutes=14, seconds=59 - n), "post") for n in range(99)]
    assert wait_until("x", "post", sent, NOW) is None  # the 100th fits
    sent.append((NOW - timedelta(seconds=1), "post"))
    # The 101st waits until the oldest of the 100 leaves the 15-minute window.
    assert wait_until("x", "post", sent, NOW) == sent[0][0] + timedelta(minutes=15)
    # Likes are not counted against the posting budget.
    assert wait_until("x", "like", sent, NOW) is None


def test_bluesky_counts_points_a_create_costs_3():
    # 1,666 creates = 4,998 points: one more create (3) would pass 5,000.
    sent = [(NOW - timedelta(minutes=59) + timedelta(milliseconds=n), "post") for n in range(1666)]
    assert wait_until("bluesky", "post", sent, NOW) == sent[0][0] + timedelta(hours=1)
    # A delete costs 1 and still fits (4,999 points).
    assert wait_until("bluesky", "unlike", sent, NOW) is None


def test_mastodon_300_requests_per_5_minutes_and_old_sends_expire():
    sent = [(NOW - timedelta(minutes=6), "post")] * 50  # outside the window
    sent += [(NOW - timedelta(minutes=4), "like")] * 299
    assert wait_until("mastodon", "post", sent, NOW) is None
    sent.append((NOW - timedelta(seconds=10), "post"))
    assert wait_until("mastodon", "post", sent, NOW) == NOW - timedelta(minutes=4) + timedelta(
        minutes=5
    )

"""Each account's write budget, as each network states it, counted from the
outbox itself (what this workspace sent in the window), so every process
that sends for the account sees the same budget.

- X: 100 posts per 15 minutes per user (creating posts, replies, quotes);
  likes and reposts have their own, larger limits and are not counted here.
- Bluesky: 5,000 points per hour per account; a create costs 3, a delete 1.
- Mastodon: 300 requests per 5 minutes per account; an action is one request.

A network's 429 still wins: the sender waits out its reset whatever this says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Budget:
    window: timedelta
    allowance: int

    def cost(self, network: str, kind: str) -> int:
        if network == "x":
            return 1 if kind in ("post", "reply", "quote") else 0
        if network == "bluesky":
            return 1 if kind in ("unrepost", "unlike") else 3
        return 1


BUDGETS: dict[str, Budget] = {
    "x": Budget(timedelta(minutes=15), 100),
    "bluesky": Budget(timedelta(hours=1), 5000),
    "mastodon": Budget(timedelta(minutes=5), 300),
}


def wait_until(
    network: str, kind: str, sent: list[tuple[datetime, str]], now: datetime
) -> datetime | None:
    """None when the action fits the budget now; else when it will.

    ``sent``: (sent_at, kind) of the account's actions in the last window,
    oldest first.
    """
    budget = BUDGETS[network]
    cost = budget.cost(network, kind)
    if cost == 0:
        return None
    start = now - budget.window
    spent = [(at, budget.cost(network, k)) for at, k in sent if at >= start]
    used = sum(c for _, c in spent)
    if used + cost <= budget.allowance:
        return None
    # Free the oldest spends until this one fits; it fits when they leave the window.
    for at, c in spent:
        used -= c
        if used + cost <= budget.allowance:
            return at + budget.window
    return now + budget.window

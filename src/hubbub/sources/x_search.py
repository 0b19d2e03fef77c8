"""``x:search:QUERY`` — recent search alone, polled.

Every ``poll`` seconds (60 by default) the query is searched from its
cursor (rewound a minute, or the last 24 h the first time) and every page
is read; the cursor moves only with the last page (``x_backfill``). A query
in Hubbub's language is translated like a stream rule; one too long for
search is searched by its longest parts and filtered locally.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from hubbub.networks.backoff import X_POLICY, Failure, Reconnect
from hubbub.networks.env import SourceEnv
from hubbub.networks.x import XClient, XError
from hubbub.query.parser import parse
from hubbub.sources.base import RawItem
from hubbub.sources.x_backfill import Cursors, fill_hole, rewound
from hubbub.sources.x_rules import WantedRule, rule_tag, search_queries, to_x_rule

log = logging.getLogger(__name__)

KEY = "q"


class XSearchSource:
    def __init__(self, client: XClient, env: SourceEnv, query: str, *, poll: float = 60.0) -> None:
        node = parse(query)  # QuerySyntaxError (a ValueError) says where it is wrong
        value, exact = to_x_rule(node)
        if value is None:
            raise ValueError(f"x:search:{query}: nothing on X can match this query")
        self.rule = WantedRule(value, rule_tag(value), node, exact, "search")
        self.queries, wide = search_queries(self.rule, client.limits.query_chars)
        if not self.queries:
            raise ValueError(f"x:search:{query}: no part of it fits in an X search query")
        self.node = node if wide else None
        self.name = f"x:search:{query}"
        self.client = client
        self.env = env
        self.clock = env.clock
        self.poll = poll
        self.health = env.health.tracker(self.name, "x")
        self.cursors = Cursors()

    def resume_from(self, cursor: str | None) -> None:
        self.cursors = Cursors.parse(cursor)

    async def __aiter__(self) -> AsyncIterator[RawItem]:
        failures = Reconnect(X_POLICY)
        first = True
        try:
            while True:
                if KEY not in self.cursors.holes:
                    cursor = self.cursors.get(KEY)
                    # Rewound only at a (re)start: late posts of the last run.
                    # Later polls start at the cursor (X bills every read).
                    if cursor and first:
                        cursor = rewound(cursor, self.client.limits.rewind_seconds)
                    self.cursors.open_hole(KEY, cursor or "")
                first = False
                try:
                    async for item in fill_hole(
                        self.client,
                        self.cursors,
                        KEY,
                        self.queries,
                        self.node,
                        self.name,
                        self.clock,
                        on_page=self.health.events,
                    ):
                        yield item
                except XError as exc:
                    if exc.fatal:
                        self.health.stopped(f"X refused recent search: {exc}")
                        return
                    delay = failures.failed(exc.kind, reset_in=exc.reset_in)
                    if exc.kind is Failure.RATE_LIMIT:
                        self.health.rate_limited(delay, str(exc))
                    else:
                        self.health.reconnecting(failures.failures, delay, str(exc))
                    log.warning("%s: %s; again in %.1f s", self.name, exc, delay)
                    await self.clock.sleep(delay)
                    continue
                failures.connected()
                self.health.connected()
                await self.clock.sleep(self.poll)
        finally:
            await self.client.aclose()

"""What the Bluesky and Mastodon connector tests check after every fault:
run a source through the real pipeline into a real SQLite store until the
store holds what the loopback server emitted, then compare ids exactly."""

from __future__ import annotations

import asyncio
from collections import Counter

import sqlalchemy as sa

from hubbub.pipeline import Pipeline
from hubbub.sources.base import Source
from hubbub.store import Store
from hubbub.store import schema as t

DEADLINE = 30.0  # a safety net against hangs, never a timing assertion


def stored_ids(store: Store, network: str) -> list[str]:
    """Every stored post id of ``network`` (a list: a duplicate row would show twice)."""
    p = t.posts
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(p.c.post_id).where(p.c.network == network)).scalars())


async def ingest_until(
    store: Store, source: Source, network: str, expected: set[str], *, deadline: float = DEADLINE
) -> list[str]:
    """Run ``source`` until the store holds every expected id (or the deadline
    passes), stop cleanly, and return the stored ids."""
    pipeline = Pipeline(store)
    await pipeline.start([source])
    try:
        async with asyncio.timeout(deadline):
            while not expected <= set(stored_ids(store, network)):
                await asyncio.sleep(0.05)
    except TimeoutError:
        pass  # the comparison below says what is missing
    finally:
        await pipeline.stop()
    return stored_ids(store, network)


def assert_exactly(stored: list[str], expected: set[str]) -> None:
    duplicates = [i for i, n in Counter(stored).items() if n > 1]
    assert not duplicates, f"stored twice: {duplicates[:5]}"
    missing = expected - set(stored)
    extra = set(stored) - expected
    assert not missing, f"{len(missing)} served posts not stored, e.g. {sorted(missing)[:3]}"
    assert not extra, f"{len(extra)} posts stored that were not served, e.g. {sorted(extra)[:3]}"

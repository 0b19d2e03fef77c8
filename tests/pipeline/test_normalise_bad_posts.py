"""The live pipeline reads pages as import does: one bad post costs only
itself, and it is logged against its source (before, the whole page was
dropped; with per-post skipping and no log it would have vanished)."""

from __future__ import annotations

import logging
import time

import pytest

from hubbub.formats import Context
from hubbub.pipeline import Batch, LivePost, Normalise
from hubbub.pipeline.stages import Entry
from hubbub.sources.base import RawItem


async def test_a_bad_post_is_logged_and_its_page_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = {"author_id": "1", "created_at": "2024-01-01T00:00:00.000Z"}
    page = {
        "data": [
            {"id": "1", "text": "one", **good},
            {"id": "2", "author_id": "1", "created_at": "2024-01-01T00:00:00.000Z"},
            {"id": "3", "text": "three", **good},
        ],
        "includes": {"users": [{"id": "1", "username": "u"}]},
    }
    item = RawItem(page, Context(source="x:search"))
    batch: list[LivePost] = Batch(entries=[Entry(item, time.time(), "x:search")])
    with caplog.at_level(logging.WARNING):
        out = await Normalise()(batch)
    assert [live.post.id for live in out] == ["1", "3"]
    (record,) = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert record.getMessage() == "x:search: X post 2 skipped (field 'text'): no text"

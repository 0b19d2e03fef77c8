"""Two versions of one post in one import (a tweet and its edit in the same
file): the store keeps one, and listening matches and classifies that one,
once. This used to fail the whole import on post_classes' key, leaving the
post stored without its classes (found by a newcomer review)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from hubbub.listen.imported import listen_after_import
from hubbub.listen.saved import add_query
from hubbub.store import open_store
from hubbub.transfer.importer import import_paths
from tests.conftest import require_shared_data


@pytest.mark.parametrize("worker", [False, True], ids=["in-process", "parser-process"])
def test_an_edit_and_its_original_in_one_file(db_url: str, tmp_path: Path, worker: bool) -> None:
    x = require_shared_data() / "payloads" / "x_v2_twarc2"
    both = tmp_path / "edited_both.jsonl"
    both.write_bytes((x / "edited.jsonl").read_bytes() + (x / "edited_after.jsonl").read_bytes())
    with open_store(db_url) as store:
        add_query(store, "everything", "lang:en OR lang:und OR -lang:en")
        report = import_paths(
            store,
            [str(both)],
            on_batch=listen_after_import(store, "default"),
            worker_min_bytes=0 if worker else 1 << 62,
        )
        assert report.rejected == 0 and report.counts.updated >= 1, report.as_json()
        with store.engine.connect() as conn:
            posts = conn.execute(sa.text("SELECT pk, text FROM posts WHERE NOT deleted")).all()
            classes = conn.execute(sa.text("SELECT post_pk FROM post_classes")).all()
            matches = conn.execute(sa.text("SELECT post_pk FROM query_matches")).all()
    # Every stored post has exactly one class row and one match, none twice.
    assert sorted(pk for pk, _text in posts) == sorted(pk for (pk,) in classes)
    assert sorted(pk for pk, _text in posts) == sorted(pk for (pk,) in matches)

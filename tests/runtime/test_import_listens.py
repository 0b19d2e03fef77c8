"""``hubbub import`` matches and classifies in the import process: the
matches and classes are stored when the command returns, before any read."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from hubbub.cli import main
from hubbub.listen.saved import add_query
from hubbub.query.evaluate import matches
from hubbub.query.parser import parse
from hubbub.query.reposts import resolve_reposts
from hubbub.store import open_store
from hubbub.store.listen_schema import post_classes, query_matches
from tests.conftest import require_shared_data


def test_import_stores_matches_and_classes(tmp_path: Path) -> None:
    data = require_shared_data() / "payloads" / "x_v2_twarc2" / "brexit.jsonl"
    db = str(tmp_path / "h.db")
    query = "brexit OR #brexit"
    with open_store(db) as store:
        add_query(store, "b", query)  # before the posts exist: nothing to backfill
    result = CliRunner().invoke(main, ["import", str(data), "--db", db])
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        with store.engine.connect() as conn:
            matched = conn.execute(sa.select(sa.func.count()).select_from(query_matches)).scalar()
            classified = conn.execute(sa.select(sa.func.count()).select_from(post_classes)).scalar()
        posts = list(store.iter_posts())
    node = parse(query)
    expected = sum(
        1 for p, seen in zip(posts, resolve_reposts(posts), strict=True) if matches(node, seen)
    )
    assert expected > 0
    assert matched == expected
    assert classified == len(posts)

"""The report on real imported payloads against counts computed here,
independently, from the posts themselves with the reference evaluator."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from hubbub.analyze import Selection, build_report
from hubbub.listen import add_query
from hubbub.query import matches, parse
from hubbub.query.reposts import resolve_reposts
from hubbub.query.tokens import fold
from hubbub.store import Store
from hubbub.transfer.importer import import_paths
from tests.conftest import require_shared_data
from tests.store.test_import_real import payload_files

SINCE = datetime(2000, 1, 1, tzinfo=UTC)
UNTIL = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("query", ["brexit OR #brexit", "lang:en has:links"])
def test_report_counts_on_real_data(store: Store, query: str) -> None:
    require_shared_data()
    import_paths(store, [str(p) for p in payload_files()])
    add_query(store, "q", query)
    node = parse(query)
    posts = list(store.iter_posts())
    # A repost matches by its original (query/reposts.py); it is counted as itself.
    mine = [
        p
        for p, seen in zip(posts, resolve_reposts(posts), strict=True)
        if matches(node, seen) and SINCE <= p.created_at < UNTIL
    ]
    assert len(mine) > 50
    for selection in (
        Selection("query", query),
        Selection("saved", "q"),
        Selection("group", "brand"),
    ):
        r = build_report(store, selection, since=SINCE, until=UNTIL)
        assert r["mentions"] == len(mine)
        per_author = Counter((p.network, p.author.id) for p in mine)
        assert r["reach"]["authors"] == len(per_author)
        assert r["passion"]["mentions"] == sum(n for n in per_author.values() if n >= 2)
        assert r["passion"]["authors"] == sum(1 for n in per_author.values() if n >= 2)
        tags = Counter(t for p in mine for t in {fold(h) for h in p.hashtags})
        assert {(h["tag"], h["count"]) for h in r["top_hashtags"]} <= set(tags.items())
        assert r["top_hashtags"][0]["count"] == max(tags.values())
        assert dict((n["name"], n["count"]) for n in r["sources"]["networks"]) == Counter(
            p.network for p in mine
        )
        likes = sum(p.metrics.get("likes", 0) for p in mine)
        assert r["extent"]["engagement"]["likes"] == likes
        assert sum(r["when"]["by_hour"]) == len(mine)
        s = r["sentiment"]
        assert s["positive"] + s["neutral"] + s["negative"] + s["unsupported"] == len(mine)

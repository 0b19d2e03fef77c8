"""A repost matches like its original, on SQLite, PostgreSQL, the matcher and reports.

Real data: a truncated retweet in ``x_v2_twarc2/2sets.jsonl`` ("RT @koreatimescokr:
#Kpop girl group #BLACKPINK's #Lisa made it onto … with her tune,…") whose own text
lost the original's ``#LALISA``, as X's own search would still find it.
"""

from __future__ import annotations

import asyncio

import pytest

from hubbub.analyze import Selection, build_report
from hubbub.listen import add_query
from hubbub.listen.matcher import Matcher
from hubbub.listen.stage import ListeningStage
from hubbub.pipeline.bus import LivePost
from hubbub.post import Deletion, Post
from hubbub.query.reposts import as_matched
from hubbub.store import Ingest, Store, open_store
from hubbub.transfer.importer import import_paths
from tests.conftest import require_shared_data
from tests.listen.test_saved import _matched_ids

RETWEET = "1440717145042653184"
ORIGINAL = "1440669884900249610"


def _file() -> str:
    return str(require_shared_data() / "payloads" / "x_v2_twarc2" / "2sets.jsonl")


def _ids(posts: list[Post]) -> set[str]:
    return {p.id for p in posts}


def _pair(tmp_path) -> tuple[Post, Post]:
    """The retweet and its original as parsed from the real page."""
    with open_store(f"sqlite:///{tmp_path / 'parse.db'}") as scratch:
        import_paths(scratch, [_file()])
        retweet = scratch.get_post("x", RETWEET)
        original = scratch.get_post("x", ORIGINAL)
    assert retweet is not None and original is not None
    return retweet, original


def test_truncated_retweet_is_found_by_its_originals_hashtag(store: Store, tmp_path) -> None:
    import_paths(store, [_file()])
    retweet = store.get_post("x", RETWEET)
    assert retweet is not None and retweet.repost_of == ORIGINAL
    assert retweet.text.startswith("RT @koreatimescokr:") and retweet.text.endswith("…")
    assert "lalisa" not in {h.lower() for h in retweet.hashtags}  # the cut-off lost it
    found = _ids(store.search("#lalisa", limit=None))
    assert {RETWEET, ORIGINAL} <= found
    # By the original's words too, but never by from: of the original's author.
    assert RETWEET in _ids(store.search('"with her tune" #LALISA', limit=None))
    assert RETWEET not in _ids(store.search("#lalisa -is:repost", limit=None))
    assert ORIGINAL in _ids(store.search("#lalisa -is:repost", limit=None))
    assert RETWEET in _ids(store.search("#lalisa is:repost", limit=None))
    # Its own text is still what is shown.
    assert store.get_post("x", RETWEET).text == retweet.text


def test_original_arriving_after_its_retweet(store: Store, tmp_path) -> None:
    retweet, original = _pair(tmp_path)
    store.ingest([Ingest(retweet)])
    assert RETWEET not in _ids(store.search("#lalisa", limit=None))
    store.ingest([Ingest(original)])
    assert RETWEET in _ids(store.search("#lalisa", limit=None))
    # The original deleted: the retweet falls back to its own text.
    store.ingest([Ingest(Deletion("x", ORIGINAL))])
    assert RETWEET not in _ids(store.search("#lalisa", limit=None))
    assert RETWEET in _ids(store.search("#blackpink", limit=None))


def test_matcher_and_stage_match_the_retweet_by_its_original(store: Store, tmp_path) -> None:
    retweet, original = _pair(tmp_path)
    matcher = Matcher({"lisa": "#LALISA"})
    assert matcher.match(retweet) == []
    assert matcher.match(as_matched(retweet, original)) == ["lisa"]
    # The listening stage finds the original in the store when the batch lacks it.
    store.ingest([Ingest(original), Ingest(retweet)])
    add_query(store, "lisa", "#LALISA")
    stage = ListeningStage(store, classify=False)
    asyncio.run(stage([LivePost(retweet, 0.0, True)]))
    assert ("x", RETWEET) in _matched_ids(store, "lisa")


def test_quote_matches_by_its_own_text_only() -> None:
    from datetime import UTC, datetime

    from hubbub.post import Author

    when = datetime(2024, 5, 1, tzinfo=UTC)
    original = Post("x", "1", Author("x", "1", "a"), "big news #acme", when, hashtags=("acme",))
    quote = Post("x", "2", Author("x", "2", "b"), "meh", when, quote_of="1")
    assert as_matched(quote, original) is quote


@pytest.mark.slow
def test_report_counts_reposts_and_agrees_with_search(store: Store) -> None:
    import_paths(store, [_file()])
    report = build_report(store, Selection("query", "#blackpink"))
    matching = store.search("#blackpink", limit=None)
    assert report["mentions"] == len(matching) > 0
    assert report["reposts"] == sum(1 for p in matching if p.repost_of) > 0
    assert report["how"]["kinds"]["repost"] == report["reposts"]
